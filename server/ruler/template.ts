/**
 * Alerting-rule label and annotation templates, as Prometheus expands them (`rules/alerting.go`
 * with `template/template.go`): Go text/template with `missingkey=zero`, the alert's data as a
 * struct dot, `$labels`/`$externalLabels`/`$externalURL`/`$value` declared up front, and
 * Prometheus's text-template functions instead of Loki's `line_format` ones.
 *
 * Not provided: `query`, `first`, `label`, `value`, `sortByLabel` and `strvalue`. They work on
 * PromQL query results, which a log ruler has no engine for, so a template naming them fails to
 * parse with Go's `function "query" not defined`, both at validation and at expansion.
 */
import { isIP } from 'node:net';
import { parseFloatValue } from '../../logql/pipeline/label-filter.js';
import { parsePromDuration } from '../../logql/syntax/duration.js';
import {
  compileTemplate,
  formatFloatV,
  goQuote,
  GoError,
  GoInt,
  goRegexp,
  GoStruct,
  GoTime,
  IfaceMap,
  queryEscape,
  replaceAllString,
  sprintf,
  StringMap,
  Template,
  TemplateExecError,
  TemplateSyntaxError,
  typeName,
  UTC,
  type FuncMap,
  type GoFunc,
  type GoRegexp,
  type GoValue,
  type ParamType,
} from '../../logql/template/index.js';

export interface AlertTemplateData {
  labels: Record<string, string>;
  value: number;
  externalLabels: Record<string, string>;
  externalURL: string;
}

/** Declared before every alert template, exactly as Prometheus prepends them (positions in errors count them). */
const DEFS = '{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}';

/** `%T` of Prometheus's AlertTemplateData struct, for "can't evaluate field" errors. */
const DATA_TYPE = 'struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }';

/**
 * Expands one label or annotation template for an alert. `timestampMs` is the rule evaluation time
 * (what `now` returns). Never throws: a bad template yields `<error expanding template: …>` with
 * Go's error text, which Prometheus also puts in the label/annotation.
 */
export function expandAlertTemplate(name: string, text: string, data: AlertTemplateData, timestampMs: number): string {
  // Text with no action parses to itself; skip the cache and the executor.
  if (!text.includes('{{')) return text;
  const t = compiled(name, text, data.externalURL);
  if (typeof t === 'string') return `<error expanding template: error parsing template ${name}: ${t}>`;
  const dot = new GoStruct(
    DATA_TYPE,
    new Map<string, GoValue>([
      ['Labels', new StringMap(new Map(Object.entries(data.labels)))],
      ['ExternalLabels', new StringMap(new Map(Object.entries(data.externalLabels)))],
      ['ExternalURL', data.externalURL],
      ['Value', data.value],
    ]),
  );
  try {
    return t.execute(dot, '', BigInt(Math.trunc(timestampMs)) * 1_000_000n);
  } catch (e) {
    // Go's Expand recovers panics too, so an unexpected failure is reported rather than thrown.
    const msg = e instanceof TemplateExecError ? `error executing template ${name}: ${e.message}` : String((e as Error)?.message ?? e);
    return `<error expanding template: ${msg}>`;
  }
}

/** Go's parse error for the template (`template: __alert_X:1: function "foo" not defined`), or undefined when it parses. */
export function validateAlertTemplate(name: string, text: string): string | undefined {
  if (!text.includes('{{')) return undefined;
  const t = compiled(name, text, '');
  return typeof t === 'string' ? t : undefined;
}

// ---- compiled-template cache ----

const MAX_CACHED = 2000;
/** Template, or its parse error message. Keyed by name, external URL and text (all three shape the result). */
const cache = new Map<string, Template | string>();
const funcMaps = new Map<string, FuncMap>();

function compiled(name: string, text: string, externalURL: string): Template | string {
  const key = `${name}\u0000${externalURL}\u0000${text}`;
  let t = cache.get(key);
  if (t === undefined) {
    try {
      t = compileTemplate(DEFS + text, name, funcsFor(externalURL));
    } catch (e) {
      if (!(e instanceof TemplateSyntaxError)) throw e;
      t = e.message;
    }
    // Evict the oldest entry: rules are few and stable, so this only bites on churn.
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
    cache.set(key, t);
  }
  return t;
}

