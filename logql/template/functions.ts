/**
 * Loki's template functions (`pkg/logql/log/fmt.go`): its own additions plus the sprig subset it
 * registers, with Go's argument types and Go/sprig/cast conversion rules
 * (`add "1" 2` = 3, `int "abc"` = 0, `div 1 0` is a runtime error, …).
 * `__line__` and `__timestamp__` read the ExecContext.
 */
import { parseHumanizeBytes } from '../syntax/bytes.js';
import { parseGoDuration } from '../syntax/duration.js';
import { parseFloatValue } from '../pipeline/label-filter.js';
import { queryEscape } from './builtins.js';
import { GoError } from './errors.js';
import { goQuote } from './lexer.js';
import { parseGoInt } from './parser.js';
import { countMatches, goRegexp, replaceAllLiteralString, replaceAllString } from './regex-funcs.js';
import type { GoFunc, ParamType } from './signature.js';
import { formatTime, GoTime, LOCAL, loadLocation, parseTime, UTC } from './time.js';
import { GoInt, GoSlice, IfaceMap, intValue, isInt, isMap, NIL_IFACE, utf8Bytes, utf8Decode, type GoValue } from './values.js';

const fn = (params: ParamType[], call: GoFunc['call'], variadic = false): GoFunc => ({ params, variadic, call });
const str = (v: GoValue | undefined): string => v as string;
const int = (v: GoValue | undefined): number => Number(v as bigint);
const int64 = (v: bigint): GoInt => new GoInt(BigInt.asIntN(64, v), 'int64');

// ---- strings ----

const isAscii = (s: string): boolean => /^[\x00-\x7f]*$/.test(s);

/** Go `strings.ToLower`/`ToUpper`: per rune, without JS's multi-character special casings. */
function mapRunes(s: string, upper: boolean): string {
  if (isAscii(s)) return upper ? s.toUpperCase() : s.toLowerCase();
  let out = '';
  for (const ch of s) {
    const m = upper ? ch.toUpperCase() : ch.toLowerCase();
    out += [...m].length === 1 ? m : ch;
  }
  return out;
}

const GO_SPACE = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000]);
const isGoSpace = (cp: number): boolean => GO_SPACE.has(cp) || (cp >= 0x2000 && cp <= 0x200a);

function trimFunc(s: string, pred: (cp: number) => boolean, left: boolean, right: boolean): string {
  const runes = [...s];
  let a = 0;
  let b = runes.length;
  if (left) while (a < b && pred(runes[a]!.codePointAt(0)!)) a++;
  if (right) while (b > a && pred(runes[b - 1]!.codePointAt(0)!)) b--;
  return runes.slice(a, b).join('');
}

const trimSpace = (s: string): string => trimFunc(s, isGoSpace, true, true);
function trimCutset(s: string, cutset: string, left: boolean, right: boolean): string {
  if (s === '' || cutset === '') return s;
  const set = new Set([...cutset].map((c) => c.codePointAt(0)!));
  return trimFunc(s, (cp) => set.has(cp), left, right);
}

const trimPrefix = (s: string, p: string): string => (s.startsWith(p) ? s.slice(p.length) : s);
const trimSuffix = (s: string, p: string): string => (p !== '' && s.endsWith(p) ? s.slice(0, s.length - p.length) : s);

/** Go `strings.Replace(s, old, new, n)`. */
function goReplace(s: string, old: string, rep: string, n: number): string {
  if (old === rep || n === 0) return s;
  if (old === '') {
    const runes = [...s];
    let out = '';
    let count = 0;
    for (let i = 0; i <= runes.length; i++) {
      if (n < 0 || count < n) {
        out += rep;
        count++;
      }
      if (i < runes.length) out += runes[i];
    }
    return out;
  }
  let out = '';
  let pos = 0;
  let count = 0;
  while (n < 0 || count < n) {
    const i = s.indexOf(old, pos);
    if (i < 0) break;
    out += s.slice(pos, i) + rep;
    pos = i + old.length;
    count++;
  }
  return out + s.slice(pos);
}

function goRepeat(s: string, count: number): string {
  if (count < 0) throw new GoError('strings: negative Repeat count');
  if (s.length * count > 1 << 28) throw new GoError('strings: Repeat output length overflow');
  return s.repeat(count);
}

