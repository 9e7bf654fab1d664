/**
 * Go text/template's predefined functions: and or not len index slice print printf println
 * eq ne lt le gt ge html js urlquery call. (`and`, `or` and `call` are special-cased in exec.ts.)
 */
import { GoError } from './errors.js';
import { sprintf } from './printf.js';
import type { GoFunc } from './signature.js';
import { GoTime } from './time.js';
import {
  formatV,
  GoInt,
  GoSlice,
  intValue,
  isInt,
  isMap,
  isTrue,
  NIL_IFACE,
  sprint,
  sprintln,
  typeName,
  utf8Bytes,
  utf8Decode,
  utf8Length,
  type GoValue,
} from './values.js';

type Kind = 'invalid' | 'bool' | 'int' | 'uint' | 'float' | 'string';

function basicKind(v: GoValue): Kind {
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int';
  if (v instanceof GoInt) return v.type === 'uint8' ? 'uint' : 'int';
  if (typeof v === 'number') return 'float';
  if (typeof v === 'string') return 'string';
  return 'invalid';
}

const unwrap = (v: GoValue): GoValue => (v === NIL_IFACE ? null : v);

function eqValues(a0: GoValue, rest: GoValue[]): boolean {
  const a = unwrap(a0);
  if (rest.length === 0) throw new GoError('missing argument for comparison');
  const k1 = basicKind(a);
  for (const b0 of rest) {
    const b = unwrap(b0);
    const k2 = basicKind(b);
    let truth = false;
    if (k1 !== k2) {
      if ((k1 === 'int' && k2 === 'uint') || (k1 === 'uint' && k2 === 'int')) {
        truth = intValue(a as bigint | GoInt) === intValue(b as bigint | GoInt);
      } else if (a !== null && b !== null) {
        throw new GoError(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
      }
    } else {
      switch (k1) {
        case 'bool':
        case 'float':
        case 'string':
          truth = a === b;
          break;
        case 'int':
        case 'uint':
          truth = intValue(a as bigint | GoInt) === intValue(b as bigint | GoInt);
          break;
        default:
          if (a === null || b === null) truth = a === b;
          else if (a instanceof GoTime && b instanceof GoTime) truth = a.equals(b);
          else if (typeName(a) !== typeName(b)) {
            throw new GoError(`non-comparable types ${formatV(a)}: ${typeName(a)}, ${typeName(b)}: ${formatV(b)}`);
          } else throw new GoError(`non-comparable type ${formatV(b)}: ${typeName(b)}`);
      }
    }
    if (truth) return true;
  }
  return false;
}

function ltValues(a0: GoValue, b0: GoValue): boolean {
  const a = unwrap(a0);
  const b = unwrap(b0);
  const k1 = basicKind(a);
  if (k1 === 'invalid') throw new GoError('invalid type for comparison');
  const k2 = basicKind(b);
  if (k2 === 'invalid') throw new GoError('invalid type for comparison');
  if (k1 !== k2) {
    if ((k1 === 'int' || k1 === 'uint') && (k2 === 'int' || k2 === 'uint')) return intValue(a as bigint | GoInt) < intValue(b as bigint | GoInt);
    throw new GoError(`incompatible types for comparison: ${typeName(a)} and ${typeName(b)}`);
  }
  switch (k1) {
    case 'bool':
      throw new GoError('invalid type for comparison');
    case 'int':
    case 'uint':
      return intValue(a as bigint | GoInt) < intValue(b as bigint | GoInt);
    default:
      return (a as number | string) < (b as number | string);
  }
}

function leValues(a: GoValue, b: GoValue): boolean {
  return ltValues(a, b) || eqValues(a, [b]);
}

function indexArg(index: GoValue, cap: number): number {
  if (index === null) throw new GoError('cannot index slice/array with nil');
  if (!isInt(index)) throw new GoError(`cannot index slice/array with type ${typeName(index)}`);
  const x = intValue(index);
  if (x < 0n || x > BigInt(cap)) throw new GoError(`index out of range: ${x}`);
  return Number(x);
}

function index(args: GoValue[]): GoValue {
  let item = unwrap(args[0]!);
  if (item === null) throw new GoError('index of untyped nil');
  for (const idx0 of args.slice(1)) {
    const idx = unwrap(idx0);
    if (item === NIL_IFACE) throw new GoError('index of nil pointer');
    if (typeof item === 'string') {
      const bytes = utf8Bytes(item);
      const x = indexArg(idx, bytes.length);
      if (x >= bytes.length) throw new GoError('reflect: string index out of range');
      item = new GoInt(BigInt(bytes[x]!), 'uint8');
    } else if (item instanceof GoSlice) {
      const x = indexArg(idx, item.items.length);
      if (x >= item.items.length) throw new GoError('reflect: slice index out of range');
      item = item.items[x]!;
    } else if (item !== null && isMap(item)) {
      if (idx === null) throw new GoError('value is nil; should be of type string');
      if (typeof idx !== 'string') throw new GoError(`value has type ${typeName(idx)}; should be string`);
      const v = item.lookup(idx);
      item = v !== undefined ? v : item.goType === 'map[string]string' ? '' : NIL_IFACE;
    } else {
      throw new GoError(`can't index item of type ${typeName(item)}`);
    }
  }
  return item;
}

function slice(args: GoValue[]): GoValue {
  const item = unwrap(args[0]!);
  const idxs = args.slice(1);
  if (item === null) throw new GoError('slice of untyped nil');
  if (idxs.length > 3) throw new GoError(`too many slice indexes: ${idxs.length}`);
  let len: number;
  if (typeof item === 'string') {
    if (idxs.length === 3) throw new GoError('cannot 3-index slice a string');
    len = utf8Length(item);
  } else if (item instanceof GoSlice) {
    len = item.items.length;
  } else {
    throw new GoError(`can't slice item of type ${typeName(item)}`);
  }
  const idx = [0, len, len];
  idxs.forEach((v, i) => (idx[i] = indexArg(unwrap(v), len)));
  if (idx[0]! > idx[1]!) throw new GoError(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (idxs.length === 3 && idx[1]! > idx[2]!) throw new GoError(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (typeof item === 'string') return utf8Decode(utf8Bytes(item).slice(idx[0], idx[1]));
  return new GoSlice((item as GoSlice).items.slice(idx[0], idx[1]));
}

function length(v: GoValue): GoValue {
  if (v === NIL_IFACE) throw new GoError('len of nil pointer');
  if (v === null) throw new GoError('reflect: call of reflect.Value.Type on zero Value');
  if (typeof v === 'string') return BigInt(utf8Length(v));
  if (v instanceof GoSlice) return BigInt(v.items.length);
  if (isMap(v)) return BigInt(v.size);
  throw new GoError(`len of type ${typeName(v)}`);
}

/** Go `template.HTMLEscapeString`. */
export function htmlEscape(s: string): string {
  return s.replace(/["'&<>\0]/g, (c) => ({ '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;', '\0': '\uFFFD' })[c]!);
}

/** Go `template.JSEscapeString`. */
export function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '\\':
        out += '\\\\';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case '<':
        out += '\\u003C';
        continue;
      case '>':
        out += '\\u003E';
        continue;
      case '&':
        out += '\\u0026';
        continue;
      case '=':
        out += '\\u003D';
        continue;
    }
    if (c < 0x20) out += '\\u00' + c.toString(16).toUpperCase().padStart(2, '0');
    else if (c >= 0x80 && !/^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]$/u.test(ch)) out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
    else out += ch;
  }
  return out;
}

/** Go `url.QueryEscape`. */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of utf8Bytes(s)) {
    const c = String.fromCharCode(b);
    if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || c === '-' || c === '_' || c === '.' || c === '~') out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** `evalArgs`: a single string as is, else `fmt.Sprint`. */
