/**
 * What the engine reads: an abstract store of log streams. The server's store implements it
 * (`server/query/source.ts`); tests implement it over arrays. Keeping it here keeps `logql/` free of
 * any I/O: the engine only asks for streams and for batches of their entries.
 */
import type { LabelMatcher } from '../ast.js';
import type { Labels } from '../pipeline/labels.js';

export type Direction = 'forward' | 'backward';

/**
 * A run of entries of one stream, ascending by timestamp. Only indexes in `[from, to)` are part of
 * the batch. Timestamps are `base + offsets[i]` nanoseconds; offsets are exact doubles (a batch
 * spans far less than 2^53 ns), which lets the engine compare times without BigInt per entry.
 */
export interface EntryBatch {
  readonly base: bigint;
  readonly offsets: Float64Array;
  readonly from: number;
  readonly to: number;
  /** The line's bytes (a view: valid until the next batch is requested). */
  line(i: number): Uint8Array;
  /** The entry's structured metadata; an empty array when it has none. */
  metadata(i: number): Labels;
}

export interface SourceStream {
  /** The stream's labels, sorted by name. The same array every time (pipelines cache by identity). */
  readonly labels: Labels;
}

export interface LogSource {
  /** Streams matching every matcher that may hold entries in `[start, end)`. */
  selectStreams(matchers: readonly LabelMatcher[], start: bigint, end: bigint): readonly SourceStream[];
  /**
   * The stream's entries with `start ≤ ts < end`, as batches in `direction` order (each batch itself
   * ascending). Data outside the range must not be decompressed: a consumer that stops iterating
   * early reads nothing more.
   */
  entries(stream: SourceStream, start: bigint, end: bigint, direction: Direction): Iterable<EntryBatch>;
}
