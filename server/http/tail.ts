/**
 * GET /loki/api/v1/tail (and the legacy /api/prom/tail): live tailing over a WebSocket, as Loki's
 * querier does it (pkg/querier/tail/http.go, pkg/loghttp/tail.go).
 *
 * Parameters are checked before the upgrade, so a bad request gets a plain-text HTTP 400 like
 * every other route. After the upgrade the connection subscribes to the tail hub at once (live
 * entries queue up from then on), sends the newest `limit` entries since `start` oldest first
 * (Loki's tailer queries history first), then streams new entries as they are pushed.
 *
 * WebSockets come from `@fastify/websocket`: the upgrade request goes through fastify's router and
 * hooks (tenant, parameter checks, error handler), which a bare `ws` server on the `upgrade` event
 * would bypass.
 */
import type { Socket } from 'node:net';
import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { LogSelectorExpr } from '../../logql/ast.js';
import { QueryError } from '../../logql/engine/index.js';
import { compilePipeline } from '../../logql/pipeline/pipeline.js';
import { labelsKey, type Labels } from '../../logql/pipeline/labels.js';
import { formatLabelString } from '../../proto/index.js';
import { runQuery } from '../query/run.js';
import type { TailedEntry, TailFrame, TailSink } from '../query/tail.js';
import type { ServerContext } from './context.js';
import { badRequest } from './errors.js';
import { parseBounds, requestParams } from './params.js';
import { formatRfc3339Nano, parseQueryParam } from './query.js';
import { parseLimit } from './query-params.js';

/** Loki's maxDelayForInTailing. */
const MAX_DELAY_FOR_SECONDS = 5;
/** Loki's wsPingPeriod: also how a dead peer is noticed when nothing else is written. */
const PING_PERIOD_MS = 1000;
/** Loki's `tail_max_duration` default. */
const TAIL_MAX_DURATION_MS = 60 * 60 * 1000;
/** RFC 6455: a close frame's reason is at most 123 bytes. */
const MAX_CLOSE_REASON_BYTES = 123;
/** WebSocket close code for a server-side error (Loki's CloseInternalServerErr). */
const CLOSE_INTERNAL_ERROR = 1011;
const CLOSE_GOING_AWAY = 1001;
/** How long clients get to answer the close handshake when the server stops. */
const SHUTDOWN_GRACE_MS = 500;

export interface TailRequest {
  expr: LogSelectorExpr;
  limit: number;
  start: bigint;
  delayMs: number;
}

/** Loki's ParseTailQuery: query (+ legacy `regexp`), limit, start (bounds), delay_for — in that order. */
export function parseTailRequest(params: URLSearchParams, legacy: boolean, maxEntries: number, nowMs = Date.now()): TailRequest {
  let query = params.get('query') ?? '';
  // Parsed alone first, so a bad query is reported at its own positions.
  let expr = parseQueryParam(query);
  const regexp = legacy ? params.get('regexp') : null;
  if (regexp) {
    query = `${query} |~ ${JSON.stringify(regexp)}`;
    expr = parseQueryParam(query);
  }
  if (expr.kind !== 'LogSelector') {
    throw badRequest(`unsupported query expression: want (LogSelectorExpr) got (${expr.kind}Expr)`);
  }
  try {
    compilePipeline(expr.stages);
  } catch (err) {
    throw badRequest(err instanceof Error ? err.message : String(err));
  }
  const limit = parseLimit(params.get('limit'));
  if (maxEntries > 0 && limit > maxEntries) {
    throw badRequest(`max entries limit per query exceeded, limit > max_entries_limit_per_query (${limit} > ${maxEntries})`);
  }
  const { start } = parseBounds(params, nowMs);
  const delayText = params.get('delay_for');
  let delay = 0;
  if (delayText !== null && delayText !== '') {
    if (!/^[+-]?\d+$/.test(delayText)) throw badRequest(`strconv.Atoi: parsing ${JSON.stringify(delayText)}: invalid syntax`);
    delay = Number(delayText);
  }
  // Loki keeps delay_for as a uint32: a negative value wraps around and is "too large" as well.
  if (delay > MAX_DELAY_FOR_SECONDS || delay < 0) throw badRequest(`delay_for can't be greater than ${MAX_DELAY_FOR_SECONDS}`);
  return { expr, limit, start, delayMs: delay * 1000 };
}

