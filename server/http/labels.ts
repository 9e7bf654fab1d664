/**
 * GET|POST /loki/api/v1/labels (alias /label) and /loki/api/v1/label/{name}/values:
 * label names and values of the streams with entries in [start, end], optionally only
 * those matching `query`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { MemStream } from '../store/stream.js';
import type { ServerContext } from './context.js';
import { parseBounds, requestParams } from './params.js';
import { selectorParam } from './selector.js';

/** Loki omits `data` when there is nothing to return (pkg/loghttp/labels.go). */
function labelResponse(values: Iterable<string>): { status: 'success'; data?: string[] } {
  const data = [...values].sort();
  return data.length > 0 ? { status: 'success', data } : { status: 'success' };
}

export function streamsForRequest(ctx: ServerContext, request: FastifyRequest, params: URLSearchParams): MemStream[] {
  const { start, end } = parseBounds(params);
  // Metadata ranges include `end`; the store's ranges exclude it.
  const query = params.get('query');
  return query
    ? ctx.store.selectStreams(request.tenant, selectorParam(query), start, end + 1n)
    : ctx.store.streamsInRange(request.tenant, start, end + 1n);
}

export function labelRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const names = async (request: FastifyRequest) => {
    const seen = new Set<string>();
    for (const stream of streamsForRequest(ctx, request, requestParams(request))) {
      for (const [name] of stream.pairs) seen.add(name);
    }
    return labelResponse(seen);
  };
  for (const path of ['/loki/api/v1/labels', '/loki/api/v1/label', '/api/prom/label']) {
    app.get(path, names);
    app.post(path, names);
  }

  const values = async (request: FastifyRequest<{ Params: { name: string } }>) => {
    const name = request.params.name;
    const seen = new Set<string>();
    for (const stream of streamsForRequest(ctx, request, requestParams(request))) {
      const value = stream.labelMap.get(name);
      if (value !== undefined) seen.add(value);
    }
    return labelResponse(seen);
  };
  const schema = { params: { type: 'object', properties: { name: { type: 'string', minLength: 1 } }, required: ['name'] } };
  for (const path of ['/loki/api/v1/label/:name/values', '/api/prom/label/:name/values']) {
    app.get(path, { schema }, values);
    app.post(path, { schema }, values);
  }
}
