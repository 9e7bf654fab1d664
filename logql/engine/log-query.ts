/**
 * Evaluates a log query (selector + pipeline) into Loki's `streams` result: the `limit` newest
 * (backward) or oldest (forward) entries over all matched streams with `start ≤ ts < end`, grouped
 * into output streams by their final labels.
 *
 * Streams are merged by the time ranges of their batches, and a batch is loaded only while it can
 * still hold one of the entries kept so far: a backward query with a small limit reads the newest
 * blocks of each stream and stops. A leading `|= "…"` skips the batches the source's index rules
 * out (`BatchRef.mayContain`) and runs as one buffer search per batch it does load.
 */
import type { LogSelectorExpr } from '../ast.js';
import { compilePipeline, type Pipeline } from '../pipeline/pipeline.js';
import { labelsKey, type Labels } from '../pipeline/labels.js';
import { CHECKPOINT_LINES, QueryError, countEntry, type QueryContext } from './context.js';
import { Heap } from './heap.js';
import type { LogEntry, LogStream, StreamsResult } from './result.js';
import type { BatchRef, Direction, EntryBatch, LogSource, SourceStream } from './source.js';
import { SubstringHits, countSearchedBatch } from './substring.js';

export interface LogQueryParams {
  /** Inclusive, nanoseconds. */
  readonly start: bigint;
  /** Exclusive, nanoseconds. */
  readonly end: bigint;
  /** Entries returned over all streams (> 0). */
  readonly limit: number;
  readonly direction: Direction;
  /**
   * Loki's `categorize-labels` encoding: output streams are keyed by their stream labels only, and
   * each entry keeps its structured metadata and parsed labels apart.
   */
  readonly categorizeLabels: boolean;
  /**
   * Loki's `interval`: going through all streams' entries in direction order, an entry is returned
   * only if it lies at least this far from the last one returned. 0 returns every entry.
   */
  readonly intervalNs: bigint;
}

/** An entry kept for the result, with the identity of the output stream it goes to. */
interface KeptEntry extends LogEntry {
  readonly key: string;
  readonly labels: Labels;
  readonly streamLabels: Labels;
  /** Arrival order, to keep equal timestamps in a stable order. */
  readonly seq: number;
}

/** One stream's batches, walked in the query direction. */
interface Cursor {
  readonly stream: SourceStream;
  readonly refs: Iterator<BatchRef>;
  next: BatchRef;
}

const utf8 = new TextDecoder();

export async function evaluateLogQuery(
  expr: LogSelectorExpr,
  source: LogSource,
  params: LogQueryParams,
  ctx: QueryContext,
): Promise<StreamsResult> {
  const pipeline = compileQueryPipeline(expr);
  const backward = params.direction === 'backward';
  // Thinning by interval must see every entry before the limit applies.
  const thinning = params.intervalNs > 0n;
  const kept = new KeptEntries(thinning ? Infinity : params.limit, backward);

  // Cursors ordered by the boundary of their next batch: newest maxTs first going backward, oldest
  // minTs first going forward.
  const cursors = new Heap<Cursor>(backward ? (a, b) => a.next.maxTs > b.next.maxTs : (a, b) => a.next.minTs < b.next.minTs);
  for (const stream of source.selectStreams(expr.matchers, params.start, params.end)) {
    const refs = batchRefs(source, stream, params)[Symbol.iterator]();
    const first = refs.next();
    if (!first.done) cursors.push({ stream, refs, next: first.value });
  }

  const scan = new BatchScanner(pipeline, kept, ctx, params.categorizeLabels);
  for (;;) {
    const cursor = cursors.peek();
    if (cursor === undefined) break;
    // Once `limit` entries are kept, a batch entirely older (newer, forward) than all of them cannot
    // contribute, and neither can any batch after it.
    if (kept.full && !kept.canImprove(backward ? cursor.next.maxTs : cursor.next.minTs)) break;
    const pending = ctx.checkpoint();
    if (pending) await pending;
    const ref = cursor.next;
    const needle = pipeline.requiredSubstring;
    if (needle === undefined || ref.mayContain === undefined || ref.mayContain(needle)) {
      await scan.run(cursor.stream.labels, await ref.load(), backward);
    }
    const following = cursor.refs.next();
    if (following.done) cursors.pop();
    else {
      cursor.next = following.value;
      cursors.replaceTop(cursor);
    }
  }
  let entries = kept.sorted();
  if (thinning) entries = thin(entries, params.intervalNs, backward).slice(0, params.limit);
  return { type: 'streams', streams: groupStreams(entries) };
}

