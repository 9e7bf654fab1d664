/**
 * Durations. Ranges and offsets use Prometheus `model.ParseDuration` (integer y w d h m s ms, biggest
 * unit first); label-filter literals try that first and fall back to Go `time.ParseDuration`
 * (fractions, ns/us/µs, sign). Values are nanoseconds held in a JS number: exact for anything
 * Prometheus syntax can express below ~104 days and for every whole-millisecond value up to years.
 */

const NS_PER_MS = 1e6;
const MAX_DURATION_NS = 2 ** 63 - 1;

const PROM_UNITS: Record<string, { pos: number; ns: number }> = {
  y: { pos: 1, ns: 365 * 24 * 3600e9 },
  w: { pos: 2, ns: 7 * 24 * 3600e9 },
  d: { pos: 3, ns: 24 * 3600e9 },
  h: { pos: 4, ns: 3600e9 },
  m: { pos: 5, ns: 60e9 },
  s: { pos: 6, ns: 1e9 },
  ms: { pos: 7, ns: 1e6 },
};

const GO_UNITS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3,
  'μs': 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Prometheus `model.ParseDuration`; returns nanoseconds or throws with Prometheus' message. */
export function parsePromDuration(s: string): number {
  if (s === '0') return 0;
  if (s === '') throw new Error('empty duration string');
  const invalid = (): Error => new Error(`not a valid duration string: ${goQuote(s)}`);
  let rest = s;
  let total = 0;
  let lastPos = 0;
  while (rest !== '') {
    const num = /^[0-9]*/.exec(rest)![0];
    if (num === '') throw invalid();
    rest = rest.slice(num.length);
    const unit = /^[^0-9]*/.exec(rest)![0];
    if (unit === '') throw invalid();
    rest = rest.slice(unit.length);
    const u = PROM_UNITS[unit];
    if (!u) throw new Error(`unknown unit ${goQuote(unit)} in duration ${goQuote(s)}`);
    if (u.pos <= lastPos) throw invalid();
    lastPos = u.pos;
    total += Number(num) * u.ns;
    if (total > MAX_DURATION_NS) throw new Error('duration out of range');
  }
  return total;
}

/** Go `time.ParseDuration`; returns nanoseconds or throws with Go's message. */
export function parseGoDuration(orig: string): number {
  let s = orig;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    sign = s[0] === '-' ? -1 : 1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  const invalid = (): Error => new Error(`time: invalid duration ${goQuote(orig)}`);
  if (s === '') throw invalid();
  let total = 0;
  while (s !== '') {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(s)!;
    const intPart = m[1]!;
    const frac = m[2];
    if (intPart === '' && (frac === undefined || frac === '')) throw invalid();
    s = s.slice(m[0].length);
    const unit = /^[^0-9.]*/.exec(s)![0];
    if (unit === '') throw new Error(`time: missing unit in duration ${goQuote(orig)}`);
    s = s.slice(unit.length);
    const mult = GO_UNITS[unit];
    if (mult === undefined) throw new Error(`time: unknown unit ${goQuote(unit)} in duration ${goQuote(orig)}`);
    total += Number(intPart || '0') * mult + Math.trunc(Number(`0.${frac ?? ''}`) * mult);
    if (total > MAX_DURATION_NS) throw invalid();
  }
  return sign * total;
}

/** Loki's label-filter duration literal: Prometheus syntax, else Go syntax. */
export function parseFilterDuration(s: string): number {
  try {
    return parsePromDuration(s);
  } catch {
    return parseGoDuration(s);
  }
}

/** Range/offset durations are whole milliseconds (Prometheus' resolution). */
export function nsToMs(ns: number): number {
  return Math.trunc(ns / NS_PER_MS);
}

/**
 * Canonical text for a duration in nanoseconds. Whole milliseconds print in Prometheus form
 * (`1h30m`, `1d`, `1y`), which both duration grammars accept; anything finer prints in Go form.
 */
export function formatDuration(ns: number): string {
  const negative = ns < 0;
  let rest = Math.abs(ns);
  let out = '';
  if (rest === 0) return '0s';
  if (rest % NS_PER_MS === 0 && !negative) {
    for (const [unit, { ns: size }] of Object.entries(PROM_UNITS)) {
      const n = Math.floor(rest / size);
      if (n > 0) {
        out += `${n}${unit}`;
        rest -= n * size;
      }
    }
    return out;
  }
  for (const [unit, size] of [['h', 3600e9], ['m', 60e9], ['s', 1e9], ['ms', 1e6], ['us', 1e3], ['ns', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return negative ? `-${out}` : out;
}

/** Go's %q for the ASCII-ish strings that appear in duration errors. */
function goQuote(s: string): string {
  return JSON.stringify(s);
}
