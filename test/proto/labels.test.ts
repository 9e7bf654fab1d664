import { describe, expect, it } from 'vitest';
import { LabelStringError, formatLabelString, parseLabelString, quoteGoString } from '../../proto/index.js';

describe('parseLabelString', () => {
  it('parses the canonical form', () => {
    expect(parseLabelString('{a="b", c="d"}')).toEqual([['a', 'b'], ['c', 'd']]);
  });

  it('returns [] for {} and tolerates whitespace anywhere', () => {
    expect(parseLabelString('{}')).toEqual([]);
    expect(parseLabelString(' \t{ \n}\r\n')).toEqual([]);
    expect(parseLabelString(' {\n  a \t=\n "b" ,\r\n\t_c9 = "d"\n } ')).toEqual([['a', 'b'], ['_c9', 'd']]);
  });

  it('keeps input order and duplicates (the server validates those)', () => {
    expect(parseLabelString('{z="1", a="2", z="3"}')).toEqual([['z', '1'], ['a', '2'], ['z', '3']]);
  });

  it('accepts a trailing comma, as Prometheus does', () => {
    expect(parseLabelString('{a="b",}')).toEqual([['a', 'b']]);
  });

  it('decodes Go escapes in double-quoted values', () => {
    expect(parseLabelString(String.raw`{a="\a\b\f\n\r\t\v\\\""}`)).toEqual([['a', '\x07\b\f\n\r\t\v\\"']]);
    expect(parseLabelString(String.raw`{a="\x41\101\u00e9\U0001F600"}`)).toEqual([['a', 'AAé😀']]);
    // \x and octal escapes are bytes: together they may spell one UTF-8 character.
    expect(parseLabelString(String.raw`{a="\xc3\xa9-\303\251"}`)).toEqual([['a', 'é-é']]);
    expect(parseLabelString(String.raw`{a="\xff"}`)).toEqual([['a', '\ufffd']]);
    expect(parseLabelString('{a="日本 😀"}')).toEqual([['a', '日本 😀']]);
  });

  it('accepts single-quoted and back-quoted values', () => {
    expect(parseLabelString(String.raw`{a='it\'s "x"', b=` + '`raw \\n "q"`}')).toEqual([['a', 'it\'s "x"'], ['b', 'raw \\n "q"']]);
    expect(parseLabelString('{a=`multi\nline`}')).toEqual([['a', 'multi\nline']]);
  });

  const errors: Array<[string, string]> = [
    ['', '1:1: parse error: unexpected end of input, expected "{"'],
    ['a="b"', '1:1: parse error: unexpected "a", expected "{"'],
    ['{a="b", ="c"}', '1:9: parse error: unexpected "=", expected label name'],
    ['{9a="b"}', '1:2: parse error: unexpected "9", expected label name'],
    ['{a-b="c"}', '1:3: parse error: unexpected "-", expected "="'],
    ['{a=b}', '1:4: parse error: unexpected "b", expected quoted label value'],
    ['{a="b" c="d"}', '1:8: parse error: unexpected "c", expected "," or "}"'],
    ['{a="b"', '1:7: parse error: unexpected end of input, expected "," or "}"'],
    ['{a="b', '1:6: parse error: unterminated quoted string'],
    ['{a="b\nc"}', '1:6: parse error: unterminated quoted string'],
    ['{a=`b}', '1:4: parse error: unterminated raw string'],
    ['{a="b"} x', '1:9: parse error: unexpected "x" after "}"'],
    [String.raw`{a="\q"}`, '1:5: parse error: unknown escape sequence "q"'],
    [String.raw`{a="\'"}`, `1:5: parse error: unknown escape sequence "'"`],
    [String.raw`{a="\x4"}`, '1:5: parse error: invalid escape "\\x4\"", expected 2 hex digits'],
    [String.raw`{a="\400"}`, '1:5: parse error: invalid octal escape "\\400"'],
    [String.raw`{a="\ud800"}`, '1:5: parse error: escape "\\ud800" is not a valid Unicode code point'],
    ['{\n  a="b",\n  ="c"}', '3:3: parse error: unexpected "=", expected label name'],
    ['{é="b"}', '1:2: parse error: unexpected "é", expected label name'],
    ['{a="é", !}', '1:10: parse error: unexpected "!", expected label name'],
  ];
  for (const [input, message] of errors) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      let caught: unknown;
      try {
        parseLabelString(input);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(LabelStringError);
      expect((caught as LabelStringError).message).toBe(message);
    });
  }

  it('reports line and column separately', () => {
    try {
      parseLabelString('{\n  a="b",\n  ="c"}');
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ line: 3, column: 3, offset: 13 });
    }
  });
});

describe('quoteGoString (Go strconv.Quote)', () => {
  const cases: Array<[string, string]> = [
    ['plain', '"plain"'],
    ['', '""'],
    ['say "hi" \\ bye', String.raw`"say \"hi\" \\ bye"`],
    ["it's", `"it's"`],
    ['\x07\b\f\n\r\t\v', String.raw`"\a\b\f\n\r\t\v"`],
    ['\x00\x01\x1f\x7f', String.raw`"\x00\x01\x1f\x7f"`],
    ['\u0085\u00a0\u200b\u2028\ufeff', String.raw`"\u0085\u00a0\u200b\u2028\ufeff"`],
    ['\u{e0001}\u{f0000}', String.raw`"\U000e0001\U000f0000"`],
    ['é日本😀€ ©', '"é日本😀€ ©"'],
    ['lone \ud800 surrogate', '"lone \ufffd surrogate"'],
  ];
  for (const [value, quoted] of cases) {
    it(`quotes ${JSON.stringify(value)}`, () => expect(quoteGoString(value)).toBe(quoted));
  }
});

describe('formatLabelString', () => {
  it('sorts by name and uses ", " between pairs', () => {
    expect(formatLabelString([['c', 'd'], ['a', 'b'], ['_x', 'y']])).toBe('{_x="y", a="b", c="d"}');
    expect(formatLabelString([])).toBe('{}');
  });

  it('keeps the input order of equal names (stable)', () => {
    expect(formatLabelString([['a', '2'], ['a', '1']])).toBe('{a="2", a="1"}');
  });

  it('round-trips through parseLabelString for awkward values', () => {
    const pairs: Array<[string, string]> = [
      ['a', 'tab\tnewline\n"quote"\\back'],
      ['b', '\x00\x7f\u0085\u00a0日本😀\u{e0001}'],
      ['c', ''],
    ];
    expect(parseLabelString(formatLabelString(pairs))).toEqual(pairs);
  });

  it('round-trips every BMP character that is not a surrogate', () => {
    let value = '';
    for (let code = 0; code < 0x10000; code++) if (code < 0xd800 || code > 0xdfff) value += String.fromCharCode(code);
    expect(parseLabelString(formatLabelString([['a', value]]))).toEqual([['a', value]]);
  });
});