/** Builds the pipeline; what it rejects (bad regex, ip pattern, template) is an error of the query. */
function compileQueryPipeline(expr: LogSelectorExpr): Pipeline {
  try {
    return compilePipeline(expr.stages);
  } catch (err) {
    throw new QueryError(err instanceof Error ? err.message : String(err));
  }
}

/** Loki's `interval`: keeps an entry when it is at least `interval` past the last kept one. */
function thin(entries: KeptEntry[], interval: bigint, backward: boolean): KeptEntry[] {
  const out: KeptEntry[] = [];
  let last: bigint | undefined;
  for (const e of entries) {
    if (last === undefined || (backward ? e.ts <= last - interval : e.ts >= last + interval)) {
      out.push(e);
      last = e.ts;
    }
  }
  return out;
}

/** Groups entries (already in direction order) into output streams sorted by label string. */
function groupStreams(entries: readonly KeptEntry[]): LogStream[] {
  const byKey = new Map<string, { labels: Labels; streamLabels: Labels; entries: LogEntry[] }>();
  for (const e of entries) {
    let stream = byKey.get(e.key);
    if (stream === undefined) {
      stream = { labels: e.labels, streamLabels: e.streamLabels, entries: [] };
      byKey.set(e.key, stream);
    }
    stream.entries.push({ ts: e.ts, line: e.line, structuredMetadata: e.structuredMetadata, parsed: e.parsed });
  }
  return [...byKey.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, s]) => s);
}

/** The stream's batches as refs; sources without `batches()` are loaded one batch ahead. */
function batchRefs(source: LogSource, stream: SourceStream, params: LogQueryParams): Iterable<BatchRef> {
  if (source.batches) return source.batches(stream, params.start, params.end, params.direction);
  return loadedRefs(source.entries(stream, params.start, params.end, params.direction));
}

function* loadedRefs(batches: Iterable<EntryBatch>): Generator<BatchRef> {
  for (const batch of batches) {
    if (batch.to <= batch.from) continue;
    yield {
      minTs: batch.base + BigInt(batch.offsets[batch.from]!),
      maxTs: batch.base + BigInt(batch.offsets[batch.to - 1]!),
      load: () => batch,
    };
  }
}

/** Runs batches through the pipeline and hands the surviving entries to `KeptEntries`. */
class BatchScanner {
  private readonly needle: Uint8Array | undefined;
  /** The entries of the current batch that contain the needle. */
  private readonly substring = new SubstringHits();
  private sinceCheckpoint = 0;

  constructor(
    private readonly pipeline: Pipeline,
    private readonly kept: KeptEntries,
    private readonly ctx: QueryContext,
    private readonly categorize: boolean,
  ) {
    this.needle = pipeline.requiredSubstring;
  }

