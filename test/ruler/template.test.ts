import { describe, expect, it } from 'vitest';
import { compileTemplate, GoStruct, type FuncMap } from '../../logql/template/index.js';
import { expandAlertTemplate, validateAlertTemplate, type AlertTemplateData } from '../../server/ruler/template.js';

const NAME = '__alert_Test';
// Prometheus prepends these; error columns count them.
const DEFS = '{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}';
const TS = 1435065584128;

const data = (over: Partial<AlertTemplateData> = {}): AlertTemplateData => ({
  labels: { instance: 'foo.example.com:9090', namespace: 'prod', job: 'api' },
  value: 12.3456,
  externalLabels: { cluster: 'eu1' },
  externalURL: 'http://testhost:9090/path/prefix',
  ...over,
});

const expand = (text: string, d: AlertTemplateData = data(), ts = TS): string => expandAlertTemplate(NAME, text, d, ts);
const execError = (col: number, at: string, msg: string): string =>
  `<error expanding template: error executing template ${NAME}: template: ${NAME}:1:${DEFS.length + col}: executing "${NAME}" at <${at}>: ${msg}>`;

describe('alert template data', () => {
  it('exposes $labels, $value, $externalLabels, $externalURL and the dot fields', () => {
    expect(expand('{{ $labels.namespace }} has {{ printf "%.2f" $value }} errors/s')).toBe('prod has 12.35 errors/s');
    expect(expand('{{ $labels.instance }}')).toBe('foo.example.com:9090');
    expect(expand('{{ $value }}')).toBe('12.3456');
    expect(expand('{{ .Value }} {{ .Labels.job }} {{ $externalLabels.cluster }} {{ .ExternalLabels.cluster }}')).toBe('12.3456 api eu1 eu1');
    expect(expand('{{ $externalURL }}|{{ .ExternalURL }}')).toBe('http://testhost:9090/path/prefix|http://testhost:9090/path/prefix');
    expect(expand('{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}')).toBe('instance=foo.example.com:9090;job=api;namespace=prod;');
  });

  it('prints a missing label as the empty string (missingkey=zero)', () => {
    expect(expand('[{{ $labels.nope }}]')).toBe('[]');
    expect(expand('[{{ .Labels.nope }}]')).toBe('[]');
    expect(expand('[{{ index $labels "nope" }}]')).toBe('[]');
  });

  it('passes text without actions through', () => {
    expect(expand('plain text')).toBe('plain text');
    expect(expand('')).toBe('');
  });

  it('prints large and special values as Go %v', () => {
    expect(expand('{{ $value }}', data({ value: 1e21 }))).toBe('1e+21');
    expect(expand('{{ $value }}', data({ value: NaN }))).toBe('NaN');
    expect(expand('{{ $value }}', data({ value: Infinity }))).toBe('+Inf');
  });

  it('reports errors in Prometheus format', () => {
    expect(expand('{{ .Foo }}')).toBe(
      execError(3, '.Foo', "can't evaluate field Foo in type struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }"),
    );
    expect(expand('{{ humanize "one" }}')).toBe(execError(3, 'humanize "one"', 'error calling humanize: strconv.ParseFloat: parsing "one": invalid syntax'));
    expect(expand('{{ "one" | humanizePercentage }}')).toBe(
      execError(11, 'humanizePercentage', 'error calling humanizePercentage: strconv.ParseFloat: parsing "one": invalid syntax'),
    );
    expect(expand('{{ humanize "one" }}')).toMatch(/^<error expanding template: error executing template __alert_Test: template: __alert_Test:1:\d+: /);
    expect(expand('{{ foo }}')).toBe(`<error expanding template: error parsing template ${NAME}: template: ${NAME}:1: function "foo" not defined>`);
    expect(expand('{{')).toBe(`<error expanding template: error parsing template ${NAME}: template: ${NAME}:1: unclosed action>`);
  });

  it('expands the same text repeatedly from the cache', () => {
    const text = '{{ $labels.job }}:{{ $value | humanize }}';
    expect(expand(text)).toBe('api:12.35');
    expect(expand(text, data({ labels: { job: 'db' }, value: 1234567 }))).toBe('db:1.235M');
  });
});