/** Go `strings.Title` (deprecated, but what sprig's `title` is). */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    out += isSeparator(prev) ? mapRunes(ch, true) : ch;
    prev = ch;
  }
  return out;
}
function isSeparator(ch: string): boolean {
  const c = ch.codePointAt(0)!;
  if (c <= 0x7f) return !/[0-9A-Za-z_]/.test(ch);
  if (/[\p{L}\p{Nd}]/u.test(ch)) return false;
  return isGoSpace(c);
}

/** sprig `trunc`: by bytes; a negative count keeps the end. */
function trunc(c: number, s: string): string {
  const b = utf8Bytes(s);
  if (c < 0 && b.length + c > 0) return utf8Decode(b.slice(b.length + c));
  if (c >= 0 && b.length > c) return utf8Decode(b.slice(0, c));
  return s;
}

/** Go's panic for `s[lo:hi]` out of range. */
function sliceBounds(lo: number | null, hi: number | null, len: number): GoError {
  if (lo === null) return new GoError(hi! < 0 ? `runtime error: slice bounds out of range [:${hi}]` : `runtime error: slice bounds out of range [:${hi}] with length ${len}`);
  return new GoError(`runtime error: slice bounds out of range [${lo}:${hi ?? len}]`);
}

/** sprig `substr(start, end, s)`: by bytes, `s[:end]` for start < 0, `s[start:]` for end < 0 or past the end; Go panics otherwise out of range. */
function substring(start: number, end: number, s: string): string {
  const b = utf8Bytes(s);
  const len = b.length;
  if (start < 0) {
    if (end < 0 || end > len) throw sliceBounds(null, end, len);
    return utf8Decode(b.slice(0, end));
  }
  if (end < 0 || end > len) {
    if (start > len) throw sliceBounds(start, null, len);
    return utf8Decode(b.slice(start));
  }
  if (start > end) throw sliceBounds(start, end, len);
  return utf8Decode(b.slice(start, end));
}

function align(count: number, src: string, left: boolean): string {
  const runes = [...src];
  const l = runes.length;
  if (count < 0 || count === l) return src;
  const pad = count - l;
  if (pad > 0) return left ? src + ' '.repeat(pad) : ' '.repeat(pad) + src;
  return left ? runes.slice(0, count).join('') : runes.slice(l - count).join('');
}

function indent(spaces: number, v: string): string {
  const pad = goRepeat(' ', spaces);
  return pad + v.replace(/\n/g, '\n' + pad);
}

// ---- encodings ----

function b64dec(s: string): string {
  const clean = s.replace(/[\r\n]/g, '');
  const bad = (i: number): string => `illegal base64 data at input byte ${i}`;
  for (let i = 0; i < clean.length; i++) {
    const c = clean[i]!;
    if (c === '=') {
      const rest = clean.slice(i);
      const q = i % 4;
      if (q < 2 || !(rest === '=' + (q === 2 ? '=' : '') || (q === 3 && rest === '='))) return bad(q < 2 ? i : i);
      break;
    }
    if (!/[A-Za-z0-9+/]/.test(c)) return bad(i);
  }
  if (!clean.includes('=') && clean.length % 4 !== 0) return bad(clean.length - (clean.length % 4));
  return utf8Decode(Buffer.from(clean, 'base64'));
}

/** Go `url.QueryUnescape`. */
function queryUnescape(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    if (c === '%') {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) throw new GoError(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      bytes.push(parseInt(h, 16));
      i += 3;
    } else if (c === '+') {
      bytes.push(0x20);
      i++;
    } else {
      const ch = String.fromCodePoint(s.codePointAt(i)!);
      for (const b of utf8Bytes(ch)) bytes.push(b);
      i += ch.length;
    }
  }
  return utf8Decode(new Uint8Array(bytes));
}

// ---- numbers (sprig / spf13/cast) ----

function trimZeroDecimal(s: string): string {
  let foundZero = false;
  for (let i = s.length; i > 0; i--) {
    const c = s[i - 1];
    if (c === '.') {
      if (foundZero) return s.slice(0, i - 1);
    } else if (c === '0') foundZero = true;
    else return s;
  }
  return s;
}

/** cast.ToInt64: ints, floats (truncated), bools, numeric strings (base prefixes allowed); else 0. */
export function toInt64(v: GoValue): bigint {
  if (isInt(v)) return intValue(v);
  if (typeof v === 'number') return Number.isFinite(v) ? BigInt.asIntN(64, BigInt(Math.trunc(v))) : -(2n ** 63n);
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'string') return parseGoInt(trimZeroDecimal(v), true) ?? 0n;
  return 0n;
}

