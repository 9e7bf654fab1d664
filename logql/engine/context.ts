/**
 * Per-query state the engine shares with its caller: the deadline and yield hook, limits, and the
 * counters behind `data.stats`.
 */
import type { Labels } from '../pipeline/labels.js';

export interface QueryLimits {
  /** `max_query_series`: a metric query may produce at most this many series (0 = unlimited). */
  maxQuerySeries: number;
}

/** Counters the engine fills while it runs (Loki's `summary.totalLinesProcessed` etc.). */
export interface QueryStats {
  /** Entries read from the source and put through a pipeline. */
  linesProcessed: number;
  /** Bytes of those entries' lines plus structured metadata. */
  bytesProcessed: number;
  /** Bytes of structured metadata alone. */
  structuredMetadataBytesProcessed: number;
  /** Entries that came out of the pipeline (before `limit`). */
  postFilterLines: number;
}

export function emptyStats(): QueryStats {
  return { linesProcessed: 0, bytesProcessed: 0, structuredMetadataBytesProcessed: 0, postFilterLines: 0 };
}

function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 2; // surrogate pair: 4 bytes for 2 UTF-16 units
      i++;
    } else n += 2;
  }
  return n;
}

/** Counts one entry put through a pipeline: its line bytes and its metadata's UTF-8 bytes. */
export function countEntry(stats: QueryStats, lineBytes: number, metadata: Labels): void {
  stats.linesProcessed++;
  let metadataBytes = 0;
  for (let i = 0; i < metadata.length; i++) metadataBytes += utf8Length(metadata[i]!.name) + utf8Length(metadata[i]!.value);
  stats.bytesProcessed += lineBytes + metadataBytes;
  stats.structuredMetadataBytesProcessed += metadataBytes;
}

export interface QueryContext {
  /**
   * Called at least every `CHECKPOINT_LINES` entries and between batches. Throws (a `QueryTimeoutError`
   * or the caller's own error) when the query must stop; returns a promise when the engine should give
   * the event loop a turn before going on. Use: `const p = ctx.checkpoint(); if (p) await p;`.
   */
  checkpoint(): Promise<void> | undefined;
  readonly limits: QueryLimits;
  readonly stats: QueryStats;
}

/** How many entries the engine may process between two `checkpoint()` calls. */
export const CHECKPOINT_LINES = 64;

/** Thrown by a checkpoint when the query ran past its deadline. */
export class QueryTimeoutError extends Error {
  constructor(message = 'query timed out') {
    super(message);
    this.name = 'QueryTimeoutError';
  }
}

/** An error of the query itself (Loki answers 400 with the message), raised while it runs. */
export class QueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryError';
  }
}

/** A context without deadline or yields, for tests and for callers that run small queries. */
export function unboundedContext(limits: Partial<QueryLimits> = {}): QueryContext {
  return {
    checkpoint: () => undefined,
    limits: { maxQuerySeries: 0, ...limits },
    stats: emptyStats(),
  };
}
