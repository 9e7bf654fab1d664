/**
 * The server's Prometheus metrics. Names follow Loki's where Loki has the same counter,
 * so existing dashboards and alerts keep working.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { NotifierObserver } from './ruler/notifier.js';
import type { RemoteWriteObserver } from './ruler/remote-write.js';
import type { StoreObserver } from './store/store.js';

export class ServerMetrics {
  readonly registry = new Registry();

  readonly linesReceived = new Counter({
    name: 'loki_distributor_lines_received_total',
    help: 'Log lines received, per tenant.',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly bytesReceived = new Counter({
    name: 'loki_distributor_bytes_received_total',
    help: 'Uncompressed bytes (lines and structured metadata) received, per tenant.',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly discardedSamples = new Counter({
    name: 'loki_discarded_samples_total',
    help: 'Entries rejected, per reason and tenant.',
    labelNames: ['reason', 'tenant'] as const,
    registers: [this.registry],
  });
  readonly discardedBytes = new Counter({
    name: 'loki_discarded_bytes_total',
    help: 'Bytes of rejected entries, per reason and tenant.',
    labelNames: ['reason', 'tenant'] as const,
    registers: [this.registry],
  });
  readonly duplicatesDropped = new Counter({
    name: 'skald_ingester_duplicate_entries_total',
    help: 'Entries dropped because the stream already held the same timestamp and line.',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly streamsCreated = new Counter({
    name: 'loki_ingester_streams_created_total',
    help: 'Streams created, per tenant.',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });
  readonly activeStreams = new Gauge({
    name: 'loki_ingester_memory_streams',
    help: 'Active streams: an open chunk or entries in the head.',
    registers: [this.registry],
  });
  readonly chunksFlushed = new Counter({
    name: 'loki_ingester_chunks_flushed_total',
    help: 'Chunks closed, per reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly blocksCut = new Counter({
    name: 'skald_ingester_blocks_cut_total',
    help: 'Blocks cut from heads and written to the store.',
    registers: [this.registry],
  });
  readonly blockBytes = new Counter({
    name: 'skald_ingester_block_bytes_total',
    help: 'Bytes of cut blocks, uncompressed (raw) and as stored (stored).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly chunksDeleted = new Counter({
    name: 'skald_compactor_chunks_deleted_total',
    help: 'Chunks deleted by retention.',
    registers: [this.registry],
  });
  readonly pushDuration = new Histogram({
    name: 'loki_request_duration_seconds',
    help: 'Time spent serving HTTP requests, per route and status code.',
    labelNames: ['route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly blocksDecompressed = new Counter({
    name: 'skald_store_blocks_decompressed_total',
    help: 'Stored blocks read and decompressed by queries.',
    registers: [this.registry],
  });
  readonly walReplayedRecords = new Counter({
    name: 'skald_wal_replayed_records_total',
    help: 'WAL records replayed at start.',
    registers: [this.registry],
  });

  // The ruler's metrics carry Prometheus's rule-manager and notifier names with Loki's `loki_`
  // prefix and `user` label, so Loki's ruler dashboards and alerts read them unchanged.
  readonly ruleEvaluations = new Counter({
    name: 'loki_prometheus_rule_evaluations_total',
    help: 'Rule evaluations, per tenant and rule group.',
    labelNames: ['user', 'rule_group'] as const,
    registers: [this.registry],
  });
  readonly ruleEvaluationFailures = new Counter({
    name: 'loki_prometheus_rule_evaluation_failures_total',
    help: 'Rule evaluations that failed, per tenant and rule group.',
    labelNames: ['user', 'rule_group'] as const,
    registers: [this.registry],
  });
  readonly ruleEvaluationDuration = new Histogram({
    name: 'loki_prometheus_rule_evaluation_duration_seconds',
    help: 'Time a rule evaluation took, per tenant.',
    labelNames: ['user'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly ruleGroupLastDuration = new Gauge({
    name: 'loki_prometheus_rule_group_last_duration_seconds',
    help: 'Duration of the last evaluation of a rule group.',
    labelNames: ['user', 'rule_group'] as const,
    registers: [this.registry],
  });
  readonly notificationsSent = new Counter({
    name: 'loki_prometheus_notifications_sent_total',
    help: 'Alerts sent to an Alertmanager.',
    labelNames: ['alertmanager'] as const,
    registers: [this.registry],
  });
  readonly notificationErrors = new Counter({
    name: 'loki_prometheus_notifications_errors_total',
    help: 'Alerts whose sending to an Alertmanager failed.',
    labelNames: ['alertmanager'] as const,
    registers: [this.registry],
  });
  readonly notificationsDropped = new Counter({
    name: 'loki_prometheus_notifications_dropped_total',
    help: 'Alerts dropped because a notification queue was full.',
    registers: [this.registry],
  });
  readonly notificationQueueLength = new Gauge({
    name: 'loki_prometheus_notifications_queue_length',
    help: 'Alerts waiting to be sent, per Alertmanager.',
    labelNames: ['alertmanager'] as const,
    registers: [this.registry],
  });
  readonly rulerConfigReloadSuccessful = new Gauge({
    name: 'loki_ruler_config_last_reload_successful',
    help: 'Whether every rule file of the tenant loaded at the last read (1) or some group was refused (0).',
    labelNames: ['user'] as const,
    registers: [this.registry],
  });
  readonly remoteWriteSamples = new Counter({
    name: 'skald_ruler_remote_write_samples_total',
    help: 'Samples of recording rules and ALERTS series remote-written, per client and outcome (sent, failed).',
    labelNames: ['client', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  storeObserver(): StoreObserver {
    return {
      chunkClosed: (reason) => this.chunksFlushed.inc({ reason }),
      blockCut: (raw, stored) => {
        this.blocksCut.inc();
        this.blockBytes.inc({ kind: 'raw' }, raw);
        this.blockBytes.inc({ kind: 'stored' }, stored);
      },
      chunksDeleted: (count) => this.chunksDeleted.inc(count),
      blockDecompressed: () => this.blocksDecompressed.inc(),
    };
  }

  observeRuleEvaluation(tenant: string, group: string, seconds: number, failed: boolean): void {
    this.ruleEvaluations.inc({ user: tenant, rule_group: group });
    if (failed) this.ruleEvaluationFailures.inc({ user: tenant, rule_group: group });
    this.ruleEvaluationDuration.observe({ user: tenant }, seconds);
  }

  notifierObserver(): NotifierObserver {
    return {
      sent: (alertmanager, count) => this.notificationsSent.inc({ alertmanager }, count),
      failed: (alertmanager, count) => this.notificationErrors.inc({ alertmanager }, count),
      dropped: (count) => this.notificationsDropped.inc(count),
      queueLength: (alertmanager, length) => this.notificationQueueLength.set({ alertmanager }, length),
    };
  }

  remoteWriteObserver(): RemoteWriteObserver {
    return {
      samplesSent: (client, count) => this.remoteWriteSamples.inc({ client, outcome: 'sent' }, count),
      samplesFailed: (client, count) => this.remoteWriteSamples.inc({ client, outcome: 'failed' }, count),
    };
  }
}
