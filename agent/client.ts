/**
 * Pushes batches to one Loki-compatible endpoint, as Promtail's client does (L
 * `clients/pkg/promtail/client/client.go` `sendBatch`/`send`):
 * - body: snappy-compressed protobuf PushRequest, `Content-Type: application/x-protobuf`;
 * - `X-Scope-OrgID: <tenant_id>` only when a tenant is configured;
 * - `external_labels` merged into every stream, the stream's own labels winning on a clash
 *   (Promtail: `externalLabels.Merge(e.Labels)`);
 * - each attempt bounded by `timeout`; a timeout counts as a connection error;
 * - retried: 429, 5xx and connection errors; any other non-2xx drops the batch at once, with
 *   the first line of the server's answer (at most 1 KiB) logged;
 * - backoff as dskit's: the k-th wait is drawn uniformly from [min·2^k, min·2^(k+1)), both ends
 *   capped at `max_period`; `max_retries` is the number of attempts (0: retry forever).
 *
 * Outcomes (the caller releases the batch for all; it commits its positions for the first three):
 * - `acked`: 2xx.
 * - `dropped`: a non-retryable status (400 …). Re-sending would fail the same way and block the
 *   stream forever, so the batch is given up and its positions committed, as Promtail (whose
 *   positions never depended on sending) effectively does. Loki's 400 also means the valid
 *   entries of the batch were stored ("total ignored: X out of Y").
 * - `gave_up`: `max_retries` attempts failed. Promtail drops the batch; so do we, counted as
 *   dropped with the last error's reason. Nothing is lost for outages shorter than the retry
 *   budget (≈ 8.5 min with the defaults) because readers are paused meanwhile by the batcher's
 *   memory bound and offsets stay unacknowledged on disk; `max_retries: 0` never gives up.
 * - `stopped`: `stop()` (shutdown) interrupted the retries; nothing committed, re-sent after restart.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type RequestOptions } from 'node:http';
import { Counter, Histogram, type Registry } from 'prom-client';
import { formatLabelString, parseLabelString, snappyMaxCompressedLength } from '../proto/index.js';
import type { Batch } from './batcher.js';

export interface BackoffConfig {
  /** Promtail `min_period` (500ms). */
  minPeriodMs: number;
  /** Promtail `max_period` (5m). */
  maxPeriodMs: number;
  /** Promtail `max_retries` (10): attempts before giving up; 0 retries forever. */
  maxRetries: number;
}

export interface ClientConfig {
  url: string;
  tenantId?: string;
  /** Per-request timeout (Promtail `timeout`, 10s). */
  timeoutMs?: number;
  headers?: Readonly<Record<string, string>>;
  externalLabels?: Readonly<Record<string, string>>;
  backoff?: Partial<BackoffConfig>;
}

export const DEFAULT_BACKOFF: Readonly<BackoffConfig> = { minPeriodMs: 500, maxPeriodMs: 5 * 60_000, maxRetries: 10 };
export const DEFAULT_TIMEOUT_MS = 10_000;
/** The body buffer grows to this multiple of the largest batch so far, so slightly larger batches fit. */
const SCRATCH_HEADROOM = 1.25;
/** Promtail keeps this much of an error answer. */
const MAX_ERROR_MESSAGE_BYTES = 1024;

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type AgentLogger = (level: LogLevel, message: string, fields: Readonly<Record<string, string | number>>) => void;

/** logfmt lines on stderr; `fields.component` names the part of the agent (default `client`). */
export const stderrLogger: AgentLogger = (level, message, fields) => {
  let line = `level=${level} component=${fields['component'] ?? 'client'} msg=${JSON.stringify(message)}`;
  for (const [key, value] of Object.entries(fields)) {
    if (key !== 'component') line += ` ${key}=${typeof value === 'number' ? value : JSON.stringify(value)}`;
  }
  process.stderr.write(`${line}\n`);
};

