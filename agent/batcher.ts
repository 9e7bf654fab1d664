/**
 * Groups entries into push batches the way Promtail's client does (L
 * `clients/pkg/promtail/client/client.go`, `batch.go`):
 * - a batch's size is the bytes of its lines plus structured metadata (names and values);
 * - when the next entry would take the open batch over `batchSize`, the open batch is cut and
 *   the entry starts a new one (an entry bigger than `batchSize` is a batch on its own);
 * - a batch is cut once `batchWait` has passed since it was created (its first entry), checked
 *   every batchWait/10 (at least every 10 ms).
 *
 * Unlike Promtail, each batch also carries, per tailed file, the end offset of the lines it
 * holds, so the sender can commit those positions once the server acknowledged the batch. And
 * memory is bounded explicitly: `pendingBytes` counts the open batch, cut batches waiting to
 * be sent and batches in flight (until `release`); above `maxPendingBytes` the batcher is
 * `full` and readers wait in `waitForRoom()`, leaving unread data on disk.
 */
import { PushRequestWriter, type MetadataPairs } from '../proto/index.js';

export interface AgentEntry {
  /** Nanoseconds since the epoch. */
  ts: bigint;
  line: string;
  metadata?: MetadataPairs;
}

export interface BatcherOptions {
  /** Promtail `batchsize`, bytes (default 1 MiB). */
  batchSize?: number;
  /** Promtail `batchwait`, milliseconds (default 1000). */
  batchWaitMs?: number;
  /** Bound on pending bytes (open + queued + in flight); default 4 × batchSize. */
  maxPendingBytes?: number;
}

/** Bytes an entry counts for: line plus structured metadata names and values (as Promtail). */
export function entrySizeBytes(entry: AgentEntry, lineBytes = Buffer.byteLength(entry.line, 'utf8')): number {
  let size = lineBytes;
  if (entry.metadata !== undefined) {
    for (const [name, value] of entry.metadata) size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8');
  }
  return size;
}

const NS_PER_SECOND = 1_000_000_000n;
/**
 * Writers kept for reuse. Batches alive at once are bounded by `maxPendingBytes` (the open one,
 * those queued, the one in flight: about six with the defaults), and released ones come back.
 */
const MAX_SPARE_WRITERS = 8;

/**
 * One batch: its entries already encoded as push request bytes per stream (PushRequestWriter),
 * and the file offsets it covers.
 */
export class Batch<K = string> {
  /** For each position key (a tailed file), the offset just past the last line in this batch. */
  readonly positions = new Map<K, number>();
  bytes = 0;
  private entries = 0;
  /** performance.now() when the batch was created. */
  readonly createdAt: number;
  /** Taken with the first entry (a batch that only carries positions needs none), from `spare` when it has one. */
  private writer: PushRequestWriter | undefined;
  private readonly spare: PushRequestWriter[] | undefined;

  /** `spare`: writers of released batches, reused (see `Batcher.release`). */
  constructor(now: number, spare?: PushRequestWriter[]) {
    this.createdAt = now;
    this.spare = spare;
  }

  /** Entries added (still known once the writer was recycled). */
  get entryCount(): number {
    return this.entries;
  }

  /** `size`: the entry's bytes as batchsize counts them; `lineBytes`: its line's UTF-8 length. */
  add(labels: string, entry: AgentEntry, size: number, lineBytes: number): void {
    let seconds = entry.ts / NS_PER_SECOND;
    let nanos = entry.ts - seconds * NS_PER_SECOND;
    if (nanos < 0n) {
      nanos += NS_PER_SECOND;
      seconds -= 1n;
    }
    this.takeWriter().add(labels, Number(seconds), Number(nanos), entry.line, lineBytes, entry.metadata);
    this.entries++;
    this.bytes += size;
  }

  /** An entry whose line is the UTF-8 bytes `source[start, end)`, at `seconds` + `nanos` (0 ≤ nanos < 10^9) since the epoch. */
  addBytes(labels: string, seconds: number, nanos: number, source: Buffer, start: number, end: number): void {
    this.takeWriter().addBytes(labels, seconds, nanos, source, start, end);
    this.entries++;
    this.bytes += end - start;
  }

  advance(key: K, offset: number): void {
    const previous = this.positions.get(key);
    if (previous === undefined || offset > previous) this.positions.set(key, offset);
  }

  /**
   * The push request (protobuf, uncompressed); `mapLabels` can rewrite each stream's label
   * string (external labels). Empty once the writer was recycled.
   */
  encode(mapLabels?: (labels: string) => string): Buffer {
    return (this.writer ?? new PushRequestWriter(0)).finish(mapLabels);
  }

  /** Bytes of the request `encode` returns. */
  requestLength(mapLabels?: (labels: string) => string): number {
    return (this.writer ?? new PushRequestWriter(0)).requestLength(mapLabels);
  }

  /** `snappyCompress(encode(mapLabels))`, made without the uncompressed request; into `into` when it has room (`PushRequestWriter.finishSnappy`). */
  encodeSnappy(mapLabels?: (labels: string) => string, into?: Buffer): Buffer {
    return (this.writer ?? new PushRequestWriter(0)).finishSnappy(mapLabels, into);
  }

  /**
   * Hands the writer to `spare` for the next batch; nothing can be encoded from this batch
   * afterwards. The sender calls it once it has the request; `Batcher.release` does too.
   */
  recycle(): void {
    const writer = this.writer;
    if (writer === undefined || this.spare === undefined) return;
    this.writer = undefined;
    writer.reset();
    if (this.spare.length < MAX_SPARE_WRITERS) this.spare.push(writer);
  }

