import { describe, expect, it } from 'vitest';
import { compileTemplate, IfaceMap, StringMap, TemplateExecError } from '../../../logql/template/index.js';
import { execError, render } from './helpers.js';

describe('template execution: data access', () => {
  it('reads labels from the map dot; a missing key is "" (missingkey=zero)', () => {
    expect(render('{{.a}}-{{.missing}}-{{ .b }}', { a: '1', b: '2' })).toBe('1--2');
    expect(render('{{ $.a }}{{ with .a }}{{ $.b }}{{ end }}', { a: '1', b: '2' })).toBe('12');
  });

  it('prints the whole dot as a Go map in sorted key order', () => {
    expect(render('{{ . }}', { b: '2', a: '1' })).toBe('map[a:1 b:2]');
  });

  it('a field of a string is an error reported at the field node, with its byte column', () => {
    expect(execError('{{.a.b}}', { a: 'x' })).toBe(
      'template: line:1:4: executing "line" at <.a.b>: can\'t evaluate field b in type string',
    );
    expect(execError('é {{.a.b}}', { a: 'x' })).toBe(
      'template: line:1:7: executing "line" at <.a.b>: can\'t evaluate field b in type string',
    );
    expect(execError('x\n{{ .a.b }}', { a: 'x' })).toMatch(/^template: line:2:5: /);
    expect(() => render('{{.a.b}}', { a: 'x' })).toThrow(TemplateExecError);
  });

  it('maps from fromJson: missing keys print <no value>, and a nil interface cannot be walked into', () => {
    expect(render('{{ (fromJson .j).a }} {{ (fromJson .j).nope }}', { j: '{"a":{"b":1}}' })).toBe('map[b:1] <no value>');
    expect(render('{{ $m := fromJson .j }}{{ $m.a.b }}', { j: '{"a":{"b":1}}' })).toBe('1');
    expect(execError('{{ $m := fromJson .j }}{{ $m.nope.b }}', { j: '{}' })).toBe(
      'template: line:1:28: executing "line" at <$m.nope.b>: nil pointer evaluating interface {}.b',
    );
    // Invalid JSON gives nil, and a field of no value is no value.
    expect(render('{{ (fromJson .j).x }}', { j: 'not json' })).toBe('<no value>');
  });

  it('accepts any GoMap as the dot', () => {
    const t = compileTemplate('{{ .a }}|{{ .n }}');
    expect(t.execute(new IfaceMap(new Map([['a', 'x']])))).toBe('x|<no value>');
  });
});

describe('template execution: fast path', () => {
  it('text + {{.name}} templates expose their parts and render like the interpreter', () => {
    const t = compileTemplate('a={{.a}} b={{ .b }} {{- .c }}');
    expect(t.simpleParts).toEqual(['a=', { field: 'a' }, ' b=', { field: 'b' }, { field: 'c' }]);
    const data = new StringMap(new Map([['a', '1'], ['c', '3']]));
    expect(t.execute(data)).toBe('a=1 b=3');
    expect(compileTemplate('a={{.a}} b={{ .b }} {{- .c }}{{ "" }}').simpleParts).toBeNull();
    expect(compileTemplate('a={{.a}} b={{ .b }} {{- .c }}{{ "" }}').execute(data)).toBe('a=1 b=3');
  });

  it('anything else is interpreted', () => {
    expect(compileTemplate('{{ .a.b }}').simpleParts).toBeNull();
    expect(compileTemplate('{{ .a | ToUpper }}').simpleParts).toBeNull();
    expect(compileTemplate('{{ $x := .a }}').simpleParts).toBeNull();
  });

  it('records whether __line__ / __timestamp__ are used', () => {
    expect(compileTemplate('{{ .a }}').usesLine).toBe(false);
    expect(compileTemplate('{{ if true }}{{ __line__ | ToUpper }}{{ end }}').usesLine).toBe(true);
    expect(compileTemplate('{{ (__timestamp__).Unix }}').usesTimestamp).toBe(true);
  });
});