/** cast.ToFloat64: numbers, bools, strconv.ParseFloat of strings; else 0. */
export function toFloat64(v: GoValue): number {
  if (typeof v === 'number') return v;
  if (isInt(v)) return Number(intValue(v));
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    try {
      return parseFloatValue(v);
    } catch {
      return 0;
    }
  }
  return 0;
}

/** shopspring/decimal as sprig's `addf`/`subf`/`mulf`/`divf` use it: exact decimal arithmetic. */
interface Decimal {
  c: bigint;
  e: number;
}

function decFromFloat(f: number): Decimal {
  if (!Number.isFinite(f)) throw new GoError(`Cannot create a Decimal from ${Number.isNaN(f) ? 'NaN' : f > 0 ? '+Inf' : '-Inf'}`);
  if (f === 0) return { c: 0n, e: 0 };
  const [m, e] = f.toExponential().split('e') as [string, string];
  const digits = m.replace('.', '').replace('-', '');
  const c = BigInt(digits) * (f < 0 ? -1n : 1n);
  return { c, e: Number(e) - (digits.length - 1) };
}

const pow10 = (n: number): bigint => 10n ** BigInt(n);

function decAlign(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const e = Math.min(a.e, b.e);
  return [a.c * pow10(a.e - e), b.c * pow10(b.e - e), e];
}

function decOp(op: 'add' | 'sub' | 'mul' | 'div', a: Decimal, b: Decimal): Decimal {
  switch (op) {
    case 'add': {
      const [x, y, e] = decAlign(a, b);
      return { c: x + y, e };
    }
    case 'sub': {
      const [x, y, e] = decAlign(a, b);
      return { c: x - y, e };
    }
    case 'mul':
      return { c: a.c * b.c, e: a.e + b.e };
    case 'div': {
      if (b.c === 0n) throw new GoError('decimal division by zero');
      const PREC = 16;
      const s = a.e - b.e + PREC;
      let num = a.c;
      let den = b.c;
      if (s >= 0) num *= pow10(s);
      else den *= pow10(-s);
      let q = num / den;
      const r = num % den;
      const abs = (x: bigint): bigint => (x < 0n ? -x : x);
      if (2n * abs(r) >= abs(den)) q += (num < 0n) !== (den < 0n) ? -1n : 1n;
      return { c: q, e: -PREC };
    }
  }
}

function decimalOp(op: 'add' | 'sub' | 'mul' | 'div', first: GoValue, rest: GoValue[]): number {
  let acc = decFromFloat(toFloat64(first));
  for (const x of rest) acc = decOp(op, acc, decFromFloat(toFloat64(x)));
  return Number(`${acc.c}e${acc.e}`);
}

function divInt(a: bigint, b: bigint, op: 'div' | 'mod'): bigint {
  if (b === 0n) throw new GoError('runtime error: integer divide by zero');
  return op === 'div' ? a / b : a % b;
}

/** sprig `round(a, p, roundOn=.5)`. */
function round(a: GoValue, p: number, roundOn: number): number {
  const val = toFloat64(a);
  const pow = Math.pow(10, p);
  const digit = pow * val;
  const div = digit - Math.trunc(digit);
  const r = div >= roundOn ? Math.ceil(digit) : Math.floor(digit);
  return r / pow;
}

// ---- json ----

function fromJsonValue(v: unknown): GoValue {
  if (v === null) return NIL_IFACE;
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (Array.isArray(v)) return new GoSlice(v.map(fromJsonValue));
  const m = new Map<string, GoValue>();
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) m.set(k, fromJsonValue(x));
  return new IfaceMap(m);
}

function fromJson(s: string): GoValue {
  try {
    const v = fromJsonValue(JSON.parse(s));
    return v === NIL_IFACE ? null : v;
  } catch {
    return null;
  }
}

// ---- time ----

function unixToTime(epoch: string): GoTime {
  const i = /^[+-]?[0-9]+$/.test(epoch) ? BigInt(epoch) : null;
  if (i === null || i < -(2n ** 63n) || i > 2n ** 63n - 1n) {
    const why = i === null ? 'invalid syntax' : 'value out of range';
    throw new GoError(`unable to parse time '${epoch}': strconv.ParseInt: parsing ${goQuote(epoch)}: ${why}`);
  }
  switch (utf8Bytes(epoch).length) {
    case 5:
      return new GoTime(Number(i * 86400n), 0, LOCAL);
    case 10:
      return new GoTime(Number(i), 0, LOCAL);
    case 13:
      return GoTime.fromUnixNanos(i * 1_000_000n);
    case 16:
      return GoTime.fromUnixNanos(i * 1_000n);
    case 19:
      return GoTime.fromUnixNanos(i);
    default:
      throw new GoError(`unable to parse time '${epoch}': %!w(<nil>)`);
  }
}