  async run(streamLabels: Labels, batch: EntryBatch, backward: boolean): Promise<void> {
    // Entries are visited newest-first going backward (oldest-first forward): once one cannot be
    // kept, none of the rest of the batch can either.
    if (this.needle !== undefined && batch.lineBounds !== undefined) {
      countSearchedBatch(this.ctx.stats, batch);
      const count = this.substring.find(batch, this.needle);
      const hits = this.substring.hits;
      for (let k = 0; k < count; k++) {
        const i = hits[backward ? count - 1 - k : k]!;
        if (!this.kept.wouldKeepOffset(batch, i)) break;
        this.processEntry(streamLabels, batch, i, batch.line(i), batch.metadata(i));
      }
      return;
    }
    const stats = this.ctx.stats;
    const n = batch.to - batch.from;
    for (let k = 0; k < n; k++) {
      const i = backward ? batch.to - 1 - k : batch.from + k;
      if (!this.kept.wouldKeepOffset(batch, i)) break;
      const line = batch.line(i);
      const metadata = batch.metadata(i);
      countEntry(stats, line.length, metadata);
      this.processEntry(streamLabels, batch, i, line, metadata);
      if (++this.sinceCheckpoint >= CHECKPOINT_LINES) {
        this.sinceCheckpoint = 0;
        const pending = this.ctx.checkpoint();
        if (pending) await pending;
      }
    }
  }

  private processEntry(streamLabels: Labels, batch: EntryBatch, i: number, lineBytes: Uint8Array, metadata: Labels): void {
    const ts = batch.base + BigInt(batch.offsets[i]!);
    const out = this.pipeline.process(ts, lineBytes, streamLabels, metadata);
    if (out === null) return;
    this.ctx.stats.postFilterLines++;
    const line = utf8.decode(out.line);
    if (this.categorize) {
      const c = this.pipeline.categories();
      this.kept.add(ts, line, labelsKey(c.stream), out.labels, c.stream, c.structuredMetadata, c.parsed);
    } else {
      this.kept.add(ts, line, out.key, out.labels, out.labels, EMPTY, EMPTY);
    }
  }


}

const EMPTY: Labels = [];

/** The best `limit` entries so far: a heap whose top is the entry that would be evicted next. */
class KeptEntries {
  private readonly heap: Heap<KeptEntry>;
  private seq = 0;

  constructor(private readonly limit: number, private readonly backward: boolean) {
    // Top = worst entry: the oldest going backward, the newest going forward; ties: the later arrival.
    this.heap = new Heap<KeptEntry>(
      backward
        ? (a, b) => a.ts < b.ts || (a.ts === b.ts && a.seq > b.seq)
        : (a, b) => a.ts > b.ts || (a.ts === b.ts && a.seq > b.seq),
    );
  }

  get full(): boolean {
    return this.heap.size >= this.limit;
  }

  /** Whether an entry at `ts` could still displace a kept one. */
  canImprove(ts: bigint): boolean {
    const worst = this.heap.peek();
    if (worst === undefined || this.heap.size < this.limit) return true;
    return this.backward ? ts > worst.ts : ts < worst.ts;
  }

  /** `canImprove` for entry `i` of a batch, comparing offsets as numbers to avoid a BigInt. */
  wouldKeepOffset(batch: EntryBatch, i: number): boolean {
    const worst = this.heap.peek();
    if (worst === undefined || this.heap.size < this.limit) return true;
    const rel = Number(worst.ts - batch.base);
    const offset = batch.offsets[i]!;
    return this.backward ? offset > rel : offset < rel;
  }

  add(
    ts: bigint,
    line: string,
    key: string,
    labels: Labels,
    streamLabels: Labels,
    structuredMetadata: Labels,
    parsed: Labels,
  ): void {
    if (!this.canImprove(ts)) return;
    const entry: KeptEntry = {
      ts,
      line,
      key,
      labels,
      streamLabels,
      structuredMetadata,
      parsed,
      seq: this.seq++,
    };
    if (this.heap.size < this.limit) this.heap.push(entry);
    else this.heap.replaceTop(entry);
  }

  /** The kept entries in direction order. */
  sorted(): KeptEntry[] {
    return this.heap.toArray().sort(this.backward ? compareDesc : compareAsc);
  }
}

function compareAsc(a: KeptEntry, b: KeptEntry): number {
  return a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.seq - b.seq;
}

function compareDesc(a: KeptEntry, b: KeptEntry): number {
  return a.ts > b.ts ? -1 : a.ts < b.ts ? 1 : a.seq - b.seq;
}
