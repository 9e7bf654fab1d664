/**
 * Ships recording-rule samples to Prometheus remote-write endpoints (`ruler.remote_write`).
 *
 * Unlike Loki we keep no WAL: samples that cannot be delivered within a client's
 * `remote_timeout` are dropped and counted, because the next evaluation produces fresh ones and
 * a backlog replayed late would mostly be rejected as out of order anyway.
 *
 * Wire protocol as Prometheus's own client (storage/remote/client.go): POST of a snappy-block
 * compressed protobuf WriteRequest with the remote-write 0.1.0 headers. 429, 5xx and transport
 * errors are retried with exponential backoff; any other status means the receiver will never
 * accept this request, so it is dropped at once.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { encodeSnappyWriteRequest, type RemoteWriteSeries } from '../../proto/index.js';
import type { RemoteWriteClientConfig, RulerConfig } from '../config.js';
import { basicAuthorization, splitUrlCredentials } from './url-credentials.js';

/**
 * Why samples were not delivered, after the last attempt: 'rejected' = a non-retryable status
 * (4xx other than 429), 'rate_limited' = 429, 'server_error' = 5xx, 'network' = connection
 * failure, 'timeout' = `remote_timeout` ran out, 'invalid' = the samples could not be encoded,
 * 'closed' = the writer was closed first.
 */
export type RemoteWriteFailureReason = 'rejected' | 'rate_limited' | 'server_error' | 'network' | 'timeout' | 'invalid' | 'closed';

/** Told about every write's outcome per client, so the server can count samples in /metrics. */
export interface RemoteWriteObserver {
  samplesSent(client: string, samples: number): void;
  samplesFailed(client: string, samples: number, reason: RemoteWriteFailureReason): void;
}

export type RemoteWriteLog = (msg: string, fields: Record<string, unknown>) => void;

export const REMOTE_WRITE_USER_AGENT = 'Skald-ruler/0.1';

/** Prometheus's min_backoff default; doubled per retry. */
const MIN_BACKOFF_MS = 30;
const MAX_ATTEMPTS = 3;
/** Error responses can be whole HTML pages; the start says what went wrong. */
const LOGGED_RESPONSE_CHARS = 512;

interface Client {
  id: string;
  /** Without userinfo: fetch refuses URLs that carry credentials. */
  url: string;
  /** Configured headers plus Authorization, everything but the per-tenant header. */
  headers: Headers;
  timeoutMs: number;
}

type AttemptResult = { ok: true } | { ok: false; reason: RemoteWriteFailureReason; retryable: boolean; status?: number; detail: string };

function prepareClient(id: string, config: RemoteWriteClientConfig): Client {
  const { url, credentials } = splitUrlCredentials(config.url);
  const headers = new Headers(config.headers);
  // Credentials in the URL are Prometheus-style shorthand for basic auth; the explicit
  // basic_auth block wins when both are given.
  const auth = config.basic_auth ?? credentials;
  if (auth !== undefined) headers.set('Authorization', basicAuthorization(auth));
  headers.set('Content-Encoding', 'snappy');
  headers.set('Content-Type', 'application/x-protobuf');
  headers.set('X-Prometheus-Remote-Write-Version', '0.1.0');
  headers.set('User-Agent', REMOTE_WRITE_USER_AGENT);
  return { id, url: url.toString(), headers, timeoutMs: config.remote_timeout };
}

function transportDetail(error: unknown): string {
  // fetch reports every transport failure as TypeError('fetch failed'); the cause says which.
  if (error instanceof Error) return error.cause instanceof Error ? error.cause.message : error.message;
  return String(error);
}

export class RemoteWriter {
  private readonly clients: Client[];
  private readonly addOrgIdHeader: boolean;
  /** Aborted by close(): cuts in-flight requests and backoff waits short. */
  private readonly closing = new AbortController();

  constructor(
    config: RulerConfig['remote_write'],
    private readonly observer?: RemoteWriteObserver,
    private readonly log: RemoteWriteLog = () => {},
  ) {
    this.clients = config.enabled ? Object.entries(config.clients).map(([id, client]) => prepareClient(id, client)) : [];
    this.addOrgIdHeader = config.add_org_id_header;
  }

