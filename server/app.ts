/**
 * Assembles the server: opens the store, builds the fastify app with its route plugins,
 * and replays the WAL after the listener is up so /ready can say 503 meanwhile.
 */
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { ServerConfig } from './config.js';
import { Distributor } from './ingest/distributor.js';
import type { ServerContext } from './http/context.js';
import { installErrorHandler } from './http/errors.js';
import { detectedFieldsRoutes } from './http/detected-fields.js';
import { detectedLabelRoutes } from './http/detected-labels.js';
import { indexRoutes } from './http/index-stats.js';
import { labelRoutes } from './http/labels.js';
import { patternRoutes } from './http/patterns.js';
import { prometheusRuleRoutes } from './http/prometheus-rules.js';
import { pushRoutes } from './http/push.js';
import { queryRoutes } from './http/query.js';
import { ruleRoutes } from './http/rules.js';
import { seriesRoutes } from './http/series.js';
import { statusRoutes } from './http/status.js';
import { tailRoutes } from './http/tail.js';
import { registerTenantHook } from './http/tenant.js';
import { ServerMetrics } from './metrics.js';
import { Ruler } from './ruler/ruler.js';
import { Store } from './store/store.js';
import { WorkerPool } from './workers/pool.js';

// A user's regex must not be able to stall the server: past a backtracking budget, V8 reruns the
// match on its linear-time engine (non-unicode patterns; see logql/regex.ts compileRegex).
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

export interface SkaldServer {
  app: FastifyInstance;
  context: ServerContext;
  /** Replays the WAL; the server accepts pushes and queries once it resolves. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export interface ServerOptions {
  config: ServerConfig;
  logger?: boolean;
}

export function createServer({ config, logger = false }: ServerOptions): SkaldServer {
  const metrics = new ServerMetrics();
  const ingester = config.ingester;
  const workers = new WorkerPool(ingester.worker_threads);
  const store = new Store(
    {
      dataDir: config.common.path_prefix,
      blockSize: ingester.chunk_block_size,
      chunkTargetSize: ingester.chunk_target_size,
      chunkIdleMs: ingester.chunk_idle_period,
      maxChunkAgeMs: ingester.max_chunk_age,
      checkpointMs: ingester.wal.checkpoint_duration,
      headMemoryLimit: ingester.head_memory_limit,
      retentionMs: config.limits_config.retention_period,
      compactionIntervalMs: config.compactor.compaction_interval,
      wal: { sync: ingester.wal.sync, syncPeriodMs: ingester.wal.sync_period, segmentSize: ingester.wal.segment_size },
      compress: (bytes) => workers.compress(bytes),
      compressSync: (bytes) => workers.compressSync(bytes),
    },
    metrics.storeObserver(),
  );
  const distributor = new Distributor(store, config.limits_config, config.distributor.max_recv_msg_size, metrics);
  const queryWorkers = new WorkerPool(config.querier.worker_threads);
  const ruler = new Ruler({
    config: config.ruler,
    directory: config.ruler.storage.local.directory || join(config.common.path_prefix, 'rules'),
    store,
    queryWorkers,
    limits: config.limits_config,
    metrics,
  });
  const context: ServerContext = { config, store, distributor, metrics, workers, queryWorkers, ruler, readiness: { ready: false } };

  // Per-request log lines would cost more than a push itself; errors are still logged.
  const app = Fastify({
    logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.distributor.max_recv_msg_size,
  });
  // Push bodies are decoded by the push route itself; everything else here is a form.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, new URLSearchParams(body as string));
  });
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  installErrorHandler(app);
  registerTenantHook(app, config.auth_enabled);
  app.register(async (scope) => {
    pushRoutes(scope, context);
    labelRoutes(scope, context);
    seriesRoutes(scope, context);
    indexRoutes(scope, context);
    queryRoutes(scope, context);
    statusRoutes(scope, context);
    tailRoutes(scope, context);
    detectedLabelRoutes(scope, context);
    detectedFieldsRoutes(scope, context);
    patternRoutes(scope, context);
    ruleRoutes(scope, context);
    prometheusRuleRoutes(scope, context);
  });

  const ready = store
    .replay((seq, payload) => {
      distributor.replay(seq, payload, Date.now());
      metrics.walReplayedRecords.inc();
    })
    .then((summary) => {
      if (summary.corruptSegments.length > 0) app.log.warn({ segments: summary.corruptSegments }, 'WAL segments ended in a torn record');
      context.readiness.ready = true;
      ruler.start(app.log);
    });

  let closed = false;
  return {
    app,
    context,
    ready,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
      await ready.catch(() => undefined);
      await ruler.close();
      await store.close();
      await workers.close();
      await queryWorkers.close();
    },
  };
}
