/**
 * What Loki's distributor adds to a push by default:
 *
 * - `service_name` (limits `discover_service_name`): a stream without that label gets it from the
 *   first listed label with a non-empty value, else `unknown_service` (Loki pkg/loghttp/push).
 * - `detected_level` (limits `discover_log_levels`): structured metadata on every entry that has
 *   none, taken, in this order, from a level-like stream label, a level-like structured metadata
 *   pair, the OTLP `severity_number`, a level-like field of a JSON or logfmt line, or keywords in the
 *   line; normalised to trace|debug|info|warn|error|critical|fatal, else kept as given, else `unknown`
 *   (Loki pkg/distributor/field_detection.go).
 *
 * Lines are scanned as bytes, without regexes or strings per entry.
 */
import { formatLabelString, type PushBatch } from '../../proto/index.js';
import type { LimitsConfig } from '../config.js';

export const SERVICE_NAME_LABEL = 'service_name';
export const UNKNOWN_SERVICE = 'unknown_service';
export const LEVEL_LABEL = 'detected_level';

/** Loki's default `log_level_fields`, in priority order. */
const LEVEL_FIELDS = [
  'level',
  'LEVEL',
  'Level',
  'log.level',
  'severity',
  'SEVERITY',
  'Severity',
  'SeverityText',
  'lvl',
  'LVL',
  'Lvl',
  'severity_text',
  'Severity_Text',
  'SEVERITY_TEXT',
];
/** Loki's `log_level_from_json_max_depth` default: the top-level object and the objects in it. */
const JSON_MAX_DEPTH = 2;
const OTLP_SEVERITY_NUMBER = 'severity_number';

export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'critical' | 'fatal' | 'unknown';
const LEVELS: readonly Level[] = ['trace', 'debug', 'info', 'warn', 'error', 'critical', 'fatal', 'unknown'];

/** Spellings recognised (case-insensitively) as each level. */
const LEVEL_SPELLINGS: ReadonlyArray<readonly [string, Level]> = [
  ['trace', 'trace'],
  ['trc', 'trace'],
  ['debug', 'debug'],
  ['dbg', 'debug'],
  ['info', 'info'],
  ['inf', 'info'],
  ['information', 'info'],
  ['warn', 'warn'],
  ['wrn', 'warn'],
  ['warning', 'warn'],
  ['error', 'error'],
  ['err', 'error'],
  ['critical', 'critical'],
  ['fatal', 'fatal'],
];

const encoder = new TextEncoder();
const toBytes = (text: string): Uint8Array => encoder.encode(text);

/** Loki's normalizeLogLevel: a known spelling becomes its level; anything else is kept as given. */
export function normalizeLevel(value: string): string {
  const lower = value.toLowerCase();
  for (const [spelling, level] of LEVEL_SPELLINGS) if (lower === spelling) return level;
  return value;
}

// ---- bytes helpers ------------------------------------------------------------------

const LEVEL_FIELD_BYTES = LEVEL_FIELDS.map(toBytes);
const LEVEL_SPELLING_BYTES = LEVEL_SPELLINGS.map(([spelling, level]) => [toBytes(spelling), level] as const);
const LEVEL_LABEL_BYTES = toBytes(LEVEL_LABEL);
const OTLP_SEVERITY_BYTES = toBytes(OTLP_SEVERITY_NUMBER);

function equalBytes(src: Uint8Array, start: number, end: number, word: Uint8Array): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (src[start + i] !== word[i]) return false;
  return true;
}

function lowerAscii(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 32 : c;
}

/** ASCII case-insensitive comparison (Go's EqualFold for the ASCII words compared here). */
function equalFoldBytes(src: Uint8Array, start: number, end: number, word: Uint8Array): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (lowerAscii(src[start + i]!) !== lowerAscii(word[i]!)) return false;
  return true;
}

/** The level a value spells, or undefined (Loki then falls back to the keyword scan). */
function spelledLevel(src: Uint8Array, start: number, end: number): Level | undefined {
  for (const [word, level] of LEVEL_SPELLING_BYTES) if (equalFoldBytes(src, start, end, word)) return level;
  return undefined;
}

