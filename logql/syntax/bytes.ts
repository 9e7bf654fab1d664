/**
 * Byte sizes in label filters (`size > 10KB`, `1.5MiB`), parsed like go-humanize `ParseBytes`:
 * SI units are powers of 1000 (kB and KB alike), IEC units powers of 1024, fractions truncate.
 */

const UNIT_SIZES: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  ki: 1024,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
  p: 1e15,
  pb: 1e15,
  pi: 1024 ** 5,
  pib: 1024 ** 5,
  e: 1e18,
  eb: 1e18,
  ei: 1024 ** 6,
  eib: 1024 ** 6,
};

/**
 * go-humanize `ParseBytes` (`42`, `42MB`, `1.5 KiB`, `1,024 kb`), used for byte literals and for
 * label values under a bytes filter; throws with humanize's message.
 */
export function parseHumanizeBytes(s: string): number {
  const digits = /^[0-9.,]*/.exec(s)![0];
  const num = digits.replace(/,/g, '');
  if (!/^(?:[0-9]+\.?[0-9]*|\.[0-9]+)$/.test(num)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax`);
  const unit = s.slice(digits.length).trim().toLowerCase();
  const size = UNIT_SIZES[unit];
  if (size === undefined) throw new Error(`unhandled size name: ${unit}`);
  return Math.floor(Number(num) * size);
}

/** Returns the byte count of a byte-size literal, or undefined when humanize would reject it. */
export function parseBytes(s: string): number | undefined {
  try {
    const value = parseHumanizeBytes(s);
    return value >= 2 ** 64 ? undefined : value;
  } catch {
    return undefined;
  }
}

// No P units: Loki's lexer reads `1PB` as a malformed hex-float exponent and rejects it.
const CANONICAL_UNITS: [string, number][] = [
  ['TiB', 1024 ** 4],
  ['TB', 1e12],
  ['GiB', 1024 ** 3],
  ['GB', 1e9],
  ['MiB', 1024 ** 2],
  ['MB', 1e6],
  ['KiB', 1024],
  ['KB', 1e3],
];

/** Shortest exact spelling of a byte count, e.g. 1536 → `1536B`, 2048 → `2KiB`, 10000 → `10KB`. */
export function formatBytes(n: number): string {
  // `0B` would lex as an empty binary literal.
  if (n === 0) return '0KB';
  let best = `${n}B`;
  for (const [unit, size] of CANONICAL_UNITS) {
    if (n !== 0 && n % size === 0) {
      const candidate = `${n / size}${unit}`;
      if (candidate.length < best.length) best = candidate;
    }
  }
  return best;
}
