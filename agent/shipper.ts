/**
 * One configured client: its batcher, its push client, and the loop that sends its batches one at
 * a time, oldest first (as Promtail's client does, which keeps each stream in order). When a batch
 * is acknowledged, or dropped for good (rejected, or out of retries: counted in /metrics), the
 * targets it covers hear how far this client is done with them.
 */
import type { Registry } from 'prom-client';
import { Batcher } from './batcher.js';
import { PushClient, commitsPositions, type AgentLogger } from './client.js';
import type { ClientConfig } from './config.js';

/** What a batch's positions are keyed by: a target that can take acknowledgements. */
export interface Acknowledgeable {
  acknowledge(client: number, offset: number): void;
}

export class Shipper<K extends Acknowledgeable> {
  readonly batcher: Batcher<K>;
  readonly client: PushClient;
  private loop: Promise<void> | undefined;

  constructor(
    /** This client's index among the configured ones. */
    readonly index: number,
    config: ClientConfig,
    options: { registry?: Registry; logger?: AgentLogger },
  ) {
    this.batcher = new Batcher<K>({ batchSize: config.batchsize, batchWaitMs: config.batchwait });
    this.client = new PushClient(
      {
        url: config.url,
        tenantId: config.tenant_id,
        timeoutMs: config.timeout,
        headers: config.headers,
        externalLabels: config.external_labels,
        backoff: { minPeriodMs: config.backoff_config.min_period, maxPeriodMs: config.backoff_config.max_period, maxRetries: config.backoff_config.max_retries },
      },
      options,
    );
  }

  start(): void {
    this.loop ??= this.run();
  }

  /**
   * Sends what is queued, then stops. Retries still going after `graceMs` are abandoned: those
   * batches stay unacknowledged, so their lines are read again after the restart.
   */
  async stop(graceMs: number): Promise<void> {
    this.batcher.close();
    const loop = this.loop ?? Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([loop, late]);
    clearTimeout(timer);
    this.client.stop();
    await loop;
  }

  private async run(): Promise<void> {
    for (;;) {
      const batch = await this.batcher.next();
      if (batch === undefined) return;
      const outcome = await this.client.send(batch);
      this.batcher.release(batch);
      if (!commitsPositions(outcome)) return;
      for (const [target, offset] of batch.positions) target.acknowledge(this.index, offset);
    }
  }
}