const evalArgs = (args: GoValue[]): string =>
  args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args.map((a) => (a === null || a === NIL_IFACE ? '<no value>' : a)));

export const BUILTINS: Record<string, GoFunc> = {
  and: { params: ['value', 'value'], variadic: true, call: () => null },
  or: { params: ['value', 'value'], variadic: true, call: () => null },
  call: { params: ['value', 'value'], variadic: true, call: () => null },
  not: { params: ['value'], call: ([a]) => !isTrue(unwrap(a!)) },
  len: { params: ['value'], call: ([a]) => length(a!) },
  index: { params: ['value', 'value'], variadic: true, call: index },
  slice: { params: ['value', 'value'], variadic: true, call: slice },
  print: { params: ['any'], variadic: true, call: (a) => sprint(a) },
  println: { params: ['any'], variadic: true, call: (a) => sprintln(a) },
  printf: { params: ['string', 'any'], variadic: true, call: ([f, ...a]) => sprintf(f as string, a) },
  html: { params: ['any'], variadic: true, call: (a) => htmlEscape(evalArgs(a)) },
  js: { params: ['any'], variadic: true, call: (a) => jsEscape(evalArgs(a)) },
  urlquery: { params: ['any'], variadic: true, call: (a) => queryEscape(evalArgs(a)) },
  eq: { params: ['value', 'value'], variadic: true, call: ([a, ...r]) => eqValues(a!, r) },
  ne: { params: ['value', 'value'], call: ([a, b]) => !eqValues(a!, [b!]) },
  lt: { params: ['value', 'value'], call: ([a, b]) => ltValues(a!, b!) },
  le: { params: ['value', 'value'], call: ([a, b]) => leValues(a!, b!) },
  gt: { params: ['value', 'value'], call: ([a, b]) => !leValues(a!, b!) },
  ge: { params: ['value', 'value'], call: ([a, b]) => !ltValues(a!, b!) },
};
