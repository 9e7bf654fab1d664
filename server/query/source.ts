/**
 * The store as the LogQL engine's `LogSource` for one tenant: streams from the label index, entries
 * from blocks and heads. Counts what it reads for the query's `data.stats`.
 */
import type { LabelMatcher } from '../../logql/ast.js';
import type { BatchRef, Direction, EntryBatch, LogSource, SourceStream } from '../../logql/engine/source.js';
import { StoreBatch } from './store-batch.js';
import type { Label, Labels } from '../../logql/pipeline/labels.js';
import type { EntryBatch as StoredBatch } from '../store/block.js';
import type { ExtractionJob, ExtractionPart } from '../../logql/engine/samples.js';
import type { BatchRef as StoreBatchRef, Store } from '../store/store.js';
import type { WorkerPool } from '../workers/pool.js';
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

export class StoreLogSource implements LogSource {
  readonly stats = emptyStoreReadStats();

  /** Store refs behind the engine's, with the range they were asked for (for extractElsewhere). */
  private readonly storeRefs = new WeakMap<BatchRef, { ref: StoreBatchRef; start: bigint; end: bigint }>();

  /** `workers`: where metric queries' stored blocks are extracted; absent (or inline pool): here. */
  constructor(
    private readonly store: Store,
    private readonly tenant: string,
    private readonly workers?: WorkerPool,
  ) {}

  selectStreams(matchers: readonly LabelMatcher[], start: bigint, end: bigint): readonly QueryStream[] {
    return this.store.selectStreams(this.tenant, matchers, start, end).map((stream) => ({ stream, labels: streamLabels(stream) }));
  }

  *entries(stream: SourceStream, start: bigint, end: bigint, direction: Direction): Generator<EntryBatch> {
    for (const ref of this.store.batchRefs((stream as QueryStream).stream, start, end, direction)) {
      this.stats.chunksReferenced++;
      const batch = this.loaded(ref.load());
      if (batch.to > batch.from) yield batch;
    }
  }

  batches(stream: SourceStream, start: bigint, end: bigint, direction: Direction): BatchRef[] {
    const refs = this.store.batchRefs((stream as QueryStream).stream, start, end, direction);
    this.stats.chunksReferenced += refs.length;
    return refs.map((ref) => {
      const engineRef: BatchRef = {
        minTs: ref.minTs,
        maxTs: ref.maxTs,
        mayContain: (needle: Uint8Array) => ref.mayContain(needle),
        ...(ref.entries === undefined ? {} : { entries: ref.entries }),
        load: () => this.loaded(ref.load()),
      };
      this.storeRefs.set(engineRef, { ref, start, end });
      return engineRef;
    });
  }

  /** A lone stored block goes to a worker thread, which decodes it and extracts its samples. */
  extractElsewhere(stream: SourceStream, ref: BatchRef, job: ExtractionJob): Promise<ExtractionPart> | undefined {
    const found = this.storeRefs.get(ref);
    if (this.workers === undefined || !this.workers.threaded || found?.ref.stored === undefined) return undefined;
    this.stats.chunksLoaded++;
    return this.workers.extract(job, stream.labels, found.ref.stored(), found.start, found.end).then((result) => {
      this.stats.decompressedBytes += result.decodedBytes;
      this.stats.decompressedLines += result.decodedLines;
      return result.part;
    });
  }

  /** Counts a loaded run and wraps it for the engine. */
  private loaded(batch: StoredBatch): StoreBatch {
    this.stats.chunksLoaded++;
    this.stats.decompressedBytes += batch.data.byteLength;
    this.stats.decompressedLines += batch.count;
    return new StoreBatch(batch);
  }
}
