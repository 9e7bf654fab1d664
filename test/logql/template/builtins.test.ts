import { describe, expect, it } from 'vitest';
import { sprintf } from '../../../logql/template/index.js';
import { execError, render } from './helpers.js';

describe('printf (Go fmt verbs)', () => {
  it('strings: width, precision, left alignment, %q, %x', () => {
    expect(render('{{ printf "%s|%5s|%-5s|%.2s|%q|%x" "abc" "ab" "ab" "abc" "hi" "hi" }}')).toBe('abc|   ab|ab   |ab|"hi"|6869');
  });

  it('integers: %d %5d %-5d %05d %+d %x %X %o %b %#x %c %U', () => {
    expect(render('{{ printf "%d|%5d|%-5d|%05d|%+d|%x|%X|%o|%b|%#x|%c|%U" 42 42 42 42 42 255 255 8 5 255 65 65 }}')).toBe(
      '42|   42|42   |00042|+42|ff|FF|10|101|0xff|A|U+0041',
    );
  });

  it('floats: %f %.2f %8.3f %08.3f %e %g %v and %%', () => {
    expect(render('{{ printf "%f|%.2f|%8.3f|%08.3f|%e|%g|%v|%5.1f%%" 3.14159 3.14159 3.14159 -3.14159 1234.5678 0.000012345 2.5 99.44 }}')).toBe(
      '3.141590|3.14|   3.142|-003.142|1.234568e+03|1.2345e-05|2.5| 99.4%',
    );
    expect(sprintf('%.3g|%g|%g', [1234.5678, 1e21, 100000])).toBe('1.23e+03|1e+21|100000');
  });

  it('infinities keep their sign, NaN only shows one when asked (Go fmtFloat)', () => {
    expect(sprintf('%g|%f|%v|%5.1f|%-6e|', [Infinity, Infinity, Infinity, Infinity, -Infinity])).toBe('+Inf|+Inf|+Inf| +Inf|-Inf  |');
    expect(sprintf('% g|%+g|%g|%+g|% f|%05f', [Infinity, NaN, NaN, -Infinity, NaN, Infinity])).toBe(' Inf|+NaN|NaN|-Inf| NaN| +Inf');
  });

  it('%v of other values, %t, %T', () => {
    expect(render('{{ printf "%v %v %t %T %T %T %T %T" true .a true 1 1.5 "s" true (add 1 1) }}', { a: 'x' })).toBe(
      'true x true int float64 string bool int64',
    );
    expect(render('{{ printf "%v" (fromJson .j) }}', { j: '{"b":[1,"x",null],"a":true}' })).toBe('map[a:true b:[1 x <nil>]]');
    expect(render('{{ printf "%v|%s" nil nil }}')).toBe('<nil>|%!s(<nil>)');
  });

  it('Go error forms for bad verbs and argument counts', () => {
    expect(render('{{ printf "%d" "x" }}')).toBe('%!d(string=x)');
    expect(render('{{ printf "%s %s" "a" }}')).toBe('a %!s(MISSING)');
    expect(render('{{ printf "a" 1 "b" }}')).toBe('a%!(EXTRA int=1, string=b)');
    expect(render('{{ printf "%z" 1 }}')).toBe('%!z(int=1)');
    expect(render('{{ printf "%s" 1.5 }}')).toBe('%!s(float64=1.5)');
    expect(render('{{ printf "x%" }}')).toBe('x%!(NOVERB)');
  });

  it("the docs' column layout", () => {
    const uri = '/a/509965767/alternative-to-my-mtg.html';
    expect(render('{{ printf "%-40.40s" .request_uri}} {{printf "%-5.5s" .request_method}}', { request_uri: uri, request_method: 'GET' })).toBe(
      uri.padEnd(40) + ' GET  ',
    );
    expect(render('{{ printf "The IP address was %s" .remote_addr }}', { remote_addr: '129.168.1.1' })).toBe('The IP address was 129.168.1.1');
  });
});

describe('print, println', () => {
  it('print adds spaces only between non-string operands; println always, plus a newline', () => {
    expect(render('{{ print "a" "b" 1 2 "c" }}')).toBe('ab1 2c');
    expect(render('{{ println "a" 1 }}')).toBe('a 1\n');
  });
});