/** `pathPrefix` and `externalURL` close over the URL, so there is one function map per URL (in practice one). */
function funcsFor(externalURL: string): FuncMap {
  let m = funcMaps.get(externalURL);
  if (!m) {
    if (funcMaps.size >= 16) funcMaps.clear();
    m = prometheusFuncs(externalURL);
    funcMaps.set(externalURL, m);
  }
  return m;
}

// ---- Prometheus's functions ----

const fn = (params: ParamType[], call: GoFunc['call'], variadic = false): GoFunc => ({ params, variadic, call });
const str = (v: GoValue | undefined): string => v as string;
/** Go `%.4g`: what Prometheus's humanize functions print numbers with. */
const g4 = (v: number): string => sprintf('%.4g', [v]);

function prometheusFuncs(externalURL: string): FuncMap {
  const path = urlPath(externalURL);
  return {
    args: fn(['any'], (a) => new IfaceMap(new Map(a.map((v, i) => [`arg${i}`, v]))), true),
    reReplaceAll: fn(['string', 'string', 'string'], ([p, r, s]) => replaceAllString(mustCompile(str(p)), str(s), str(r))),
    // html/template.HTML is a string type: in a text template it prints as the string.
    safeHtml: fn(['string'], ([s]) => str(s)),
    match: fn(['string', 'string'], ([p, s]) => matchString(str(p), str(s))),
    title: fn(['string'], ([s]) => title(str(s))),
    toUpper: fn(['string'], ([s]) => mapRunes(str(s), true)),
    toLower: fn(['string'], ([s]) => mapRunes(str(s), false)),
    graphLink: fn(['string'], ([e]) => `/graph?g0.expr=${queryEscape(str(e))}&g0.tab=0`),
    tableLink: fn(['string'], ([e]) => `/graph?g0.expr=${queryEscape(str(e))}&g0.tab=1`),
    stripPort: fn(['string'], ([s]) => stripPort(str(s))),
    stripDomain: fn(['string'], ([s]) => stripDomain(str(s))),
    humanize: fn(['any'], ([v]) => humanize(toFloat(v!))),
    humanize1024: fn(['any'], ([v]) => humanize1024(toFloat(v!))),
    humanizeDuration: fn(['any'], ([v]) => humanizeDuration(toFloat(v!))),
    humanizePercentage: fn(['any'], ([v]) => g4(toFloat(v!) * 100) + '%'),
    humanizeTimestamp: fn(['any'], ([v]) => humanizeTimestamp(toFloat(v!))),
    toTime: fn(['any'], ([v]) => floatToTime(toFloat(v!))),
    // Go returns a *time.Duration; the engine has no Duration value, so this is its String().
    toDuration: fn(['any'], ([v]) => durationString(floatToDuration(toFloat(v!)))),
    // The evaluation timestamp, in seconds, as Prometheus passes the rule's eval time.
    now: fn([], (_a, ctx) => Number(ctx.timestampNs / 1_000_000n) / 1000),
    pathPrefix: fn([], () => path),
    externalURL: fn([], () => externalURL),
    parseDuration: fn(['string'], ([d]) => parseDuration(str(d))),
    urlQueryEscape: fn(['string'], ([s]) => queryEscape(str(s))),
  };
}

/** prometheus/common `ConvertToFloat`: numbers as they are, strings through strconv.ParseFloat. */
function toFloat(v: GoValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof GoInt && v.type === 'int64') return Number(v.v);
  if (typeof v === 'string') {
    try {
      return parseFloatValue(v);
    } catch (e) {
      throw new GoError((e as { message: string }).message);
    }
  }
  throw new GoError(`can't convert ${typeName(v)} to float`);
}

const BIG_PREFIXES = ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
const SMALL_PREFIXES = ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y'];
const BINARY_PREFIXES = ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi'];

/** Scales |v| < 1 up by 1000 per SI prefix until it reaches 1; returns it and the last prefix used. */
function scaleSmall(v: number): [number, string] {
  let prefix = '';
  for (const p of SMALL_PREFIXES) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return [v, prefix];
}

