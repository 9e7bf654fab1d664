/** Walking the batches of a query's streams, skipping those an index rules out. */
import type { BatchRef, Direction, LogSource, SourceStream } from './source.js';

/**
 * The batches of `streams` in [start, end), stream after stream, not loaded. With a `needle` every
 * kept line must contain, batches the source's index rules out (`BatchRef.mayContain`) are
 * skipped. `handled` lets the caller take a batch from its index entry alone (it returns true).
 * Sources without an index yield their loaded batches as refs.
 */
export function* readRefs(
  source: LogSource,
  streams: readonly SourceStream[],
  start: bigint,
  end: bigint,
  needle: Uint8Array | undefined,
  handled?: (stream: SourceStream, ref: BatchRef) => boolean,
): Generator<{ stream: SourceStream; ref: BatchRef }> {
  const direction: Direction = 'forward';
  for (const stream of streams) {
    if (source.batches === undefined) {
      for (const batch of source.entries(stream, start, end, direction)) {
        yield { stream, ref: { minTs: start, maxTs: end, load: () => batch } };
      }
      continue;
    }
    for (const ref of source.batches(stream, start, end, direction)) {
      if (needle !== undefined && ref.mayContain !== undefined && !ref.mayContain(needle)) continue;
      if (handled !== undefined && handled(stream, ref)) continue;
      yield { stream, ref };
    }
  }
}