function labelsObject(labels: Labels): string {
  return JSON.stringify(Object.fromEntries(labels.map((l) => [l.name, l.value])));
}

/** Groups a frame's entries into streams by their labels, in order of first appearance. */
function groupByStream(entries: readonly TailedEntry[]): Array<{ labels: Labels; entries: TailedEntry[] }> {
  const streams = new Map<string, { labels: Labels; entries: TailedEntry[] }>();
  for (const e of entries) {
    let s = streams.get(e.key);
    if (s === undefined) {
      s = { labels: e.labels, entries: [] };
      streams.set(e.key, s);
    }
    s.entries.push(e);
  }
  return [...streams.values()];
}

/**
 * `{"streams":[{"stream":{…},"values":[["<ns>","<line>"]]}],"dropped_entries":[{"timestamp":"<ns>","labels":{…}}]}`;
 * like Loki (`omitempty`), `dropped_entries` only when something was dropped.
 */
export function encodeTailFrame(frame: TailFrame): string {
  const streams = groupByStream(frame.entries).map(
    (s) => `{"stream":${labelsObject(s.labels)},"values":[${s.entries.map((e) => `["${e.ts}",${JSON.stringify(e.line)}]`).join(',')}]}`,
  );
  let out = `{"streams":[${streams.join(',')}]`;
  if (frame.dropped.length > 0) {
    out += `,"dropped_entries":[${frame.dropped.map((d) => `{"timestamp":"${d.ts}","labels":${labelsObject(d.labels)}}`).join(',')}]`;
  }
  return out + '}';
}

function labelString(labels: Labels): string {
  return formatLabelString(labels.map((l) => [l.name, l.value] as const));
}

/** Loki's legacy TailResponse: label strings, RFC3339Nano times, `dropped_entries` always present. */
export function encodeLegacyTailFrame(frame: TailFrame): string {
  const streams = groupByStream(frame.entries).map((s) => ({
    labels: labelString(s.labels),
    entries: s.entries.map((e) => ({ ts: formatRfc3339Nano(e.ts), line: e.line })),
  }));
  const dropped = frame.dropped.length > 0 ? frame.dropped.map((d) => ({ Timestamp: formatRfc3339Nano(d.ts), Labels: labelString(d.labels) })) : null;
  return JSON.stringify({ streams, dropped_entries: dropped });
}

function closeReason(message: string): string {
  let reason = message;
  while (Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) reason = reason.slice(0, -1);
  return reason;
}

/** The newest `limit` entries in [start, end), oldest first (Loki: a backward query, reversed). */
async function backfill(ctx: ServerContext, tenant: string, q: TailRequest, end: bigint, gone: () => boolean): Promise<TailedEntry[]> {
  if (q.start >= end) return [];
  const run = await runQuery(
    q.expr,
    { start: q.start, end, stepNs: 0n, instant: false, limit: q.limit, direction: 'backward', intervalNs: 0n, categorizeLabels: false },
    {
      store: ctx.store,
      tenant,
      timeoutMs: ctx.config.limits_config.query_timeout,
      limits: { maxQuerySeries: ctx.config.limits_config.max_query_series },
      cancelled: gone,
    },
  );
  if (run.result.type !== 'streams') throw new QueryError('a log query gave a metric result');
  const entries: TailedEntry[] = [];
  for (const s of run.result.streams) {
    // The same identity the pipeline gives live entries, so start() can drop duplicates.
    const key = labelsKey(s.labels);
    for (const e of s.entries) entries.push({ ts: e.ts, line: e.line, labels: s.labels, key });
  }
  return entries.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
}

