import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nowNs, readAllEntries, startServer, type InProcessServer } from '../helpers/server.js';
import { getJson, push } from '../helpers/push.js';

describe('multi-tenancy with auth_enabled: true', () => {
  let srv: InProcessServer;
  beforeAll(async () => {
    srv = await startServer({ auth_enabled: true, limits_config: { discover_log_levels: false, discover_service_name: [] } });
    const ts = nowNs(-60_000);
    expect((await push(srv.url, [{ labels: { app: 'alpha', team: 'a' }, entries: [{ ts, line: 'from A' }] }], 'protobuf', { 'X-Scope-OrgID': 'tenant-a' })).status).toBe(204);
    expect((await push(srv.url, [{ labels: { app: 'beta', owner: 'b' }, entries: [{ ts, line: 'from B' }] }], 'json', { 'X-Scope-OrgID': 'tenant-b' })).status).toBe(204);
  });
  afterAll(() => srv.close());

  it('answers 401 "no org id" without X-Scope-OrgID', async () => {
    const res = await fetch(`${srv.url}/loki/api/v1/labels`);
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('no org id');
    expect((await push(srv.url, [{ labels: { app: 'x' }, entries: [{ ts: nowNs(), line: 'x' }] }])).status).toBe(401);
  });

  it.each(['../etc', 'a/b', '..', 'bad\u0001id', 'x'.repeat(151)])('rejects the tenant id %j', async (id) => {
    const res = await fetch(`${srv.url}/loki/api/v1/labels`, { headers: { 'X-Scope-OrgID': id } }).catch(() => undefined);
    // fetch itself refuses control characters in headers; the server must refuse the rest.
    if (res !== undefined) expect(res.status).toBe(401);
  });

  it("never shows one tenant another tenant's labels, values or series", async () => {
    const a = { 'X-Scope-OrgID': 'tenant-a' };
    const b = { 'X-Scope-OrgID': 'tenant-b' };
    expect((await getJson(`${srv.url}/loki/api/v1/labels`, a)).json).toEqual({ status: 'success', data: ['app', 'team'] });
    expect((await getJson(`${srv.url}/loki/api/v1/labels`, b)).json).toEqual({ status: 'success', data: ['app', 'owner'] });
    expect((await getJson(`${srv.url}/loki/api/v1/label/app/values`, a)).json).toEqual({ status: 'success', data: ['alpha'] });
    const seriesB = await getJson(`${srv.url}/loki/api/v1/series?match[]=${encodeURIComponent('{app=~".+"}')}`, b);
    expect(seriesB.json).toEqual({ status: 'success', data: [{ app: 'beta', owner: 'b' }] });
    const seriesAofB = await getJson(`${srv.url}/loki/api/v1/series?match[]=${encodeURIComponent('{app="beta"}')}`, a);
    expect(seriesAofB.json).toEqual({ status: 'success', data: [] });
    expect(readAllEntries(srv.store, 'tenant-a').map((e) => e.line)).toEqual(['from A']);
    expect(readAllEntries(srv.store, 'tenant-b').map((e) => e.line)).toEqual(['from B']);
  });
});

describe('auth_enabled: false', () => {
  let srv: InProcessServer;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(() => srv.close());

  it('acts for tenant "fake" whatever X-Scope-OrgID says', async () => {
    expect((await push(srv.url, [{ labels: { app: 'f' }, entries: [{ ts: nowNs(-1000), line: 'x' }] }], 'protobuf', { 'X-Scope-OrgID': 'other' })).status).toBe(204);
    expect(readAllEntries(srv.store, 'fake').map((e) => e.line)).toEqual(['x']);
    expect(readAllEntries(srv.store, 'other')).toEqual([]);
  });
});
