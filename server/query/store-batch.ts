/** A stored batch of entries seen through the LogQL engine's `EntryBatch` interface. */
import type { EntryBatch, LineBounds } from '../../logql/engine/source.js';
import type { Label, Labels } from '../../logql/pipeline/labels.js';
import type { EntryBatch as StoredBatch } from '../store/block.js';

const NO_METADATA: Labels = [];

/** A stored batch seen through the engine's `EntryBatch` interface. */
export class StoreBatch implements EntryBatch {
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