function startsWith(src: Uint8Array, pos: number, end: number, word: Uint8Array): boolean {
  if (end - pos < word.length) return false;
  for (let i = 0; i < word.length; i++) if (src[pos + i] !== word[i]) return false;
  return true;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}

// ---- keyword scan (Loki detectLevelFromLogLine) --------------------------------------

const KW = {
  info: toBytes('info'),
  INFO: toBytes('INFO'),
  errColon: toBytes('err:'),
  ERRColon: toBytes('ERR:'),
  warnColon: toBytes('warn:'),
  WARNColon: toBytes('WARN:'),
  warning: toBytes('warning'),
  WARNING: toBytes('WARNING'),
  criticalColon: toBytes('critical:'),
  CRITICALColon: toBytes('CRITICAL:'),
  debug: toBytes('debug'),
  DEBUG: toBytes('DEBUG'),
  bErr: toBytes('[err]'),
  bERR: toBytes('[ERR]'),
  bError: toBytes('[error]'),
  bERROR: toBytes('[ERROR]'),
  bWarn: toBytes('[warn]'),
  bWARN: toBytes('[WARN]'),
  bCritical: toBytes('[critical]'),
  bCRITICAL: toBytes('[CRITICAL]'),
};

/** Bytes a keyword can start with: the scan looks closer only at those. */
const KEYWORD_START = new Uint8Array(256);
for (const c of 'iIeEwWcCdD[') KEYWORD_START[c.charCodeAt(0)] = 1;

/**
 * Loki's keyword scan, in its priority order: `info`/`INFO` anywhere; then `err:`, `[err]`,
 * `[error]`; then `warn:`, `[warn]`, `warning`; then `critical:`, `[critical]`; then `debug`
 * (each in lower or upper case); else unknown. One pass over the bytes.
 */
export function keywordLevel(src: Uint8Array, start: number, end: number): Level {
  let error = false;
  let warn = false;
  let critical = false;
  let debug = false;
  // The second byte is compared inline before a whole keyword, so most candidate bytes cost one load.
  for (let p = start; p < end; p++) {
    const c = src[p]!;
    if (KEYWORD_START[c] === 0) continue;
    switch (c) {
      case 0x69: // i
        if (end - p >= 4 && src[p + 1] === 0x6e && src[p + 2] === 0x66 && src[p + 3] === 0x6f) return 'info';
        break;
      case 0x49: // I
        if (end - p >= 4 && src[p + 1] === 0x4e && src[p + 2] === 0x46 && src[p + 3] === 0x4f) return 'info';
        break;
      case 0x65: // e
        if (!error && end - p >= 4 && src[p + 1] === 0x72 && src[p + 2] === 0x72 && src[p + 3] === 0x3a) error = true;
        break;
      case 0x45: // E
        if (!error && end - p >= 4 && src[p + 1] === 0x52 && src[p + 2] === 0x52 && src[p + 3] === 0x3a) error = true;
        break;
      case 0x77: // w: `warn:` or `warning`
        if (!warn && end - p >= 5 && src[p + 1] === 0x61 && src[p + 2] === 0x72 && src[p + 3] === 0x6e) {
          const d = src[p + 4];
          if (d === 0x3a || (d === 0x69 && end - p >= 7 && src[p + 5] === 0x6e && src[p + 6] === 0x67)) warn = true;
        }
        break;
      case 0x57: // W: `WARN:` or `WARNING`
        if (!warn && end - p >= 5 && src[p + 1] === 0x41 && src[p + 2] === 0x52 && src[p + 3] === 0x4e) {
          const d = src[p + 4];
          if (d === 0x3a || (d === 0x49 && end - p >= 7 && src[p + 5] === 0x4e && src[p + 6] === 0x47)) warn = true;
        }
        break;
      case 0x63: // c
        if (!critical && src[p + 1] === 0x72 && startsWith(src, p, end, KW.criticalColon)) critical = true;
        break;
      case 0x43: // C
        if (!critical && src[p + 1] === 0x52 && startsWith(src, p, end, KW.CRITICALColon)) critical = true;
        break;
      case 0x64: // d
        if (!debug && src[p + 1] === 0x65 && startsWith(src, p, end, KW.debug)) debug = true;
        break;
      case 0x44: // D
        if (!debug && src[p + 1] === 0x45 && startsWith(src, p, end, KW.DEBUG)) debug = true;
        break;
      case 0x5b: {
        // [
        const d = src[p + 1];
        if (d === 0x65 || d === 0x45) {
          if (!error && (startsWith(src, p, end, KW.bErr) || startsWith(src, p, end, KW.bERR) || startsWith(src, p, end, KW.bError) || startsWith(src, p, end, KW.bERROR))) {
            error = true;
          }
        } else if (d === 0x77 || d === 0x57) {
          if (!warn && (startsWith(src, p, end, KW.bWarn) || startsWith(src, p, end, KW.bWARN))) warn = true; // `[warning]` is covered by `warning`
        } else if (d === 0x63 || d === 0x43) {
          if (!critical && (startsWith(src, p, end, KW.bCritical) || startsWith(src, p, end, KW.bCRITICAL))) critical = true;
        }
        break;
      }
    }
  }
  if (error) return 'error';
  if (warn) return 'warn';
  if (critical) return 'critical';
  if (debug) return 'debug';
  return 'unknown';
}