export function tailRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const parsed = new WeakMap<FastifyRequest, TailRequest>();

  app.register(async (scope) => {
    await scope.register(websocket, {
      options: { maxPayload: 64 * 1024 },
      // On shutdown, say goodbye (1001) but do not wait on clients that stopped reading.
      preClose(done) {
        const server = this.websocketServer;
        for (const client of server.clients) client.close(CLOSE_GOING_AWAY, 'server shutting down');
        const stragglers = setTimeout(() => {
          for (const client of server.clients) client.terminate();
        }, SHUTDOWN_GRACE_MS);
        stragglers.unref();
        server.close(() => clearTimeout(stragglers));
        done();
      },
    });

    // A refused handshake (400, or the tenant hook's 401 before the plugin saw the request) is
    // answered on the raw upgrade socket, which nothing else closes: end it once the answer is out.
    scope.addHook('onResponse', async (request, reply) => {
      if (reply.statusCode >= 400 && request.headers.upgrade?.toLowerCase() === 'websocket') {
        const socket = request.raw.socket as Socket & { destroySoon?: () => void };
        if (socket.destroySoon) socket.destroySoon();
        else socket.end();
      }
    });

    for (const path of ['/loki/api/v1/tail', '/api/prom/tail']) {
      const legacy = path.startsWith('/api/prom/');
      const encode = legacy ? encodeLegacyTailFrame : encodeTailFrame;

      const wsHandler = (socket: WebSocket, request: FastifyRequest): void => {
        const q = parsed.get(request);
        if (q === undefined) {
          socket.close(CLOSE_INTERNAL_ERROR, 'tail request was not parsed');
          return;
        }
        const open = () => socket.readyState === socket.OPEN;
        const sink: TailSink = {
          get bufferedAmount() {
            return socket.bufferedAmount;
          },
          send(frame, written) {
            if (!open()) return;
            socket.send(encode(frame), () => written());
          },
        };
        const sub = ctx.distributor.tail.subscribe(request.tenant, q.expr, { limit: q.limit, delayMs: q.delayMs }, sink);
        const ping = setInterval(() => {
          if (open()) socket.ping();
        }, PING_PERIOD_MS);
        const maxDuration = setTimeout(() => {
          if (open()) socket.close(CLOSE_INTERNAL_ERROR, 'reached tail max duration limit');
        }, TAIL_MAX_DURATION_MS);
        const cleanup = () => {
          sub.close();
          clearInterval(ping);
          clearTimeout(maxDuration);
        };
        socket.on('close', cleanup);
        // Frames from the client mean nothing (Loki reads and ignores them).
        socket.on('message', () => undefined);

        const end = BigInt(Date.now()) * 1_000_000n;
        backfill(ctx, request.tenant, q, end, () => !open()).then(
          (history) => sub.start(history),
          (err: unknown) => {
            if (open()) {
              if (!(err instanceof QueryError)) request.log.error({ err }, 'tail backfill failed');
              socket.close(CLOSE_INTERNAL_ERROR, closeReason(err instanceof Error ? err.message : String(err)));
            }
            cleanup();
          },
        );
      };

      scope.route({
        method: 'GET',
        url: path,
        preValidation: async (request: FastifyRequest) => {
          parsed.set(request, parseTailRequest(requestParams(request), legacy, ctx.config.limits_config.max_entries_limit_per_query));
        },
        // A plain GET that is no WebSocket handshake: Loki's upgrader answers 400.
        handler: async (_request: FastifyRequest, reply: FastifyReply) =>
          reply
            .code(400)
            .type('text/plain; charset=utf-8')
            .send("websocket: the client is not using the websocket protocol: 'upgrade' token not found in 'Connection' header\n"),
        wsHandler,
      });
    }
  });
}