function parseOrZero(layout: string, value: string, zone: string): GoTime {
  const loc = loadLocation(zone) ?? UTC;
  try {
    return parseTime(layout, value, loc);
  } catch {
    return GoTime.zero();
  }
}

/** sprig `date(fmt, date)`: time.Time, or int/int64 Unix seconds; anything else means now. */
function date(layout: string, d: GoValue): string {
  let t: GoTime;
  if (d instanceof GoTime) t = d;
  else if (typeof d === 'bigint' || (d instanceof GoInt && d.type === 'int64')) t = new GoTime(Number(intValue(d)), 0);
  else t = GoTime.now();
  return formatTime(t.in(LOCAL), layout);
}

function empty(v: GoValue): boolean {
  if (v === null || v === NIL_IFACE) return true;
  if (typeof v === 'string') return v.length === 0;
  if (typeof v === 'boolean') return !v;
  if (typeof v === 'number') return v === 0;
  if (isInt(v)) return intValue(v) === 0n;
  if (v instanceof GoSlice) return v.items.length === 0;
  if (isMap(v)) return v.size === 0;
  return false;
}

export const FUNCTIONS: Record<string, GoFunc> = {
  __line__: fn([], (_a, ctx) => ctx.line),
  __timestamp__: fn([], (_a, ctx) => GoTime.fromUnixNanos(ctx.timestampNs)),

  // Loki's own
  ToLower: fn(['string'], ([s]) => mapRunes(str(s), false)),
  ToUpper: fn(['string'], ([s]) => mapRunes(str(s), true)),
  Replace: fn(['string', 'string', 'string', 'int'], ([s, o, n, k]) => goReplace(str(s), str(o), str(n), int(k))),
  Trim: fn(['string', 'string'], ([s, c]) => trimCutset(str(s), str(c), true, true)),
  TrimLeft: fn(['string', 'string'], ([s, c]) => trimCutset(str(s), str(c), true, false)),
  TrimRight: fn(['string', 'string'], ([s, c]) => trimCutset(str(s), str(c), false, true)),
  TrimPrefix: fn(['string', 'string'], ([s, p]) => trimPrefix(str(s), str(p))),
  TrimSuffix: fn(['string', 'string'], ([s, p]) => trimSuffix(str(s), str(p))),
  TrimSpace: fn(['string'], ([s]) => trimSpace(str(s))),
  regexReplaceAll: fn(['string', 'string', 'string'], ([re, s, r]) => replaceAllString(compile(str(re)), str(s), str(r))),
  regexReplaceAllLiteral: fn(['string', 'string', 'string'], ([re, s, r]) => replaceAllLiteralString(compile(str(re)), str(s), str(r))),
  count: fn(['string', 'string'], ([re, s]) => BigInt(countMatches(compile(str(re)), str(s)))),
  urldecode: fn(['string'], ([s]) => queryUnescape(str(s))),
  urlencode: fn(['string'], ([s]) => queryEscape(str(s))),
  bytes: fn(['string'], ([s]) => goErr(() => parseHumanizeBytes(str(s)))),
  duration: fn(['string'], ([s]) => goErr(() => parseGoDuration(str(s)) / 1e9)),
  duration_seconds: fn(['string'], ([s]) => goErr(() => parseGoDuration(str(s)) / 1e9)),
  unixEpochMillis: fn(['time'], ([t]) => ((t as GoTime).unixNanos() / 1_000_000n).toString()),
  unixEpochNanos: fn(['time'], ([t]) => (t as GoTime).unixNanos().toString()),
  toDateInZone: fn(['string', 'string', 'string'], ([f, z, s]) => parseOrZero(str(f), str(s), str(z))),
  unixToTime: fn(['string'], ([s]) => unixToTime(str(s))),
  alignLeft: fn(['int', 'string'], ([c, s]) => align(int(c), str(s), true)),
  alignRight: fn(['int', 'string'], ([c, s]) => align(int(c), str(s), false)),

  // sprig
  b64enc: fn(['string'], ([s]) => Buffer.from(str(s), 'utf8').toString('base64')),
  b64dec: fn(['string'], ([s]) => b64dec(str(s))),
  lower: fn(['string'], ([s]) => mapRunes(str(s), false)),
  upper: fn(['string'], ([s]) => mapRunes(str(s), true)),
  title: fn(['string'], ([s]) => title(str(s))),
  trunc: fn(['int', 'string'], ([c, s]) => trunc(int(c), str(s))),
  substr: fn(['int', 'int', 'string'], ([a, b, s]) => substring(int(a), int(b), str(s))),
  contains: fn(['string', 'string'], ([sub, s]) => str(s).includes(str(sub))),
  hasPrefix: fn(['string', 'string'], ([p, s]) => str(s).startsWith(str(p))),
  hasSuffix: fn(['string', 'string'], ([p, s]) => str(s).endsWith(str(p))),
  indent: fn(['int', 'string'], ([n, s]) => indent(int(n), str(s))),
  nindent: fn(['int', 'string'], ([n, s]) => '\n' + indent(int(n), str(s))),
  replace: fn(['string', 'string', 'string'], ([o, n, s]) => goReplace(str(s), str(o), str(n), -1)),
  repeat: fn(['int', 'string'], ([n, s]) => goRepeat(str(s), int(n))),
  trim: fn(['string'], ([s]) => trimSpace(str(s))),
  trimAll: fn(['string', 'string'], ([c, s]) => trimCutset(str(s), str(c), true, true)),
  trimSuffix: fn(['string', 'string'], ([p, s]) => trimSuffix(str(s), str(p))),
  trimPrefix: fn(['string', 'string'], ([p, s]) => trimPrefix(str(s), str(p))),
  int: fn(['any'], ([v]) => toInt64(v!)),
  float64: fn(['any'], ([v]) => toFloat64(v!)),
  add: fn(['any'], (a) => int64(a.reduce<bigint>((s, x) => s + toInt64(x), 0n)), true),
  sub: fn(['any', 'any'], ([a, b]) => int64(toInt64(a!) - toInt64(b!))),
  mul: fn(['any', 'any'], ([a, ...r]) => int64(r.reduce<bigint>((p, x) => BigInt.asIntN(64, p * toInt64(x)), toInt64(a!))), true),
  div: fn(['any', 'any'], ([a, b]) => int64(divInt(toInt64(a!), toInt64(b!), 'div'))),
  mod: fn(['any', 'any'], ([a, b]) => int64(divInt(toInt64(a!), toInt64(b!), 'mod'))),
  addf: fn(['any'], (a) => decimalOp('add', 0, a), true),
  subf: fn(['any', 'any'], ([a, ...r]) => decimalOp('sub', a!, r), true),
  mulf: fn(['any', 'any'], ([a, ...r]) => decimalOp('mul', a!, r), true),
  divf: fn(['any', 'any'], ([a, ...r]) => decimalOp('div', a!, r), true),
  max: fn(['any', 'any'], ([a, ...r]) => int64(r.reduce<bigint>((m, x) => (toInt64(x) > m ? toInt64(x) : m), toInt64(a!))), true),
  min: fn(['any', 'any'], ([a, ...r]) => int64(r.reduce<bigint>((m, x) => (toInt64(x) < m ? toInt64(x) : m), toInt64(a!))), true),
  maxf: fn(['any', 'any'], ([a, ...r]) => r.reduce<number>((m, x) => Math.max(m, toFloat64(x)), toFloat64(a!)), true),
  minf: fn(['any', 'any'], ([a, ...r]) => r.reduce<number>((m, x) => Math.min(m, toFloat64(x)), toFloat64(a!)), true),
  ceil: fn(['any'], ([a]) => Math.ceil(toFloat64(a!))),
  floor: fn(['any'], ([a]) => Math.floor(toFloat64(a!))),
  round: fn(['any', 'int', 'float64'], ([a, p, ...o]) => round(a!, int(p), o.length > 0 ? (o[0] as number) : 0.5), true),
  fromJson: fn(['string'], ([s]) => fromJson(str(s))),
  date: fn(['string', 'any'], ([f, d]) => date(str(f), d!)),
  toDate: fn(['string', 'string'], ([f, s]) => parseOrZero(str(f), str(s), 'Local')),
  now: fn([], () => GoTime.now()),
  unixEpoch: fn(['time'], ([t]) => String((t as GoTime).sec)),
  default: fn(['any', 'any'], ([d, ...given]) => (given.length === 0 || empty(given[0]!) ? d! : given[0]!), true),
};

function compile(pattern: string): ReturnType<typeof goRegexp> {
  try {
    return goRegexp(pattern);
  } catch (e) {
    throw new GoError((e as Error).message);
  }
}

function goErr<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new GoError((e as Error).message);
  }
}
