import { describe, expect, it } from 'vitest';
import { compile, parsed, run } from './helpers.js';

describe('drop', () => {
  it('drops by name, including stream labels and error labels', () => {
    expect(run('| logfmt | drop level, app', 'level=info msg=x')!.labels).toEqual({ msg: 'x' });
    expect(run('| json | drop __error__, __error_details__', 'oops')!.labels).toEqual({ app: 'a' });
  });

  it('drops by matcher only when the value matches', () => {
    expect(parsed('| logfmt | drop level="debug"', 'level=debug msg=x')).toEqual({ msg: 'x' });
    expect(parsed('| logfmt | drop level="debug"', 'level=info msg=x')).toEqual({ level: 'info', msg: 'x' });
    expect(parsed('| logfmt | drop level=~"deb.*"', 'level=debug2')).toEqual({});
    // drop __error__="X" only drops the label when the value matches.
    expect(parsed('| json | drop __error__="LogfmtParserErr"', 'oops')).toMatchObject({ __error__: 'JSONParserErr' });
    expect(parsed('| json | drop __error__="JSONParserErr"', 'oops')).not.toHaveProperty('__error__');
  });
});

describe('keep', () => {
  it('keeps only the listed labels (stream labels included) and never the error labels', () => {
    expect(run('| logfmt | keep level', 'level=info msg=x')!.labels).toEqual({ level: 'info' });
    expect(run('| logfmt | keep level, app', 'level=info msg=x')!.labels).toEqual({ app: 'a', level: 'info' });
    expect(run('| json | keep level', 'oops')!.labels).toMatchObject({ __error__: 'JSONParserErr' });
  });

  it('a matcher that does not match drops that label too', () => {
    expect(run('| logfmt | keep level="error", msg', 'level=info msg=x')!.labels).toEqual({ msg: 'x' });
    expect(run('| logfmt | keep level="info", msg', 'level=info msg=x')!.labels).toEqual({ level: 'info', msg: 'x' });
  });
});

describe('decolorize', () => {
  it('strips ANSI colour codes and leaves other lines untouched', () => {
    expect(run('| decolorize', '\u001b[31mred\u001b[0m and \u001b[1;32mgreen\u001b[0m')!.line).toBe('red and green');
    expect(run('| decolorize', 'plain é')!.line).toBe('plain é');
    expect(run('| decolorize', 'csi \u009b31mx')!.line).toBe('csi x');
  });

  it('like Loki, a line filter after decolorize is moved before it and sees the coloured line', () => {
    expect(run('| decolorize |= "red and"', '\u001b[31mred\u001b[0m and')).toBeNull();
    expect(run('| decolorize |= "red"', '\u001b[31mred\u001b[0m and')!.line).toBe('red and');
    // A label filter in between is a barrier, so this one sees the stripped line.
    expect(run('| decolorize | app="a" |= "red and"', '\u001b[31mred\u001b[0m and')).not.toBeNull();
  });
});

describe('regexp', () => {
  it('sets a label per named capture of the first match', () => {
    expect(parsed('| regexp `(?P<method>\\w+) (?P<path>\\S+)`', 'GET /api/x HTTP/1.1')).toEqual({
      method: 'GET',
      path: '/api/x',
    });
  });

  it('keeps a non-matching line unchanged and gives optional groups an empty value', () => {
    expect(parsed('| regexp `(?P<n>\\d+)`', 'no digits')).toEqual({});
    expect(parsed('| regexp `a(?P<x>b)?(?P<y>c)`', 'ac')).toEqual({ x: '', y: 'c' });
  });

  it('does not let . match a newline (plain regexp.Compile)', () => {
    expect(parsed('| regexp `a(?P<x>.+)`', 'ab\ncd')).toEqual({ x: 'b' });
  });

  it('applies the clash rule', () => {
    expect(parsed('| regexp `(?P<app>\\w+)`', 'hello')).toEqual({ app_extracted: 'hello' });
  });
});

describe('pattern', () => {
  const q = '| pattern "<ip> - - [<_>] \\"<method> <path> <_>\\" <status> <size>"';
  it('extracts named captures and skips <_>', () => {
    expect(parsed(q, '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326')).toEqual({
      ip: '1.2.3.4',
      method: 'GET',
      path: '/a.gif',
      status: '200',
      size: '2326',
    });
  });

  it('a line that does not fully match extracts what it can', () => {
    expect(parsed('| pattern "<a> x <b> y <c>"', '1 x 2 z 3')).toEqual({ a: '1', b: '2 z 3' });
    expect(parsed('| pattern "start <a>"', 'other line')).toEqual({});
    expect(parsed('| pattern "<a> <b>"', 'héllo wörld')).toEqual({ a: 'héllo', b: 'wörld' });
  });

  it('rejects invalid patterns when compiling', () => {
    expect(() => compile('| pattern "<_> x"')).toThrow();
  });
});

describe('unpack', () => {
  it('replaces the line with _entry and adds the other string fields', () => {
    const r = run('| unpack', '{"_entry":"original line","pod":"p1","n":5,"o":{"a":"b"},"app":"x"}');
    expect(r!.line).toBe('original line');
    expect(r!.labels).toEqual({ app: 'a', app_extracted: 'x', pod: 'p1' });
  });

  it('without _entry leaves line and labels alone', () => {
    const r = run('| unpack', '{"pod":"p1"}');
    expect(r!.line).toBe('{"pod":"p1"}');
    expect(r!.labels).toEqual({ app: 'a' });
  });

  it('a non-object line gets JSONParserErr', () => {
    expect(run('| unpack', 'plain')!.labels).toMatchObject({ __error__: 'JSONParserErr' });
    expect(run('| unpack', '{bad')!.labels).toMatchObject({ __error__: 'JSONParserErr' });
  });

  it('line filters after unpack see the unpacked line', () => {
    expect(run('| unpack |= "original"', '{"_entry":"original"}')).not.toBeNull();
    expect(run('| unpack != "_entry"', '{"_entry":"original"}')).not.toBeNull();
  });
});

describe('unpack details', () => {
  it('sanitises label names, unescapes values and ignores text after the object', () => {
    const r = run('| unpack', '{"a.b":"x\\"y","_entry":"l\\nine"} tail');
    expect(r!.line).toBe('l\nine');
    expect(r!.labels).toEqual({ app: 'a', a_b: 'x"y' });
  });

  it('a bad escape in _entry is an error', () => {
    expect(run('| unpack', '{"_entry":"\\q"}')!.labels).toMatchObject({ __error__: 'JSONParserErr' });
  });

  it('an empty line is left alone', () => {
    expect(run('| unpack', '')!.labels).toEqual({ app: 'a' });
  });
});
