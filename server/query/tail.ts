/**
 * Live tailing (`/loki/api/v1/tail`): an in-memory fan-out of accepted entries to subscribers.
 *
 * The distributor hands every entry it appends to `TailHub.offer` (a no-op while nobody tails the
 * tenant). Each subscription matches the entry's stream against its selector (once per stream),
 * runs the query's pipeline on the line, and queues the result. Queued entries are written to the
 * subscriber as frames of at most `limit` entries (Loki's TailResponse) as soon as the connection
 * can take them, `delay_for` seconds after their timestamp when a delay was asked for.
 *
 * Memory stays bounded per subscriber, like Loki's tailer (`maxBufferedTailResponses`,
 * `maxDroppedEntriesPerTailResponse`): while the connection is backed up (its unsent bytes above
 * a high-water mark) entries wait in a queue of at most `limit × 10` entries and 8 MiB; past that
 * they are dropped, and the next frame lists them (up to 1000) in `dropped_entries`.
 */
import type { LogSelectorExpr } from '../../logql/ast.js';
import { compileMatcher } from '../../logql/matcher.js';
import { compilePipeline, type Pipeline } from '../../logql/pipeline/pipeline.js';
import type { Label, Labels } from '../../logql/pipeline/labels.js';
import type { PushBatch } from '../../proto/index.js';
import type { MemStream } from '../store/stream.js';