// ---- structured lines ---------------------------------------------------------------

/** Loki's isJSON: the first and last non-space bytes are `{` and `}`. */
function jsonBounds(src: Uint8Array, start: number, end: number): boolean {
  let first = start;
  while (first < end && isSpace(src[first]!)) first++;
  let last = end - 1;
  while (last > first && isSpace(src[last]!)) last--;
  return last > first && src[first] === 0x7b && src[last] === 0x7d;
}

/** Where a found value lies: [start, end) in the source bytes (raw, escapes not undone). */
interface Span {
  start: number;
  end: number;
}

/** Skips a JSON string starting at its opening quote; returns the index after the closing quote, or -1. */
function skipString(src: Uint8Array, p: number, end: number): number {
  for (p++; p < end; p++) {
    const c = src[p];
    if (c === 0x5c) p++;
    else if (c === 0x22) return p + 1;
  }
  return -1;
}

/** Skips any JSON value starting at p; returns the index after it, or -1 when malformed. */
function skipValue(src: Uint8Array, p: number, end: number): number {
  const c = src[p];
  if (c === 0x22) return skipString(src, p, end);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (; p < end; p++) {
      const d = src[p];
      if (d === 0x22) {
        p = skipString(src, p, end);
        if (p < 0) return -1;
        p--;
      } else if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return p + 1;
      }
    }
    return -1;
  }
  // number, true, false, null
  while (p < end) {
    const d = src[p]!;
    if (d === 0x2c || d === 0x7d || d === 0x5d || isSpace(d)) break;
    p++;
  }
  return p;
}

/**
 * Like Loki's getLevelUsingJSONParser: walks the object's members in order, descending into
 * nested objects up to JSON_MAX_DEPTH, and returns the first string value whose key is a level
 * field. `found` receives it; the return value is the index after the object, or -1 to stop.
 */
function jsonLevel(src: Uint8Array, p: number, end: number, depth: number, found: Span): number {
  // p is at `{`
  p++;
  for (;;) {
    while (p < end && isSpace(src[p]!)) p++;
    if (p >= end) return -1;
    if (src[p] === 0x7d) return p + 1;
    if (src[p] !== 0x22) return -1;
    const keyStart = p + 1;
    const keyEnd = skipString(src, p, end);
    if (keyEnd < 0) return -1;
    p = keyEnd;
    while (p < end && isSpace(src[p]!)) p++;
    if (src[p] !== 0x3a) return -1;
    p++;
    while (p < end && isSpace(src[p]!)) p++;
    if (p >= end) return -1;
    const c = src[p];
    if (c === 0x22) {
      const valueEnd = skipString(src, p, end);
      if (valueEnd < 0) return -1;
      if (isLevelField(src, keyStart, keyEnd - 1)) {
        found.start = p + 1;
        found.end = valueEnd - 1;
        return -1;
      }
      p = valueEnd;
    } else if (c === 0x7b && depth + 1 < JSON_MAX_DEPTH) {
      p = jsonLevel(src, p, end, depth + 1, found);
      if (p < 0) return -1;
    } else {
      p = skipValue(src, p, end);
      if (p < 0) return -1;
    }
    while (p < end && isSpace(src[p]!)) p++;
    if (src[p] === 0x2c) p++;
    else if (src[p] === 0x7d) return p + 1;
    else return -1;
  }
}

