/** /ready, /metrics and /loki/api/v1/status/buildinfo. */
import type { FastifyInstance } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerContext } from './context.js';

/** Our package.json, found from here whether running from sources or from dist/. */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

const version = packageVersion();

export function statusRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/ready', async (_request, reply) => {
    if (!ctx.readiness.ready) return reply.code(503).type('text/plain; charset=utf-8').send('Ingester not ready: waiting for WAL replay\n');
    return reply.type('text/plain; charset=utf-8').send('ready\n');
  });

  app.get('/metrics', async (_request, reply) => {
    ctx.metrics.activeStreams.set(ctx.store.activeStreamCount());
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });

  const buildinfo = async () => ({
    version,
    revision: '',
    branch: '',
    buildUser: '',
    buildDate: '',
    goVersion: `node ${process.version}`,
  });
  app.get('/loki/api/v1/status/buildinfo', buildinfo);
}
