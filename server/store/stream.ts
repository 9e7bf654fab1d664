/** The in-memory state of one stream: its head, its open chunk and its WAL bookkeeping. */
import type { CompressedBlock } from './chunks.js';
import { Head, type CutBlock } from './head.js';
import type { LabelPairs } from './index.js';

/** A block cut from the head and being compressed, or a chunk close queued behind such blocks. */
export type PendingWrite =
  | { kind: 'block'; cut: CutBlock; firstWalSeq: number; flushedWalSeq: number; compressed: CompressedBlock | null }
  | { kind: 'close'; reason: ChunkCloseReason };

export type ChunkCloseReason = 'full' | 'idle' | 'max_age' | 'shutdown';

export class MemStream {
  readonly head: Head;
  readonly labelMap: ReadonlyMap<string, string>;

  /** The chunk that cut blocks are added to; 0 when none is open. */
  chunkId = 0;
  chunkOpenedAtMs = 0;
  chunkStoredBytes = 0;

  /** Newest timestamp accepted so far, for Loki's "too far behind" window. */
  newestSec = -Infinity;
  newestNanos = 0;
  lastAppendMs = 0;
  headStartedMs = 0;
  /** The head's size as the store last counted it towards its memory limit. */
  headBytesCounted = 0;

  /** WAL sequence of the first record whose entries are in the head (0 = head empty). */
  headFirstWalSeq = 0;
  lastWalSeq = 0;
  /** Every WAL record up to this sequence is in blocks; replay skips them for this stream. */
  flushedWalSeq: number;

  /** Token bucket of the per-stream rate limit, kept here to avoid a second lookup per push. */
  rateTokens = -1;
  rateUpdatedMs = 0;

  constructor(
    readonly id: number,
    readonly tenant: string,
    /** The canonical label string, `{a="1", b="2"}` with names sorted. */
    readonly labels: string,
    readonly pairs: LabelPairs,
    flushedWalSeq: number,
    blockSize: number,
  ) {
    this.head = new Head(blockSize);
    this.labelMap = new Map(pairs);
    this.flushedWalSeq = flushedWalSeq;
  }

  /** Writes waiting for compression, applied to the database strictly in this order. */
  readonly pending: PendingWrite[] = [];

  /** Whether the stream is active: it has an open chunk, pending blocks or entries in its head. */
  get active(): boolean {
    return this.chunkId !== 0 || !this.head.empty || this.pending.length > 0;
  }
}