  /** False when remote write is disabled or has no clients: recording rules have nowhere to go. */
  get enabled(): boolean {
    return this.clients.length > 0;
  }

  /** Sends `series` to every client concurrently; resolves when all are done. Never rejects. */
  async write(tenant: string, series: ReadonlyArray<RemoteWriteSeries>): Promise<void> {
    if (this.clients.length === 0) return;
    let samples = 0;
    for (const entry of series) samples += entry.samples.length;
    if (samples === 0) return;
    if (this.closing.signal.aborted) {
      for (const client of this.clients) this.fail(client, tenant, samples, 0, { reason: 'closed', detail: 'remote writer closed' });
      return;
    }
    let body: Buffer;
    try {
      body = encodeSnappyWriteRequest(series);
    } catch (error) {
      for (const client of this.clients) this.fail(client, tenant, samples, 0, { reason: 'invalid', detail: transportDetail(error) });
      return;
    }
    await Promise.all(this.clients.map((client) => this.send(client, tenant, body, samples)));
  }

  /** Aborts in-flight requests and backoff waits; later writes are counted as failed ('closed'). */
  close(): void {
    this.closing.abort();
  }

  private async send(client: Client, tenant: string, body: Buffer, samples: number): Promise<void> {
    const headers = new Headers(client.headers);
    if (this.addOrgIdHeader) headers.set('X-Scope-OrgID', tenant);
    // One budget for all attempts, so a struggling receiver cannot hold an evaluation longer
    // than remote_timeout.
    const deadline = Date.now() + client.timeoutMs;
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(client, headers, body, deadline - Date.now());
      if (result.ok) {
        this.observer?.samplesSent(client.id, samples);
        return;
      }
      const backoff = MIN_BACKOFF_MS * 2 ** (attempt - 1);
      if (!result.retryable || attempt >= MAX_ATTEMPTS || Date.now() + backoff >= deadline || this.closing.signal.aborted) {
        this.fail(client, tenant, samples, attempt, result);
        return;
      }
      await delay(backoff, undefined, { signal: this.closing.signal }).catch(() => undefined);
    }
  }

  private async attempt(client: Client, headers: Headers, body: Buffer, timeoutMs: number): Promise<AttemptResult> {
    const timeout = AbortSignal.timeout(Math.max(1, timeoutMs));
    try {
      const response = await fetch(client.url, { method: 'POST', headers, body, signal: AbortSignal.any([timeout, this.closing.signal]) });
      if (response.ok) {
        // Drained so the keep-alive connection can be reused.
        await response.arrayBuffer();
        return { ok: true };
      }
      const detail = (await response.text()).slice(0, LOGGED_RESPONSE_CHARS);
      const status = response.status;
      if (status === 429) return { ok: false, reason: 'rate_limited', retryable: true, status, detail };
      if (status >= 500) return { ok: false, reason: 'server_error', retryable: true, status, detail };
      return { ok: false, reason: 'rejected', retryable: false, status, detail };
    } catch (error) {
      if (this.closing.signal.aborted) return { ok: false, reason: 'closed', retryable: false, detail: 'remote writer closed' };
      if (timeout.aborted) return { ok: false, reason: 'timeout', retryable: true, detail: `no answer within ${client.timeoutMs} ms` };
      return { ok: false, reason: 'network', retryable: true, detail: transportDetail(error) };
    }
  }

  private fail(client: Client, tenant: string, samples: number, attempts: number, result: { reason: RemoteWriteFailureReason; status?: number; detail: string }): void {
    this.log('remote write failed, samples dropped', {
      client: client.id,
      url: client.url,
      tenant,
      samples,
      attempts,
      reason: result.reason,
      ...(result.status !== undefined ? { status: result.status } : {}),
      error: result.detail,
    });
    this.observer?.samplesFailed(client.id, samples, result.reason);
  }
}