/** Scales v down by `base` per prefix while |v| >= base; returns it and the last prefix used. */
function scaleBig(v: number, base: number, prefixes: string[]): [number, string] {
  let prefix = '';
  for (const p of prefixes) {
    if (Math.abs(v) < base) break;
    prefix = p;
    v /= base;
  }
  return [v, prefix];
}

function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return g4(v);
  const [x, prefix] = Math.abs(v) >= 1 ? scaleBig(v, 1000, BIG_PREFIXES) : scaleSmall(v);
  return g4(x) + prefix;
}

function humanize1024(v: number): string {
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return g4(v);
  const [x, prefix] = scaleBig(v, 1024, BINARY_PREFIXES);
  return g4(x) + prefix;
}

function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return g4(v);
  if (v === 0) return g4(v) + 's';
  if (Math.abs(v) >= 1) {
    const sign = v < 0 ? '-' : '';
    v = Math.abs(v);
    // Go truncates to int64 seconds for the d/h/m/s form.
    const total = BigInt(Math.trunc(v));
    const seconds = total % 60n;
    const minutes = (total / 60n) % 60n;
    const hours = (total / 3600n) % 24n;
    const days = total / 86400n;
    if (days !== 0n) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0n) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0n) return `${sign}${minutes}m ${seconds}s`;
    return sign + g4(v) + 's';
  }
  const [x, prefix] = scaleSmall(v);
  return g4(x) + prefix + 's';
}

function humanizeTimestamp(v: number): string {
  if (!Number.isFinite(v)) return g4(v);
  return floatToTime(v).toString();
}

const TWO_63 = 2 ** 63;

/** Unix seconds to a UTC time at Prometheus's millisecond resolution (`model.TimeFromUnixNano`). */
function floatToTime(v: number): GoTime {
  if (!Number.isFinite(v)) throw new GoError('value is NaN or Inf');
  const ns = v * 1e9;
  if (ns > TWO_63 || ns < -TWO_63) throw new GoError(`${formatFloatV(v)} cannot be represented as a nanoseconds timestamp since it overflows int64`);
  const ms = BigInt(Math.trunc(ns)) / 1_000_000n;
  return GoTime.fromUnixNanos(ms * 1_000_000n, UTC);
}

/** Seconds to nanoseconds, as Go's `time.Duration(v * 1e9)`. */
function floatToDuration(v: number): bigint {
  if (!Number.isFinite(v)) throw new GoError('value is NaN or Inf');
  const ns = v * 1e9;
  if (ns > TWO_63 || ns < -TWO_63) throw new GoError(`${formatFloatV(v)} cannot be represented as a nanoseconds duration since it overflows int64`);
  return BigInt(Math.trunc(ns));
}

/** Go `time.Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`. */
function durationString(d: bigint): string {
  if (d === 0n) return '0s';
  const sign = d < 0n ? '-' : '';
  const u = d < 0n ? -d : d;
  // The fraction of v below 10^digits, without trailing zeros, and the whole part.
  const frac = (v: bigint, digits: number): [string, bigint] => {
    const p = 10n ** BigInt(digits);
    const f = v % p;
    return [f === 0n ? '' : '.' + f.toString().padStart(digits, '0').replace(/0+$/, ''), v / p];
  };
  if (u < 1000n) return `${sign}${u}ns`;
  if (u < 1_000_000n) {
    const [f, w] = frac(u, 3);
    return `${sign}${w}${f}µs`;
  }
  if (u < 1_000_000_000n) {
    const [f, w] = frac(u, 6);
    return `${sign}${w}${f}ms`;
  }
  const [f, secs] = frac(u, 9);
  let out = `${secs % 60n}${f}s`;
  const mins = secs / 60n;
  if (mins > 0n) {
    out = `${mins % 60n}m` + out;
    const hours = mins / 60n;
    if (hours > 0n) out = `${hours}h` + out;
  }
  return sign + out;
}

/** Prometheus `model.ParseDuration`, in seconds. */
function parseDuration(d: string): number {
  try {
    return parsePromDuration(d) / 1e9;
  } catch (e) {
    throw new GoError((e as Error).message);
  }
}