describe('validateAlertTemplate', () => {
  it('accepts good templates and returns Go parse errors', () => {
    expect(validateAlertTemplate(NAME, '{{ $labels.instance }} is {{ $value | humanizePercentage }}')).toBeUndefined();
    expect(validateAlertTemplate(NAME, 'no actions')).toBeUndefined();
    expect(validateAlertTemplate(NAME, '{{ if }}')).toBe(`template: ${NAME}:1: missing value for if`);
    expect(validateAlertTemplate(NAME, '{{')).toBe(`template: ${NAME}:1: unclosed action`);
    expect(validateAlertTemplate(NAME, '{{ nope 1 }}')).toBe(`template: ${NAME}:1: function "nope" not defined`);
  });

  it('rejects the query functions, which need a PromQL engine', () => {
    for (const f of ['query', 'first', 'label', 'value', 'sortByLabel', 'strvalue']) {
      expect(validateAlertTemplate(NAME, `{{ ${f} "x" }}`)).toBe(`template: ${NAME}:1: function "${f}" not defined`);
    }
  });
});

describe('function map isolation', () => {
  it('keeps Loki-only functions out of alert templates', () => {
    for (const f of ['ToUpper', 'upper', '__line__', 'regexReplaceAll', 'unixEpoch']) {
      expect(validateAlertTemplate(NAME, `{{ ${f} }}`)).toBe(`template: ${NAME}:1: function "${f}" not defined`);
    }
  });

  it('keeps Prometheus functions out of line_format templates', () => {
    expect(() => compileTemplate('{{ humanize 1 }}')).toThrow('template: line:1: function "humanize" not defined');
    expect(() => compileTemplate('{{ toUpper "a" }}')).toThrow('template: line:1: function "toUpper" not defined');
    expect(compileTemplate('{{ ToUpper "a" }}').execute(null)).toBe('A');
  });

  it('lets a custom map win over the builtins and reach the executor', () => {
    const funcs: FuncMap = { len: { params: ['string'], call: () => 'custom' }, shout: { params: ['string'], call: ([s]) => `${s as string}!` } };
    expect(compileTemplate('{{ len "abc" }} {{ "hi" | shout }} {{ print 1 }}', 'x', funcs).execute(null)).toBe('custom hi! 1');
    expect(() => compileTemplate('{{ ToUpper "a" }}', 'x', funcs)).toThrow('template: x:1: function "ToUpper" not defined');
  });

  it('reports a struct dot\'s missing field even on the simple-template fast path', () => {
    const dot = new GoStruct('struct { A string }', new Map([['A', 'a']]));
    expect(compileTemplate('{{ .A }}-', 'x').execute(dot)).toBe('a-');
    expect(() => compileTemplate('{{ .A }}{{ .B }}', 'x').execute(dot)).toThrow(
      'template: x:1:11: executing "x" at <.B>: can\'t evaluate field B in type struct { A string }',
    );
  });

  it('keeps Go builtins in alert templates', () => {
    expect(expand('{{ len $labels }} {{ if eq $labels.job "api" }}yes{{ end }} {{ printf "%05.1f" 3.14159 }} {{ urlquery "a b" }}')).toBe('3 yes 003.1 a+b');
  });
});

