import { describe, expect, it } from 'vitest';
import { RegexSyntaxError } from '../../../logql/index.js';
import { compile, keeps } from './helpers.js';

describe('line filters', () => {
  it('|= and != are case-sensitive substring tests on bytes', () => {
    expect(keeps('|= "error"', 'an error occurred')).toBe(true);
    expect(keeps('|= "error"', 'an ERROR occurred')).toBe(false);
    expect(keeps('!= "timeout"', 'request timeout')).toBe(false);
    expect(keeps('!= "timeout"', 'ok')).toBe(true);
    expect(keeps('|= "héllo"', 'say héllo')).toBe(true);
    expect(keeps('|= "日本"', '日本語')).toBe(true);
  });

  it('chains filters', () => {
    const q = '|= "error" != "timeout" |~ "5.."';
    expect(keeps(q, 'error 500')).toBe(true);
    expect(keeps(q, 'error 500 timeout')).toBe(false);
    expect(keeps(q, 'error 4')).toBe(false);
  });

  it('|= "" and |= `` are no-ops, != "" drops every line', () => {
    expect(compile('|= ""').isNoop).toBe(true);
    expect(compile('|= ``').isNoop).toBe(true);
    expect(keeps('|= ""', '')).toBe(true);
    expect(keeps('!= ""', 'x')).toBe(false);
  });

  it('regex filters are RE2, unanchored, and . matches a newline', () => {
    expect(keeps('|~ `error=\\w+`', 'level=x error=boom')).toBe(true);
    expect(keeps('|~ `^error`', 'x error')).toBe(false);
    expect(keeps('!~ "(?i)debug"', 'DEBUG stuff')).toBe(false);
    expect(keeps('!~ "(?i)debug"', 'info stuff')).toBe(true);
    expect(keeps('|~ "a.b"', 'a\nb')).toBe(true);
  });

  it('or alternatives take the left operator; negative chains follow De Morgan', () => {
    expect(keeps('|= "foo" or "bar"', 'xbarx')).toBe(true);
    expect(keeps('|= "foo" or "bar"', 'baz')).toBe(false);
    expect(keeps('|~ "a+b" or "c+d"', 'ccd')).toBe(true);
    expect(keeps('!= "a" or "b"', 'xa')).toBe(false);
    expect(keeps('!= "a" or "b"', 'xb')).toBe(false);
    expect(keeps('!= "a" or "b"', 'xc')).toBe(true);
  });

  it('pattern filters |> and !> with <_>', () => {
    expect(keeps('|> "<_> level=error <_>"', 'ts=1 level=error msg=x')).toBe(true);
    expect(keeps('|> "<_> level=error <_>"', 'ts=1 level=info msg=x')).toBe(false);
    expect(keeps('!> "GET <_> 200"', 'GET /a 200')).toBe(false);
    expect(keeps('!> "GET <_> 200"', 'GET /a 500')).toBe(true);
    // A pattern ending on a literal must end the line; one ending on <_> must leave text for it.
    expect(keeps('|> "abc"', 'abc')).toBe(true);
    expect(keeps('|> "abc"', 'abcd')).toBe(false);
    expect(keeps('|> "<_> 200"', 'GET / 200')).toBe(true);
    expect(keeps('|> "<_> 200"', 'GET / 200 ms')).toBe(false);
    expect(keeps('|> "GET <_>"', 'GET ')).toBe(false);
    // Literals are found by first occurrence, so a later occurrence does not rescue the line.
    expect(keeps('|> "<_> a"', 'x a b a')).toBe(false);
    // Captures may not be empty.
    expect(keeps('|> "<_> bar <_>"', ' bar x')).toBe(false);
    expect(keeps('|> "<_> bar <_>"', 'x bar ')).toBe(false);
    expect(keeps('|> "<_> bar <_>"', 'x bar y')).toBe(true);
    // Loki does not anchor the first literal at the start of the line.
    expect(keeps('|> "GET <_>"', 'x GET /')).toBe(true);
    expect(keeps('|> "<_>"', '')).toBe(false);
    expect(keeps('|> "<_> or <_>" or "<_>x"', 'ax')).toBe(true);
  });

  it('rejects named captures in pattern filters when compiling', () => {
    expect(() => compile('|> "<foo> bar"')).toThrow('named captures are not allowed');
  });

  it('ip() filters find addresses anywhere in the line', () => {
    expect(keeps('|= ip("192.168.0.0/16")', 'client 192.168.4.5 connected')).toBe(true);
    expect(keeps('|= ip("192.168.0.0/16")', 'client 10.0.0.1 connected')).toBe(false);
    expect(keeps('!= ip("10.0.0.1-10.0.0.9")', 'from 10.0.0.5:8080')).toBe(false);
    expect(keeps('!= ip("10.0.0.1-10.0.0.9")', 'from 10.0.0.10:8080')).toBe(true);
    expect(keeps('|= ip("::1")', 'addr=::1 ok')).toBe(true);
    expect(keeps('|= ip("2001:db8::/32")', 'x 2001:db8::68 y')).toBe(true);
    expect(keeps('|= ip("1.2.3.4")', 'no ip here')).toBe(false);
    expect(keeps('|= "foo" or ip("1.2.3.4")', 'a 1.2.3.4')).toBe(true);
    // An IPv4 pattern never matches an IPv4-mapped IPv6 address (Go netip semantics).
    expect(keeps('|= ip("1.2.3.4")', 'x ::ffff:1.2.3.4')).toBe(false);
    expect(keeps('|= ip("1.2.3.0/24")', 'x ::ffff:1.2.3.4')).toBe(false);
    // A run that is not an address is skipped as a whole.
    expect(keeps('|= ip("2.3.4.5")', 'v1.2.3.4.5')).toBe(false);
    expect(keeps('|= ip("10.0.0.5")', 'v=1.2.3.4.5 then 10.0.0.5')).toBe(true);
  });

  it('rejects bad ip patterns and ip with regex operators when compiling', () => {
    expect(() => compile('|= ip("300.1.1.1")')).toThrow('ip: invalid pattern');
    expect(() => compile('|= ip("1.1.1.1/40")')).toThrow('ip: invalid pattern');
    expect(() => compile('|= ip("1.1.1.1/08")')).toThrow('ip: invalid pattern');
    expect(() => compile('|= ip("10.0.0.9-10.0.0.1")')).toThrow('ip: invalid pattern');
    expect(() => compile('|= ip("10.0.0.1-::1")')).toThrow('ip: invalid pattern');
    expect(() => compile('|~ ip("1.1.1.1")')).toThrow('ip: invalid operation');
  });

  it('an invalid regex fails when compiling with Go\'s message', () => {
    // Accepted by the parser (line-filter regexes are checked at run time in Loki).
    let err: unknown;
    try {
      compile('|~ "(?<!x)a"');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RegexSyntaxError);
  });
});