function isLevelField(src: Uint8Array, start: number, end: number): boolean {
  for (const field of LEVEL_FIELD_BYTES) if (equalBytes(src, start, end, field)) return true;
  return false;
}

/**
 * Like Loki's getValueUsingLogfmtParser: the value of the key that matches (case-insensitively)
 * the earliest level field; `level` itself ends the scan at once.
 */
function logfmtLevel(src: Uint8Array, start: number, end: number, found: Span): boolean {
  let best = LEVEL_FIELD_BYTES.length;
  let p = start;
  while (p < end) {
    while (p < end && src[p]! <= 0x20) p++;
    if (p >= end) break;
    const keyStart = p;
    while (p < end && src[p]! > 0x20 && src[p] !== 0x3d) p++;
    const keyEnd = p;
    let valueStart = p;
    let valueEnd = p;
    if (p < end && src[p] === 0x3d) {
      p++;
      if (p < end && src[p] === 0x22) {
        valueStart = p + 1;
        p++;
        while (p < end && src[p] !== 0x22) p += src[p] === 0x5c ? 2 : 1;
        valueEnd = Math.min(p, end);
        p++;
      } else {
        valueStart = p;
        while (p < end && src[p]! > 0x20) p++;
        valueEnd = p;
      }
    }
    if (keyEnd > keyStart && LEVEL_FIELD_LENGTH[keyEnd - keyStart] === 1 && LEVEL_FIELD_FIRST[src[keyStart]!] === 1) {
      for (let f = 0; f < best; f++) {
        if (equalFoldBytes(src, keyStart, keyEnd, LEVEL_FIELD_BYTES[f]!)) {
          best = f;
          found.start = valueStart;
          found.end = valueEnd;
          if (f === 0) return true;
          break;
        }
      }
    }
  }
  return best < LEVEL_FIELD_BYTES.length;
}

/** Quick rejection before comparing a logfmt key with every level field: its length and first byte (any case). */
const LEVEL_FIELD_LENGTH = new Uint8Array(64);
const LEVEL_FIELD_FIRST = new Uint8Array(256);
for (const field of LEVEL_FIELD_BYTES) {
  LEVEL_FIELD_LENGTH[field.length] = 1;
  LEVEL_FIELD_FIRST[lowerAscii(field[0]!)] = 1;
  LEVEL_FIELD_FIRST[lowerAscii(field[0]!) - 32] = 1;
}

function containsByte(src: Uint8Array, start: number, end: number, byte: number): boolean {
  for (let p = start; p < end; p++) if (src[p] === byte) return true;
  return false;
}

/** Scratch for lineLevel (single-threaded, not reentrant): no object per line. */
const FOUND: Span = { start: -1, end: -1 };

/** Loki's extractLogLevelFromLogLine. */
export function lineLevel(src: Uint8Array, start: number, end: number): Level {
  if (jsonBounds(src, start, end)) return jsonLineLevel(src, start, end);
  return containsByte(src, start, end, 0x3d) ? logfmtLineLevel(src, start, end) : keywordLevel(src, start, end);
}

/** lineLevel of a line that passed jsonBounds. */
function jsonLineLevel(src: Uint8Array, start: number, end: number): Level {
  const found = FOUND;
  found.start = -1;
  found.end = -1;
  let p = start;
  while (isSpace(src[p]!)) p++;
  jsonLevel(src, p, end, 0, found);
  return (found.start >= 0 ? spelledLevel(src, found.start, found.end) : undefined) ?? keywordLevel(src, start, end);
}

/** lineLevel of a line that is not JSON and holds a `=`. */
function logfmtLineLevel(src: Uint8Array, start: number, end: number): Level {
  const found = FOUND;
  found.start = -1;
  found.end = -1;
  const has = logfmtLevel(src, start, end, found);
  return (has ? spelledLevel(src, found.start, found.end) : undefined) ?? keywordLevel(src, start, end);
}

