/**
 * RFC 3339 timestamps as container runtimes write them, to nanoseconds since the epoch:
 * containerd and docker write UTC `Z` times with Go's RFC3339Nano (trailing zeros trimmed, so
 * 0–9 fraction digits), CRI-O writes local time with an offset (`+01:00`) and 9 digits.
 * Hand-parsed (no Date, no regex) because it runs for every log line of a node.
 */

const NS_PER_SECOND = 1_000_000_000n;
/** Multipliers that turn a fraction of n digits into nanoseconds. */
const FRACTION_SCALE = [0, 100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1_000, 100, 10, 1];

/**
 * `YYYY-MM-DDTHH:MM:SS` of the last time parsed, and its nanoseconds (before any offset): the
 * lines of a log come many to a second, so most times differ from the previous one only in the
 * fraction, and the date arithmetic and its BigInt product are skipped.
 */
const PREFIX_LENGTH = 19;
let cachedPrefix = '\u0000';
let cachedPrefixNs = 0n;

function digits2(text: string, at: number): number {
  const a = text.charCodeAt(at) - 48;
  const b = text.charCodeAt(at + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

/** Days from 1970-01-01 to the given proleptic Gregorian date (month 1–12). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const shiftedMonth = month > 2 ? month - 3 : month + 9;
  const dayOfYear = Math.floor((153 * shiftedMonth + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Parses `YYYY-MM-DDTHH:MM:SS[.fffffffff](Z|±HH:MM)` within `text[start, end)` into nanoseconds
 * since the epoch. Returns undefined when it is not such a timestamp (a fraction of more than
 * 9 digits, a second of 60, a 31st of April and so on are rejected, as Go's time.Parse does).
 */
export function parseRfc3339Nano(text: string, start = 0, end = text.length): bigint | undefined {
  if (end - start < 20) return undefined;
  let baseNs: bigint;
  if (text.startsWith(cachedPrefix, start)) {
    baseNs = cachedPrefixNs;
  } else {
    const y1 = digits2(text, start);
    const y2 = digits2(text, start + 2);
    if (y1 < 0 || y2 < 0) return undefined;
    const year = y1 * 100 + y2;
    if (text.charCodeAt(start + 4) !== 45 /* - */ || text.charCodeAt(start + 7) !== 45) return undefined;
    const month = digits2(text, start + 5);
    const day = digits2(text, start + 8);
    const t = text.charCodeAt(start + 10);
    if (t !== 84 /* T */ && t !== 116 /* t */) return undefined;
    const hour = digits2(text, start + 11);
    const minute = digits2(text, start + 14);
    const second = digits2(text, start + 17);
    if (text.charCodeAt(start + 13) !== 58 /* : */ || text.charCodeAt(start + 16) !== 58) return undefined;
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
    baseNs = BigInt(daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second) * NS_PER_SECOND;
    cachedPrefix = text.slice(start, start + PREFIX_LENGTH);
    cachedPrefixNs = baseNs;
  }

  let at = start + PREFIX_LENGTH;
  let nanos = 0;
  if (text.charCodeAt(at) === 46 /* . */) {
    at++;
    const fractionStart = at;
    while (at < end) {
      const d = text.charCodeAt(at) - 48;
      if (d < 0 || d > 9) break;
      nanos = nanos * 10 + d;
      at++;
    }
    const count = at - fractionStart;
    if (count === 0 || count > 9) return undefined;
    nanos *= FRACTION_SCALE[count]!;
  }

  let offsetSeconds = 0;
  const zone = text.charCodeAt(at);
  if (zone === 90 /* Z */ || zone === 122 /* z */) {
    at++;
  } else if (zone === 43 /* + */ || zone === 45 /* - */) {
    const oh = digits2(text, at + 1);
    const om = digits2(text, at + 4);
    if (text.charCodeAt(at + 3) !== 58 || oh < 0 || oh > 23 || om < 0 || om > 59) return undefined;
    offsetSeconds = (oh * 3600 + om * 60) * (zone === 43 ? 1 : -1);
    at += 6;
  } else {
    return undefined;
  }
  if (at !== end) return undefined;
  const local = baseNs + BigInt(nanos);
  return offsetSeconds === 0 ? local : local - BigInt(offsetSeconds) * NS_PER_SECOND;
}

/** Where `parseRfc3339ZBytes` puts its result: one object, reused, so the hot path allocates nothing. */
export const parsedTime = { seconds: 0, nanos: 0 };

function byteDigits2(bytes: Uint8Array, at: number): number {
  const a = bytes[at]! - 48;
  const b = bytes[at + 1]! - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

/**
 * The form containerd and docker write, `YYYY-MM-DDTHH:MM:SS[.fffffffff]Z`, from the bytes
 * `bytes[start, end)` into `parsedTime` (seconds since the epoch and 0 ≤ nanos < 10^9), without a
 * string or a BigInt. Returns false for anything else — invalid times, and valid ones this does
 * not take (offsets, lower-case `t`/`z`) — for which callers fall back to `parseRfc3339Nano`;
 * what it accepts, it reads exactly as that does.
 */
export function parseRfc3339ZBytes(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start < 20 || end > bytes.length) return false;
  const y1 = byteDigits2(bytes, start);
  const y2 = byteDigits2(bytes, start + 2);
  if (y1 < 0 || y2 < 0) return false;
  const year = y1 * 100 + y2;
  if (bytes[start + 4] !== 45 /* - */ || bytes[start + 7] !== 45 || bytes[start + 10] !== 84 /* T */) return false;
  if (bytes[start + 13] !== 58 /* : */ || bytes[start + 16] !== 58) return false;
  const month = byteDigits2(bytes, start + 5);
  const day = byteDigits2(bytes, start + 8);
  const hour = byteDigits2(bytes, start + 11);
  const minute = byteDigits2(bytes, start + 14);
  const second = byteDigits2(bytes, start + 17);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  let at = start + PREFIX_LENGTH;
  let nanos = 0;
  if (bytes[at] === 46 /* . */) {
    at++;
    const fractionStart = at;
    while (at < end) {
      const d = bytes[at]! - 48;
      if (d < 0 || d > 9) break;
      nanos = nanos * 10 + d;
      at++;
    }
    const count = at - fractionStart;
    if (count === 0 || count > 9) return false;
    nanos *= FRACTION_SCALE[count]!;
  }
  if (bytes[at] !== 90 /* Z */ || at + 1 !== end) return false;
  parsedTime.seconds = daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
  parsedTime.nanos = nanos;
  return true;
}
