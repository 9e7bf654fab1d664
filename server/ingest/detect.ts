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
  for (let p = start; p < end; p++) {
    const c = src[p]!;
    if (KEYWORD_START[c] === 0) continue;
    switch (c) {
      case 0x69: // i
        if (startsWith(src, p, end, KW.info)) return 'info';
        break;
      case 0x49: // I
        if (startsWith(src, p, end, KW.INFO)) return 'info';
        break;
      case 0x65: // e
        if (!error && startsWith(src, p, end, KW.errColon)) error = true;
        break;
      case 0x45: // E
        if (!error && startsWith(src, p, end, KW.ERRColon)) error = true;
        break;
      case 0x77: // w
        if (!warn && (startsWith(src, p, end, KW.warnColon) || startsWith(src, p, end, KW.warning))) warn = true;
        break;
      case 0x57: // W
        if (!warn && (startsWith(src, p, end, KW.WARNColon) || startsWith(src, p, end, KW.WARNING))) warn = true;
        break;
      case 0x63: // c
        if (!critical && startsWith(src, p, end, KW.criticalColon)) critical = true;
        break;
      case 0x43: // C
        if (!critical && startsWith(src, p, end, KW.CRITICALColon)) critical = true;
        break;
      case 0x64: // d
        if (!debug && startsWith(src, p, end, KW.debug)) debug = true;
        break;
      case 0x44: // D
        if (!debug && startsWith(src, p, end, KW.DEBUG)) debug = true;
        break;
      case 0x5b: // [
        if (!error && (startsWith(src, p, end, KW.bErr) || startsWith(src, p, end, KW.bERR) || startsWith(src, p, end, KW.bError) || startsWith(src, p, end, KW.bERROR))) {
          error = true;
        } else if (!warn && (startsWith(src, p, end, KW.bWarn) || startsWith(src, p, end, KW.bWARN))) {
          warn = true; // `[warning]` is covered by `warning`
        } else if (!critical && (startsWith(src, p, end, KW.bCritical) || startsWith(src, p, end, KW.bCRITICAL))) {
          critical = true;
        }
        break;
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
    if (keyEnd > keyStart) {
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

function containsByte(src: Uint8Array, start: number, end: number, byte: number): boolean {
  for (let p = start; p < end; p++) if (src[p] === byte) return true;
  return false;
}

/** Loki's extractLogLevelFromLogLine. */
export function lineLevel(src: Uint8Array, start: number, end: number): Level {
  const found: Span = { start: -1, end: -1 };
  let has = false;
  if (jsonBounds(src, start, end)) {
    let p = start;
    while (isSpace(src[p]!)) p++;
    jsonLevel(src, p, end, 0, found);
    has = found.start >= 0;
  } else if (containsByte(src, start, end, 0x3d)) {
    has = logfmtLevel(src, start, end, found);
  } else {
    return keywordLevel(src, start, end);
  }
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

/** Per push: the batch's metadata columns, grown to hold one more pair per entry. */
interface Annotation {
  offsets: Uint32Array;
  pairs: number;
  /** The batch bytes followed by LEVEL_TABLE (shared by every stream of the push). */
  src: Uint8Array;
  base: number;
}

/** `detected_level` and the level names, appended after a push's bytes for the new pairs to point at. */
const LEVEL_TABLE_TEXT = LEVEL_LABEL + LEVELS.join('');
const LEVEL_TABLE = toBytes(LEVEL_TABLE_TEXT);
const LEVEL_OFFSETS = new Map<string, number>(LEVELS.map((level) => [level, LEVEL_TABLE_TEXT.indexOf(level, LEVEL_LABEL.length)]));

const decoder = new TextDecoder();

export class IngestDetector {
  readonly levels: boolean;
  private readonly serviceLabels: readonly string[];
  private readonly annotations = new WeakMap<PushBatch, Annotation>();

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
   */
  annotate(batch: PushBatch, bytes: Uint8Array, streamLabels: ReadonlyMap<string, string>, first: number, last: number): Uint8Array {
    if (!this.levels || last <= first) return bytes;
    let ann = this.annotations.get(batch);
    if (ann === undefined) {
      const src = new Uint8Array(bytes.length + LEVEL_TABLE.length);
      src.set(bytes, 0);
      src.set(LEVEL_TABLE, bytes.length);
      const pairs = batch.metadataPairCount;
      const offsets = new Uint32Array(4 * (2 * pairs + batch.entryCount));
      offsets.set(batch.metadataOffsets.subarray(0, 4 * pairs));
      ann = { offsets, pairs, src, base: bytes.length };
      this.annotations.set(batch, ann);
      batch.metadataOffsets = offsets;
      // Copies: the originals may be shared with whoever decoded the batch.
      batch.metadataFirst = batch.metadataFirst.slice();
      batch.metadataCount = batch.metadataCount.slice();
    }
    // A level-like stream label decides every entry's level (unless it has detected_level).
    let src = ann.src;
    let streamLevel: Span | undefined;
    const fromLabel = levelFromLabels(streamLabels);
    if (fromLabel !== undefined) {
      const normalized = normalizeLevel(fromLabel);
      const known = LEVEL_OFFSETS.get(normalized);
      if (known !== undefined) {
        streamLevel = { start: ann.base + known, end: ann.base + known + normalized.length };
      } else {
        // A value Loki keeps as given: this stream's pairs point into a copy that ends with it.
        const value = toBytes(normalized);
        src = new Uint8Array(ann.src.length + value.length);
        src.set(ann.src, 0);
        src.set(value, ann.src.length);
        streamLevel = { start: ann.src.length, end: ann.src.length + value.length };
      }
    }
    this.annotateEntries(batch, ann, src, first, last, streamLevel);
    return src;
  }

  private annotateEntries(batch: PushBatch, ann: Annotation, src: Uint8Array, first: number, last: number, streamLevel: Span | undefined): void {
    const offsets = ann.offsets;
    const base = ann.base;
    const metaFirst = batch.metadataFirst;
    const metaCount = batch.metadataCount;
    for (let i = first; i < last; i++) {
      const f = metaFirst[i]!;
      const c = metaCount[i]!;
      let levelStart = -1;
      let levelEnd = -1;
      let severity: string | undefined;
      let present = false;
      let bestField = streamLevel === undefined ? LEVEL_FIELD_BYTES.length : 0;
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
        if (streamLevel === undefined && equalBytes(src, ns, ne, OTLP_SEVERITY_BYTES)) {
          severity = decoder.decode(src.subarray(offsets[p + 2]!, offsets[p + 3]!));
        }
      }
      // Loki keeps an entry's own detected_level.
      if (present) continue;
      let level: Level | undefined;
      if (streamLevel !== undefined) {
        levelStart = streamLevel.start;
        levelEnd = streamLevel.end;
      } else if (levelStart >= 0) {
        // A metadata value: its normalised spelling, or else the value as given.
        level = spelledLevel(src, levelStart, levelEnd);
      } else if (severity !== undefined && severity !== '') {
        level = severityLevel(severity);
      } else {
        level = lineLevel(src, batch.lineStart[i]!, batch.lineEnd[i]!);
      }
      if (level !== undefined) {
        levelStart = base + LEVEL_OFFSETS.get(level)!;
        levelEnd = levelStart + level.length;
      }
      // The entry's pairs move to the end of the columns, followed by detected_level.
      const at = ann.pairs;
      offsets.copyWithin(4 * at, 4 * f, 4 * (f + c));
      const q = 4 * (at + c);
      offsets[q] = base;
      offsets[q + 1] = base + LEVEL_LABEL.length;
      offsets[q + 2] = levelStart;
      offsets[q + 3] = levelEnd;
      metaFirst[i] = at;
      metaCount[i] = c + 1;
      ann.pairs = at + c + 1;
    }
    batch.metadataPairCount = ann.pairs;
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