// ---- strings ----

/** Go `regexp.MatchString`: a bad pattern is the function's error. */
function matchString(pattern: string, s: string): boolean {
  let r: GoRegexp;
  try {
    r = goRegexp(pattern);
  } catch (e) {
    throw new GoError((e as Error).message);
  }
  // The compiled RegExp is shared and global: start from 0 regardless of earlier use.
  r.re.lastIndex = 0;
  return r.re.test(s);
}

/** Go `regexp.MustCompile`: its panic message, which text/template reports as the call's error. */
function mustCompile(pattern: string): GoRegexp {
  try {
    return goRegexp(pattern);
  } catch (e) {
    throw new GoError(`regexp: Compile(${regexpQuote(pattern)}): ${(e as Error).message}`);
  }
}

/** regexp's `quote`: backquoted when strconv.CanBackquote allows it, else strconv.Quote. */
function regexpQuote(s: string): string {
  return /[`\u0000-\u0008\u000a-\u001f\u007f\ufeff]/.test(s) ? goQuote(s) : '`' + s + '`';
}

/** Go `strings.ToUpper`/`ToLower`: rune by rune, keeping runes whose case mapping is not one rune. */
function mapRunes(s: string, upper: boolean): string {
  if (/^[\x00-\x7f]*$/.test(s)) return upper ? s.toUpperCase() : s.toLowerCase();
  let out = '';
  for (const ch of s) {
    const m = upper ? ch.toUpperCase() : ch.toLowerCase();
    out += [...m].length === 1 ? m : ch;
  }
  return out;
}

const words = new Intl.Segmenter('en-US', { granularity: 'word' });

/**
 * `cases.Title(language.AmericanEnglish, cases.NoLower)`: the first letter of each word upper-cased,
 * the rest kept. Words are Unicode word segments (so `don't` stays one word, unlike strings.Title).
 */
function title(s: string): string {
  let out = '';
  for (const seg of words.segment(s)) {
    if (!seg.isWordLike) {
      out += seg.segment;
      continue;
    }
    const first = String.fromCodePoint(seg.segment.codePointAt(0)!);
    const up = first.toUpperCase();
    out += ([...up].length === 1 ? up : first) + seg.segment.slice(first.length);
  }
  return out;
}

/** Go `net.SplitHostPort`, or null where it returns an error. */
function splitHostPort(hostport: string): [string, string] | null {
  const i = hostport.lastIndexOf(':');
  if (i < 0) return null;
  let host: string;
  let j = 0;
  let k = 0;
  if (hostport[0] === '[') {
    const end = hostport.indexOf(']');
    if (end < 0 || end + 1 !== i) return null;
    host = hostport.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.slice(0, i);
    if (host.includes(':')) return null;
  }
  if (hostport.slice(j).includes('[') || hostport.slice(k).includes(']')) return null;
  return [host, hostport.slice(i + 1)];
}

/** Go `net.ParseIP` succeeds: IPv4 or IPv6 without a zone. */
const isGoIP = (s: string): boolean => !s.includes('%') && isIP(s) !== 0;

function stripPort(hostPort: string): string {
  const hp = splitHostPort(hostPort);
  return hp ? hp[0] : hostPort;
}

function stripDomain(hostPort: string): string {
  const hp = splitHostPort(hostPort);
  const host = hp ? hp[0] : hostPort;
  if (isGoIP(host)) return hostPort;
  const short = host.split('.')[0]!;
  if (hp && hp[1] !== '') return short.includes(':') ? `[${short}]:${hp[1]}` : `${short}:${hp[1]}`;
  return short;
}

/** Go `url.Parse(u).Path`: the decoded path, "" when the URL has none. */
function urlPath(u: string): string {
  let rest = u;
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  if (q >= 0) rest = rest.slice(0, q);
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    rest = slash < 0 ? '' : rest.slice(slash);
  } else if (scheme && !rest.startsWith('/')) {
    return '';
  }
  try {
    return decodeURIComponent(rest);
  } catch {
    return rest;
  }
}
