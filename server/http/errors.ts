/**
 * Loki answers errors with a plain-text body and a status code (pkg/util/server/error.go);
 * Grafana shows that text as written. Handlers throw HttpError; everything else is a 500.
 */
import type { FastifyError, FastifyInstance } from 'fastify';

export class HttpError extends Error {
  constructor(readonly statusCode: number, message: string) {
    super(message);
  }
}

export function badRequest(message: string): HttpError {
  return new HttpError(400, message);
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | HttpError | Error, request, reply) => {
    let status = 500;
    let message = error.message;
    if (error instanceof HttpError) {
      status = error.statusCode;
    } else if ('statusCode' in error && typeof error.statusCode === 'number' && error.statusCode >= 400) {
      status = error.statusCode;
      if ('code' in error && error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') message = 'request body too large';
    }
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    void reply.code(status).type('text/plain; charset=utf-8').send(message);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).type('text/plain; charset=utf-8').send(`404 page not found: ${request.method} ${request.url}\n`);
  });
}
