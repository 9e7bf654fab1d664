/**
 * The agent configuration's units: Go/Prometheus durations (`500ms`, `1m30s`, `1.5h`, `2d`) and
 * Promtail's byte sizes (`1MiB`, `1MB`, `256KB`, plain byte counts). Kept apart from the
 * server's parser because the agent may not import `server/`.
 */

const DURATION_UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d|w|y)/y;

/**
 * Parses a duration into milliseconds (fractions of a millisecond kept). Accepts Go's
 * time.ParseDuration units (ns, us, ms, s, m, h, with fractions) and Prometheus' d, w, y;
 * `0` alone is zero. Returns undefined for anything else, including negative durations.
 */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text.length === 0) return undefined;
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < text.length) {
    const match = DURATION_PART.exec(text);
    if (match === null) return undefined;
    total += Number(match[1]) * DURATION_UNIT_MS[match[2]!]!;
  }
  return Number.isFinite(total) ? total : undefined;
}

const SIZE_UNIT: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/**
 * Parses a byte size. Like Promtail's flagext.ByteSize / alecthomas/units base-2 parsing, `KB`
 * and `KiB` are both 1024 (so `1MB` = `1MiB` = 1048576). Numbers are plain byte counts.
 * Returns undefined for anything else (negative, fractional bytes, unknown unit).
 */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (match === null) return undefined;
  const unit = SIZE_UNIT[match[2]!.toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Number(match[1]) * unit;
  if (!Number.isSafeInteger(Math.floor(bytes))) return undefined;
  if (unit === 1 && !Number.isInteger(bytes)) return undefined;
  return Math.floor(bytes);
}
