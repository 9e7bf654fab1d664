/**
 * The store: streams in memory (heads), the WAL, the SQLite index and chunks, and the
 * background work that cuts blocks and chunks, truncates the WAL and applies retention.
 * The ingest path appends to heads and commits through here; the query engine reads
 * through `selectStreams` and `readEntries`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileMatcher, type LabelMatcher } from '../../logql/index.js';
import { parseLabelString } from '../../proto/index.js';
import { EntryBatch, decodeBlock, mergeBatches } from './block.js';
import { ChunkStore, type BlockRef, type CompressedBlock } from './chunks.js';
import { filterMayContain } from './filter.js';
import { LabelIndex, type LabelPairs } from './index.js';
import { openDatabase, type Db } from './schema.js';
import { MemStream, type ChunkCloseReason } from './stream.js';
import { Wal, type ReplaySummary, type WalOptions } from './wal.js';

export interface StoreOptions {
  dataDir: string;
  blockSize: number;
  chunkTargetSize: number;
  chunkIdleMs: number;
  maxChunkAgeMs: number;
  /** A head is cut into a block once its oldest entry has waited this long, bounding the WAL. */
  checkpointMs: number;
  /** Bytes all heads may hold together; past it the largest are cut, bounding memory with many streams. */
  headMemoryLimit: number;
  retentionMs: number;
  compactionIntervalMs: number;
  wal: WalOptions;
  /** Compresses a block, possibly on another thread. */
  /** Compresses a block and builds its trigram filter, possibly on another thread. */
  compress(bytes: Uint8Array): Promise<CompressedBlock>;
  compressSync(bytes: Uint8Array): CompressedBlock;
}

/** Above this many uncompressed bytes waiting for the compressor, pushes wait before they are answered. */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;

/** Counters the store reports to /metrics. */
export interface StoreObserver {
  chunkClosed(reason: ChunkCloseReason): void;
  blockCut(rawBytes: number, storedBytes: number): void;
  chunksDeleted(count: number): void;
  blockDecompressed(rawBytes: number): void;
}

const NO_OBSERVER: StoreObserver = { chunkClosed() {}, blockCut() {}, chunksDeleted() {}, blockDecompressed() {} };

export type Direction = 'forward' | 'backward';

interface BatchSource {
  minTs: bigint;
  maxTs: bigint;
  /** The entries, decompressed (when stored) on this thread. */
  load(): EntryBatch;
  /** A lone stored block's compressed bytes and checksum, for work done elsewhere (a worker). */
  stored?: () => { crc: number; data: Uint8Array };
  /** False when no line of the source can contain `needle` (its trigram filter says so). */
  mayContain(needle: Uint8Array): boolean;
  /** How many entries it holds (from the index, without loading); undefined for merged runs. */
  entries?: number;
}

/** A run of a stream's entries not loaded yet (see `Store.batchRefs`). */
export type BatchRef = BatchSource;

const ALWAYS = (): boolean => true;

export class Store {
  private readonly db: Db;
  private readonly index: LabelIndex;
  private readonly chunks: ChunkStore;
  private readonly wal: Wal;
  private readonly byId = new Map<number, MemStream>();
  private readonly byKey = new Map<string, MemStream>();
  private timers: NodeJS.Timeout[] = [];
  private lastCompactionMs = Date.now();
  private pendingBytes = 0;
  /** Sum of every head's `bytes`, as last seen by commit(). */
  private headBytes = 0;
  private readonly readyStreams = new Set<MemStream>();
  private readonly drainWaiters: Array<() => void> = [];
  private persistScheduled: Promise<void> | null = null;
  /** Settles when every block cut so far is in the database. */
  private compressions: Promise<void> = Promise.resolve();

