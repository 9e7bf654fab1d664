/**
 * The Go values a template works with, mapped to cheap JS values:
 *
 * | Go | JS |
 * |---|---|
 * | `string` | `string` |
 * | `bool` | `boolean` |
 * | `int` | `bigint` |
 * | `int64`, `uint8` | `GoInt` (a bigint tagged with its type) |
 * | `float64` | `number` |
 * | `time.Time` | `GoTime` (see time.ts) |
 * | `map[string]string`, `map[string]interface {}` | `GoMap` |
 * | `[]interface {}` | `GoSlice` |
 * | no value (an invalid `reflect.Value`) | `null` |
 * | a nil `interface {}` held by a map or slice | `NIL_IFACE` |
 *
 * Go keeps `int` and `int64` apart (`trunc (sub 5 1) .x` is a type error), so they stay apart here.
 */
import { GoTime } from './time.js';

/** A nil `interface{}` inside a container (a JSON null, or a missing key of a `map[string]interface{}`). */
export const NIL_IFACE: unique symbol = Symbol('nil interface');
export type NilIface = typeof NIL_IFACE;

/** An integer of a Go type other than `int`. */
export class GoInt {
  constructor(
    readonly v: bigint,
    readonly type: 'int64' | 'uint8',
  ) {}
}

/** A Go map with string keys. Implement it to expose your own data as the template's dot. */
export interface GoMap {
  readonly kind: 'map';
  /** `map[string]string` or `map[string]interface {}`: decides the zero value of a missing key. */
  readonly goType: 'map[string]string' | 'map[string]interface {}';
  /** The value of `key`, or undefined when absent. */
  lookup(key: string): GoValue | undefined;
  /** All keys, sorted (Go's `range` order). */
  sortedKeys(): string[];
  readonly size: number;
}

export class GoSlice {
  readonly kind = 'slice';
  constructor(readonly items: GoValue[]) {}
}

export type GoValue = string | boolean | bigint | number | GoInt | GoTime | GoMap | GoSlice | NilIface | null;

/** A `map[string]string` over a JS Map. */
export class StringMap implements GoMap {
  readonly kind = 'map';
  readonly goType = 'map[string]string';
  constructor(private readonly m: ReadonlyMap<string, string>) {}
  lookup(key: string): string | undefined {
    return this.m.get(key);
  }
  sortedKeys(): string[] {
    return [...this.m.keys()].sort();
  }
  get size(): number {
    return this.m.size;
  }
}

/** A `map[string]interface {}` (fromJson objects). */
export class IfaceMap implements GoMap {
  readonly kind = 'map';
  readonly goType = 'map[string]interface {}';
  constructor(private readonly m: ReadonlyMap<string, GoValue>) {}
  lookup(key: string): GoValue | undefined {
    return this.m.get(key);
  }
  sortedKeys(): string[] {
    return [...this.m.keys()].sort();
  }
  get size(): number {
    return this.m.size;
  }
}

export function isMap(v: GoValue): v is GoMap {
  return typeof v === 'object' && v !== null && (v as { kind?: string }).kind === 'map';
}

export function isInt(v: GoValue): v is bigint | GoInt {
  return typeof v === 'bigint' || v instanceof GoInt;
}

export function intValue(v: bigint | GoInt): bigint {
  return typeof v === 'bigint' ? v : v.v;
}

/** Go's type name of a value, as `%T` and error messages print it. */
export function typeName(v: GoValue): string {
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float64';
    case 'symbol':
      return 'interface {}';
  }
  if (v === null) return '<nil>';
  if (v instanceof GoInt) return v.type;
  if (v instanceof GoTime) return 'time.Time';
  if (v instanceof GoSlice) return '[]interface {}';
  return v.goType;
}

/** Go's `text/template` truth: false, 0, "", empty map/slice and nil are false. */
export function isTrue(v: GoValue): boolean {
  switch (typeof v) {
    case 'string':
      return v.length > 0;
    case 'boolean':
      return v;
    case 'bigint':
      return v !== 0n;
    case 'number':
      return v !== 0;
    case 'symbol':
      return false;
  }
  if (v === null) return false;
  if (v instanceof GoInt) return v.v !== 0n;
  if (v instanceof GoTime) return true;
  if (v instanceof GoSlice) return v.items.length > 0;
  return v.size > 0;
}

// ---- UTF-8 helpers (Go strings are bytes) ----

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function utf8Bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

export function utf8Decode(b: Uint8Array): string {
  return decoder.decode(b);
}

/** Byte length of a string in UTF-8 (Go's `len`). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

// ---- %v formatting ----

/** Go's `strconv.FormatFloat(f, 'g', -1, 64)` as `%v` prints a float64. */
export function formatFloatV(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mant, expStr] = f.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  if (exp < -4 || exp >= 21) return mant + goExp(exp);
  if (exp >= 6) return mant + goExp(exp);
  return String(f);
}

/** `e+06`, `e-05`: Go prints at least two exponent digits. */
export function goExp(exp: number): string {
  const a = Math.abs(exp);
  return (exp < 0 ? 'e-' : 'e+') + (a < 10 ? '0' : '') + String(a);
}

/** Go `Time.String()` and friends live in time.ts; this is `fmt`'s `%v` of any value. */
export function formatV(v: GoValue, top = true): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return v.toString();
    case 'number':
      return formatFloatV(v);
    case 'symbol':
      return '<nil>';
  }
  if (v === null) return top ? '<nil>' : '<nil>';
  if (v instanceof GoInt) return v.v.toString();
  if (v instanceof GoTime) return v.toString();
  if (v instanceof GoSlice) return '[' + v.items.map((x) => formatV(x, false)).join(' ') + ']';
  const parts: string[] = [];
  for (const k of v.sortedKeys()) parts.push(k + ':' + formatV(v.lookup(k) ?? null, false));
  return 'map[' + parts.join(' ') + ']';
}

/** Go `fmt.Sprint`: spaces are added between operands when neither is a string. */
export function sprint(args: GoValue[]): string {
  let s = '';
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') s += ' ';
    s += formatV(a);
  }
  return s;
}

/** Go `fmt.Sprintln`: always spaces, then a newline. */
export function sprintln(args: GoValue[]): string {
  return args.map((a) => formatV(a)).join(' ') + '\n';
}
