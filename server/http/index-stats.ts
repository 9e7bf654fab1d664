/**
 * GET|POST /loki/api/v1/index/stats: how many streams, chunks, entries and (uncompressed) bytes
 * the streams matching `query` hold in [start, end], from the index and the in-memory heads,
 * without reading log data. Loki parses the request as a range query (ParseIndexStatsQuery)
 * and answers a bare object, `{"streams":n,"chunks":n,"bytes":n,"entries":n}`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerContext } from './context.js';
import { requestParams } from './params.js';
import { parseRangeQuery } from './query-params.js';
import { selectorParam } from './selector.js';
import { streamStats, volumeRoutes } from './volume.js';

/** index/stats, index/volume and index/volume_range. */
export function indexRoutes(app: FastifyInstance, ctx: ServerContext): void {
  indexStatsRoutes(app, ctx);
  volumeRoutes(app, ctx);
}

function indexStatsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const handler = async (request: FastifyRequest) => {
    const params = requestParams(request);
    const { query, start, end } = parseRangeQuery(params);
    const matchers = selectorParam(query);
    const result = { streams: 0, chunks: 0, bytes: 0, entries: 0 };
    // Loki's index ranges include `end`; the store's exclude it.
    for (const stream of ctx.store.selectStreams(request.tenant, matchers, start, end + 1n)) {
      const stats = streamStats(ctx.store, stream, start, end + 1n);
      if (stats.entries === 0) continue;
      result.streams++;
      result.chunks += stats.chunks;
      result.bytes += stats.bytes;
      result.entries += stats.entries;
    }
    return result;
  };
  for (const path of ['/loki/api/v1/index/stats']) {
    app.get(path, handler);
    app.post(path, handler);
  }
}