describe('Prometheus template functions', () => {
  it('humanize', () => {
    expect(expand('{{ humanize 0.0 }}:{{ humanize 1.0 }}:{{ humanize 1234567.0 }}:{{ humanize .12 }}')).toBe('0:1:1.235M:120m');
    expect(expand('{{ humanize "0.0" }}:{{ humanize "1.0" }}:{{ humanize "1234567.0" }}:{{ humanize ".12" }}')).toBe('0:1:1.235M:120m');
    expect(expand('{{ humanize 0 }}:{{ humanize -1 }}:{{ humanize 1 }}:{{ humanize 1234567 }}:{{ humanize 9223372036854775807 }}')).toBe('0:-1:1:1.235M:9.223E');
    expect(expand('{{ humanize 0.000001234 }}:{{ humanize -0.5 }}:{{ humanize 1e30 }}')).toBe('1.234u:-500m:1e+06Y');
    expect(expand('{{ $value | humanize }}', data({ value: 1234.5 }))).toBe('1.234k');
  });

  it('humanize1024', () => {
    expect(expand('{{ humanize1024 0.0 }}:{{ humanize1024 1.0 }}:{{ humanize1024 1048576.0 }}:{{ humanize1024 .12 }}')).toBe('0:1:1Mi:0.12');
    expect(expand('{{ humanize1024 0 }}:{{ humanize1024 -1 }}:{{ humanize1024 1 }}:{{ humanize1024 1234567 }}:{{ humanize1024 9223372036854775807 }}')).toBe(
      '0:-1:1:1.177Mi:8Ei',
    );
    expect(expand('{{ humanize1024 "1048576.0" }}:{{ humanize1024 2048 }}')).toBe('1Mi:2ki');
  });

  it('humanizeDuration', () => {
    const seconds = [0, 1, 60, 3600, 86400, 86400 + 3600, -(86400 * 2 + 3600 * 3 + 60 * 4 + 5), 899.99];
    expect(seconds.map((v) => expand('{{ $value | humanizeDuration }}', data({ value: v }))).join(':')).toBe(
      '0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s',
    );
    const fractions = [0.1, 0.0001, 0.12345, 60.1, 60.5, 1.2345, 12.345];
    expect(fractions.map((v) => expand('{{ $value | humanizeDuration }}', data({ value: v }))).join(':')).toBe(
      '100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s',
    );
    expect(expand('{{ humanizeDuration "86400" }}:{{ humanizeDuration 1234567 }}:{{ humanizeDuration -1 }}:{{ humanizeDuration 0.000000002 }}')).toBe(
      '1d 0h 0m 0s:14d 6h 56m 7s:-1s:2ns',
    );
  });

  it('humanize* of Inf and NaN', () => {
    const t = '{{ humanize $value }}:{{ humanize1024 $value }}:{{ humanizeDuration $value }}:{{ humanizeTimestamp $value }}';
    expect([Infinity, -Infinity, NaN].map((v) => expand(t, data({ value: v }))).join(':')).toBe('+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN');
    expect(expand('{{ humanize "+Inf" }}:{{ humanize1024 "-Inf" }}:{{ humanizeDuration "NaN" }}')).toBe('+Inf:-Inf:NaN');
  });

  it('humanizePercentage', () => {
    expect(
      expand('{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}'),
    ).toBe('-22.22%:0%:12.35%:123.5%');
    expect(expand('{{ humanizePercentage 0 }}:{{ humanizePercentage -1 }}:{{ humanizePercentage 1234567 }}:{{ humanizePercentage 9223372036854775807 }}')).toBe(
      '0%:-100%:1.235e+08%:9.223e+20%',
    );
    expect(expand('{{ "0.1234567" | humanizePercentage }}')).toBe('12.35%');
    expect(expand('{{ humanizePercentage "+Inf" }}:{{ humanizePercentage "NaN" }}')).toBe('+Inf%:NaN%');
  });

  it('humanizeTimestamp', () => {
    expect(expand('{{ 1435065584.128 | humanizeTimestamp }}')).toBe('2015-06-23 13:19:44.128 +0000 UTC');
    expect(expand('{{ "1435065584.128" | humanizeTimestamp }}')).toBe('2015-06-23 13:19:44.128 +0000 UTC');
    expect(expand('{{ humanizeTimestamp 0 }}|{{ humanizeTimestamp -1 }}|{{ humanizeTimestamp 1234567 }}|{{ humanizeTimestamp 9223372036 }}')).toBe(
      '1970-01-01 00:00:00 +0000 UTC|1969-12-31 23:59:59 +0000 UTC|1970-01-15 06:56:07 +0000 UTC|2262-04-11 23:47:16 +0000 UTC',
    );
    expect(expand('{{ humanizeTimestamp -9223372036854775807 }}')).toBe(
      execError(
        3,
        'humanizeTimestamp -9223372036854775807',
        'error calling humanizeTimestamp: -9.223372036854776e+18 cannot be represented as a nanoseconds timestamp since it overflows int64',
      ),
    );
  });

  it('toTime, toDuration, now', () => {
    expect(expand('{{ (1435065584.128 | toTime).Format "2006" }}')).toBe('2015');
    expect(expand('{{ ("1435065584.128" | toTime).Format "2006" }}')).toBe('2015');
    expect(expand('{{ 1435065584.128 | toTime }}')).toBe('2015-06-23 13:19:44.128 +0000 UTC');
    expect(expand('{{ toDuration 1800 }}|{{ toDuration "5400.5" }}|{{ toDuration 0.0015 }}|{{ toDuration -0.000002 }}|{{ toDuration 0 }}')).toBe(
      '30m0s|1h30m0.5s|1.5ms|-2µs|0s',
    );
    expect(expand('{{ toTime $value }}', data({ value: NaN }))).toBe(execError(3, 'toTime $value', 'error calling toTime: value is NaN or Inf'));
    // now is the evaluation time, in seconds.
    expect(expand('{{ now }}')).toBe('1.435065584128e+09');
    expect(expand('{{ now | humanizeTimestamp }}')).toBe('2015-06-23 13:19:44.128 +0000 UTC');
    expect(expand('{{ now }}', data(), 1500)).toBe('1.5');
  });

  it('parseDuration', () => {
    expect(expand('{{ printf "%0.2f" (parseDuration "1h2m10ms") }}')).toBe('3720.01');
    expect(expand('{{ parseDuration "1d" }}')).toBe('86400');
    expect(expand('{{ parseDuration "1x" }}')).toBe(execError(3, 'parseDuration "1x"', 'error calling parseDuration: unknown unit "x" in duration "1x"'));
  });

  it('title, toUpper, toLower', () => {
    expect(expand('{{ "aa bb CC" | title }}')).toBe('Aa Bb CC');
    expect(expand('{{ "aa bb CC" | toUpper }}')).toBe('AA BB CC');
    expect(expand('{{ "aA bB CC" | toLower }}')).toBe('aa bb cc');
    expect(expand('{{ $labels.namespace | toUpper }}')).toBe('PROD');
  });

  it('match and reReplaceAll', () => {
    expect(expand('{{ match "a+" "aa" }} {{ match "a+" "b" }} {{ match "^f" $labels.instance }}')).toBe('true false true');
    expect(expand('{{ reReplaceAll "(a)b" "x$1" "ab" }}')).toBe('xa');
    expect(expand('{{ reReplaceAll "localhost:(.*)" "my.domain:$1" "localhost:3000" }}')).toBe('my.domain:3000');
    expect(expand('{{ match "(" "x" }}')).toBe(execError(3, 'match "(" "x"', 'error calling match: error parsing regexp: missing closing ): `(`'));
    expect(expand('{{ reReplaceAll "(" "" "x" }}')).toBe(
      execError(3, 'reReplaceAll "(" "" "x"', 'error calling reReplaceAll: regexp: Compile(`(`): error parsing regexp: missing closing ): `(`'),
    );
  });

  it('stripPort', () => {
    const cases: [string, string][] = [
      ['foo.example.com', 'foo.example.com'],
      ['foo.example.com:12345', 'foo.example.com'],
      ['192.0.2.1', '192.0.2.1'],
      ['192.0.2.1:12345', '192.0.2.1'],
      ['2001:0DB8::1', '2001:0DB8::1'],
      ['[2001:0DB8::1]:12345', '2001:0DB8::1'],
      ['[2001:0DB8::1]::12345', '[2001:0DB8::1]::12345'],
    ];
    for (const [input, want] of cases) expect(expand(`{{ "${input}" | stripPort }}`)).toBe(want);
  });

  it('stripDomain', () => {
    const cases: [string, string][] = [
      ['foo.example.com', 'foo'],
      ['foo.example.com:12345', 'foo:12345'],
      ['192.0.2.1', '192.0.2.1'],
      ['192.0.2.1:12345', '192.0.2.1:12345'],
      ['2001:0DB8::1', '2001:0DB8::1'],
      ['[2001:0DB8::1]:12345', '[2001:0DB8::1]:12345'],
      ['[2001:0DB8::1]::12345', '[2001:0DB8::1]::12345'],
    ];
    for (const [input, want] of cases) expect(expand(`{{ "${input}" | stripDomain }}`)).toBe(want);
    expect(expand('{{ $labels.instance | stripDomain }}')).toBe('foo:9090');
  });

  it('args, safeHtml, graphLink, tableLink', () => {
    expect(expand('{{define "x"}}{{.arg0}} {{.arg1}}{{end}}{{template "x" (args 1 "2")}}')).toBe('1 2');
    expect(expand('{{ "<b>" | safeHtml }}')).toBe('<b>');
    expect(expand('{{ graphLink "up" }}')).toBe('/graph?g0.expr=up&g0.tab=0');
    expect(expand('{{ tableLink "rate(x[5m]) > 1" }}')).toBe('/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+1&g0.tab=1');
  });

  it('pathPrefix, externalURL, urlQueryEscape', () => {
    expect(expand('{{ pathPrefix }}')).toBe('/path/prefix');
    expect(expand('{{ externalURL }}')).toBe('http://testhost:9090/path/prefix');
    expect(expand('[{{ pathPrefix }}]', data({ externalURL: 'http://testhost:9090' }))).toBe('[]');
    expect(expand('{{ externalURL }}', data({ externalURL: 'http://other/x' }))).toBe('http://other/x');
    expect(expand('{{ "a b&c=d/é" | urlQueryEscape }}')).toBe('a+b%26c%3Dd%2F%C3%A9');
    expect(expand('{{ externalURL }}/alerts?q={{ $labels.job | urlQueryEscape }}')).toBe('http://testhost:9090/path/prefix/alerts?q=api');
  });
});