describe('comparisons', () => {
  it('eq/ne/lt/le/gt/ge on basic kinds', () => {
    const r = (t: string, l: Record<string, string> = {}): string => render(`{{ ${t} }}`, l);
    expect([r('eq "a" "a"'), r('eq .a "x" "y" "a"', { a: 'a' }), r('eq 1 2'), r('ne 1 2'), r('lt 1 2'), r('lt "a" "b"')]).toEqual([
      'true',
      'true',
      'false',
      'true',
      'true',
      'true',
    ]);
    expect([r('le 2 2'), r('gt 2.5 1.5'), r('ge "b" "a"'), r('eq .missing ""'), r('eq (add 1 2) 3'), r('eq (len "ab") 2')]).toEqual([
      'true',
      'true',
      'true',
      'true',
      'true',
      'true',
    ]);
  });

  it('different kinds are an error, and so is ordering bools', () => {
    expect(execError('{{ eq 1 "1" }}')).toBe('template: line:1:3: executing "line" at <eq 1 "1">: error calling eq: incompatible types for comparison: int and string');
    expect(execError('{{ lt true false }}')).toBe('template: line:1:3: executing "line" at <lt true false>: error calling lt: invalid type for comparison');
    expect(execError('{{ eq 1 }}')).toBe('template: line:1:3: executing "line" at <eq 1>: error calling eq: missing argument for comparison');
    expect(execError('{{ eq 1 1.0 }}')).toMatch(/incompatible types for comparison: int and float64$/);
  });
});

describe('and, or, not', () => {
  it('return the deciding operand and short-circuit', () => {
    expect(render('{{ and "a" "b" }}|{{ and "" "b" }}|{{ or "" "b" }}|{{ or 0 "" }}')).toBe('b||b|');
    expect(render('{{ and false (div 1 0) }}|{{ or true (div 1 0) }}')).toBe('false|true');
    expect(render('{{ not 0 }}|{{ not "x" }}|{{ .a | not }}', { a: '' })).toBe('true|false|true');
  });
});

describe('len, index, slice', () => {
  it('len counts bytes of strings, items of slices and maps', () => {
    expect(render('{{ len .a }} {{ len (fromJson "[1,2]") }} {{ len . }}', { a: 'héllo' })).toBe('6 2 1');
    expect(execError('{{ len 3 }}')).toBe('template: line:1:3: executing "line" at <len 3>: error calling len: len of type int');
  });

  it('index maps, slices and strings (bytes)', () => {
    expect(render('{{ index . "a" }}|{{ index . "zz" }}|{{ index (fromJson "[1,[2,3]]") 1 0 }}|{{ index "abc" 1 }}', { a: 'x' })).toBe('x||2|98');
    expect(execError('{{ index (fromJson "[1]") 5 }}')).toMatch(/error calling index: index out of range: 5$/);
    expect(execError('{{ index . 1 }}')).toMatch(/error calling index: value has type int; should be string$/);
  });

  it('slice strings by byte and slices by item', () => {
    expect(render('{{ slice "hello" 1 3 }}|{{ slice "hello" 2 }}|{{ slice (fromJson "[1,2,3]") 1 }}')).toBe('el|llo|[2 3]');
    expect(execError('{{ slice "abc" 2 1 }}')).toMatch(/error calling slice: invalid slice index: 2 > 1$/);
  });
});

describe('html, js, urlquery, call', () => {
  it('escape like Go', () => {
    expect(render('{{ html "<a href=\'x\'>&" }}')).toBe('&lt;a href=&#39;x&#39;&gt;&amp;');
    expect(render('{{ js .a }}', { a: 'it\'s "q" <b>=' })).toBe('it\\\'s \\"q\\" \\u003Cb\\u003E\\u003D');
    expect(render('{{ urlquery "a b&c=d/é" }}')).toBe('a+b%26c%3Dd%2F%C3%A9');
    // Several arguments are joined like fmt.Sprint; no value prints as <no value>.
    expect(render('{{ html "a" 1 2 }}|{{ html nil }}')).toBe('a1 2|&lt;no value&gt;');
  });

  it('call needs a function value, which label data never has', () => {
    expect(execError('{{ call .a }}', { a: 'x' })).toBe('template: line:1:3: executing "line" at <call .a>: error calling call: non-function .a of type string');
  });
});
