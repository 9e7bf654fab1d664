/** Reading a stream's batches from a source, skipping those an index rules out. */
import type { BatchRef, Direction, EntryBatch, LogSource, SourceStream } from './source.js';

/** How many batches ahead of the one being processed are asked to load (`BatchRef.prefetch`). */
export const PREFETCH_BATCHES = 4;

/**
 * The batches of `streams` in [start, end), stream after stream, each with its stream. With a
 * `needle` every kept line must contain, batches the source's index rules out
 * (`BatchRef.mayContain`) are skipped without being loaded. `countable` lets the caller take a
 * batch from its index entry alone (it returns true) instead of loading it. The next batches,
 * across stream boundaries, are prefetched while one is processed.
 */
export async function* readBatches(
  source: LogSource,
  streams: readonly SourceStream[],
  start: bigint,
  end: bigint,
  direction: Direction,
  needle: Uint8Array | undefined,
  countable?: (stream: SourceStream, ref: BatchRef) => boolean,
): AsyncGenerator<{ stream: SourceStream; batch: EntryBatch }> {
  if (source.batches === undefined) {
    for (const stream of streams) {
      for (const batch of source.entries(stream, start, end, direction)) yield { stream, batch };
    }
    return;
  }
  const queue: Array<{ stream: SourceStream; ref: BatchRef }> = [];
  let next = 0;
  const refill = (): void => {
    while (queue.length < PREFETCH_BATCHES + 1 && next < streams.length) {
      const stream = streams[next++]!;
      for (const ref of source.batches!(stream, start, end, direction)) {
        if (needle !== undefined && ref.mayContain !== undefined && !ref.mayContain(needle)) continue;
        if (countable !== undefined && countable(stream, ref)) continue;
        queue.push({ stream, ref });
      }
    }
    for (let i = 1; i < queue.length && i <= PREFETCH_BATCHES; i++) queue[i]!.ref.prefetch?.();
  };
  refill();
  while (queue.length > 0) {
    const { stream, ref } = queue.shift()!;
    refill();
    const batch = await ref.load();
    if (batch.to > batch.from) yield { stream, batch };
  }
}
