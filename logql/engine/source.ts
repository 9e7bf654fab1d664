/**
 * What the engine reads: an abstract store of log streams. The server's store implements it
 * (`server/query/source.ts`); tests implement it over arrays. Keeping it here keeps `logql/` free of
 * any I/O: the engine only asks for streams and for batches of their entries.
 */
import type { LabelMatcher } from '../ast.js';
import type { Labels } from '../pipeline/labels.js';
import type { ExtractionJob, ExtractionPart } from './samples.js';

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
  /**
   * Where the lines lie in one shared buffer, when the source has them that way: line `i` is
   * `data[lineStart[i], lineEnd[i])`. Lets a substring filter search a whole batch with one scan.
   */
  readonly lineBounds?: LineBounds;
}

export interface LineBounds {
  readonly data: Uint8Array;
  readonly lineStart: Uint32Array;
  readonly lineEnd: Uint32Array;
}

/** A batch not loaded yet, with the time range it covers (from the source's index). */
export interface BatchRef {
  readonly minTs: bigint;
  readonly maxTs: bigint;
  /** The batch; a source may load it asynchronously. */
  load(): EntryBatch | Promise<EntryBatch>;
  /**
   * How many entries the batch holds, all within [minTs, maxTs], when the source knows it without
   * loading it (from its index): a count needs no lines.
   */
  readonly entries?: number;
  /**
   * False when the batch certainly holds no line containing `needle` (an index such as a trigram
   * filter says so): a query whose lines must contain it skips the batch without loading it.
   */
  mayContain?(needle: Uint8Array): boolean;
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
  /**
   * The same batches as `entries`, not yet loaded: a log query with a limit merges streams by these
   * time ranges and loads only the batches that can still hold one of the newest (or oldest) entries.
   * Batches of one stream are disjoint in time. Sources without an index may leave it out.
   */
  batches?(stream: SourceStream, start: bigint, end: bigint, direction: Direction): Iterable<BatchRef>;
  /**
   * Extracts a metric query's samples from one batch somewhere else (e.g. on a worker thread that
   * runs its own `SampleExtractor` for `job`), or returns undefined when this batch cannot go
   * (the caller then loads and extracts it itself).
   */
  extractElsewhere?(stream: SourceStream, ref: BatchRef, job: ExtractionJob): Promise<ExtractionPart> | undefined;
}
