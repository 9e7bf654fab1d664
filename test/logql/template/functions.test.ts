import { describe, expect, it } from 'vitest';
import { execError, render } from './helpers.js';

const TS = 1700000000123456789n; // 2023-11-14T22:13:20.123456789Z

describe("Loki's template_functions.md examples", () => {
  it('pipelines of functions', () => {
    expect(render('{{ .path | replace " " "_" | trunc 5 | upper }}', { path: 'a b c d e f' })).toBe('A_B_C');
    expect(render('{{ if and (contains "he" "hello") (contains "llo" "hello") }} yes {{end}}')).toBe(' yes ');
    expect(render('{{ if contains .err "ErrTimeout" }} timeout {{else if contains "he" "hello"}} yes {{else}} no {{end}}', { err: 'ErrTimeout' })).toBe(
      ' timeout ',
    );
    expect(render('{{ if contains "ErrTimeout" .err }} timeout {{end}}', { err: 'x: ErrTimeout' })).toBe(' timeout ');
    expect(render('{{ if eq "hello" "hello" }} yes {{end}}')).toBe(' yes ');
    expect(render('{{ if hasSuffix .err "Timeout" }} timeout {{end}}', { err: 'out' })).toBe(' timeout ');
    expect(render('{{ if hasPrefix "he" "hello" }} yes {{end}}')).toBe(' yes ');
  });

  it('__line__ and __timestamp__', () => {
    expect(render('{{ __line__ | lower }}', {}, 'HeLLo')).toBe('hello');
    expect(render('{{ __line__ }}', {}, 'as is')).toBe('as is');
    expect(render('{{ __timestamp__ }}', {}, '', TS)).toBe('2023-11-14 22:13:20.123456789 +0000 UTC');
    expect(render('{{ __timestamp__ | date "2006-01-02T15:04:05.00Z-07:00" }}', {}, '', TS)).toBe('2023-11-14T22:13:20.12Z+00:00');
    expect(render('{{ __timestamp__ | unixEpoch }}', {}, '', TS)).toBe('1700000000');
    expect(render('{{ __timestamp__ | unixEpochMillis }} {{ __timestamp__ | unixEpochNanos }}', {}, '', TS)).toBe('1700000000123 1700000000123456789');
    expect(render('{{ __timestamp__.Unix }} {{ (__timestamp__).Format "15:04" }}', {}, '', TS)).toBe('1700000000 22:13');
  });

  it('date, now, toDate, toDateInZone, unixEpoch*, unixToTime', () => {
    expect(render('{{ date "2006-01-02" now }}')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(render('{{ unixEpoch now }}')).toMatch(/^\d{10}$/);
    expect(render('{{ toDate "2006-01-02" "2021-11-02" }}')).toBe('2021-11-02 00:00:00 +0000 UTC');
    expect(render('{{ .foo | toDate "2006-01-02T15:04:05.999999999Z" }}', { foo: '2021-11-02T10:11:12.5Z' })).toBe('2021-11-02 10:11:12.5 +0000 UTC');
    expect(render('{{ toDateInZone "2006-01-02" "UTC" "2021-11-02" }}')).toBe('2021-11-02 00:00:00 +0000 UTC');
    expect(render('{{ .foo | toDateInZone "2006-01-02T15:04:05.999999999Z" "UTC" | unixEpoch }}', { foo: '2021-11-02T10:11:12Z' })).toBe('1635847872');
    expect(render('{{ .foo | toDateInZone "2006-01-02T15:04:05.999999999Z" "UTC" | unixEpochMillis }}', { foo: '2021-11-02T10:11:12.345Z' })).toBe(
      '1635847872345',
    );
    expect(render('{{ toDateInZone "2006-01-02 15:04" "America/New_York" "2021-11-02 10:00" }}')).toBe('2021-11-02 10:00:00 -0400 EDT');
    expect(render('{{ toDateInZone "2006-01-02 15:04" "America/New_York" "2021-12-02 10:00" | unixEpoch }}')).toBe('1638457200');
    // An unknown zone falls back to UTC; an unparsable value gives the zero time.
    expect(render('{{ toDateInZone "2006-01-02" "Nowhere/Zone" "2021-11-02" }}')).toBe('2021-11-02 00:00:00 +0000 UTC');
    expect(render('{{ toDate "2006-01-02" "nope" }}')).toBe('0001-01-01 00:00:00 +0000 UTC');
    expect(render('from="{{date "2006-01-02" (unixToTime .from)}}"', { from: '1679577215' })).toBe('from="2023-03-23"');
    const day = new Date(19373 * 86400000).toISOString().slice(0, 10);
    expect(render('{{ unixToTime "19373" | date "2006-01-02" }}')).toBe(day);
    expect(render('{{ unixToTime "1673798889902" | unixEpochMillis }}')).toBe('1673798889902');
    expect(render('{{ unixToTime "1673798889902000" | unixEpochNanos }}')).toBe('1673798889902000000');
    expect(render('{{ unixToTime "1673798889902000001" | unixEpochNanos }}')).toBe('1673798889902000001');
    expect(execError('{{ unixToTime "123" }}')).toBe(
      'template: line:1:3: executing "line" at <unixToTime "123">: error calling unixToTime: unable to parse time \'123\': %!w(<nil>)',
    );
    expect(execError('{{ unixToTime "abc" }}')).toMatch(/error calling unixToTime: unable to parse time 'abc': strconv.ParseInt: parsing "abc": invalid syntax$/);
    // sprig's date: an int is Unix seconds, anything else is "now".
    expect(render('{{ date "2006-01-02 15:04" 86400 }}')).toBe('1970-01-02 00:00');
  });

  it('durations and bytes', () => {
    expect(render('{{ .foo | duration }} {{ duration_seconds .foo }} {{ duration "100ms" }}', { foo: '1m30s' })).toBe('90 90 0.1');
    expect(render('{{ .foo | bytes }} {{ bytes "2 KB" }}', { foo: '1.5KiB' })).toBe('1536 2000');
    expect(execError('{{ duration "abc" }}')).toMatch(/error calling duration: time: invalid duration "abc"$/);
  });

  it('string functions', () => {
    expect(render('{{ alignLeft 5 "hello world"}}|{{ alignLeft 5 "hi"}}|{{ alignRight 5 "hello world"}}|{{ alignRight 5 "hi"}}')).toBe(
      'hello|hi   |world|   hi',
    );
    expect(render('{{ .foo | b64enc }} {{ b64dec "aGVsbG8=" }}', { foo: 'hello' })).toBe('aGVsbG8= hello');
    expect(render('{{ b64dec "aGVsbG8" }}')).toBe('illegal base64 data at input byte 4');
    expect(render('{{ default "-" "" }} {{ default "-" "foo" }} {{ .missing | default "-" }} {{ default 1 0 }}')).toBe('- foo - 1');
    expect(render('{{ lower "HELLO" }} {{ upper "hello" }} {{ title "hello world" }}')).toBe('hello HELLO Hello World');
    expect(render('{{ indent 4 .query }}|{{ nindent 2 .query }}', { query: 'a\nb' })).toBe('    a\n    b|\n  a\n  b');
    expect(render('{{ repeat 3 "hello" }}')).toBe('hellohellohello');
    expect(render('{{ .cluster | replace "-cluster" "" }} {{ replace "hello" "world" "hello world" }}', { cluster: 'prod-cluster' })).toBe('prod world world');
    expect(render('{{ .path | substr 2 5 }} {{ substr 0 5 "hello world"}} {{ substr 6 11 "hello world"}} {{ substr -1 2 "hey" }} {{ substr 1 99 "hey" }}', { path: '/abcdef' })).toBe(
      'bcd hello world he ey',
    );
    expect(render('{{ trim "   hello    " }}|{{ trimAll "$" "$5.00" }}|{{ trimPrefix "-" "-hello" }}|{{ trimSuffix "-" "hello-" }}')).toBe('hello|5.00|hello|hello');
    expect(render('{{ .path | trunc 2 }} {{ trunc 5 "hello world"}} {{ trunc -5 "hello world"}} {{ trunc 9 "hi" }} {{ trunc -9 "hi" }}', { path: '/abc' })).toBe('/a hello world hi hi');
    // sprig's trunc and substr count bytes, and substr panics out of range like Go slicing.
    expect(render('{{ trunc 3 "héllo" }}|{{ substr 0 3 "héllo" }}')).toBe('hé|hé');
    expect(execError('{{ substr 5 1 "hello" }}')).toMatch(/error calling substr: runtime error: slice bounds out of range \[5:1\]$/);
    expect(execError('{{ substr -1 9 "hey" }}')).toMatch(/error calling substr: runtime error: slice bounds out of range \[:9\] with length 3$/);
    expect(execError('{{ substr 7 -1 "hey" }}')).toMatch(/error calling substr: runtime error: slice bounds out of range \[7:3\]$/);
    expect(render('{{ urlencode .u }}|{{ urldecode "a+b%2Fc%3Fd%3D%C3%A9" }}', { u: 'a b/c?d=é' })).toBe('a+b%2Fc%3Fd%3D%C3%A9|a b/c?d=é');
    expect(execError('{{ urldecode "%zz" }}')).toMatch(/error calling urldecode: invalid URL escape "%zz"$/);
  });

  it("Loki's Go strings functions (strings.ToLower, Replace, Trim…)", () => {
    expect(render('{{ ToLower "ABC" }} {{ ToUpper "abc" }} {{ ToUpper "straße" }}')).toBe('abc ABC STRAßE');
    expect(render('{{ Replace "oink oink oink" "k" "ky" 2 }}|{{ Replace "oink oink" "oink" "moo" -1 }}|{{ Replace "ab" "" "-" -1 }}')).toBe('oinky oinky oink|moo moo|-a-b-');
    expect(render('{{ Trim "xxhixx" "x" }}|{{ TrimLeft "xxhixx" "x" }}|{{ TrimRight "xxhixx" "x" }}')).toBe('hi|hixx|xxhi');
    expect(render('{{ TrimPrefix "prefix-x" "prefix-" }}|{{ TrimSuffix "x.log" ".log" }}|{{ TrimSpace .s }}', { s: '\t a b \n' })).toBe('x|x|a b');
  });

  it('math functions (docs examples; sprig converts arguments with spf13/cast)', () => {
    expect(render('{{ add 3 2 5 }} {{ addf 3.5 2 5 }} {{ ceil 123.001 }} {{ div 10 2}} {{ divf 10 2 4}} {{ "3.5" | float64 }}')).toBe('10 10.5 124 5 1.25 3.5');
    expect(render('{{ floor 123.9999 }} {{ "3" | int }} {{ max 1 2 3 }} {{ maxf 1 2.5 3 }} {{ min 1 2 3 }} {{ minf 1 2.5 3 }}')).toBe('123 3 3 3 1 1');
    expect(render('{{ mul 5 2 3}} {{ mulf 5.5 2 2.5 }} {{ mod 10 3}} {{ round 123.555555 3 }} {{ round 123.88571428571 5 .2 }} {{ sub 5 2 }} {{ subf  5.5 2 1.5 }}')).toBe(
      '30 27.5 1 123.556 123.88572 3 2',
    );
    expect(render('{{ addf 0.1 0.2 }} {{ divf 1 3 }} {{ round 2.5 0 }} {{ round -2.5 0 }}')).toBe('0.3 0.3333333333333333 3 -3');
    expect(render('{{ add "1" 2 }} {{ int "abc" }} {{ int "0x10" }} {{ int "1.0" }} {{ int 3.9 }} {{ float64 "abc" }} {{ add "1.5" 1 }} {{ max "10" "9" }}')).toBe(
      '3 0 16 1 3 0 1 10',
    );
    expect(render('{{ sub .a .b }}', { a: '10', b: '4' })).toBe('6');
    expect(execError('{{ div 1 0 }}')).toMatch(/error calling div: runtime error: integer divide by zero$/);
    expect(execError('{{ divf 1 0 }}')).toMatch(/error calling divf: decimal division by zero$/);
  });

  it('regex functions use RE2 syntax with Go replacement and empty-match rules', () => {
    expect(render('{{ count "a|b" "abab" }} {{ count "o" "foo" }} {{ __line__ | count "XYZ" }}', {}, 'XYZ-XYZ')).toBe('4 2 2');
    expect(render('{{ regexReplaceAll "(a*)bc" .some_label "${1}a" }}', { some_label: 'aabc xbc' })).toBe('aaa xa');
    expect(render('{{ regexReplaceAllLiteral "(ts=)" .timestamp "timestamp=" }}', { timestamp: 'ts=123' })).toBe('timestamp=123');
    expect(render('{{ regexReplaceAllLiteral "(a)" "a" "$1" }}')).toBe('$1');
    expect(render('{{ regexReplaceAll "(a)" "a" "$1x" }}|{{ regexReplaceAll "(a)" "a" "${1}x" }}|{{ regexReplaceAll "a" "a" "$$" }}|{{ regexReplaceAll "(?P<w>b)" "ab" "<$w>" }}')).toBe(
      '|ax|$|a<b>',
    );
    expect(render('{{ regexReplaceAll "a*" "baaac" "X" }} {{ count "a*" "baaac" }}')).toBe('XbXcX 3');
    expect(render('{{ regexReplaceAll "\\\\d+" "a1b22" "#" }}')).toBe('a#b#');
    expect(execError('{{ regexReplaceAll "(" "a" "b" }}')).toMatch(/error calling regexReplaceAll: error parsing regexp: missing closing \): `\(`$/);
  });

  it('fromJson', () => {
    expect(render('{{fromJson "{\\"foo\\": 55}"}}')).toBe('map[foo:55]');
    expect(render('{{ range $q := fromJson .queries }} {{ $q.query }} {{ end }}', { queries: '[{"query":"a"},{"query":"b"}]' })).toBe(' a  b ');
    expect(render('{{ (fromJson .j).n | printf "%T" }} {{ (fromJson .j).n }}', { j: '{"n":1.5}' })).toBe('float64 1.5');
  });
});