/** Loki's OTLP severity_number mapping. */
function severityLevel(text: string): Level {
  if (!/^[+-]?\d+$/.test(text)) return 'info';
  const n = Number(text);
  if (n === 0) return 'unknown';
  if (n <= 4) return 'trace';
  if (n <= 8) return 'debug';
  if (n <= 12) return 'info';
  if (n <= 16) return 'warn';
  if (n <= 20) return 'error';
  if (n <= 24) return 'fatal';
  return 'unknown';
}

// ---- the detector -------------------------------------------------------------------

/** `detected_level` and the level names, appended after a push's bytes for the new pairs to point at. */
const LEVEL_TABLE_TEXT = LEVEL_LABEL + LEVELS.join('');
const LEVEL_TABLE = toBytes(LEVEL_TABLE_TEXT);
/** Where each level's name starts in LEVEL_TABLE. */
const LEVEL_AT: Readonly<Record<Level, number>> = Object.fromEntries(
  LEVELS.map((level) => [level, LEVEL_TABLE_TEXT.indexOf(level, LEVEL_LABEL.length)]),
) as Record<Level, number>;
const isLevel = (value: string): value is Level => (LEVELS as readonly string[]).includes(value);

/**
 * Scratch buffers up to this size are kept for the next push; a larger push gets buffers of its
 * own, so one huge request does not pin its size in memory for good.
 */
const KEEP_SCRATCH_BYTES = 8 * 1024 * 1024;
/** Room left after the level table for level-like stream label values kept as given. */
const SPARE_BYTES = 256;

/** A scratch buffer's size for `need` bytes (a multiple of 4): half again as much, within KEEP_SCRATCH_BYTES. */
function scratchSize(need: number): number {
  return (Math.max(need, Math.min(KEEP_SCRATCH_BYTES, need + (need >>> 1))) + 3) & ~3;
}

const decoder = new TextDecoder();

export class IngestDetector {
  readonly levels: boolean;
  private readonly serviceLabels: readonly string[];

  // The batch being annotated and its rewritten columns. They live in scratch buffers reused from
  // push to push: the distributor uses a batch's annotation only while it appends that push,
  // synchronously, and the head and the tail copy what they keep.
  private batch: PushBatch | undefined;
  /** The batch bytes, then LEVEL_TABLE, then any values kept as given (srcEnd bytes in use). */
  private src = new Uint8Array(0);
  private srcEnd = 0;
  /** Where LEVEL_TABLE starts in src. */
  private base = 0;
  private pairs = 0;
  private offsets = new Uint32Array(0);
  private metaFirst = new Uint32Array(0);
  private metaCount = new Uint32Array(0);
  /** The first `=` in src[equalsFrom, base), or base when there is none (see lineLevel). */
  private equalsFrom = 0;
  private equalsAt = -1;
  /** Values kept as given appended to src for this batch → their offset. */
  private readonly extraValues = new Map<string, number>();
  /** Per stream label map: the normalised level of its first level-like label, or null. */
  private readonly labelLevels = new WeakMap<ReadonlyMap<string, string>, string | null>();

  constructor(limits: Pick<LimitsConfig, 'discover_log_levels' | 'discover_service_name'>) {
    this.levels = limits.discover_log_levels;
    this.serviceLabels = limits.discover_service_name;
  }

  /**
   * The stream's labels with `service_name` added when it has none (pairs sorted by name), or
   * undefined when nothing changes.
   */
  withServiceName(pairs: ReadonlyArray<readonly [string, string]>): { labels: string; pairs: Array<[string, string]> } | undefined {
    if (this.serviceLabels.length === 0) return undefined;
    if (pairs.some(([name]) => name === SERVICE_NAME_LABEL)) return undefined;
    let service = UNKNOWN_SERVICE;
    for (const name of this.serviceLabels) {
      const found = pairs.find(([n]) => n === name);
      if (found !== undefined && found[1] !== '') {
        service = found[1];
        break;
      }
    }
    const out: Array<[string, string]> = pairs.map(([n, v]) => [n, v]);
    out.push([SERVICE_NAME_LABEL, service]);
    out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return { labels: formatLabelString(out), pairs: out };
  }

