/**
 * The LogQL engine (`skald/logql` engine part): evaluates a parsed query against a `LogSource`.
 * Log queries give `streams`; metric queries `matrix` (range) or `vector` (instant); literals `scalar`.
 */
import type { Expr } from '../ast.js';
import type { QueryContext } from './context.js';
import { evaluateLogQuery } from './log-query.js';
import { evaluateSample } from './metric-query.js';
import type { QueryResult } from './result.js';
import type { Direction, LogSource } from './source.js';

export interface QueryParams {
  /** Nanoseconds. Log queries read [start, end); range queries evaluate at start + k·step ≤ end. */
  readonly start: bigint;
  readonly end: bigint;
  /** 0 for instant queries. */
  readonly stepNs: bigint;
  /** An instant query: evaluated once at `end` (= `start`). */
  readonly instant: boolean;
  /** Log queries: entries returned over all streams. */
  readonly limit: number;
  readonly direction: Direction;
  /** Log queries: at most one entry per `intervalNs` (Loki's `interval`), 0 for all. */
  readonly intervalNs: bigint;
  /** Log queries: keep structured metadata and parsed labels apart (`categorize-labels`). */
  readonly categorizeLabels: boolean;
}

/** Log queries cannot be instant queries; callers check `isLogQuery` first. */
export function isLogQuery(expr: Expr): boolean {
  return expr.kind === 'LogSelector';
}

export async function evaluate(expr: Expr, source: LogSource, params: QueryParams, ctx: QueryContext): Promise<QueryResult> {
  if (expr.kind === 'LogSelector') return evaluateLogQuery(expr, source, params, ctx);
  return evaluateSample(expr, source, params, ctx);
}

export * from './context.js';
export type * from './result.js';
export type * from './source.js';
export type { LogQueryParams } from './log-query.js';
