/** What every route plugin is given: the configuration and the running components. */
import type { FastifyRequest } from 'fastify';
import type { ServerConfig } from '../config.js';
import type { Distributor } from '../ingest/distributor.js';
import type { Ruler } from '../ruler/ruler.js';
import type { ServerMetrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import type { WorkerPool } from '../workers/pool.js';

export interface ServerContext {
  config: ServerConfig;
  store: Store;
  distributor: Distributor;
  metrics: ServerMetrics;
  /** Ingestion's threads: push decoding, block compression. */
  workers: WorkerPool;
  /** Metric queries' threads: block decoding and sample extraction. */
  queryWorkers: WorkerPool;
  /** Rule evaluation, the rule store and alert state. */
  ruler: Ruler;
  /** False until the WAL has been replayed. */
  readiness: { ready: boolean };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant this request acts for (`fake` when auth is off). */
    tenant: string;
  }
}

export type { FastifyRequest };