export type SendOutcome =
  | { kind: 'acked'; status: number; attempts: number }
  | { kind: 'dropped'; status: number; reason: string; message: string; attempts: number }
  | { kind: 'gave_up'; status: number; reason: string; message: string; attempts: number }
  /** `stop()` was called while retrying: not acknowledged, not dropped; its positions must not be committed. */
  | { kind: 'stopped'; status: number; message: string; attempts: number };

/** Whether the batch's positions may be committed: everything but `stopped` (see the module comment). */
export function commitsPositions(outcome: SendOutcome): boolean {
  return outcome.kind !== 'stopped';
}

/** Counts of what this client did, also exported to the registry when one is given. */
export interface ClientStats {
  sentBatches: number;
  sentEntries: number;
  retries: number;
  droppedEntries: Record<string, number>;
  droppedBatches: Record<string, number>;
}

export interface ClientMetrics {
  sentEntries: Counter<'host'>;
  sentBytes: Counter<'host'>;
  droppedEntries: Counter<'host' | 'tenant' | 'reason'>;
  droppedBytes: Counter<'host' | 'tenant' | 'reason'>;
  retries: Counter<'host' | 'tenant'>;
  requestDuration: Histogram<'host' | 'status_code'>;
}

/** The client's metrics in `registry`, created once per registry and shared by every client. */
export function clientMetrics(registry: Registry): ClientMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: L[]): Counter<L> => {
    const existing = registry.getSingleMetric(name);
    if (existing !== undefined) return existing as Counter<L>;
    return new Counter({ name, help, labelNames, registers: [registry] });
  };
  const durationName = 'skald_agent_request_duration_seconds';
  const existingDuration = registry.getSingleMetric(durationName);
  return {
    sentEntries: counter('skald_agent_sent_entries_total', 'Entries acknowledged by the server.', ['host']),
    sentBytes: counter('skald_agent_sent_bytes_total', 'Compressed bytes of acknowledged pushes.', ['host']),
    droppedEntries: counter('skald_agent_dropped_entries_total', 'Entries dropped: rejected by the server or retries exhausted.', ['host', 'tenant', 'reason']),
    droppedBytes: counter('skald_agent_dropped_bytes_total', 'Compressed bytes of dropped pushes.', ['host', 'tenant', 'reason']),
    retries: counter('skald_agent_batch_retries_total', 'Push attempts that failed and were retried.', ['host', 'tenant']),
    requestDuration:
      (existingDuration as Histogram<'host' | 'status_code'> | undefined) ??
      new Histogram({ name: durationName, help: 'Push request duration; status_code -1 for connection errors.', labelNames: ['host', 'status_code'], registers: [registry] }),
  };
}

/**
 * Drop reason from a rejected push's status and answer: Loki's discard reasons where its
 * message identifies one (server `validation` texts), `rate_limited` for 429, else `http_<status>`
 * (`connection_error` for status -1). A small fixed set, so the metric stays bounded.
 */
export function dropReason(status: number, message: string): string {
  if (status === 429) return /Per stream rate limit/i.test(message) ? 'per_stream_rate_limit' : /stream limit/i.test(message) ? 'stream_limit' : 'rate_limited';
  if (status < 0) return 'connection_error';
  const patterns: Array<[RegExp, string]> = [
    [/Max entry size .* exceeded/i, 'line_too_long'],
    [/too far behind/i, 'too_far_behind'],
    [/timestamp too old/i, 'greater_than_max_sample_age'],
    [/timestamp too new/i, 'too_far_in_future'],
    [/Maximum active stream limit/i, 'stream_limit'],
    [/error parsing labels/i, 'invalid_labels'],
    [/at least one label pair/i, 'missing_labels'],
    [/label name too long/i, 'label_name_too_long'],
    [/label value too long/i, 'label_value_too_long'],
    [/duplicate label name/i, 'duplicate_label_names'],
  ];
  for (const [pattern, reason] of patterns) if (pattern.test(message)) return reason;
  return `http_${status}`;
}