describe('template execution: control flow', () => {
  it('if uses Go truth: empty string, 0, false, nil and empty collections are false', () => {
    const t = (v: string): string => render(`{{ if ${v} }}T{{ else }}F{{ end }}`, { e: '', s: 'x', z: '0' });
    expect([t('.e'), t('.s'), t('.z'), t('0'), t('1'), t('0.0'), t('false'), t('.missing')]).toEqual(['F', 'T', 'T', 'F', 'T', 'F', 'F', 'F']);
    expect(t('fromJson "[]"')).toBe('F');
    expect(t('fromJson "{}"')).toBe('F');
    expect(t('fromJson "[0]"')).toBe('T');
    expect(t('now')).toBe('T');
  });

  it('with rebinds dot; else runs on a false value', () => {
    expect(render('{{ with .a }}<{{ . }}>{{ else }}none{{ end }}', { a: 'v' })).toBe('<v>');
    expect(render('{{ with .a }}<{{ . }}>{{ else }}none{{ end }}', { a: '' })).toBe('none');
  });

  it('range over a map visits keys in sorted order with $k, $v', () => {
    expect(render('{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ end }}', { b: '2', a: '1', c: '3' })).toBe('a=1;b=2;c=3;');
    expect(render('{{ range . }}{{ . }}{{ end }}', { b: '2', a: '1' })).toBe('12');
  });

  it('range over a slice, over an int (Go 1.22+), else on empty, break and continue', () => {
    const j = { j: '["a","b","c","d"]' };
    expect(render('{{ range $i, $e := fromJson .j }}{{ $i }}{{ $e }}{{ end }}', j)).toBe('0a1b2c3d');
    expect(render('{{ range fromJson .j }}{{ if eq . "b" }}{{ continue }}{{ end }}{{ if eq . "d" }}{{ break }}{{ end }}{{ . }}{{ end }}', j)).toBe('ac');
    expect(render('{{ range 3 }}{{ . }}{{ end }}')).toBe('012');
    expect(render('{{ range $i := 2 }}[{{ $i }}]{{ end }}')).toBe('[0][1]');
    expect(render('{{ range fromJson "[]" }}x{{ else }}empty{{ end }}')).toBe('empty');
    expect(render('{{ range fromJson "null" }}x{{ else }}empty{{ end }}')).toBe('empty');
    // A missing label is "", a string: Go cannot range over it.
    expect(execError('{{ range .missing }}x{{ end }}')).toBe('template: line:1:9: executing "line" at <.missing>: range can\'t iterate over ');
    expect(execError('{{ range .a }}{{ end }}', { a: 'str' })).toBe(
      'template: line:1:9: executing "line" at <.a>: range can\'t iterate over str',
    );
  });

  it('range $i, $e = assigns to existing variables', () => {
    expect(render('{{ $i := 0 }}{{ $e := "" }}{{ range $i, $e = fromJson .j }}{{ end }}{{ $i }}{{ $e }}', { j: '["x","y"]' })).toBe('1y');
  });

  it('variables: declare, reassign in an inner scope, and $ is the data', () => {
    expect(render('{{ $x := "a" }}{{ if true }}{{ $x = "b" }}{{ end }}{{ $x }}')).toBe('b');
    expect(render('{{ $x := .a }}{{ $x | ToUpper }}', { a: 'q' })).toBe('Q');
    expect(render('{{ with .a }}{{ $.b }}{{ end }}', { a: '1', b: 'B' })).toBe('B');
  });

  it('pipelines pass the previous value as the last argument', () => {
    expect(render('{{ .a | printf "%s-%s" "x" }}', { a: 'y' })).toBe('x-y');
    expect(render('{{ "abc" | ToUpper | printf "<%s>" }}')).toBe('<ABC>');
  });
});

describe('template execution: errors, as Go reports them', () => {
  it('function errors are reported at the command, wrapped in "error calling"', () => {
    expect(execError('{{ div 1 0 }}')).toBe(
      'template: line:1:3: executing "line" at <div 1 0>: error calling div: runtime error: integer divide by zero',
    );
    expect(execError('x {{ ToUpper (div 1 0) }}')).toBe(
      'template: line:1:14: executing "line" at <div 1 0>: error calling div: runtime error: integer divide by zero',
    );
  });

  it('argument count and type errors', () => {
    expect(execError('{{ ToUpper }}')).toBe('template: line:1:3: executing "line" at <ToUpper>: wrong number of args for ToUpper: want 1 got 0');
    expect(execError('{{ ToUpper "a" "b" }}')).toBe(
      'template: line:1:3: executing "line" at <ToUpper>: wrong number of args for ToUpper: want 1 got 2',
    );
    expect(execError('{{ substr 1 }}')).toBe('template: line:1:3: executing "line" at <substr>: wrong number of args for substr: want 3 got 1');
    expect(execError('{{ eq }}')).toBe('template: line:1:3: executing "line" at <eq>: wrong number of args for eq: want at least 1 got 0');
    expect(execError('{{ ToUpper 3 }}')).toBe('template: line:1:11: executing "line" at <3>: expected string; found 3');
    expect(execError('{{ trunc "2" .a }}')).toBe('template: line:1:9: executing "line" at <"2">: expected integer; found "2"');
    expect(execError('{{ 3 | ToUpper }}')).toBe(
      'template: line:1:7: executing "line" at <ToUpper>: wrong type for value; expected string; got int',
    );
    expect(execError('{{ unixEpoch .a }}', { a: 'x' })).toBe(
      'template: line:1:13: executing "line" at <.a>: wrong type for value; expected time.Time; got string',
    );
    expect(execError('{{ unixEpoch 5 }}')).toBe('template: line:1:13: executing "line" at <5>: can\'t handle 5 for arg of type time.Time');
    expect(execError('{{ ToUpper nil }}')).toBe('template: line:1:11: executing "line" at <nil>: cannot assign nil to string');
    expect(execError('{{ ToUpper (fromJson "x") }}')).toBe(
      'template: line:1:21: executing "line" at <"x">: invalid value; expected string',
    );
  });

  it('int64 results (sprig math) are not Go ints: Go rejects them for int parameters', () => {
    expect(execError('{{ trunc (sub 5 1) .a }}', { a: 'abcdef' })).toBe(
      'template: line:1:16: executing "line" at <1>: wrong type for value; expected int; got int64',
    );
    expect(render('{{ trunc (len .a | int) .a }}', { a: 'abc' })).toBe('abc');
  });

  it('misc Go errors', () => {
    expect(execError('{{ nil }}')).toBe('template: line:1:3: executing "line" at <nil>: nil is not a command');
    expect(execError('{{ "a" "b" }}')).toBe('template: line:1:3: executing "line" at <"a">: can\'t give argument to non-function "a"');
    expect(execError('{{ .a "x" }}', { a: 'v' })).toBe('template: line:1:3: executing "line" at <.a>: a is not a method but has arguments');
    expect(execError('{{ template "x" }}')).toBe('template: line:1:12: executing "line" at <{{template "x"}}>: template "x" not defined');
  });
});