  private takeWriter(): PushRequestWriter {
    return (this.writer ??= this.spare?.pop() ?? new PushRequestWriter(16 * 1024));
  }
}

export class Batcher<K = string> {
  readonly batchSize: number;
  readonly batchWaitMs: number;
  readonly maxPendingBytes: number;
  private open: Batch<K> | undefined;
  private readonly ready: Batch<K>[] = [];
  private pending = 0;
  private closed = false;
  private readonly timer: NodeJS.Timeout;
  private readonly batchWaiters: Array<(batch: Batch<K> | undefined) => void> = [];
  private roomWaiters: Array<() => void> = [];
  private readonly spareWriters: PushRequestWriter[] = [];

  constructor(options: BatcherOptions = {}) {
    this.batchSize = options.batchSize ?? 1024 * 1024;
    this.batchWaitMs = options.batchWaitMs ?? 1000;
    this.maxPendingBytes = options.maxPendingBytes ?? 4 * this.batchSize;
    if (!(this.batchSize > 0) || !(this.batchWaitMs > 0) || !(this.maxPendingBytes > 0)) {
      throw new RangeError('batchSize, batchWaitMs and maxPendingBytes must be positive');
    }
    const checkEvery = Math.max(10, this.batchWaitMs / 10);
    this.timer = setInterval(() => this.checkAge(), checkEvery);
    this.timer.unref();
  }

  /** Bytes not yet released: open batch, queued batches and batches being sent. */
  get pendingBytes(): number {
    return this.pending;
  }

  /** Readers should stop reading (and `await waitForRoom()`) while this is true. */
  get full(): boolean {
    return this.pending >= this.maxPendingBytes;
  }

  /** Resolves once pending bytes are below the bound (immediately if they are). */
  waitForRoom(): Promise<void> {
    if (!this.full || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /**
   * Adds an entry; `position` records that the entry's file has been consumed up to `offset`
   * (the end of this line). Never blocks: callers check `full`.
   */
  add(labels: string, entry: AgentEntry, position?: { key: K; offset: number }): void {
    const lineBytes = Buffer.byteLength(entry.line, 'utf8');
    const size = entrySizeBytes(entry, lineBytes);
    const batch = this.batchFor(size);
    batch.add(labels, entry, size, lineBytes);
    this.pending += size;
    if (position !== undefined) batch.advance(position.key, position.offset);
  }

  /**
   * As `add`, for an entry without metadata whose line is the UTF-8 bytes `source[start, end)`
   * (copied), at `seconds` + `nanos` since the epoch (0 ≤ nanos < 10^9).
   */
  addBytes(labels: string, seconds: number, nanos: number, source: Buffer, start: number, end: number): void {
    this.batchFor(end - start).addBytes(labels, seconds, nanos, source, start, end);
    this.pending += end - start;
  }

  /** The batch an entry of `size` bytes goes to: the open one, unless it would take it over batchSize. */
  private batchFor(size: number): Batch<K> {
    if (this.closed) throw new Error('Batcher is closed');
    let batch = this.open;
    if (batch !== undefined && batch.entryCount > 0 && batch.bytes + size > this.batchSize) {
      this.cut();
      batch = undefined;
    }
    return batch ?? (this.open = new Batch<K>(performance.now(), this.spareWriters));
  }

  /**
   * Records that a file was consumed up to `offset` without an entry (a line dropped by the
   * pipeline, a partial line buffered elsewhere is not such a case). The position is committed
   * with the batch it joins, so it is not acknowledged before earlier lines are.
   */
  advance(key: K, offset: number): void {
    if (this.closed) throw new Error('Batcher is closed');
    if (this.open === undefined) this.open = new Batch<K>(performance.now(), this.spareWriters);
    this.open.advance(key, offset);
  }

  /** Cuts the open batch now (shutdown, tests). */
  flush(): void {
    this.cut();
  }

  /** Next batch to send, oldest first; waits for one. Resolves undefined once closed and drained. */
  next(): Promise<Batch<K> | undefined> {
    const batch = this.ready.shift();
    if (batch !== undefined) return Promise.resolve(batch);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.batchWaiters.push(resolve));
  }

  /** Batches cut and not yet taken by `next()`. */
  get queued(): number {
    return this.ready.length;
  }

  /** The sender is done with a batch (acknowledged or dropped): its bytes no longer count, and its writer serves a later batch. */
  release(batch: Batch<K>): void {
    batch.recycle();
    this.pending -= batch.bytes;
    if (this.pending < 0) this.pending = 0;
    if (!this.full && this.roomWaiters.length > 0) {
      const waiters = this.roomWaiters;
      this.roomWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Cuts the open batch, stops the timer; `next()` drains the queue then yields undefined. */
  close(): void {
    if (this.closed) return;
    this.cut();
    this.closed = true;
    clearInterval(this.timer);
    for (const wake of this.batchWaiters.splice(0)) wake(undefined);
    for (const wake of this.roomWaiters.splice(0)) wake();
  }

  private checkAge(): void {
    const batch = this.open;
    if (batch !== undefined && performance.now() - batch.createdAt >= this.batchWaitMs) this.cut();
  }

  private cut(): void {
    const batch = this.open;
    if (batch === undefined) return;
    this.open = undefined;
    if (batch.entryCount === 0 && batch.positions.size === 0) return;
    const waiter = this.batchWaiters.shift();
    if (waiter !== undefined) waiter(batch);
    else this.ready.push(batch);
  }
}
