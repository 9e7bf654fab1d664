/**
 * Tenant resolution, as Loki's auth middleware does it: with `auth_enabled: false` every
 * request acts for `fake`; otherwise `X-Scope-OrgID` is required (401 `no org id`) and
 * must be a valid tenant id, since it also names data on disk.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';

export const DEFAULT_TENANT = 'fake';
const MAX_TENANT_LENGTH = 150;
/** Loki's tenant.ValidTenantID alphabet. */
const TENANT_CHARS = /^[a-zA-Z0-9!\-_.*'()]+$/;

export function validateTenantId(id: string): string | undefined {
  if (id.length > MAX_TENANT_LENGTH) return `tenant ID is too long: max ${MAX_TENANT_LENGTH} characters`;
  if (id === '.' || id === '..') return 'tenant ID is . or ..';
  const bad = [...id].find((c) => !TENANT_CHARS.test(c));
  if (bad !== undefined) return `tenant ID '${id.replace(/[\u0000-\u001f\u007f]/g, '?')}' contains unsupported character '${bad.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}'`;
  return undefined;
}

export function registerTenantHook(app: FastifyInstance, authEnabled: boolean): void {
  app.decorateRequest('tenant', '');
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (!request.url.startsWith('/loki/') && !request.url.startsWith('/api/prom/') && !request.url.startsWith('/prometheus/')) return;
    if (!authEnabled) {
      request.tenant = DEFAULT_TENANT;
      return;
    }
    const header = request.headers['x-scope-orgid'];
    const id = Array.isArray(header) ? header[0] : header;
    if (id === undefined || id === '') throw new HttpError(401, 'no org id');
    const problem = validateTenantId(id);
    if (problem !== undefined) throw new HttpError(401, problem);
    request.tenant = id;
  });
}
