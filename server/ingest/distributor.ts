/**
 * The write path after HTTP: rate limits, validation, appending to stream heads, the WAL
 * record, and Loki's answer. Everything from the first check to the WAL write runs
 * synchronously, so no other push interleaves and the WAL order is the append order.
 */
import type { PushBatch } from '../../proto/index.js';
import type { LimitsConfig } from '../config.js';
import { formatByteSize } from '../units.js';
import type { ServerMetrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import type { MemStream } from '../store/stream.js';
import { TailHub } from '../query/tail.js';
import { TokenBucket, takeFromState } from './ratelimit.js';
import { IngestDetector } from './detect.js';
import { decodePushBody, decodePushRecord, encodePushRecordHeader, type PushFormat } from './record.js';
import { ValidationError, formatMs, formatTimestamp, validateStreamLabels, type DiscardReason } from './validate.js';

const MB = 1024 * 1024;
/** Loki lists at most this many entry errors in one response. */
const MAX_LISTED_ERRORS = 10;

export interface PushOutcome {
  status: 204 | 400 | 429;
  body: string;
  accepted: number;
}

interface PushContext {
  tenant: string;
  nowMs: number;
  rejected: number[];
  errors: string[];
  errorCount: number;
  rateLimited: boolean;
}

export class Distributor {
  private readonly tenantBuckets = new Map<string, TokenBucket>();
  /** Raw label strings as clients send them → stream, so the hot path parses labels once. */
  private readonly streamCache = new Map<string, MemStream>();
  /** Live tail subscribers (`/loki/api/v1/tail`); fed every entry a push appends. */
  readonly tail = new TailHub();
  /** Loki's service_name and detected_level discovery (limits discover_service_name, discover_log_levels). */
  private readonly detector: IngestDetector;

  constructor(
    private readonly store: Store,
    private readonly limits: LimitsConfig,
    private readonly maxBodyBytes: number,
    private readonly metrics: ServerMetrics,
  ) {
    this.detector = new IngestDetector(limits);
  }

  /** Validates and stores a decoded push; `body` is what goes to the WAL. */
  push(tenant: string, format: PushFormat, body: Buffer, batch: PushBatch, nowMs: number): PushOutcome {
    if (batch.streams.length === 0 || batch.entryCount === 0) {
      // Loki answers an empty push with 204 as well; only a body without streams is 422 (see http/push.ts).
      return { status: 204, body: '', accepted: 0 };
    }
    const limits = this.limits;
    const ctx: PushContext = { tenant, nowMs, rejected: [], errors: [], errorCount: 0, rateLimited: false };

    // Each stream's bytes, counted once for the tenant limit, the stream limit and discards.
    const streamBytes = batch.streams.map((s) => rangeBytes(batch, s.firstEntry, s.firstEntry + s.entryCount));
    const totalBytes = streamBytes.reduce((sum, b) => sum + b, 0);
    this.metrics.linesReceived.inc({ tenant }, batch.entryCount);
    this.metrics.bytesReceived.inc({ tenant }, totalBytes);

    if (!this.tenantBucket(tenant).take(totalBytes, nowMs)) {
      this.discard('rate_limited', tenant, batch.entryCount, totalBytes);
      const limit = Math.round(limits.ingestion_rate_mb * MB);
      return {
        status: 429,
        body:
          `Ingestion rate limit exceeded for user ${tenant} (limit: ${limit} bytes/sec) while attempting to ingest ` +
          `'${batch.entryCount}' lines totaling '${totalBytes}' bytes, reduce log volume or contact your Loki administrator ` +
          `to see if the limit can be increased`,
        accepted: 0,
      };
    }

    const seq = this.store.nextWalSeq;
    const bytes = plainBytes(batch.data);
    const touched: MemStream[] = [];
    let accepted = 0;
    for (let s = 0; s < batch.streams.length; s++) {
      const pushStream = batch.streams[s]!;
      const first = pushStream.firstEntry;
      const last = first + pushStream.entryCount;
      const stream = this.resolveStream(ctx, pushStream.labels, first, last, streamBytes[s]!);
      if (stream === undefined) continue;
      if (!this.streamRateOk(ctx, stream, first, last, streamBytes[s]!)) continue;
      const src = this.detector.annotate(batch, bytes, stream.labelMap, first, last);
      accepted += this.appendEntries(ctx, stream, batch, src, first, last);
      touched.push(stream);
    }

    // A push that added nothing (all rejected, or a retry of entries already here) needs no WAL record.
    if (accepted > 0) {
      const header = encodePushRecordHeader(tenant, format, ctx.rejected);
      const written = this.store.appendWal([header, body]);
      if (written !== seq) throw new Error(`WAL sequence moved during a push (${seq} → ${written})`);
      this.store.commit(seq, touched, nowMs);
    }

    if (ctx.errorCount === 0) return { status: 204, body: '', accepted };
    const lines = ctx.errors.slice();
    if (ctx.errorCount > lines.length) lines.push(`(and ${ctx.errorCount - lines.length} more errors)`);
    lines.push(`user '${tenant}', total ignored: ${ctx.rejected.length} out of ${batch.entryCount}`);
    return { status: ctx.rateLimited ? 429 : 400, body: lines.join('\n'), accepted };
  }

  /**
   * Re-applies a WAL record at start: the same entries minus the rejected ones, without
   * the time-dependent checks (they were made when the push was acknowledged) and
   * skipping streams whose blocks already hold this record.
   */
  replay(seq: number, payload: Buffer, nowMs: number): void {
    const record = decodePushRecord(payload);
    const batch = decodePushBody(record.format, record.body, this.maxBodyBytes);
    const rejected = new Set(record.rejected);
    const bytes = plainBytes(batch.data);
    const touched: MemStream[] = [];
    for (const pushStream of batch.streams) {
      let stream: MemStream;
      try {
        stream = this.streamFor(record.tenant, pushStream.labels);
      } catch {
        continue;
      }
      if (seq <= stream.flushedWalSeq) continue;
      const src = this.detector.annotate(batch, bytes, stream.labelMap, pushStream.firstEntry, pushStream.firstEntry + pushStream.entryCount);
      for (let i = pushStream.firstEntry, end = i + pushStream.entryCount; i < end; i++) {
        if (rejected.has(i)) continue;
        this.appendOne(stream, batch, src, i);
      }
      touched.push(stream);
    }
    this.store.commit(seq, touched, nowMs);
  }

  private tenantBucket(tenant: string): TokenBucket {
    let bucket = this.tenantBuckets.get(tenant);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.limits.ingestion_rate_mb * MB, this.limits.ingestion_burst_size_mb * MB);
      this.tenantBuckets.set(tenant, bucket);
    }
    return bucket;
  }

  private streamFor(tenant: string, rawLabels: string): MemStream {
    const key = `${tenant}\u0000${rawLabels}`;
    const cached = this.streamCache.get(key);
    // Retention may have deleted the stream since it was cached; appending to it would lose the entries.
    if (cached !== undefined && this.store.holds(cached)) return cached;
    const valid = validateStreamLabels(rawLabels, this.limits);
    // Loki adds service_name before the stream is identified, not counted against max_label_names_per_series.
    const { labels, pairs } = this.detector.withServiceName(valid.pairs) ?? valid;
    let stream = this.store.stream(tenant, labels);
    if (stream === undefined) {
      const limit = this.limits.max_global_streams_per_user;
      if (limit > 0 && this.store.activeStreamCount(tenant) >= limit) {
        throw new ValidationError(
          'stream_limit',
          `Maximum active stream limit exceeded, reduce the number of active streams (reduce labels or reduce label values), ` +
            `or contact your Loki administrator to see if the limit can be increased, user: '${tenant}'`,
        );
      }
      stream = this.store.createStream(tenant, labels, pairs);
      this.metrics.streamsCreated.inc({ tenant });
    }
    this.streamCache.set(key, stream);
    return stream;
  }

  private resolveStream(ctx: PushContext, rawLabels: string, first: number, last: number, bytes: number): MemStream | undefined {
    try {
      return this.streamFor(ctx.tenant, rawLabels);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      for (let i = first; i < last; i++) ctx.rejected.push(i);
      this.discard(err.reason, ctx.tenant, last - first, bytes);
      if (err.reason === 'stream_limit') ctx.rateLimited = true;
      this.addError(ctx, err.message, last - first);
      return undefined;
    }
  }

  private streamRateOk(ctx: PushContext, stream: MemStream, first: number, last: number, bytes: number): boolean {
    const limits = this.limits;
    if (takeFromState(stream, bytes, limits.per_stream_rate_limit, limits.per_stream_rate_limit_burst, ctx.nowMs)) return true;
    for (let i = first; i < last; i++) ctx.rejected.push(i);
    this.discard('per_stream_rate_limit', ctx.tenant, last - first, bytes);
    ctx.rateLimited = true;
    this.addError(
      ctx,
      `Per stream rate limit exceeded (limit: ${formatByteSize(limits.per_stream_rate_limit)}/sec) while attempting to ingest for stream ` +
        `'${stream.labels}' totaling ${bytes}B, consider splitting a stream via additional labels or contact your Loki ` +
        `administrator to see if the limit can be increased`,
      last - first,
    );
    return false;
  }

  private appendEntries(ctx: PushContext, stream: MemStream, batch: PushBatch, bytes: Uint8Array, first: number, last: number): number {
    const limits = this.limits;
    const oldestMs = limits.reject_old_samples ? ctx.nowMs - limits.reject_old_samples_max_age : -Infinity;
    const newestMs = ctx.nowMs + limits.creation_grace_period;
    const behindMs = this.store.maxChunkAgeMs / 2;
    let accepted = 0;
    for (let i = first; i < last; i++) {
      const seconds = batch.seconds[i]!;
      const nanos = batch.nanos[i]!;
      const tsMs = seconds * 1000 + nanos / 1e6;
      const lineLen = batch.lineEnd[i]! - batch.lineStart[i]!;
      let reason: DiscardReason | undefined;
      let message = '';
      if (lineLen > limits.max_line_size && limits.max_line_size > 0) {
        if (limits.max_line_size_truncate) {
          batch.lineEnd[i] = batch.lineStart[i]! + limits.max_line_size;
        } else {
          reason = 'line_too_long';
          message = `Max entry size '${limits.max_line_size}' bytes exceeded for stream '${stream.labels}' while adding an entry with length '${lineLen}' bytes`;
        }
      }
      if (reason === undefined && tsMs < oldestMs) {
        reason = 'greater_than_max_sample_age';
        message = `entry for stream '${stream.labels}' has timestamp too old: ${formatTimestamp(seconds, nanos)}, oldest acceptable timestamp is: ${formatMs(oldestMs)}`;
      } else if (reason === undefined && tsMs > newestMs) {
        reason = 'too_far_in_future';
        message = `entry for stream '${stream.labels}' has timestamp too new: ${formatTimestamp(seconds, nanos)}`;
      } else if (reason === undefined && stream.newestSec !== -Infinity) {
        const streamNewestMs = stream.newestSec * 1000 + stream.newestNanos / 1e6;
        if (tsMs < streamNewestMs - behindMs) {
          reason = 'too_far_behind';
          message =
            `entry with timestamp ${formatTimestamp(seconds, nanos)} ignored, reason: 'entry too far behind, entry timestamp is: ` +
            `${formatTimestamp(seconds, nanos)}, oldest acceptable timestamp is: ${formatMs(streamNewestMs - behindMs)}' for stream: ${stream.labels}`;
        }
      }
      if (reason === undefined && !stream.head.accepts(seconds)) {
        // Only reachable with reject_old_samples off: the head's offsets must stay exact.
        reason = 'greater_than_max_sample_age';
        message = `entry for stream '${stream.labels}' has timestamp ${formatTimestamp(seconds, nanos)}, more than 50 days from the stream's unflushed entries; retry it in a later push`;
      }
      if (reason !== undefined) {
        ctx.rejected.push(i);
        this.discard(reason, ctx.tenant, 1, entryBytes(batch, i));
        this.addError(ctx, message, 1);
        continue;
      }
      if (this.appendOne(stream, batch, bytes, i)) {
        accepted++;
        this.tail.offer(ctx.tenant, stream, batch, bytes, i);
      } else this.metrics.duplicatesDropped.inc({ tenant: ctx.tenant });
    }
    return accepted;
  }

  private appendOne(stream: MemStream, batch: PushBatch, bytes: Uint8Array, i: number): boolean {
    const seconds = batch.seconds[i]!;
    const nanos = batch.nanos[i]!;
    const appended = stream.head.append(
      seconds,
      nanos,
      bytes,
      batch.lineStart[i]!,
      batch.lineEnd[i]!,
      batch.metadataOffsets,
      batch.metadataFirst[i]!,
      batch.metadataCount[i]!,
    );
    if (seconds > stream.newestSec || (seconds === stream.newestSec && nanos > stream.newestNanos)) {
      stream.newestSec = seconds;
      stream.newestNanos = nanos;
    }
    return appended;
  }

  private addError(ctx: PushContext, message: string, count: number): void {
    ctx.errorCount += count;
    if (ctx.errors.length < MAX_LISTED_ERRORS) ctx.errors.push(message);
  }

  private discard(reason: DiscardReason, tenant: string, entries: number, bytes: number): void {
    this.metrics.discardedSamples.inc({ reason, tenant }, entries);
    this.metrics.discardedBytes.inc({ reason, tenant }, bytes);
  }
}

/**
 * A plain Uint8Array over a batch's bytes, made once per push: subarrays of a Buffer go
 * through Node's FastBuffer constructor, measurably slower per entry.
 */
function plainBytes(data: Buffer): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function rangeBytes(batch: PushBatch, first: number, last: number): number {
  let bytes = 0;
  for (let i = first; i < last; i++) bytes += entryBytes(batch, i);
  return bytes;
}

function entryBytes(batch: PushBatch, i: number): number {
  let bytes = batch.lineEnd[i]! - batch.lineStart[i]!;
  const offsets = batch.metadataOffsets;
  for (let p = batch.metadataFirst[i]! * 4, end = p + batch.metadataCount[i]! * 4; p < end; p += 4) {
    bytes += offsets[p + 1]! - offsets[p]! + offsets[p + 3]! - offsets[p + 2]!;
  }
  return bytes;
}
