/**
 * Sends alerts to every configured Alertmanager through its v2 API, as Prometheus's notifier
 * does: one queue and send loop per Alertmanager, batches of at most 256, no retry of a failed
 * batch (the next resend delivers the alerts again), the oldest alerts dropped on overflow.
 * Like Loki's ruler, each request carries the tenant in `X-Scope-OrgID`.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { AlertNotification } from './alerting-rule.js';
import { basicAuthorization, splitUrlCredentials } from './url-credentials.js';

/** Prometheus's DefaultMaxBatchSize. */
const MAX_BATCH = 256;
/** Loki's ruler.notification_queue_capacity default. */
const QUEUE_CAPACITY = 10_000;

export interface NotifierObserver {
  sent(alertmanager: string, count: number): void;
  failed(alertmanager: string, count: number): void;
  dropped(count: number): void;
  queueLength(alertmanager: string, length: number): void;
}

/** The v2 API's postable alert. */
interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
}

interface QueuedAlert {
  tenant: string;
  alert: PostableAlert;
}

/** One Alertmanager: its endpoint, credentials, queue and send loop. */
class AlertmanagerTarget {
  readonly endpoint: string;
  readonly name: string;
  private readonly authorization: string | undefined;
  private readonly queue: QueuedAlert[] = [];
  private sending: Promise<void> | undefined;

  constructor(url: string, private readonly timeoutMs: number, private readonly observer: NotifierObserver, private readonly log: FastifyBaseLogger) {
    const { url: parsed, credentials } = splitUrlCredentials(url);
    this.authorization = credentials === undefined ? undefined : basicAuthorization(credentials);
    // The URL's path is Alertmanager's path prefix (Loki's alertmanager_url).
    const prefix = parsed.pathname.replace(/\/+$/, '');
    this.name = `${parsed.origin}${prefix}`;
    this.endpoint = `${this.name}/api/v2/alerts`;
  }

  enqueue(tenant: string, alerts: readonly PostableAlert[]): void {
    for (const alert of alerts) this.queue.push({ tenant, alert });
    const overflow = this.queue.length - QUEUE_CAPACITY;
    if (overflow > 0) {
      this.queue.splice(0, overflow);
      this.observer.dropped(overflow);
      this.log.warn({ alertmanager: this.name, dropped: overflow }, 'alert notification queue full, dropped the oldest alerts');
    }
    this.observer.queueLength(this.name, this.queue.length);
    this.sending ??= this.drain().finally(() => {
      this.sending = undefined;
    });
  }

  /** Resolves once everything queued so far has been sent or has failed. */
  idle(): Promise<void> {
    return this.sending ?? Promise.resolve();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const tenant = this.queue[0]!.tenant;
      const batch: PostableAlert[] = [];
      for (let i = 0; i < this.queue.length && batch.length < MAX_BATCH; ) {
        if (this.queue[i]!.tenant === tenant) batch.push(this.queue.splice(i, 1)[0]!.alert);
        else i++;
      }
      this.observer.queueLength(this.name, this.queue.length);
      await this.post(tenant, batch);
    }
  }

  private async post(tenant: string, batch: PostableAlert[]): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-scope-orgid': tenant, 'user-agent': 'Skald-ruler' };
    if (this.authorization !== undefined) headers.authorization = this.authorization;
    try {
      const response = await fetch(this.endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await response.text();
      if (response.ok) {
        this.observer.sent(this.name, batch.length);
        return;
      }
      this.observer.failed(this.name, batch.length);
      this.log.warn({ alertmanager: this.name, status: response.status, body: text.slice(0, 512), count: batch.length }, 'Alertmanager refused alerts');
    } catch (err) {
      this.observer.failed(this.name, batch.length);
      this.log.warn({ alertmanager: this.name, err: (err as Error).message, count: batch.length }, 'error sending alerts to Alertmanager; they are sent again at the next resend');
    }
  }

  /** Loki's users ask for this (grafana/loki#2963): say at start whether the Alertmanager answers. */
  async check(): Promise<boolean> {
    const headers: Record<string, string> = {};
    if (this.authorization !== undefined) headers.authorization = this.authorization;
    try {
      const response = await fetch(`${this.name}/api/v2/status`, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
      await response.arrayBuffer();
      if (response.ok) {
        this.log.info({ alertmanager: this.name }, 'Alertmanager answers');
        return true;
      }
      this.log.warn({ alertmanager: this.name, status: response.status }, 'Alertmanager status check failed; alerts will still be sent');
    } catch (err) {
      this.log.warn({ alertmanager: this.name, err: (err as Error).message }, 'Alertmanager is not reachable; alerts will still be sent');
    }
    return false;
  }
}

export class Notifier {
  private readonly targets: AlertmanagerTarget[];

  constructor(urls: readonly string[], timeoutMs: number, observer: NotifierObserver, log: FastifyBaseLogger) {
    this.targets = urls.map((url) => new AlertmanagerTarget(url, timeoutMs, observer, log));
  }

  get enabled(): boolean {
    return this.targets.length > 0;
  }

  /** Queues `alerts` for every Alertmanager; returns at once. */
  send(tenant: string, alerts: readonly AlertNotification[], generatorURL: string): void {
    if (alerts.length === 0 || this.targets.length === 0) return;
    const postable = alerts.map((a) => ({
      labels: a.labels,
      annotations: a.annotations,
      startsAt: new Date(a.startsAt).toISOString(),
      endsAt: new Date(a.endsAt).toISOString(),
      generatorURL,
    }));
    for (const target of this.targets) target.enqueue(tenant, postable);
  }

  checkAlertmanagers(): Promise<boolean[]> {
    return Promise.all(this.targets.map((t) => t.check()));
  }

  /** Waits for the queues to drain, as Prometheus's notifier does on shutdown. */
  async drain(): Promise<void> {
    await Promise.all(this.targets.map((t) => t.idle()));
  }
}