  constructor(private readonly options: StoreOptions, private readonly observer: StoreObserver = NO_OBSERVER) {
    mkdirSync(options.dataDir, { recursive: true });
    this.db = openDatabase(join(options.dataDir, 'index.db'));
    this.index = new LabelIndex(this.db);
    this.chunks = new ChunkStore(this.db);
    this.wal = new Wal(join(options.dataDir, 'wal'), options.wal);
    const now = Date.now();
    for (const row of this.index.allStreams()) {
      const stream = new MemStream(row.id, row.tenant, row.labels, parseLabelString(row.labels), row.flushedWalSeq, options.blockSize);
      this.byId.set(row.id, stream);
      this.byKey.set(streamKey(row.tenant, row.labels), stream);
    }
    for (const chunk of this.chunks.openChunks()) {
      const stream = this.byId.get(chunk.streamId);
      if (stream === undefined) continue;
      stream.chunkId = chunk.id;
      stream.chunkOpenedAtMs = chunk.openedAt;
      stream.chunkStoredBytes = chunk.storedBytes;
      stream.lastAppendMs = now;
    }
  }

  /**
   * Replays the WAL through `apply` (which re-appends the entries, skipping those a
   * stream has already flushed), then starts accepting writes and the background work.
   */
  async replay(apply: (seq: number, payload: Buffer) => void): Promise<ReplaySummary> {
    const summary = await this.wal.replay(apply);
    this.wal.start();
    this.timers.push(setInterval(() => this.tick(Date.now()), 1000));
    for (const timer of this.timers) timer.unref();
    return summary;
  }

  // ---- write path -------------------------------------------------------------------

  stream(tenant: string, labels: string): MemStream | undefined {
    return this.byKey.get(streamKey(tenant, labels));
  }

  createStream(tenant: string, labels: string, pairs: LabelPairs): MemStream {
    const id = this.index.createStream(tenant, labels, pairs);
    const stream = new MemStream(id, tenant, labels, pairs, 0, this.options.blockSize);
    this.byId.set(id, stream);
    this.byKey.set(streamKey(tenant, labels), stream);
    return stream;
  }

  /** Whether `stream` is still one of the store's streams (retention deletes empty ones). */
  holds(stream: MemStream): boolean {
    return this.byId.get(stream.id) === stream;
  }

  activeStreamCount(tenant?: string): number {
    let count = 0;
    for (const stream of this.byId.values()) if (stream.active && (tenant === undefined || stream.tenant === tenant)) count++;
    return count;
  }

  get maxChunkAgeMs(): number {
    return this.options.maxChunkAgeMs;
  }

  /** The sequence number the next WAL record will get: entries appended now belong to it. */
  get nextWalSeq(): number {
    return this.wal.nextSeq;
  }

  appendWal(payload: Uint8Array[]): number {
    return this.wal.append(payload);
  }

  syncWal(): Promise<void> {
    return this.wal.sync();
  }

  get walSyncPerBatch(): boolean {
    return this.wal.syncPerBatch;
  }

  /**
   * Called after the entries of WAL record `seq` were appended to `touched` streams'
   * heads. Blocks are cut only here, between records, so a block never holds part of a
   * record and `flushedWalSeq` stays exact.
   */
  commit(seq: number, touched: readonly MemStream[], nowMs: number): void {
    for (const stream of touched) {
      if (stream.head.empty) continue;
      if (stream.headFirstWalSeq === 0) {
        stream.headFirstWalSeq = seq;
        stream.headStartedMs = nowMs;
      }
      stream.lastWalSeq = seq;
      stream.lastAppendMs = nowMs;
      this.headBytes += stream.head.bytes - stream.headBytesCounted;
      stream.headBytesCounted = stream.head.bytes;
      if (stream.head.bytes >= this.options.blockSize) this.cutHead(stream, true);
    }
    if (this.headBytes > this.options.headMemoryLimit) this.shrinkHeads();
  }

  /** Cuts the largest heads into (smaller) blocks until the heads use 3/4 of their memory limit. */
  private shrinkHeads(): void {
    const target = this.options.headMemoryLimit * 0.75;
    const streams = [...this.byId.values()].filter((s) => !s.head.empty).sort((a, b) => b.head.bytes - a.head.bytes);
    for (const stream of streams) {
      if (this.headBytes <= target) break;
      this.cutHead(stream);
    }
  }

