/**
 * POST /loki/api/v1/push (and the legacy /api/prom/push): Content-Type application/json
 * is Loki's JSON body, anything else a snappy-compressed protobuf PushRequest; the body
 * may also carry a Content-Encoding of gzip or deflate.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { PushDecodeError } from '../../proto/index.js';
import { JsonPushError, type PushFormat } from '../ingest/record.js';
import type { ServerContext } from './context.js';
import { HttpError } from './errors.js';

export function pushRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const maxBytes = ctx.config.distributor.max_recv_msg_size;

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const started = process.hrtime.bigint();
    if (!ctx.readiness.ready) throw new HttpError(503, 'Ingester not ready: WAL replay in progress');
    const raw = request.body;
    if (!Buffer.isBuffer(raw)) throw new HttpError(400, 'push body missing');
    const body = contentDecode(raw, request.headers['content-encoding'], maxBytes);
    const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const format: PushFormat = contentType === 'application/json' ? 'json' : 'protobuf';

    let decoded;
    try {
      decoded = await ctx.workers.decode(format, body, maxBytes);
    } catch (err) {
      if (err instanceof PushDecodeError || err instanceof JsonPushError) throw new HttpError(400, err.message);
      throw err;
    }
    const { batch } = decoded;
    if (batch.streams.length === 0) throw new HttpError(422, 'error at least one valid stream is required for ingestion');

    const outcome = ctx.distributor.push(request.tenant, format, decoded.body, batch, Date.now());
    if (ctx.store.walSyncPerBatch) await ctx.store.syncWal();
    if (ctx.store.backlogged) await ctx.store.drained();
    ctx.metrics.pushDuration.observe(
      { route: 'loki_api_v1_push', status_code: String(outcome.status) },
      Number(process.hrtime.bigint() - started) / 1e9,
    );
    if (outcome.status === 204) {
      void reply.code(204).send();
    } else {
      void reply.code(outcome.status).type('text/plain; charset=utf-8').send(outcome.body);
    }
  };

  app.post('/loki/api/v1/push', handler);
  app.post('/api/prom/push', handler);
}

/** Undoes Content-Encoding; `snappy` is a no-op because the protobuf body is snappy already. */
function contentDecode(body: Buffer, encodingHeader: string | undefined, maxBytes: number): Buffer {
  const encoding = (encodingHeader ?? '').trim().toLowerCase();
  try {
    switch (encoding) {
      case '':
      case 'identity':
      case 'snappy':
        return body;
      case 'gzip':
        return gunzipSync(body, { maxOutputLength: maxBytes });
      case 'deflate':
        // RFC 9110 says zlib-wrapped; Go's flate reader (which Loki uses) reads raw DEFLATE. Accept both.
        try {
          return inflateSync(body, { maxOutputLength: maxBytes });
        } catch {
          return inflateRawSync(body, { maxOutputLength: maxBytes });
        }
      default:
        throw new HttpError(400, `Content-Encoding "${encodingHeader}" not supported`);
    }
  } catch (err) {
    if (err instanceof HttpError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new HttpError(413, `decompressed body exceeds the limit of ${maxBytes} bytes`);
    throw new HttpError(400, `cannot decode ${encoding} body: ${(err as Error).message}`);
  }
}