/** Whether Promtail retries this status: 429, 5xx, and connection errors (-1). */
export function isRetryable(status: number): boolean {
  return status < 0 || status === 429 || Math.floor(status / 100) === 5;
}

/** dskit-style exponential backoff with jitter; `next()` gives the wait before the next attempt. */
export class Backoff {
  private low: number;
  private high: number;

  constructor(
    private readonly config: BackoffConfig,
    private readonly random: () => number = Math.random,
  ) {
    this.low = Math.min(config.minPeriodMs, config.maxPeriodMs);
    this.high = Math.min(2 * config.minPeriodMs, config.maxPeriodMs);
  }

  next(): number {
    const wait = this.low === this.high ? this.low : this.low + Math.floor(this.random() * (this.high - this.low));
    if (this.high < this.config.maxPeriodMs) {
      this.low = Math.min(2 * this.low, this.config.maxPeriodMs);
      this.high = Math.min(2 * this.high, this.config.maxPeriodMs);
    }
    return wait;
  }
}

interface Attempt {
  status: number;
  /** What is logged and reported: Promtail's form, first line of the answer. */
  message: string;
  /** The answer (at most 1 KiB), for the drop reason. */
  body: string;
}

export class PushClient {
  readonly url: string;
  /** `host:port` of the URL: the `host` label of the metrics, as Promtail's. */
  readonly host: string;
  readonly stats: ClientStats = { sentBatches: 0, sentEntries: 0, retries: 0, droppedEntries: {}, droppedBatches: {} };
  private readonly tenant: string;
  private readonly timeoutMs: number;
  private readonly backoff: BackoffConfig;
  private readonly requestHeaders: Record<string, string>;
  private readonly externalLabels: Array<[string, string]>;
  private readonly labelCache = new Map<string, string>();
  private readonly metrics: ClientMetrics | undefined;
  private readonly log: AgentLogger;
  private readonly stopController = new AbortController();
  private readonly requestUrl: URL;
  private readonly https: boolean;
  /** Set up by the first attempt; node:https is loaded only for an https URL (TLS costs memory). */
  private transport: Promise<Transport> | undefined;
  /** Reused for every batch's body: it is sent before the next batch is encoded. */
  private bodyScratch: Buffer | undefined;
  /** A send is using the body buffer. */
  private sending = false;