/** Frames a subscriber may have queued, in entries: `limit` × this (Loki keeps 10 responses). */
export const MAX_BUFFERED_FRAMES = 10;
/** Bytes of lines a subscriber may have queued. */
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Dropped entries listed in one frame at most (Loki's maxDroppedEntriesPerTailResponse). */
export const MAX_DROPPED_LISTED = 1000;
/** Above this many unsent bytes on its connection a subscriber counts as blocked. */
export const SOCKET_HIGH_WATER_BYTES = 1024 * 1024;
/** While blocked, how often the connection is looked at again (besides write completions). */
const BLOCKED_RETRY_MS = 50;

export interface TailedEntry {
  readonly ts: bigint;
  readonly line: string;
  /** The entry's labels after the pipeline, sorted by name. */
  readonly labels: Labels;
  /** `{a="b", …}` of `labels`: which output stream it belongs to. */
  readonly key: string;
}

export interface DroppedEntry {
  readonly ts: bigint;
  readonly labels: Labels;
}

/** One frame: entries oldest first, plus the entries dropped since the previous frame. */
export interface TailFrame {
  readonly entries: readonly TailedEntry[];
  readonly dropped: readonly DroppedEntry[];
}

/** Where a subscription writes its frames (a WebSocket in the server). */
export interface TailSink {
  /** Bytes handed to the connection that are not written out yet. */
  readonly bufferedAmount: number;
  /** Writes a frame; `written` runs once it has left the process (or failed). */
  send(frame: TailFrame, written: () => void): void;
}

export interface TailOptions {
  /** Entries per frame at most; the queue holds `limit × MAX_BUFFERED_FRAMES`. */
  limit: number;
  /** `delay_for`: an entry is sent no earlier than its timestamp plus this. */
  delayMs: number;
  /** Overrides for tests. */
  maxBufferedEntries?: number;
  maxBufferedBytes?: number;
  highWaterBytes?: number;
}

const utf8 = new TextDecoder();
const NO_LABELS: Labels = [];

/** Sorted engine labels per stream, made once: pipelines cache per-stream work by array identity. */
const labelsOf = new WeakMap<MemStream, Labels>();

function streamLabels(stream: MemStream): Labels {
  let labels = labelsOf.get(stream);
  if (labels === undefined) {
    labels = stream.pairs
      .map(([name, value]): Label => ({ name, value }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    labelsOf.set(stream, labels);
  }
  return labels;
}

function entryKey(ts: bigint, key: string, line: string): string {
  return `${ts}\u0000${key}\u0000${line}`;
}

export class TailSubscription {
  private readonly matchers: Array<{ name: string; test: (value: string) => boolean }>;
  private readonly pipeline: Pipeline;
  private readonly matches = new WeakMap<MemStream, boolean>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly highWater: number;

  /** Entries waiting to be sent, oldest first (ordered by timestamp when delay_for > 0). */
  private pending: TailedEntry[] = [];
  private pendingBytes = 0;
  private dropped: DroppedEntry[] = [];
  /** Until the backfill is in, live entries queue up but nothing is sent. */
  private started = false;
  private closed = false;
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;

  /** Counters, for metrics and tests. */
  sentEntries = 0;
  droppedEntries = 0;
  sentFrames = 0;
  /** The most entries ever queued at once. */
  peakBufferedEntries = 0;

  constructor(
    private readonly hub: TailHub,
    readonly tenant: string,
    expr: LogSelectorExpr,
    private readonly options: TailOptions,
    private readonly sink: TailSink,
  ) {
    this.matchers = expr.matchers.map((m) => ({ name: m.name, test: compileMatcher(m) }));
    this.pipeline = compilePipeline(expr.stages);
    this.maxEntries = options.maxBufferedEntries ?? options.limit * MAX_BUFFERED_FRAMES;
    this.maxBytes = options.maxBufferedBytes ?? MAX_BUFFERED_BYTES;
    this.highWater = options.highWaterBytes ?? SOCKET_HIGH_WATER_BYTES;
  }

  get bufferedEntries(): number {
    return this.pending.length;
  }

  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Unsent bytes on the subscriber's connection. */
  get connectionBufferedBytes(): number {
    return this.sink.bufferedAmount;
  }

  get maxBufferedEntries(): number {
    return this.maxEntries;
  }

  /** Whether the stream's labels satisfy the selector (cached per stream). */
  matchesStream(stream: MemStream): boolean {
    let matched = this.matches.get(stream);
    if (matched === undefined) {
      matched = this.matchers.every((m) => m.test(stream.labelMap.get(m.name) ?? ''));
      this.matches.set(stream, matched);
    }
    return matched;
  }

  /** A live entry of a matching stream: runs the pipeline and queues what survives. */
  offer(stream: MemStream, ts: bigint, line: Uint8Array, metadata: Labels): void {
    if (this.closed) return;
    const out = this.pipeline.process(ts, line, streamLabels(stream), metadata);
    if (out === null) return;
    this.enqueue({ ts, line: utf8.decode(out.line), labels: out.labels, key: out.key });
  }

  /**
   * The backfill is in (oldest first): it goes ahead of the live entries that arrived meanwhile,
   * minus those the history already holds, and sending starts.
   */
  start(history: readonly TailedEntry[]): void {
    if (this.closed || this.started) return;
    this.started = true;
    if (history.length > 0) {
      const live = this.pending;
      const seen = new Set(live.map((e) => entryKey(e.ts, e.key, e.line)));
      const merged = history.filter((e) => !seen.has(entryKey(e.ts, e.key, e.line)));
      this.pendingBytes += merged.reduce((sum, e) => sum + e.line.length, 0);
      this.pending = merged.concat(live);
      if (this.options.delayMs > 0) this.pending.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
      this.peakBufferedEntries = Math.max(this.peakBufferedEntries, this.pending.length);
    }
    this.flush();
  }

  /** Stops everything and leaves the hub; safe to call more than once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
    this.pendingBytes = 0;
    this.dropped = [];
    this.hub.remove(this);
  }

  private enqueue(entry: TailedEntry): void {
    const bytes = entry.line.length;
    if ((this.pending.length >= this.maxEntries || this.pendingBytes + bytes > this.maxBytes)) {
      this.drop(entry);
      return;
    }
    const pending = this.pending;
    if (this.options.delayMs > 0) {
      // Sent in timestamp order once due, like Loki's merge of its ingesters' streams.
      let i = pending.length;
      while (i > 0 && pending[i - 1]!.ts > entry.ts) i--;
      pending.splice(i, 0, entry);
    } else {
      pending.push(entry);
    }
    this.pendingBytes += bytes;
    if (pending.length > this.peakBufferedEntries) this.peakBufferedEntries = pending.length;
    this.scheduleFlush();
  }

  private drop(entry: TailedEntry): void {
    this.droppedEntries++;
    if (this.dropped.length < MAX_DROPPED_LISTED) this.dropped.push({ ts: entry.ts, labels: entry.labels });
  }

  /** Coalesces the entries of one push (and of pushes in the same turn) into one frame. */
  private scheduleFlush(): void {
    if (this.flushScheduled || !this.started || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private retryAt(atMs: number): void {
    if (this.closed || atMs >= this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = atMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.flush();
    }, Math.max(0, atMs - Date.now()));
  }

  /** Sends frames while entries are due and the connection keeps up. */
  private flush(): void {
    if (this.closed || !this.started) return;
    const delayNs = BigInt(this.options.delayMs) * 1_000_000n;
    for (;;) {
      if (this.sink.bufferedAmount > this.highWater) {
        // Backed up: entries wait (and past the queue's bounds are dropped) until writes complete.
        this.retryAt(Date.now() + BLOCKED_RETRY_MS);
        return;
      }
      let count = 0;
      if (delayNs > 0n) {
        const nowNs = BigInt(Date.now()) * 1_000_000n;
        while (count < this.pending.length && count < this.options.limit && this.pending[count]!.ts + delayNs <= nowNs) count++;
        if (count === 0 && this.pending.length > 0) {
          const dueMs = Number((this.pending[0]!.ts + delayNs) / 1_000_000n) + 1;
          this.retryAt(dueMs);
        }
      } else {
        count = Math.min(this.pending.length, this.options.limit);
      }
      // Like Loki, drops are reported along with the next entries that do go out.
      if (count === 0) return;
      const entries = this.pending.splice(0, count);
      for (const e of entries) this.pendingBytes -= e.line.length;
      const dropped = this.dropped;
      this.dropped = [];
      this.sentEntries += entries.length;
      this.sentFrames++;
      this.sink.send({ entries, dropped }, () => this.scheduleFlush());
    }
  }
}

/** All live subscriptions, by tenant. */
export class TailHub {
  private readonly byTenant = new Map<string, Set<TailSubscription>>();

  /** Registers a subscriber; it queues live entries at once and sends after `start()`. */
  subscribe(tenant: string, expr: LogSelectorExpr, options: TailOptions, sink: TailSink): TailSubscription {
    const sub = new TailSubscription(this, tenant, expr, options, sink);
    let subs = this.byTenant.get(tenant);
    if (subs === undefined) {
      subs = new Set();
      this.byTenant.set(tenant, subs);
    }
    subs.add(sub);
    return sub;
  }

  remove(sub: TailSubscription): void {
    const subs = this.byTenant.get(sub.tenant);
    if (subs === undefined) return;
    subs.delete(sub);
    if (subs.size === 0) this.byTenant.delete(sub.tenant);
  }

  /** Live subscriptions, of one tenant or of all. */
  subscriberCount(tenant?: string): number {
    if (tenant !== undefined) return this.byTenant.get(tenant)?.size ?? 0;
    let n = 0;
    for (const subs of this.byTenant.values()) n += subs.size;
    return n;
  }

  subscriptions(): TailSubscription[] {
    return [...this.byTenant.values()].flatMap((subs) => [...subs]);
  }

  /**
   * Entry `i` of a push batch was appended to `stream` (called by the distributor). `bytes` is the
   * batch's data. Costs one map lookup when nobody tails the tenant.
   */
  offer(tenant: string, stream: MemStream, batch: PushBatch, bytes: Uint8Array, i: number): void {
    if (this.byTenant.size === 0) return;
    const subs = this.byTenant.get(tenant);
    if (subs === undefined) return;
    let ts: bigint | undefined;
    let line: Uint8Array | undefined;
    let metadata: Labels | undefined;
    for (const sub of subs) {
      if (!sub.matchesStream(stream)) continue;
      ts ??= BigInt(batch.seconds[i]!) * 1_000_000_000n + BigInt(batch.nanos[i]!);
      line ??= bytes.subarray(batch.lineStart[i]!, batch.lineEnd[i]!);
      metadata ??= entryMetadata(batch, bytes, i);
      sub.offer(stream, ts, line, metadata);
    }
  }
}

function entryMetadata(batch: PushBatch, bytes: Uint8Array, i: number): Labels {
  const count = batch.metadataCount[i]!;
  if (count === 0) return NO_LABELS;
  const out: Label[] = [];
  const offsets = batch.metadataOffsets;
  for (let p = batch.metadataFirst[i]! * 4, end = p + count * 4; p < end; p += 4) {
    out.push({
      name: utf8.decode(bytes.subarray(offsets[p]!, offsets[p + 1]!)),
      value: utf8.decode(bytes.subarray(offsets[p + 2]!, offsets[p + 3]!)),
    });
  }
  return out;
}