  /**
   * Adds `detected_level` to the entries [first, last) of a stream, rewriting the batch's
   * metadata columns; returns the bytes the batch's offsets now index into (the push's bytes
   * plus the level names). Without level discovery, returns `bytes` unchanged.
   *
   * The returned bytes and the rewritten columns are valid until another batch is annotated:
   * use them before annotating the next push.
   */
  annotate(batch: PushBatch, bytes: Uint8Array, streamLabels: ReadonlyMap<string, string>, first: number, last: number): Uint8Array {
    if (!this.levels || last <= first) return bytes;
    if (this.batch !== batch) this.start(batch, bytes);
    // A level-like stream label decides every entry's level (unless it has detected_level).
    let levelStart = -1;
    let levelEnd = -1;
    const fromLabel = this.labelLevel(streamLabels);
    if (fromLabel !== null) {
      if (isLevel(fromLabel)) {
        levelStart = this.base + LEVEL_AT[fromLabel];
      } else {
        // A value Loki keeps as given: appended once per batch after the level table.
        levelStart = this.extraValues.get(fromLabel) ?? this.appendValue(fromLabel);
      }
      levelEnd = levelStart + Buffer.byteLength(fromLabel);
    }
    this.annotateEntries(batch, first, last, levelStart, levelEnd);
    return this.src;
  }

  /** Copies the batch's bytes and metadata columns into the scratch buffers and points the batch at them. */
  private start(batch: PushBatch, bytes: Uint8Array): void {
    const base = bytes.length;
    const srcSize = base + LEVEL_TABLE.length + SPARE_BYTES;
    if (this.src.length < srcSize || this.src.length > KEEP_SCRATCH_BYTES) this.src = new Uint8Array(scratchSize(srcSize));
    const src = this.src;
    src.set(bytes, 0);
    src.set(LEVEL_TABLE, base);
    this.srcEnd = base + LEVEL_TABLE.length;
    this.base = base;
    this.extraValues.clear();
    this.equalsFrom = 0;
    this.equalsAt = -1;

    const pairs = batch.metadataPairCount;
    const entries = batch.entryCount;
    const offsetsSize = 4 * (2 * pairs + entries);
    if (this.offsets.length < offsetsSize || 4 * this.offsets.length > KEEP_SCRATCH_BYTES) this.offsets = new Uint32Array(scratchSize(4 * offsetsSize) / 4);
    if (this.metaFirst.length < entries || 4 * this.metaFirst.length > KEEP_SCRATCH_BYTES) {
      this.metaFirst = new Uint32Array(scratchSize(4 * entries) / 4);
      this.metaCount = new Uint32Array(this.metaFirst.length);
    }
    this.offsets.set(batch.metadataOffsets.subarray(0, 4 * pairs));
    // Copies: the originals may be shared with whoever decoded the batch.
    this.metaFirst.set(batch.metadataFirst.subarray(0, entries));
    this.metaCount.set(batch.metadataCount.subarray(0, entries));
    this.pairs = pairs;
    batch.metadataOffsets = this.offsets;
    batch.metadataFirst = this.metaFirst;
    batch.metadataCount = this.metaCount;
    this.batch = batch;
  }

  /** Appends a stream label's level value to src (growing it if needed); returns its offset. */
  private appendValue(value: string): number {
    const encoded = toBytes(value);
    const at = this.srcEnd;
    if (at + encoded.length > this.src.length) {
      const bigger = new Uint8Array(2 * (at + encoded.length));
      bigger.set(this.src.subarray(0, at));
      this.src = bigger;
    }
    this.src.set(encoded, at);
    this.srcEnd = at + encoded.length;
    this.extraValues.set(value, at);
    return at;
  }