  constructor(config: ClientConfig, options: { registry?: Registry; logger?: AgentLogger } = {}) {
    const parsed = new URL(config.url);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(config.headers ?? {})) headers[name.toLowerCase()] = value;
    if (parsed.username !== '' || parsed.password !== '') {
      // Credentials in the URL go as basic auth, as Go's http client sends them.
      const user = decodeURIComponent(parsed.username);
      const password = decodeURIComponent(parsed.password);
      headers['authorization'] = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      parsed.username = '';
      parsed.password = '';
    }
    // Protocol headers win over configured ones.
    headers['content-type'] = 'application/x-protobuf';
    headers['user-agent'] = 'skald-agent';
    this.tenant = config.tenantId ?? '';
    if (this.tenant !== '') headers['x-scope-orgid'] = this.tenant;
    this.requestHeaders = headers;
    this.url = parsed.toString();
    this.requestUrl = parsed;
    this.https = parsed.protocol === 'https:';
    if (!this.https && parsed.protocol !== 'http:') throw new Error(`unsupported URL scheme ${parsed.protocol} in ${this.url}`);
    this.host = parsed.host;
    this.timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.backoff = { ...DEFAULT_BACKOFF, ...config.backoff };
    this.externalLabels = Object.entries(config.externalLabels ?? {});
    this.metrics = options.registry !== undefined ? clientMetrics(options.registry) : undefined;
    this.log = options.logger ?? stderrLogger;
  }

  /**
   * Stops retrying: a `send` waiting between attempts returns `stopped` at once (one in the middle
   * of an attempt returns after it, `acked` if that attempt succeeds). For shutdown: the stopped
   * batch's lines are re-read after the restart, since their positions were not committed.
   */
  stop(): void {
    this.stopController.abort();
  }

  /** A stream's labels with the external labels merged in (stream labels win). */
  mergeLabels(labels: string): string {
    if (this.externalLabels.length === 0) return labels;
    const cached = this.labelCache.get(labels);
    if (cached !== undefined) return cached;
    const own = parseLabelString(labels);
    const names = new Set(own.map(([name]) => name));
    const merged = [...own, ...this.externalLabels.filter(([name]) => !names.has(name))];
    const text = formatLabelString(merged);
    if (this.labelCache.size >= 10_000) this.labelCache.clear();
    this.labelCache.set(labels, text);
    return text;
  }

  /** Sends one batch until acknowledged, rejected or out of retries. Never throws for HTTP problems. */
  async send<K>(batch: Batch<K>): Promise<SendOutcome> {
    if (batch.entryCount === 0) return { kind: 'acked', status: 0, attempts: 0 };
    // Compressed into a buffer kept from batch to batch (fresh megabytes per batch lived until
    // the next full collection); a second send while one is going gets its own.
    const reuse = !this.sending;
    this.sending = true;
    try {
      const body = reuse ? this.compress(batch) : batch.encodeSnappy((labels) => this.mergeLabels(labels));
      // Encoded: the batch's writer can take the next batch's entries while this one is sent.
      batch.recycle();
      return await this.sendBody(batch, body);
    } finally {
      if (reuse) this.sending = false;
    }
  }

  /** The batch's request body, compressed into the scratch buffer (grown as needed). */
  private compress<K>(batch: Batch<K>): Buffer {
    const mapLabels = (labels: string): string => this.mergeLabels(labels);
    const bound = snappyMaxCompressedLength(batch.requestLength(mapLabels));
    if ((this.bodyScratch?.length ?? 0) < bound) this.bodyScratch = Buffer.allocUnsafeSlow(Math.ceil(bound * SCRATCH_HEADROOM));
    return batch.encodeSnappy(mapLabels, this.bodyScratch);
  }

  private async sendBody<K>(batch: Batch<K>, body: Buffer): Promise<SendOutcome> {
    const backoff = new Backoff(this.backoff);
    let attempts = 0;
    for (;;) {
      attempts++;
      const started = performance.now();
      const attempt = await this.attempt(body);
      this.metrics?.requestDuration.observe({ host: this.host, status_code: String(attempt.status) }, (performance.now() - started) / 1000);
      if (attempt.status >= 200 && attempt.status < 300) {
        this.stats.sentBatches++;
        this.stats.sentEntries += batch.entryCount;
        this.metrics?.sentEntries.inc({ host: this.host }, batch.entryCount);
        this.metrics?.sentBytes.inc({ host: this.host }, body.length);
        return { kind: 'acked', status: attempt.status, attempts };
      }
      const reason = dropReason(attempt.status, attempt.body);
      if (!isRetryable(attempt.status)) {
        this.log('error', 'push rejected, dropping batch', { host: this.host, tenant: this.tenant, status: attempt.status, reason, entries: batch.entryCount, error: attempt.message });
        this.countDrop(reason, batch.entryCount, body.length);
        return { kind: 'dropped', status: attempt.status, reason, message: attempt.message, attempts };
      }
      const outOfRetries = this.backoff.maxRetries > 0 && attempts >= this.backoff.maxRetries;
      if (outOfRetries) {
        const finalReason = attempt.status === 429 ? reason : 'ingester_error';
        this.log('error', 'final error sending batch, dropping it', { host: this.host, tenant: this.tenant, status: attempt.status, reason: finalReason, attempts, entries: batch.entryCount, error: attempt.message });
        this.countDrop(finalReason, batch.entryCount, body.length);
        return { kind: 'gave_up', status: attempt.status, reason: finalReason, message: attempt.message, attempts };
      }
      const wait = backoff.next();
      this.stats.retries++;
      this.metrics?.retries.inc({ host: this.host, tenant: this.tenant });
      this.log('warn', 'error sending batch, will retry', { host: this.host, tenant: this.tenant, status: attempt.status, attempt: attempts, wait_ms: wait, error: attempt.message });
      await sleep(wait, this.stopController.signal);
      if (this.stopController.signal.aborted) {
        this.log('warn', 'stopped while retrying; the batch stays unacknowledged', { host: this.host, tenant: this.tenant, attempts, entries: batch.entryCount });
        return { kind: 'stopped', status: attempt.status, message: attempt.message, attempts };
      }
    }
  }

  private countDrop(reason: string, entries: number, bytes: number): void {
    this.stats.droppedEntries[reason] = (this.stats.droppedEntries[reason] ?? 0) + entries;
    this.stats.droppedBatches[reason] = (this.stats.droppedBatches[reason] ?? 0) + 1;
    this.metrics?.droppedEntries.inc({ host: this.host, tenant: this.tenant, reason }, entries);
    this.metrics?.droppedBytes.inc({ host: this.host, tenant: this.tenant, reason }, bytes);
  }

  private async connect(): Promise<Transport> {
    if (!this.https) return { request: httpRequest, agent: new HttpAgent({ keepAlive: true, maxSockets: 1 }) };
    const https = await import('node:https');
    return { request: https.request, agent: new https.Agent({ keepAlive: true, maxSockets: 1 }) };
  }

  /**
   * One POST through node:http(s) rather than fetch: fetch loads undici (~9 MiB of RSS in an
   * agent budgeted at 100 MB) and copies the body on every attempt.
   */
  private async attempt(body: Buffer): Promise<Attempt> {
    const transport = await (this.transport ??= this.connect());
    return new Promise<Attempt>((resolve) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (attempt: Attempt): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(attempt);
      };
      let req: ClientRequest;
      try {
        req = transport.request(this.requestUrl, {
          method: 'POST',
          agent: transport.agent,
          headers: { ...this.requestHeaders, 'content-length': String(body.length) },
        });
      } catch (err) {
        settle({ status: -1, message: describeError(err), body: '' });
        return;
      }
      // The whole attempt is bounded, answer included.
      timer = setTimeout(() => {
        settle({ status: -1, message: `request timed out after ${this.timeoutMs}ms`, body: '' });
        req.destroy();
      }, this.timeoutMs);
      req.on('error', (err) => settle({ status: -1, message: describeError(err), body: '' }));
      req.on('response', (res) => {
        const status = res.statusCode ?? -1;
        res.on('error', (err) => settle({ status: -1, message: describeError(err), body: '' }));
        if (status >= 200 && status < 300) {
          // Acknowledged with the status; the answer is drained so the connection can be reused.
          res.resume();
          settle({ status, message: '', body: '' });
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        const done = (): void => {
          const text = Buffer.concat(chunks).subarray(0, MAX_ERROR_MESSAGE_BYTES).toString('utf8');
          const firstLine = text.split('\n', 1)[0] ?? '';
          settle({ status, message: `server returned HTTP status ${status}: ${firstLine}`, body: text });
        };
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (size >= MAX_ERROR_MESSAGE_BYTES) {
            done();
            res.destroy();
          }
        });
        res.on('end', done);
        res.on('close', done);
      });
      req.end(body);
    });
  }
}

/** How requests are made: one kept-alive connection, as batches go one at a time. */
interface Transport {
  request(url: URL, options: RequestOptions): ClientRequest;
  agent: HttpAgent;
}

function describeError(err: unknown): string {
  const error = err as NodeJS.ErrnoException;
  return error.code !== undefined && !error.message.includes(error.code) ? `${error.message}: ${error.code}` : error.message;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
