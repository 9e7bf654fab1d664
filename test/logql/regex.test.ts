import { describe, expect, it } from 'vitest';
import { compileRegex, regexCaptureNames, RegexSyntaxError } from '../../logql/index.js';

const anchored = (re: string) => compileRegex(re, { anchored: true });
const search = (re: string) => compileRegex(re, { anchored: false });

function rejects(re: string): string {
  try {
    search(re);
  } catch (e) {
    expect(e).toBeInstanceOf(RegexSyntaxError);
    return (e as Error).message;
  }
  throw new Error(`expected ${re} to be rejected`);
}

describe('compileRegex (RE2 → JS)', () => {
  it('anchors matcher regexes and not line-filter regexes', () => {
    expect(anchored('a|b').test('ab')).toBe(false);
    expect(anchored('a|b').test('b')).toBe(true);
    expect(search('err').test('an error here')).toBe(true);
  });

  it('supports flags (?i) (?s) (?m) (?U) and scoped flags', () => {
    expect(search('(?i)error').test('ERROR')).toBe(true);
    expect(search('(?i:e)rror').test('Error')).toBe(true);
    expect(search('(?i:e)rror').test('ERROR')).toBe(false);
    expect(search('a.b').test('a\nb')).toBe(true);
    expect(search('(?-s)a.b').test('a\nb')).toBe(false);
    expect(search('(?m)^b$').test('a\nb\nc')).toBe(true);
    expect(search('^b$').test('a\nb\nc')).toBe(false);
    expect(search('(?U)a+').exec('aaa')![0]).toBe('a');
    expect(search('(?i)[a-c]+').test('ABC')).toBe(true);
    expect(search('(?i)k').test('\u212a')).toBe(true);
  });

  it('translates named groups, \\z, \\A, \\Q…\\E, POSIX and Unicode classes', () => {
    expect(search('(?P<method>\\w+) (?<path>\\S+)').exec('GET /x')!.groups).toEqual({ method: 'GET', path: '/x' });
    expect(search('a\\z').test('a\n')).toBe(false);
    expect(search('\\Aa').test('ba')).toBe(false);
    expect(search('\\Q.*\\E').test('a.*b')).toBe(true);
    expect(search('\\Q.*\\E').test('ab')).toBe(false);
    expect(anchored('[[:alpha:]]+').test('abcXYZ')).toBe(true);
    expect(anchored('[[:^digit:]]+').test('ab')).toBe(true);
    expect(anchored('\\pL+').test('héllo')).toBe(true);
    expect(anchored('\\p{Greek}+').test('αβγ')).toBe(true);
    expect(anchored('\\PL').test('1')).toBe(true);
    expect(anchored('[\\p{Lu}\\d]+').test('AB12')).toBe(true);
  });

  it('keeps RE2 (ASCII) meanings of \\s \\d \\w', () => {
    expect(search('\\s').test('\u00a0')).toBe(false);
    expect(search('\\s').test('\t')).toBe(true);
    expect(search('\\S').test('\u00a0')).toBe(true);
    expect(search('[^\\s]').test('\u00a0')).toBe(true);
    expect(search('\\d').test('٣')).toBe(false);
  });

  it('treats RE2 literal-brace forms as literals', () => {
    expect(search('a{').test('a{')).toBe(true);
    expect(search('a{,3}').test('a{,3}')).toBe(true);
    expect(search('x{2}').test('xx')).toBe(true);
    expect(search('[]a]').test(']')).toBe(true);
    expect(search('\\x41\\x{42}\\101').test('ABA')).toBe(true);
  });

  it.each([
    ['(?=x)', 'invalid or unsupported Perl syntax: `(?=`'],
    ['(?!x)', 'invalid or unsupported Perl syntax: `(?!`'],
    ['(?<=x)', 'invalid or unsupported Perl syntax: `(?<`'],
    ['(a)\\1', 'invalid escape sequence: `\\1`'],
    ['(abc', 'missing closing ): `(abc`'],
    ['abc)', 'unexpected ): `abc)`'],
    ['[a', 'missing closing ]: `[a`'],
    ['[z-a]', 'invalid character class range: `z-a`'],
    ['*a', 'missing argument to repetition operator: `*`'],
    ['a**', 'invalid nested repetition operator: `**`'],
    ['a{1001}', 'invalid repeat count: `{1001}`'],
    ['\\q', 'invalid escape sequence: `\\q`'],
    ['a\\', 'trailing backslash at end of expression: ``'],
    ['\\p{Nope}', 'invalid character class range: `\\p{Nope}`'],
    ['(?P<1a-b>x)', 'invalid named capture: `(?P<1a-b>`'],
  ])('rejects %s like Go', (re, msg) => {
    expect(rejects(re)).toBe(`error parsing regexp: ${msg}`);
  });

  it('reports capture names like SubexpNames', () => {
    expect(regexCaptureNames('(?P<a>x)(y)(?P<a>z)')).toEqual(['a', '', 'a']);
    expect(search('(?P<a>x)(?P<a>y)').exec('xy')!.groups).toEqual({ a: 'x' });
  });
});

describe('compileRegex: quantified assertions', () => {
  it('accepts repetition of empty-width assertions like RE2', () => {
    expect(search('^*a').test('a')).toBe(true);
    expect(search('\\b+x').test(' x')).toBe(true);
    expect(search('(?m)$*').test('')).toBe(true);
  });
});

describe('compileRegex: dot and newline', () => {
  it('lets `.` match newlines by default, as Loki matchers and line filters do', () => {
    expect(compileRegex('a.b', { anchored: true }).test('a\nb')).toBe(true);
  });

  it('follows plain Go regexp.Compile with dotNL: false (| regexp, label_replace)', () => {
    expect(compileRegex('a.b', { anchored: true, dotNL: false }).test('a\nb')).toBe(false);
    expect(compileRegex('(?s)a.b', { anchored: true, dotNL: false }).test('a\nb')).toBe(true);
  });
});
