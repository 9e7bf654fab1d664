/** Reading a stream's batches from a source, skipping those an index rules out. */
import type { Direction, EntryBatch, LogSource, SourceStream } from './source.js';

/**
 * The stream's batches in [start, end). With a `needle` every kept line must contain, batches the
 * source's index rules out (`BatchRef.mayContain`) are skipped without being loaded.
 */
export function* readBatches(
  source: LogSource,
  stream: SourceStream,
  start: bigint,
  end: bigint,
  direction: Direction,
  needle: Uint8Array | undefined,
): Generator<EntryBatch> {
  if (needle === undefined || source.batches === undefined) {
    yield* source.entries(stream, start, end, direction);
    return;
  }
  for (const ref of source.batches(stream, start, end, direction)) {
    if (ref.mayContain !== undefined && !ref.mayContain(needle)) continue;
    const batch = ref.load();
    if (batch.to > batch.from) yield batch;
  }
}
