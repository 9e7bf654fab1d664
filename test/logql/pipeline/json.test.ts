import { describe, expect, it } from 'vitest';
import { compile, parsed, run } from './helpers.js';

describe('json', () => {
  it('flattens nested objects with _, keeps numbers and bools as text, skips arrays, drops null', () => {
    expect(parsed('| json', '{"a":{"b":1,"c":{"d":"x"}},"n":1.50,"e":1e3,"t":true,"f":false,"arr":[1,{"x":2}],"z":null}')).toEqual({
      a_b: '1',
      a_c_d: 'x',
      n: '1.50',
      e: '1e3',
      t: 'true',
      f: 'false',
    });
  });

  it('copies numbers as written, without validating them (like jsonparser)', () => {
    expect(parsed('| json', '{"a":01,"b":-1.5E+3,"c":1.}')).toEqual({ a: '01', b: '-1.5E+3', c: '1.' });
    expect(parsed('| json', '{"a":nope}')).toMatchObject({ __error__: 'JSONParserErr', __error_details__: 'Unknown value type' });
  });

  it('unescapes string values', () => {
    expect(parsed('| json', '{"msg":"a \\"b\\"\\n\\u00e9"}')).toEqual({ msg: 'a "b"\né' });
  });

  it('sanitises keys', () => {
    expect(parsed('| json', '{"a.b":"1","cou-nter":"2","x:y":"3","1st":"4"," sp ":"5","é":"6"}')).toEqual({
      a_b: '1',
      cou_nter: '2',
      x_y: '3',
      _1st: '4',
      sp: '5',
      _: '6',
    });
    // A leading digit is prefixed at every level.
    expect(parsed('| json', '{"a":{"1":"x"}}')).toEqual({ a__1: 'x' });
  });

  it('an all-whitespace key drops out of the name (even to an empty name)', () => {
    expect(parsed('| json', '{" ":{" ":"bar"}}')).toEqual({ '': 'bar' });
    // Under a prefix the separator stays.
    expect(parsed('| json', '{"a":{" ":"x"}}')).toEqual({ a_: 'x' });
  });

  it('a bad escape in a value gives "", in a key an error; raw control characters pass', () => {
    expect(parsed('| json', '{"a":"x\\qy","b":"1"}')).toEqual({ a: '', b: '1' });
    expect(parsed('| json', '{"a\\q":"x"}')).toMatchObject({ __error__: 'JSONParserErr' });
    expect(parsed('| json', '{"a":"x\ty"}')).toEqual({ a: 'x\ty' });
    expect(parsed('| json', '{"a":"\\ud83d\\ude00"}')).toEqual({ a: '😀' });
  });

  it('invalid UTF-8 in a value becomes a space', () => {
    const line = Buffer.concat([Buffer.from('{"a":"x'), Buffer.from([0xff]), Buffer.from('y"}')]);
    const r = compile('| json').process(0n, line, [], [])!;
    expect(r.labels).toEqual([{ name: 'a', value: 'x y' }]);
  });

  it('the first of duplicate keys wins', () => {
    expect(parsed('| json', '{"a":"1","a":"2","b":{"c":"x"},"b_c":"y"}')).toEqual({ a: '1', b_c: 'x' });
  });

  it('renames a clash with a stream label or structured metadata to _extracted', () => {
    const r = run('| json', '{"app":"p","trace":"q","x":"1"}', { app: 'a' }, { trace: 't' });
    expect(r!.labels).toEqual({ app: 'a', app_extracted: 'p', trace: 't', trace_extracted: 'q', x: '1' });
  });

  it('an invalid line keeps the line, the labels found so far, and sets JSONParserErr', () => {
    const r = run('| json', '{"a":"1", "b": }');
    expect(r!.line).toBe('{"a":"1", "b": }');
    expect(r!.labels).toMatchObject({ a: '1', __error__: 'JSONParserErr' });
    expect(r!.labels.__error_details__).not.toBe('');
    expect(run('| json', 'not json')!.labels.__error__).toBe('JSONParserErr');
    expect(run('| json', '[1,2]')!.labels.__error__).toBe('JSONParserErr');
    expect(run('| json', '{"a":"1"')!.labels.__error__).toBe('JSONParserErr');
  });

  it('errors can be filtered with __error__ and do not drop the line by themselves', () => {
    expect(run('| json | __error__=""', 'oops')).toBeNull();
    expect(run('| json | __error__!="JSONParserErr"', '{"a":1}')!.labels).toEqual({ app: 'a', a: '1' });
  });

  it('later parsers still run on a line that has an error', () => {
    const r = run('| json | logfmt', 'x=1 {');
    expect(r!.labels).toMatchObject({ x: '1', __error__: 'JSONParserErr' });
  });

  it('ignores text after the closing brace (like jsonparser.ObjectEach)', () => {
    expect(parsed('| json', '{"a":1} trailing')).toEqual({ a: '1' });
  });

  it('with parameters extracts paths; objects and arrays come back as JSON text', () => {
    const line =
      '{"servers":["s1","s2"],"request":{"headers":{"User-Agent":"curl"},"n":5,"o":{"k": [1, 2]}},"t":true,"z":null}';
    expect(
      parsed(
        '| json first="servers[0]", ua="request.headers[\\"User-Agent\\"]", servers, n="request.n", o="request.o", t, z',
        line,
      ),
    ).toEqual({ first: 's1', ua: 'curl', servers: '["s1","s2"]', n: '5', o: '{"k": [1, 2]}', t: 'true', z: '' });
  });

  it('with parameters a missing path or null gives an empty label', () => {
    expect(parsed('| json nf="nope.x", i="a[5]", w="a[0].q", n="n"', '{"a":["x"],"n":null}')).toEqual({
      nf: '',
      i: '',
      w: '',
      n: '',
    });
  });

  it('with parameters arrays are unescaped like strings, objects are not', () => {
    expect(parsed('| json a="a", o="o"', '{"a":["x\\"y"],"o":{"k":"x\\"y"}}')).toEqual({ a: '["x"y"]', o: '{"k":"x\\"y"}' });
  });

  it('with parameters applies the clash rule; a missing path leaves a same-named stream label alone', () => {
    expect(parsed('| json app="x"', '{"x":"v"}')).toEqual({ app_extracted: 'v' });
    expect(parsed('| json app="x"', '{"y":"v"}')).toEqual({});
  });

  it('with parameters a later stage overwrites an earlier value', () => {
    expect(parsed('| json a="x" | json a="y"', '{"x":"1","y":"2"}')).toEqual({ a: '2' });
  });

  it('with parameters the line must start like JSON; else JSONParserErr without details', () => {
    expect(parsed('| json a="b"', 'plain text')).toEqual({ __error__: 'JSONParserErr' });
    expect(parsed('| json a="b"', '"just a string"')).toEqual({ a: '' });
    expect(parsed('| json a="b"', '')).toEqual({});
  });

  it('rejects a bad path when compiling', () => {
    expect(() => compile('| json a="b[x"')).toThrow('cannot parse expression');
  });
});
