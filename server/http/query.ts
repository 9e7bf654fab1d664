/**
 * GET|POST /loki/api/v1/query_range, /loki/api/v1/query and the legacy /api/prom/query: LogQL
 * queries with Loki's parameters, limits, errors and response shapes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Expr } from '../../logql/ast.js';
import { QueryError, QueryTimeoutError, isLogQuery, type QueryParams } from '../../logql/engine/index.js';
import { ParseError, parse } from '../../logql/index.js';
import { formatLabelString } from '../../proto/index.js';
import { QueryCancelledError, runQuery, type QueryRun } from '../query/run.js';
import type { ServerContext } from './context.js';
import { HttpError, badRequest } from './errors.js';
import { requestParams } from './params.js';
import { formatGoDuration, parseInstantQuery, parseRangeQuery, type RangeQueryParams } from './query-params.js';
import { encodeQueryResponse, encodeStats, wantsCategorizedLabels } from './query-response.js';

const UNSUPPORTED_INSTANT = 'log queries are not supported as an instant query type, please change your query to a range query type';
const DEADLINE_EXCEEDED =
  'request timed out, decrease the duration of the request or add more label matchers (prefer exact match over regex match) to reduce the amount of data processed';

export function parseQueryParam(query: string): Expr {
  try {
    return parse(query);
  } catch (err) {
    if (err instanceof ParseError) throw badRequest(err.lokiMessage);
    throw err;
  }
}

/** Checks the entries limit, runs the query and maps the engine's errors to Loki's statuses. */
async function execute(ctx: ServerContext, request: FastifyRequest, expr: Expr, params: QueryParams): Promise<QueryRun> {
  const limits = ctx.config.limits_config;
  if (isLogQuery(expr) && limits.max_entries_limit_per_query > 0 && params.limit > limits.max_entries_limit_per_query) {
    throw badRequest(
      `max entries limit per query exceeded, limit > max_entries_limit_per_query (${params.limit} > ${limits.max_entries_limit_per_query})`,
    );
  }
  return runForRequest(ctx, request, expr, params);
}

/** Runs a query for an HTTP request (tenant, timeout, series limit, cancellation) and maps the engine's errors to Loki's statuses. */
export async function runForRequest(ctx: ServerContext, request: FastifyRequest, expr: Expr, params: QueryParams): Promise<QueryRun> {
  const limits = ctx.config.limits_config;
  try {
    return await runQuery(expr, params, {
      store: ctx.store,
      workers: ctx.queryWorkers,
      tenant: request.tenant,
      timeoutMs: limits.query_timeout,
      limits: { maxQuerySeries: limits.max_query_series },
      cancelled: () => request.socket.destroyed,
    });
  } catch (err) {
    if (err instanceof QueryError) throw badRequest(err.message);
    if (err instanceof QueryTimeoutError) throw new HttpError(504, DEADLINE_EXCEEDED);
    if (err instanceof QueryCancelledError) throw new HttpError(499, 'the request was cancelled by the client');
    throw err;
  }
}

function rangeParams(q: RangeQueryParams, categorizeLabels: boolean): QueryParams {
  const { start, end, stepNs, limit, direction, intervalNs } = q;
  return { start, end, stepNs, instant: false, limit, direction, intervalNs, categorizeLabels };
}

function sendJson(reply: FastifyReply, body: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(body);
}

export function queryRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const rangeQuery = async (request: FastifyRequest, reply: FastifyReply) => {
    const q = parseRangeQuery(requestParams(request));
    const expr = parseQueryParam(q.query);
    const maxLengthMs = ctx.config.limits_config.max_query_length;
    const lengthMs = Number((q.end - q.start) / 1_000_000n);
    if (maxLengthMs > 0 && lengthMs > maxLengthMs) {
      throw badRequest(
        `the query time range exceeds the limit (query length: ${formatGoDuration(lengthMs)}, limit: ${formatGoDuration(maxLengthMs)})`,
      );
    }
    const categorize = wantsCategorizedLabels(request.headers['x-loki-response-encoding-flags']);
    const run = await execute(ctx, request, expr, rangeParams(q, categorize));
    return sendJson(reply, encodeQueryResponse(run, categorize));
  };
  for (const path of ['/loki/api/v1/query_range']) {
    app.get(path, rangeQuery);
    app.post(path, rangeQuery);
  }

  const instantQuery = async (request: FastifyRequest, reply: FastifyReply) => {
    const q = parseInstantQuery(requestParams(request));
    const expr = parseQueryParam(q.query);
    if (isLogQuery(expr)) throw badRequest(UNSUPPORTED_INSTANT);
    const categorize = wantsCategorizedLabels(request.headers['x-loki-response-encoding-flags']);
    const run = await execute(ctx, request, expr, {
      start: q.time,
      end: q.time,
      stepNs: 0n,
      instant: true,
      limit: q.limit,
      direction: q.direction,
      intervalNs: 0n,
      categorizeLabels: categorize,
    });
    return sendJson(reply, encodeQueryResponse(run, categorize));
  };
  app.get('/loki/api/v1/query', instantQuery);
  app.post('/loki/api/v1/query', instantQuery);

  // Loki's v0 API: log queries only, with `regexp` as an extra line filter, RFC3339 timestamps.
  const legacyQuery = async (request: FastifyRequest, reply: FastifyReply) => {
    const params = requestParams(request);
    const q = parseRangeQuery(params);
    const regexp = params.get('regexp');
    const expr = parseQueryParam(regexp ? `${q.query} |~ ${JSON.stringify(regexp)}` : q.query);
    if (!isLogQuery(expr)) throw badRequest('legacy endpoints only support streams result type');
    const run = await execute(ctx, request, expr, rangeParams(q, false));
    if (run.result.type !== 'streams') throw new Error('a log query gave a metric result');
    const streams = run.result.streams.map((s) => ({
      labels: formatLabelString(s.labels.map((l) => [l.name, l.value] as const)),
      entries: s.entries.map((e) => ({ ts: formatRfc3339Nano(e.ts), line: e.line })),
    }));
    return sendJson(reply, JSON.stringify({ streams, stats: encodeStats(run) }));
  };
  app.get('/api/prom/query', legacyQuery);
  app.post('/api/prom/query', legacyQuery);
}

/** Go's time.RFC3339Nano in UTC: trailing zeros of the fraction dropped. */
export function formatRfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n) - (ns % 1_000_000n < 0n ? 1 : 0);
  const seconds = new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19);
  let fraction = (((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  if (fraction !== '') fraction = '.' + fraction;
  return `${seconds}${fraction}Z`;
}
