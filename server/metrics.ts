/**
 * The server's Prometheus metrics. Names follow Loki's where Loki has the same counter,
 * so existing dashboards and alerts keep working.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
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
}
