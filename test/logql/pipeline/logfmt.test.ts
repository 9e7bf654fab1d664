import { describe, expect, it } from 'vitest';
import { compile, parsed, run } from './helpers.js';

describe('logfmt', () => {
  it('extracts pairs, quoted values with escapes, and sanitises keys', () => {
    expect(parsed('| logfmt', 'level=info msg="hello \\"world\\"" took=5ms a.b=1 cou-nter=2 1x=3')).toEqual({
      level: 'info',
      msg: 'hello "world"',
      took: '5ms',
      a_b: '1',
      cou_nter: '2',
      _1x: '3',
    });
  });

  it('drops empty values (key= and bare key) unless --keep-empty', () => {
    expect(parsed('| logfmt', 'a= b c="" d=1')).toEqual({ d: '1' });
    expect(parsed('| logfmt --keep-empty', 'a= b c="" d=1')).toEqual({ a: '', b: '', c: '', d: '1' });
  });

  it('the first of duplicate keys wins', () => {
    expect(parsed('| logfmt', 'a=1 a=2')).toEqual({ a: '1' });
  });

  it('skips a malformed pair and keeps the rest', () => {
    expect(parsed('| logfmt', 'a=1 b=x=y c=3')).toEqual({ a: '1', c: '3' });
    expect(parsed('| logfmt', 'a=1 =oops c=3')).toEqual({ a: '1', c: '3' });
    expect(parsed('| logfmt', 'a=1 b"c d=4')).toEqual({ a: '1', d: '4' });
  });

  it('--strict stops at the first error with LogfmtParserErr and the position', () => {
    const r = parsed('| logfmt --strict', 'a=1 b=x=y c=3');
    expect(r).toEqual({
      a: '1',
      __error__: 'LogfmtParserErr',
      __error_details__: "logfmt syntax error at pos 8 : unexpected '='",
    });
    expect(parsed('| logfmt --strict', 'a="unterminated')).toEqual({
      __error__: 'LogfmtParserErr',
      __error_details__: 'logfmt syntax error at pos 16 : unterminated quoted value',
    });
    // Positions are in bytes.
    expect(parsed('| logfmt --strict', 'é=1 =x')!.__error_details__).toBe("logfmt syntax error at pos 6 : unexpected '='");
  });

  it('an invalid quoted value resumes right after the closing quote', () => {
    expect(parsed('| logfmt', 'a="\\q"b=2 c=3')).toEqual({ b: '2', c: '3' });
    expect(parsed('| logfmt --strict', 'a="\\q" c=3')).toEqual({
      __error__: 'LogfmtParserErr',
      __error_details__: 'logfmt syntax error at pos 7 : invalid quoted value',
    });
  });

  it('a key with invalid UTF-8 is an error; a value with it gets a space', () => {
    const bad = (s: string): Buffer => Buffer.concat([Buffer.from(s), Buffer.from([0xff])]);
    const run1 = (q: string, line: Buffer): Record<string, string> => {
      const r = compile(q).process(0n, line, [], [])!;
      return Object.fromEntries(r.labels.map((l) => [l.name, l.value]));
    };
    expect(run1('| logfmt', Buffer.concat([bad('k'), Buffer.from('=1 b=2')]))).toEqual({ b: '2' });
    // (Positions on lines with invalid UTF-8 count the replacement character's 3 bytes.)
    expect(run1('| logfmt --strict', Buffer.concat([bad('k'), Buffer.from('=1 b=2')]))).toMatchObject({
      __error__: 'LogfmtParserErr',
      __error_details__: expect.stringMatching(/^logfmt syntax error at pos \d+ : invalid key$/),
    });
    expect(run1('| logfmt', Buffer.concat([bad('v=a'), Buffer.from('b')]))).toEqual({ v: 'a b' });
  });

  it('flags combine in any order', () => {
    expect(parsed('| logfmt --keep-empty --strict', 'a= b=x=y')).toMatchObject({ a: '', __error__: 'LogfmtParserErr' });
    expect(parsed('| logfmt --strict --keep-empty', 'a= b=1')).toEqual({ a: '', b: '1' });
  });

  it('with parameters extracts only the given keys, renamed', () => {
    expect(parsed('| logfmt --strict level, code="status"', 'level=warn status=500 other=1')).toEqual({
      level: 'warn',
      code: '500',
    });
    expect(parsed('| logfmt level, missing', 'level=warn')).toEqual({ level: 'warn', missing: '' });
  });

  it('with parameters a later pair overwrites, empty values are kept, and the clash rule applies', () => {
    expect(parsed('| logfmt a', 'a=1 a=2')).toEqual({ a: '2' });
    expect(parsed('| logfmt a', 'a= b=1')).toEqual({ a: '' });
    expect(parsed('| logfmt app', 'app=x')).toEqual({ app_extracted: 'x' });
    // A stream label of the requested name gets no empty companion.
    expect(parsed('| logfmt app', 'other=x')).toEqual({});
  });

  it('with parameters a key equal to a requested name is extracted too (Loki quirk)', () => {
    expect(parsed('| logfmt code="status"', 'code=7')).toEqual({ code: '7' });
  });

  it('with parameters --strict reports errors', () => {
    expect(parsed('| logfmt --strict a', 'a=1 b=x=y')).toEqual({
      a: '1',
      __error__: 'LogfmtParserErr',
      __error_details__: "logfmt syntax error at pos 8 : unexpected '='",
    });
  });

  it('renames a clash with a stream label to _extracted', () => {
    expect(run('| logfmt', 'app=p x=1')!.labels).toEqual({ app: 'a', app_extracted: 'p', x: '1' });
  });

  it('handles tabs and repeated spaces as separators', () => {
    expect(parsed('| logfmt', '  a=1\t\tb=2  ')).toEqual({ a: '1', b: '2' });
  });
});
