/**
 * Runs one LogQL query against the store: the deadline (`query_timeout`), turns for the event loop
 * so a long query never starves other requests, cancellation when the client goes away, and the
 * counters behind the response's `data.stats`.
 */
import { performance } from 'node:perf_hooks';
import type { Expr } from '../../logql/ast.js';
import {
  emptyStats,
  evaluate,
  QueryTimeoutError,
  type QueryContext,
  type QueryLimits,
  type QueryParams,
  type QueryResult,
  type QueryStats,
} from '../../logql/engine/index.js';
import type { Store } from '../store/store.js';
import type { WorkerPool } from '../workers/pool.js';
import { StoreLogSource, type StoreReadStats } from './source.js';

/** How long the engine may hold the event loop before it yields a turn to other requests. */
const YIELD_AFTER_MS = 10;

/** Thrown by a checkpoint when the client closed the connection. */
export class QueryCancelledError extends Error {
  constructor() {
    super('the request was cancelled by the client');
    this.name = 'QueryCancelledError';
  }
}

class DeadlineContext implements QueryContext {
  readonly stats: QueryStats = emptyStats();
  private readonly deadline: number;
  private lastYield = performance.now();

  constructor(timeoutMs: number, readonly limits: QueryLimits, private readonly cancelled: () => boolean) {
    this.deadline = timeoutMs > 0 ? this.lastYield + timeoutMs : Infinity;
  }

  checkpoint(): Promise<void> | undefined {
    const now = performance.now();
    if (now > this.deadline) throw new QueryTimeoutError();
    if (this.cancelled()) throw new QueryCancelledError();
    if (now - this.lastYield < YIELD_AFTER_MS) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        this.lastYield = performance.now();
        resolve();
      }),
    );
  }
}

export interface QueryRun {
  result: QueryResult;
  stats: QueryStats;
  store: StoreReadStats;
  /** Wall-clock seconds from the start of evaluation to the result. */
  execSeconds: number;
}

export interface RunOptions {
  store: Store;
  /** Worker threads that extract metric queries' samples from stored blocks. */
  workers?: WorkerPool;
  tenant: string;
  timeoutMs: number;
  limits: QueryLimits;
  /** Polled at checkpoints: true once the client has gone. */
  cancelled: () => boolean;
}

export async function runQuery(expr: Expr, params: QueryParams, options: RunOptions): Promise<QueryRun> {
  const started = performance.now();
  const source = new StoreLogSource(options.store, options.tenant, options.workers);
  const ctx = new DeadlineContext(options.timeoutMs, options.limits, options.cancelled);
  const result = await evaluate(expr, source, params, ctx);
  return { result, stats: ctx.stats, store: source.stats, execSeconds: (performance.now() - started) / 1000 };
}