  /**
   * Cuts the head into a block. The block is compressed off the event loop and written to
   * the database once every earlier write of the stream is; until then reads see it in
   * `stream.pending` and it keeps its WAL records.
   */
  private cutHead(stream: MemStream, full = false): void {
    if (stream.head.empty) return;
    const cut = stream.head.cut(full);
    this.headBytes -= stream.headBytesCounted;
    stream.headBytesCounted = 0;
    const write = { kind: 'block' as const, cut, firstWalSeq: stream.headFirstWalSeq, flushedWalSeq: stream.lastWalSeq, compressed: null as CompressedBlock | null };
    stream.headFirstWalSeq = 0;
    stream.pending.push(write);
    this.pendingBytes += cut.bytes.byteLength;
    const compressed = this.options.compress(cut.bytes);
    this.compressions = Promise.all([this.compressions, compressed]).then(
      ([, bytes]) => {
        write.compressed = bytes;
        this.compressed(stream, cut.bytes.byteLength);
      },
      (err: unknown) => {
        // The compressor failed (a worker died): do it here rather than lose the block.
        write.compressed = this.options.compressSync(cut.bytes);
        this.compressed(stream, cut.bytes.byteLength);
        throw err;
      },
    ).catch(() => undefined);
  }

  private compressed(stream: MemStream, rawBytes: number): void {
    this.pendingBytes -= rawBytes;
    this.schedulePersist(stream);
    if (this.drainWaiters.length > 0 && this.pendingBytes <= MAX_PENDING_BYTES / 2) {
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }

  /**
   * Backpressure: true while the compressors are behind. The push route then waits for
   * `drained()` before answering, which slows clients down instead of letting the backlog
   * (memory) grow or compressing on the event loop.
   */
  get backlogged(): boolean {
    return this.pendingBytes > MAX_PENDING_BYTES;
  }

  drained(): Promise<void> {
    if (!this.backlogged) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * Writes compressed blocks once per turn of the event loop, in one transaction for all
   * streams: a commit per block cost more than the inserts themselves.
   */
  private schedulePersist(stream: MemStream): void {
    this.readyStreams.add(stream);
    this.persistScheduled ??= new Promise<void>((resolve) => {
      setImmediate(() => {
        this.persistScheduled = null;
        const ready = [...this.readyStreams];
        this.readyStreams.clear();
        const now = Date.now();
        this.db.transaction(() => {
          for (const s of ready) this.applyPending(s, now);
        })();
        resolve();
      });
    });
  }

  /**
   * Writes the stream's compressed blocks and queued chunk closes, in order, up to the
   * first still compressing. Runs inside the caller's transaction.
   */
  private applyPending(stream: MemStream, nowMs: number): void {
    while (stream.pending.length > 0) {
      const write = stream.pending[0]!;
      if (write.kind === 'close') {
        stream.pending.shift();
        this.closeChunkNow(stream, write.reason);
        continue;
      }
      if (write.compressed === null) return;
      stream.pending.shift();
      const { cut, compressed, flushedWalSeq } = write;
      if (stream.chunkId === 0) {
        stream.chunkId = this.chunks.openChunk(stream.id, cut.minTs, nowMs);
        stream.chunkOpenedAtMs = nowMs;
        stream.chunkStoredBytes = 0;
      }
      const stored = this.chunks.appendBlock(stream.chunkId, stream.id, compressed, cut.bytes.byteLength, cut.minTs, cut.maxTs, cut.count);
      this.index.setFlushedWalSeq(stream.id, flushedWalSeq);
      stream.flushedWalSeq = flushedWalSeq;
      stream.chunkStoredBytes += stored.storedBytes;
      this.observer.blockCut(stored.rawBytes, stored.storedBytes);
      if (stream.chunkStoredBytes >= this.options.chunkTargetSize) this.closeChunkNow(stream, 'full');
    }
  }

  /** Closes the stream's chunk after the blocks already cut have been written to it. */
  private closeChunk(stream: MemStream, reason: ChunkCloseReason): void {
    if (stream.pending.length === 0) this.closeChunkNow(stream, reason);
    else if (stream.pending.at(-1)!.kind !== 'close') stream.pending.push({ kind: 'close', reason });
  }

  private closeChunkNow(stream: MemStream, reason: ChunkCloseReason): void {
    if (stream.chunkId === 0) return;
    this.chunks.closeChunk(stream.chunkId);
    stream.chunkId = 0;
    stream.chunkStoredBytes = 0;
    this.observer.chunkClosed(reason);
  }

  /** Resolves when every block cut so far has been compressed and written. */
  async persisted(): Promise<void> {
    let current: Promise<void>;
    do {
      current = this.compressions;
      await current;
      await this.persistScheduled;
    } while (current !== this.compressions || this.persistScheduled !== null);
  }

  // ---- background work --------------------------------------------------------------

  /** Cuts idle and old chunks, persists heads that pin the WAL, truncates it, applies retention. */
  tick(nowMs: number): void {
    let oldestPinnedSeq = this.wal.nextSeq;
    for (const stream of this.byId.values()) {
      if (!stream.active) continue;
      if (nowMs - stream.lastAppendMs >= this.options.chunkIdleMs) {
        this.cutHead(stream);
        this.closeChunk(stream, 'idle');
      } else if (stream.chunkId !== 0 && nowMs - stream.chunkOpenedAtMs >= this.options.maxChunkAgeMs) {
        this.cutHead(stream);
        this.closeChunk(stream, 'max_age');
      } else if (!stream.head.empty && nowMs - stream.headStartedMs >= this.options.checkpointMs) {
        this.cutHead(stream);
      }
      if (!stream.head.empty && stream.headFirstWalSeq > 0 && stream.headFirstWalSeq < oldestPinnedSeq) {
        oldestPinnedSeq = stream.headFirstWalSeq;
      }
      for (const write of stream.pending) {
        if (write.kind === 'block' && write.firstWalSeq > 0 && write.firstWalSeq < oldestPinnedSeq) oldestPinnedSeq = write.firstWalSeq;
      }
    }
    this.truncateWal(oldestPinnedSeq);
    if (this.options.retentionMs > 0 && nowMs - this.lastCompactionMs >= this.options.compactionIntervalMs) {
      this.applyRetention(nowMs);
    }
  }

  private truncateWal(beforeSeq: number): void {
    if (!this.wal.hasSegmentsBefore(beforeSeq)) return;
    // The blocks that make those segments redundant must be on disk first.
    this.db.pragma('wal_checkpoint(FULL)');
    this.wal.truncateBefore(beforeSeq);
  }

  /** Deletes whole chunks whose newest entry is older than the retention period. */
  private applyRetention(nowMs: number): number {
    this.lastCompactionMs = nowMs;
    const cutoff = BigInt(nowMs - this.options.retentionMs) * 1_000_000n;
    const deleted = this.db.transaction(() => {
      const result = this.chunks.deleteChunksBefore(cutoff);
      for (const streamId of result.streams) {
        const stream = this.byId.get(streamId);
        if (stream !== undefined && !stream.active && this.chunks.chunkCount(streamId) === 0) {
          this.index.deleteStream(streamId);
          this.byId.delete(streamId);
          this.byKey.delete(streamKey(stream.tenant, stream.labels));
        }
      }
      return result.chunks;
    })();
    this.observer.chunksDeleted(deleted);
    return deleted;
  }

  /** Clean shutdown: every head becomes a block, every chunk is closed, the WAL is emptied. */
  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    for (const stream of this.byId.values()) {
      this.cutHead(stream);
      this.closeChunk(stream, 'shutdown');
    }
    await this.persisted();
    this.db.pragma('wal_checkpoint(FULL)');
    this.wal.discardAll();
    this.wal.close();
    this.db.close();
  }

  // ---- read path --------------------------------------------------------------------

  /** Streams of `tenant` matching every matcher that hold entries in [start, end). */
  selectStreams(tenant: string, matchers: readonly LabelMatcher[], start: bigint, end: bigint): MemStream[] {
    const predicates = matchers.map((m) => ({ name: m.name, test: compileMatcher(m) }));
    const matched: MemStream[] = [];
    for (const id of this.candidateIds(tenant, matchers)) {
      const stream = this.byId.get(id);
      if (stream === undefined || stream.tenant !== tenant) continue;
      if (predicates.every((p) => p.test(stream.labelMap.get(p.name) ?? ''))) matched.push(stream);
    }
    if (matched.length <= 8) return matched.filter((stream) => this.hasEntriesIn(stream, start, end));
    // Many streams: one query for the chunks in range beats one query per stream.
    const withChunks = new Set(this.chunks.streamIdsInRange(start, end));
    return matched.filter((stream) => withChunks.has(stream.id) || this.hasUnpersistedEntriesIn(stream, start, end));
  }

  /** Every stream of a tenant with entries in [start, end). */
  streamsInRange(tenant: string, start: bigint, end: bigint): MemStream[] {
    // One query for the chunks in range instead of one per stream; heads and blocks still
    // being compressed are checked in memory.
    const withChunks = new Set(this.chunks.streamIdsInRange(start, end));
    const out: MemStream[] = [];
    for (const stream of this.byId.values()) {
      if (stream.tenant !== tenant) continue;
      if (withChunks.has(stream.id) || this.hasUnpersistedEntriesIn(stream, start, end)) out.push(stream);
    }
    return out;
  }

  private candidateIds(tenant: string, matchers: readonly LabelMatcher[]): Iterable<number> {
    // Postings narrow the search by the equality matchers; the rest are checked per stream.
    let ids: Set<number> | undefined;
    for (const m of matchers) {
      if (m.type !== '=' || m.value === '') continue;
      const found = new Set(this.index.streamsWith(tenant, m.name, m.value));
      ids = ids === undefined ? found : new Set([...ids].filter((id) => found.has(id)));
    }
    if (ids !== undefined) return ids;
    for (const m of matchers) {
      if (m.type !== '=~') continue;
      const test = compileMatcher(m);
      if (test('')) continue;
      const union = new Set<number>();
      for (const value of this.index.labelValues(tenant, m.name)) {
        if (test(value)) for (const id of this.index.streamsWith(tenant, m.name, value)) union.add(id);
      }
      return union;
    }
    return this.byId.keys();
  }

  private hasEntriesIn(stream: MemStream, start: bigint, end: bigint): boolean {
    return this.hasUnpersistedEntriesIn(stream, start, end) || this.chunks.chunksInRange(stream.id, start, end).length > 0;
  }

  /** Whether the stream's head or its blocks not yet in the database hold entries in [start, end). */
  private hasUnpersistedEntriesIn(stream: MemStream, start: bigint, end: bigint): boolean {
    if (headOverlaps(stream, start, end)) return true;
    for (const write of stream.pending) {
      if (write.kind === 'block' && overlaps(write.cut, start, end)) return true;
    }
    return false;
  }

  /** Chunk statistics of a stream in [start, end), for index/stats. */
  chunkStats(stream: MemStream, start: bigint, end: bigint): { chunks: number; entries: number; bytes: number } {
    let chunks = 0;
    let entries = 0;
    let bytes = 0;
    for (const chunk of this.chunks.chunksInRange(stream.id, start, end)) {
      chunks++;
      entries += chunk.entries;
      bytes += chunk.rawBytes;
    }
    if (headOverlaps(stream, start, end)) {
      entries += stream.head.count;
      bytes += stream.head.bytes;
    }
    for (const write of stream.pending) {
      if (write.kind === 'block' && overlaps(write.cut, start, end)) {
        entries += write.cut.count;
        bytes += write.cut.bytes.byteLength;
      }
    }
    return { chunks, entries, bytes };
  }

  /**
   * A stream's entries with `start ≤ ts < end`, as sorted batches yielded in `direction`
   * order (a backward reader walks each batch from its end). Blocks are chosen by their
   * time range and decompressed only when the iteration reaches them, so a backward query
   * with a small limit reads the newest blocks and stops.
   */
  *readEntries(stream: MemStream, start: bigint, end: bigint, direction: Direction): Generator<EntryBatch> {
    for (const ref of this.batchRefs(stream, start, end, direction)) {
      const batch = ref.load();
      if (batch.size > 0) yield batch;
    }
  }

  /**
   * `readEntries` without loading anything yet: the runs of time-overlapping blocks (and the head)
   * that hold the stream's entries in [start, end), in `direction` order, each with its time range
   * and a `load()` that decompresses, merges and clips it. A run of one stored block also offers
   * its compressed bytes (`stored`), for a worker to decode.
   */
  batchRefs(stream: MemStream, start: bigint, end: bigint, direction: Direction): BatchRef[] {
    const sources: BatchSource[] = this.chunks.blocksInRange(stream.id, start, end).map((ref) => this.storedSource(ref));
    for (const write of stream.pending) {
      if (write.kind !== 'block' || !overlaps(write.cut, start, end)) continue;
      const bytes = write.cut.bytes;
      const filter = write.compressed?.filter;
      sources.push(
        memorySource(write.cut.minTs, write.cut.maxTs, () => decodeBlock(bytes), write.cut.count, filter === undefined ? ALWAYS : (needle) => filterMayContain(filter, needle)),
      );
    }
    if (headOverlaps(stream, start, end)) {
      const snapshot = stream.head.snapshot();
      sources.push(memorySource(stream.head.minTs, stream.head.maxTs, () => snapshot, snapshot.count, ALWAYS));
    }
    const groups = groupOverlapping(sources);
    if (direction === 'backward') groups.reverse();
    return groups.map((group) => {
      const finish = (batches: EntryBatch[]): EntryBatch => {
        const batch = batches.length === 1 ? batches[0]! : mergeBatches(batches);
        batch.clip(start, end);
        return batch;
      };
      return {
        minTs: group.reduce((min, s) => (s.minTs < min ? s.minTs : min), group[0]!.minTs),
        maxTs: group.reduce((max, s) => (s.maxTs > max ? s.maxTs : max), group[0]!.maxTs),
        load: () => finish(group.map((s) => s.load())),
        mayContain: (needle: Uint8Array) => group.some((s) => s.mayContain(needle)),
        ...(group.length === 1 && group[0]!.stored !== undefined ? { stored: group[0]!.stored } : {}),
        // Merged runs may drop duplicates across their parts: only a lone source's count is exact.
        ...(group.length === 1 && group[0]!.entries !== undefined ? { entries: group[0]!.entries } : {}),
      };
    });
  }

  /** A block in the database as a batch source. */
  private storedSource(ref: BlockRef): BatchSource {
    return {
      minTs: ref.minTs,
      maxTs: ref.maxTs,
      entries: ref.entries,
      load: () => {
        this.observer.blockDecompressed(ref.rawBytes);
        return decodeBlock(this.chunks.readBlock(ref.id));
      },
      stored: () => {
        this.observer.blockDecompressed(ref.rawBytes);
        return this.chunks.readStored(ref.id);
      },
      mayContain: (needle: Uint8Array) => this.chunks.blockMayContain(ref.id, needle),
    };
  }
}

/** An in-memory batch source (a head snapshot or a block still being written). */
function memorySource(minTs: bigint, maxTs: bigint, load: () => EntryBatch, entries: number, mayContain: (needle: Uint8Array) => boolean): BatchSource {
  return { minTs, maxTs, load, mayContain, entries };
}

/** Splits sources into runs whose time ranges overlap; runs are disjoint and ascending. */
function groupOverlapping(sources: BatchSource[]): BatchSource[][] {
  sources.sort((a, b) => (a.minTs < b.minTs ? -1 : a.minTs > b.minTs ? 1 : 0));
  const groups: BatchSource[][] = [];
  let current: BatchSource[] = [];
  let currentMax = 0n;
  for (const source of sources) {
    if (current.length > 0 && source.minTs > currentMax) {
      groups.push(current);
      current = [];
    }
    if (current.length === 0 || source.maxTs > currentMax) currentMax = source.maxTs;
    current.push(source);
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** Whether entries spanning [minTs, maxTs] can fall in [start, end). */
function overlaps(range: { minTs: bigint; maxTs: bigint }, start: bigint, end: bigint): boolean {
  return range.maxTs >= start && range.minTs < end;
}

function headOverlaps(stream: MemStream, start: bigint, end: bigint): boolean {
  return !stream.head.empty && overlaps(stream.head, start, end);
}

function streamKey(tenant: string, labels: string): string {
  return `${tenant}\u0000${labels}`;
}
