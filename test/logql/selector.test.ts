import { describe, expect, it } from 'vitest';
import { compileMatcher, parseSelector, ParseError } from '../../logql/index.js';

function parseErr(input: string): ParseError {
  try {
    parseSelector(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError);
    return e as ParseError;
  }
  throw new Error(`expected ${input} to be rejected`);
}

describe('parseSelector', () => {
  it('parses all four matcher types', () => {
    expect(parseSelector('{app="a", env=~"prod|dev", pod!~`canary-.*`, ns != "x"}')).toEqual([
      { type: '=', name: 'app', value: 'a' },
      { type: '=~', name: 'env', value: 'prod|dev' },
      { type: '!~', name: 'pod', value: 'canary-.*' },
      { type: '!=', name: 'ns', value: 'x' },
    ]);
  });

  it('decodes Go escapes and keeps raw strings raw', () => {
    expect(parseSelector('{a="x\\"y\\n\\u00e9\\x41\\101"}')[0]!.value).toBe('x"y\néAA');
    expect(parseSelector('{a=~`\\d+`}')[0]!.value).toBe('\\d+');
  });

  it('allows whitespace, newlines and # comments', () => {
    expect(parseSelector('  {\n app = "a" # comment\n }  # trailing')).toEqual([{ type: '=', name: 'app', value: 'a' }]);
  });

  it('accepts function keywords as label names', () => {
    expect(parseSelector('{rate="a", ip="b", bytes="c", count="d", variants="e", of="f"}').map((m) => m.name)).toEqual([
      'rate',
      'ip',
      'bytes',
      'count',
      'variants',
      'of',
    ]);
  });

  it.each([
    ['{foo!="bar"}'],
    ['{app=~".*"}'],
    ['{label=""}'],
    ['{a!~"x"}'],
    ['{}'],
  ])('rejects selector %s that matches everything', (q) => {
    const e = parseErr(q);
    expect(e.message).toMatch(/^queries require at least one regexp or equality matcher that does not have an empty-compatible value/);
    expect([e.line, e.col]).toEqual([0, 0]);
    expect(e.lokiMessage).toMatch(/^parse error : queries require/);
  });

  it('accepts a negative regex that rejects the empty string', () => {
    expect(parseSelector('{a!~""}')).toEqual([{ type: '!~', name: 'a', value: '' }]);
  });

  it.each([
    ['{foo="bar"', 'syntax error: unexpected $end, expecting } or ,', 1, 11],
    ['{foo="bar}', 'literal not terminated', 1, 6],
    ['{a="b",}', 'syntax error: unexpected }, expecting IDENTIFIER', 1, 8],
    ["{a='b'}", 'syntax error: unexpected IDENTIFIER, expecting STRING', 1, 4],
    ['{json="a"}', 'syntax error: unexpected json, expecting IDENTIFIER or }', 1, 2],
    ['{a="\\q"}', 'invalid char escape', 1, 4],
    ['{a="b"}\n  {c', 'syntax error: unexpected {', 2, 3],
  ])('rejects %j with %j at %i:%i', (q, msg, line, col) => {
    const e = parseErr(q);
    expect(e.message).toBe(msg);
    expect(e.detail).toBe(msg);
    expect([e.line, e.col]).toEqual([line, col]);
  });

  it('reports an empty query at line 0, col 0', () => {
    const e = parseErr('');
    expect(e.message).toBe('syntax error: unexpected $end');
    expect([e.line, e.col]).toEqual([0, 0]);
  });

  it('accepts only a bare selector, like Loki ParseMatchers', () => {
    const e = parseErr('{a="b"} |= "x"');
    expect(e.message).toBe('only label matchers is supported');
    expect(e.lokiMessage).toBe('only label matchers is supported');
    expect(parseErr('count_over_time({a="b"}[1m])').message).toBe('only label matchers is supported');
  });

  it('renders the full Loki message', () => {
    expect(parseErr('{foo="bar"').lokiMessage).toBe('parse error at line 1, col 11: syntax error: unexpected $end, expecting } or ,');
  });

  it('checks matcher regexes at parse time', () => {
    const e = parseErr('{a=~"(abc"}');
    expect(e.message).toBe('error parsing regexp: missing closing ): `(abc`');
    expect([e.line, e.col]).toEqual([0, 0]);
    expect(parseErr('{a=~"(?=x)"}').message).toBe('error parsing regexp: invalid or unsupported Perl syntax: `(?=`');
  });

  it('rejects invalid UTF-8', () => {
    expect(parseErr('{app=~"\\xa0\\xa1"}').message).toBe('invalid UTF-8 encoding');
    expect(parseErr('{app="\uD800"}').message).toBe('invalid UTF-8 encoding');
  });

  it('rejects oversized input', () => {
    expect(parseErr(`{a="${'x'.repeat(6000)}"}`).message).toMatch(/^input size too long/);
  });
});

describe('compileMatcher', () => {
  it('evaluates each match type with anchored RE2 regexes', () => {
    expect(compileMatcher({ type: '=', name: 'a', value: 'x' })('x')).toBe(true);
    expect(compileMatcher({ type: '!=', name: 'a', value: 'x' })('')).toBe(true);
    const re = compileMatcher({ type: '=~', name: 'a', value: 'prod|dev' });
    expect(re('prod')).toBe(true);
    expect(re('production')).toBe(false);
    expect(compileMatcher({ type: '!~', name: 'a', value: 'canary-.*' })('canary-1')).toBe(false);
    expect(compileMatcher({ type: '=~', name: 'a', value: '.*' })('')).toBe(true);
    expect(compileMatcher({ type: '=~', name: 'a', value: 'a.c' })('a\nc')).toBe(true);
  });
});
