/**
 * The store as the LogQL engine's `LogSource` for one tenant: streams from the label index, entries
 * from blocks and heads. Counts what it reads for the query's `data.stats`.
 */
import type { LabelMatcher } from '../../logql/ast.js';
import type { BatchRef, Direction, EntryBatch, LineBounds, LogSource, SourceStream } from '../../logql/engine/source.js';
import type { Label, Labels } from '../../logql/pipeline/labels.js';
import type { EntryBatch as StoredBatch } from '../store/block.js';
import type { Store } from '../store/store.js';
import type { MemStream } from '../store/stream.js';

/** What a query read from the store (Loki's `querier.store` statistics). */
export interface StoreReadStats {
  /** Runs of blocks (or heads) found in range for the matched streams. */
  chunksReferenced: number;
  /** Runs actually loaded (decompressed when they are blocks). */
  chunksLoaded: number;
  decompressedBytes: number;
  decompressedLines: number;
}

export function emptyStoreReadStats(): StoreReadStats {
  return { chunksReferenced: 0, chunksLoaded: 0, decompressedBytes: 0, decompressedLines: 0 };
}

interface QueryStream extends SourceStream {
  readonly stream: MemStream;
}

/** Sorted engine labels per stream, made once: pipelines cache per-stream work by array identity. */
const labelsOf = new WeakMap<MemStream, Labels>();

function streamLabels(stream: MemStream): Labels {
  let labels = labelsOf.get(stream);
  if (labels === undefined) {
    labels = stream.pairs.map(([name, value]): Label => ({ name, value })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    labelsOf.set(stream, labels);
  }
  return labels;
}

const NO_METADATA: Labels = [];

/** A stored batch seen through the engine's `EntryBatch` interface. */
class StoreBatch implements EntryBatch {
  readonly base: bigint;
  readonly offsets: Float64Array;
  readonly from: number;
  readonly to: number;
  readonly lineBounds: LineBounds;

  /** The block's bytes as a plain Uint8Array: its subarrays cost less to make than a Buffer's. */
  private readonly bytes: Uint8Array;

  constructor(private readonly batch: StoredBatch) {
    this.bytes = new Uint8Array(batch.data.buffer, batch.data.byteOffset, batch.data.byteLength);
    this.base = batch.base;
    this.offsets = batch.offsets;
    this.from = batch.from;
    this.to = batch.to;
    this.lineBounds = batch;
  }

  line(i: number): Uint8Array {
    return this.bytes.subarray(this.batch.lineStart[i]!, this.batch.lineEnd[i]!);
  }

  metadata(i: number): Labels {
    // An entry without metadata stores a single 0 (the pair count) after its line.
    if (this.batch.metaEnd[i]! - this.batch.lineEnd[i]! <= 1) return NO_METADATA;
    return this.batch.metadata(i).map(([name, value]): Label => ({ name, value }));
  }
}

export class StoreLogSource implements LogSource {
  readonly stats = emptyStoreReadStats();

  constructor(private readonly store: Store, private readonly tenant: string) {}

  selectStreams(matchers: readonly LabelMatcher[], start: bigint, end: bigint): readonly QueryStream[] {
    return this.store.selectStreams(this.tenant, matchers, start, end).map((stream) => ({ stream, labels: streamLabels(stream) }));
  }

  *entries(stream: SourceStream, start: bigint, end: bigint, direction: Direction): Generator<EntryBatch> {
    for (const ref of this.store.batchRefs((stream as QueryStream).stream, start, end, direction)) {
      this.stats.chunksReferenced++;
      const batch = this.loaded(ref.loadNow());
      if (batch.to > batch.from) yield batch;
    }
  }

  batches(stream: SourceStream, start: bigint, end: bigint, direction: Direction): BatchRef[] {
    const refs = this.store.batchRefs((stream as QueryStream).stream, start, end, direction);
    this.stats.chunksReferenced += refs.length;
    return refs.map((ref) => ({
      minTs: ref.minTs,
      maxTs: ref.maxTs,
      mayContain: (needle: Uint8Array) => ref.mayContain(needle),
      ...(ref.entries === undefined ? {} : { entries: ref.entries }),
      prefetch: () => ref.prefetch(),
      load: () => {
        const batch = ref.load();
        return batch instanceof Promise ? batch.then((b) => this.loaded(b)) : this.loaded(batch);
      },
    }));
  }

  /** Counts a loaded run and wraps it for the engine. */
  private loaded(batch: StoredBatch): StoreBatch {
    this.stats.chunksLoaded++;
    this.stats.decompressedBytes += batch.data.byteLength;
    this.stats.decompressedLines += batch.count;
    return new StoreBatch(batch);
  }
}
