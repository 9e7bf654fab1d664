/**
 * Shared types of the pipeline stages (agent/stages/): the entry every stage works on, the
 * values stages extract, and the conversion of those values to text as Promtail's `getString`.
 */

/** A value in the extracted map: strings (regex, logfmt), or JSON scalars (json stage); null for a JSON null or a missing JMESPath result. */
export type ExtractedValue = string | number | boolean | null;

/** One log entry travelling through a pipeline. Stages change it in place. */
export interface StageEntry {
  /** Label name → value; the stream the entry will be pushed to. */
  labels: Map<string, string>;
  /** Values shared between the stages of a pipeline (Promtail's `extracted` map). */
  extracted: Map<string, ExtractedValue>;
  line: string;
  /** Nanoseconds since the epoch. */
  timestamp: bigint;
  structuredMetadata?: Map<string, string>;
  /**
   * The container stream the line was written to, set by the CRI/docker joiner (agent/cri.ts,
   * agent/docker.ts) that parsed it; `line` and `timestamp` are then already the parsed content
   * and time. The `cri` and `docker` stages apply it; undefined for lines no joiner parsed.
   */
  stream?: 'stdout' | 'stderr';
  /**
   * Where the entry's first raw line starts in its source (the agent's per-target byte offset).
   * Stages never change it; a block released by `multiline` keeps its first line's. The agent
   * commits positions only below the oldest entry a stage still holds.
   */
  start?: number;
}

/** A compiled stage. `process` returns the entry that continues down the pipeline, or null. */
export interface Stage {
  process(entry: StageEntry, nowMs: number): StageEntry | null;
  /**
   * Entries a stateful stage (multiline) releases: those waiting longer than their bound at
   * `nowMs`, or all of them when `all`. They continue with the stage after this one.
   */
  flush?(nowMs: number, all: boolean): StageEntry[];
  /** Lines held (not yet released) by a stateful stage. */
  pending?(): number;
  /** When `flush` will next release something (ms), undefined when nothing is held. */
  nextDeadline?(): number | undefined;
  /** The smallest `start` of the entries held, undefined when none is held (or none has a start). */
  oldestHeldStart?(): number | undefined;
}

/** Counts entries dropped by a stage, by the stage's `drop_counter_reason`. */
export type DropCounter = (reason: string) => void;

/** Thrown by `compileStages` for a configuration the stages cannot run (e.g. a JMESPath outside the supported subset). */
export class StageConfigError extends Error {
  override readonly name = 'StageConfigError';
}

/**
 * Go's `strconv.FormatFloat(f, 'f', -1, 64)`: shortest round-trip digits, never an exponent
 * (JS `String(1e21)` is `1e+21`, Go writes `1000000000000000000000`).
 */
export function formatFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  const s = String(n);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const negative = s.startsWith('-');
  const mantissa = s.slice(negative ? 1 : 0, e);
  const exponent = Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const pointAt = (dot < 0 ? mantissa.length : dot) + exponent;
  let out: string;
  if (pointAt <= 0) out = '0.' + '0'.repeat(-pointAt) + digits;
  else if (pointAt >= digits.length) out = digits + '0'.repeat(pointAt - digits.length);
  else out = digits.slice(0, pointAt) + '.' + digits.slice(pointAt);
  return negative ? '-' + out : out;
}

/** Promtail's `getString`: the text of an extracted value, undefined for null (which Promtail cannot convert). */
export function valueToString(value: ExtractedValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return formatFloat(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return undefined;
}

/**
 * The text a parsing stage reads: the line, or with `source` the extracted value of that name
 * (undefined when it is missing, and the stage then leaves the entry as it is).
 */
export function stageInput(entry: StageEntry, source: string | undefined): string | undefined {
  return source === undefined ? entry.line : valueToString(entry.extracted.get(source));
}

/** A label set's identity as text (sorted names with their values), for per-stream state. */
export function labelsKey(labels: Map<string, string>): string {
  const names: string[] = [];
  for (const name of labels.keys()) names.push(name);
  names.sort();
  let key = '';
  // Label names cannot contain \u0000 or \u0001, so these separators keep keys unambiguous
  // as long as values do not contain them either (log label values practically never do).
  for (const name of names) key += name + '\u0000' + labels.get(name)! + '\u0001';
  return key;
}
