import { describe, expect, it } from 'vitest';
import { compile, run, toLabels } from './helpers.js';

describe('line_format', () => {
  it("rewrites the line from labels (Loki's docs examples)", () => {
    expect(run('| logfmt | line_format "{{.query}} {{.duration}}"', 'query=up duration=3s')!.line).toBe('up 3s');
    expect(run('| logfmt | line_format "{{.ip}} {{.status}} {{div .duration 1000}}"', 'ip=1.1.1.1 status=200 duration=3000')!.line).toBe('1.1.1.1 200 3');
    expect(run('| logfmt | line_format `{{.status}} {{.msg | ToUpper}}`', 'status=500 msg=boom')!.line).toBe('500 BOOM');
    expect(run('| json | line_format `{{.http_request_headers_x_forwarded_for | default "-"}}`', '{"a":1}')!.line).toBe('-');
  });

  it('sees stream labels, structured metadata and parsed labels; a missing label renders empty', () => {
    const r = run('| logfmt | line_format "{{.app}}|{{.trace}}|{{.level}}|{{.nope}}|"', 'level=info', { app: 'web' }, { trace: 't1' })!;
    expect(r.line).toBe('web|t1|info||');
    // The labels themselves are unchanged.
    expect(r.labels).toEqual({ app: 'web', level: 'info', trace: 't1' });
  });

  it('__line__ is the line as it reaches the stage, __timestamp__ its time', () => {
    expect(run('| line_format "[{{ __line__ }}]"', 'hello')!.line).toBe('[hello]');
    expect(run('| line_format "a" | line_format "{{ __line__ }}b"', 'x')!.line).toBe('ab');
    const p = compile('| line_format `{{ __timestamp__ | date "2006-01-02T15:04:05Z07:00" }} {{ __timestamp__ | unixEpochMillis }}`');
    const r = p.process(1700000000123456789n, Buffer.from('x'), toLabels({ app: 'a' }), [])!;
    expect(Buffer.from(r.line).toString()).toBe('2023-11-14T22:13:20Z 1700000000123');
  });

  it('an execution error keeps the original line and sets TemplateFormatErr with the Go message', () => {
    const r = run('| logfmt | line_format "{{ div .n 0 }}"', 'n=1')!;
    expect(r.line).toBe('n=1');
    expect(r.labels.__error__).toBe('TemplateFormatErr');
    expect(r.labels.__error_details__).toBe(
      'template: line:1:3: executing "line" at <div .n 0>: error calling div: runtime error: integer divide by zero',
    );
    // The line is kept, so a later filter can drop it.
    expect(run('| line_format "{{ .a.b }}" | __error__=""', 'x')).toBeNull();
  });

  it('a syntax error throws when the pipeline is compiled, with Loki\'s wrapping', () => {
    expect(() => compile('| line_format "{{ .a "')).toThrow('invalid line template: template: line:1: unclosed action');
    expect(() => compile('| line_format "{{ nope .a }}"')).toThrow('invalid line template: template: line:1: function "nope" not defined');
  });

  it('error labels are in the template data, except for a bare {{.__error__}} (Loki reads that one with Get)', () => {
    expect(run('| json | line_format "x{{.__error__}}"', 'oops')!.line).toBe('xJSONParserErr');
    expect(run('| json | line_format "{{ if .__error__ }}bad{{ end }}"', 'oops')!.line).toBe('bad');
    expect(run('| json | line_format "{{.__error__}}"', 'oops')!.line).toBe('');
  });

  it('a single {{.label}} becomes the label value, or an empty line', () => {
    expect(run('| logfmt | line_format "{{.msg}}"', 'msg=hello level=x')!.line).toBe('hello');
    expect(run('| logfmt | line_format "{{ .nope }}"', 'msg=hello')!.line).toBe('');
  });

  it('templates with control flow, ranges and functions', () => {
    const q = '| logfmt | line_format `{{ if eq .level "error" }}E{{ else if eq .level "warn" }}W{{ else }}I{{ end }}:{{ .msg | trunc 3 }}`';
    expect(run(q, 'level=error msg=abcdef')!.line).toBe('E:abc');
    expect(run(q, 'level=debug msg=xy')!.line).toBe('I:xy');
    expect(run('| logfmt | line_format `{{ range $k, $v := . }}{{ $k }}={{ $v }} {{ end }}`', 'b=2 a=1')!.line).toBe('a=1 app=a b=2 ');
    expect(run('| json | line_format `{{ range $q := fromJson .queries }}[{{ $q }}]{{ end }}`', '{"queries":"[1,2]"}')!.line).toBe('[1][2]');
  });

  it('a line filter after line_format sees the new line (line_format is a barrier)', () => {
    expect(run('| logfmt | line_format "{{.msg}}" |= "hello"', 'msg=hello other=x')!.line).toBe('hello');
    expect(run('| logfmt | line_format "{{.msg}}" |= "other"', 'msg=hello other=x')).toBeNull();
  });

  it('works on non-ASCII lines and values', () => {
    expect(run('| logfmt | line_format "→{{.m}}←"', 'm=héllo')!.line).toBe('→héllo←');
    expect(run('| line_format "{{ __line__ | ToUpper }}"', 'grüße')!.line).toBe('GRÜßE');
  });
});
