/**
 * GET|POST /loki/api/v1/series: the label sets of the streams matching any of the
 * `match[]` selectors with entries in [start, end].
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MemStream } from '../store/stream.js';
import type { ServerContext } from './context.js';
import { badRequest } from './errors.js';
import { parseBounds, requestParams } from './params.js';
import { selectorParam } from './selector.js';

export function seriesRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const handler = async (request: FastifyRequest) => {
    const params = requestParams(request);
    const selectors = [...params.getAll('match[]'), ...params.getAll('match')];
    if (selectors.length === 0) throw badRequest('0 matcher groups supplied');
    const matcherGroups = selectors.map(selectorParam);
    const { start, end } = parseBounds(params);
    const found = new Map<number, MemStream>();
    for (const matchers of matcherGroups) {
      for (const stream of ctx.store.selectStreams(request.tenant, matchers, start, end + 1n)) found.set(stream.id, stream);
    }
    const streams = [...found.values()].sort((a, b) => (a.labels < b.labels ? -1 : a.labels > b.labels ? 1 : 0));
    return { status: 'success', data: streams.map((s) => Object.fromEntries(s.pairs)) };
  };
  for (const path of ['/loki/api/v1/series', '/api/prom/series']) {
    app.get(path, handler);
    app.post(path, handler);
  }
}
