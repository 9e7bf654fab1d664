/** What a query evaluates to: Loki's four result types. The server renders them as Loki's JSON. */
import type { Labels } from '../pipeline/labels.js';

/** One log line of a `streams` result. */
export interface LogEntry {
  /** Nanoseconds since the epoch. */
  readonly ts: bigint;
  readonly line: string;
  /** The entry's structured metadata as it left the pipeline (for `categorize-labels`). */
  readonly structuredMetadata: Labels;
  /** Labels the pipeline extracted, including `__error__`/`__error_details__` (for `categorize-labels`). */
  readonly parsed: Labels;
}

export interface LogStream {
  /** All of the entries' final labels: stream labels, structured metadata and parsed labels. */
  readonly labels: Labels;
  /** Only the stream-label part (what `categorize-labels` puts in `stream`). */
  readonly streamLabels: Labels;
  /** In the query's direction: newest first for backward. */
  readonly entries: LogEntry[];
}

export interface StreamsResult {
  readonly type: 'streams';
  /** Sorted by the canonical label string, as Loki does. */
  readonly streams: LogStream[];
}

/** A point: `t` in milliseconds since the epoch (Loki's model.Time), `v` any float including NaN/±Inf. */
export interface Point {
  readonly t: number;
  readonly v: number;
}

export interface Series {
  readonly labels: Labels;
  /** Ascending by time. */
  readonly points: Point[];
}

export interface MatrixResult {
  readonly type: 'matrix';
  /** Sorted by labels, as Prometheus/Loki sort a matrix. */
  readonly series: Series[];
}

export interface VectorSample {
  readonly labels: Labels;
  readonly t: number;
  readonly v: number;
}

export interface VectorResult {
  readonly type: 'vector';
  readonly samples: VectorSample[];
}

export interface ScalarResult {
  readonly type: 'scalar';
  readonly t: number;
  readonly v: number;
}

export type QueryResult = StreamsResult | MatrixResult | VectorResult | ScalarResult;
