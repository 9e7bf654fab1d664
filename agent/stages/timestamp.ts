/**
 * `timestamp`: sets the entry's time from an extracted value (Promtail `stages/timestamp.go`,
 * `util.go` convertDateLayout). `format`: `RFC3339`, `RFC3339Nano`, `ANSIC`, `UnixDate`,
 * `RubyDate`, `RFC822`, `RFC822Z`, `RFC850`, `RFC1123`, `RFC1123Z`, `Unix` (seconds, optionally
 * with a `.fraction`), `UnixMs`, `UnixUs`, `UnixNs`, or a Go layout (see timelayout.ts);
 * `fallback_formats` are tried in order after it. `location` (IANA name) applies to Go layouts
 * without a zone only (Promtail parses the named formats with time.Parse, i.e. UTC). A layout
 * without a year (`Jan _2 15:04:05`) gets the current year, the previous one for a December
 * time read in January and the next one for a January time read in December.
 *
 * On failure (source missing, null, unparsable): `skip` keeps the time; `fudge` (default) sets
 * the last time parsed for the same label set plus 1ns, or keeps the time when there is none.
 * Last times are kept for up to 10,000 label sets (Promtail's LRU size).
 */
import type { TimestampStageConfig } from '../config.js';
import { parseRfc3339Nano } from '../timestamp.js';
import { compileLayout, daysFromCivil, daysInMonth, layoutHasYear, parseWithLayout, wallToUtc, checkLocation } from './timelayout.js';
import { StageConfigError, labelsKey, valueToString, type Stage, type StageEntry } from './types.js';

const NS = 1_000_000_000n;
const MAX_LAST_KNOWN = 10_000;

/** A parser of one format: nanoseconds since the epoch, or undefined. */
export type TimeParser = (value: string, nowMs: number) => bigint | undefined;

const NAMED_LAYOUTS: Record<string, string> = {
  ANSIC: 'Mon Jan _2 15:04:05 2006',
  UnixDate: 'Mon Jan _2 15:04:05 MST 2006',
  RubyDate: 'Mon Jan 02 15:04:05 -0700 2006',
  RFC822: '02 Jan 06 15:04 MST',
  RFC822Z: '02 Jan 06 15:04 -0700',
  RFC850: 'Monday, 02-Jan-06 15:04:05 MST',
  RFC1123: 'Mon, 02 Jan 2006 15:04:05 MST',
  RFC1123Z: 'Mon, 02 Jan 2006 15:04:05 -0700',
};

const INTEGER = /^[+-]?[0-9]+$/;

function unixScaled(scale: bigint): TimeParser {
  return (value) => (INTEGER.test(value) ? BigInt(value) * scale : undefined);
}

function unixSeconds(value: string): bigint | undefined {
  const dot = value.indexOf('.');
  if (dot < 0) return INTEGER.test(value) ? BigInt(value) * NS : undefined;
  const sec = value.slice(0, dot);
  const frac = value.slice(dot + 1);
  // Go: strconv.ParseInt of both parts; the fraction scaled to nanoseconds (at most 9 digits kept).
  if (!INTEGER.test(sec) || !/^[0-9]+$/.test(frac)) return undefined;
  return BigInt(sec) * NS + BigInt(frac.slice(0, 9).padEnd(9, '0'));
}

function layoutParser(layout: string, location: string | undefined): TimeParser {
  const tokens = compileLayout(layout);
  const hasYear = layoutHasYear(layout);
  return (value, nowMs) => {
    const t = parseWithLayout(tokens, value);
    if (t === undefined) return undefined;
    let year = t.year ?? 0;
    if (!hasYear) {
      const now = new Date(nowMs);
      const nowYear = now.getUTCFullYear();
      const nowMonth = now.getUTCMonth() + 1;
      year = t.month === 12 && nowMonth === 1 ? nowYear - 1 : t.month === 1 && nowMonth === 12 ? nowYear + 1 : nowYear;
      // Go checks the day against year 0, a leap year.
      if (t.day < 1 || t.day > daysInMonth(0, t.month)) return undefined;
      if (t.month === 2 && t.day === 29 && daysInMonth(year, 2) === 28) return undefined;
    } else if (t.day < 1 || t.day > daysInMonth(year, t.month)) {
      return undefined;
    }
    let seconds = daysFromCivil(year, t.month, t.day) * 86_400 + t.hour * 3600 + t.minute * 60 + t.second;
    if (t.offset !== undefined) seconds -= t.offset;
    else if (location !== undefined) seconds = wallToUtc(location, seconds);
    return BigInt(seconds) * NS + BigInt(t.nanos);
  };
}

/** The parser of one `format` value. */
export function timeParser(format: string, location?: string): TimeParser {
  switch (format) {
    case 'RFC3339':
    case 'RFC3339Nano':
      return (value) => parseRfc3339Nano(value);
    case 'Unix':
      return unixSeconds;
    case 'UnixMs':
      return unixScaled(1_000_000n);
    case 'UnixUs':
      return unixScaled(1_000n);
    case 'UnixNs':
      return unixScaled(1n);
  }
  const named = NAMED_LAYOUTS[format];
  if (named !== undefined) return layoutParser(named, undefined);
  return layoutParser(format, location);
}

export class TimestampStage implements Stage {
  private readonly source: string;
  private readonly parsers: TimeParser[];
  private readonly fudge: boolean;
  /** Label set → last time set (insertion order = least recently used first). */
  private readonly lastKnown = new Map<string, bigint>();

  constructor(config: TimestampStageConfig) {
    if (config.location !== undefined) {
      try {
        checkLocation(config.location);
      } catch {
        throw new StageConfigError(`timestamp.location: unknown time zone ${JSON.stringify(config.location)}`);
      }
    }
    this.source = config.source;
    this.parsers = [config.format, ...config.fallback_formats].map((f) => timeParser(f, config.location));
    this.fudge = config.action_on_failure === 'fudge';
  }

  process(entry: StageEntry, nowMs: number): StageEntry {
    const text = valueToString(entry.extracted.get(this.source));
    let parsed: bigint | undefined;
    if (text !== undefined) {
      for (const parser of this.parsers) {
        parsed = parser(text, nowMs);
        if (parsed !== undefined) break;
      }
    }
    if (parsed !== undefined) {
      entry.timestamp = parsed;
      if (this.fudge) this.remember(labelsKey(entry.labels), parsed);
    } else if (this.fudge) {
      const key = labelsKey(entry.labels);
      const last = this.lastKnown.get(key);
      if (last !== undefined) {
        entry.timestamp = last + 1n;
        this.remember(key, entry.timestamp);
      }
    }
    return entry;
  }

  private remember(key: string, time: bigint): void {
    this.lastKnown.delete(key);
    this.lastKnown.set(key, time);
    if (this.lastKnown.size > MAX_LAST_KNOWN) this.lastKnown.delete(this.lastKnown.keys().next().value!);
  }
}