  /** lineLevel of a line of the batch, finding `=` with a native search shared by the lines that follow. */
  private lineLevel(start: number, end: number): Level {
    const src = this.src;
    if (jsonBounds(src, start, end)) return jsonLineLevel(src, start, end);
    if (start < this.equalsFrom || this.equalsAt < start) {
      // The first `=` at or after `start` in the batch's bytes (base when none): valid for every
      // later line start up to it, so a batch's lines are searched about once in all.
      this.equalsFrom = start;
      const at = src.indexOf(0x3d, start);
      this.equalsAt = at < 0 || at > this.base ? this.base : at;
    }
    return this.equalsAt < end ? logfmtLineLevel(src, start, end) : keywordLevel(src, start, end);
  }

  private labelLevel(labels: ReadonlyMap<string, string>): string | null {
    let level = this.labelLevels.get(labels);
    if (level === undefined) {
      const value = levelFromLabels(labels);
      level = value === undefined ? null : normalizeLevel(value);
      this.labelLevels.set(labels, level);
    }
    return level;
  }

  private annotateEntries(batch: PushBatch, first: number, last: number, streamStart: number, streamEnd: number): void {
    const src = this.src;
    const offsets = this.offsets;
    const base = this.base;
    const metaFirst = this.metaFirst;
    const metaCount = this.metaCount;
    const lineStart = batch.lineStart;
    const lineEnd = batch.lineEnd;
    const fromStream = streamStart >= 0;
    let at = this.pairs;
    for (let i = first; i < last; i++) {
      const f = metaFirst[i]!;
      const c = metaCount[i]!;
      let levelStart = -1;
      let levelEnd = -1;
      if (c === 0) {
        // No metadata (the common case): the stream label, else the line.
        if (fromStream) {
          levelStart = streamStart;
          levelEnd = streamEnd;
        } else {
          const level = this.lineLevel(lineStart[i]!, lineEnd[i]!);
          levelStart = base + LEVEL_AT[level];
          levelEnd = levelStart + level.length;
        }
      } else {
        let severity: string | undefined;
        let present = false;
        let bestField = fromStream ? 0 : LEVEL_FIELD_BYTES.length;
        for (let p = 4 * f, end = 4 * (f + c); p < end; p += 4) {
          const ns = offsets[p]!;
          const ne = offsets[p + 1]!;
          if (equalBytes(src, ns, ne, LEVEL_LABEL_BYTES)) {
            present = true;
            break;
          }
          for (let k = 0; k < bestField; k++) {
            if (equalBytes(src, ns, ne, LEVEL_FIELD_BYTES[k]!)) {
              bestField = k;
              levelStart = offsets[p + 2]!;
              levelEnd = offsets[p + 3]!;
              break;
            }
          }
          if (!fromStream && equalBytes(src, ns, ne, OTLP_SEVERITY_BYTES)) {
            severity = decoder.decode(src.subarray(offsets[p + 2]!, offsets[p + 3]!));
          }
        }
        // Loki keeps an entry's own detected_level.
        if (present) continue;
        let level: Level | undefined;
        if (fromStream) {
          levelStart = streamStart;
          levelEnd = streamEnd;
        } else if (levelStart >= 0) {
          // A metadata value: its normalised spelling, or else the value as given.
          level = spelledLevel(src, levelStart, levelEnd);
        } else if (severity !== undefined && severity !== '') {
          level = severityLevel(severity);
        } else {
          level = this.lineLevel(lineStart[i]!, lineEnd[i]!);
        }
        if (level !== undefined) {
          levelStart = base + LEVEL_AT[level];
          levelEnd = levelStart + level.length;
        }
        // The entry's pairs move to the end of the columns, followed by detected_level.
        offsets.copyWithin(4 * at, 4 * f, 4 * (f + c));
      }
      const q = 4 * (at + c);
      offsets[q] = base;
      offsets[q + 1] = base + LEVEL_LABEL.length;
      offsets[q + 2] = levelStart;
      offsets[q + 3] = levelEnd;
      metaFirst[i] = at;
      metaCount[i] = c + 1;
      at += c + 1;
    }
    this.pairs = at;
    batch.metadataPairCount = at;
  }
}

/** The value of the first level-like label (in Loki's field order), if any. */
function levelFromLabels(labels: ReadonlyMap<string, string>): string | undefined {
  for (const field of LEVEL_FIELDS) {
    const value = labels.get(field);
    if (value !== undefined) return value;
  }
  return undefined;
}
