import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nowNs, startServer, type InProcessServer } from '../helpers/server.js';
import { getJson, push } from '../helpers/push.js';

const HOUR_NS = 3_600_000_000_000n;

describe('labels, label values and series', () => {
  let srv: InProcessServer;
  const ts = nowNs(-60_000);
  beforeAll(async () => {
    srv = await startServer({ limits_config: { reject_old_samples: false, discover_log_levels: false, discover_service_name: [] } });
    const res = await push(srv.url, [
      { labels: { app: 'api', namespace: 'prod', pod: 'api-1' }, entries: [{ ts, line: 'a' }] },
      { labels: { app: 'api', namespace: 'dev', pod: 'api-2' }, entries: [{ ts, line: 'b' }] },
      { labels: { app: 'web', namespace: 'prod' }, entries: [{ ts, line: 'c' }] },
      // Written three days ago: outside the default one-hour window.
      { labels: { app: 'old', legacy: 'yes' }, entries: [{ ts: ts - 72n * HOUR_NS, line: 'd' }] },
    ]);
    expect(res.status).toBe(204);
  });
  afterAll(() => srv.close());

  it('lists label names of streams in the time range', async () => {
    const { status, json } = await getJson(`${srv.url}/loki/api/v1/labels`);
    expect(status).toBe(200);
    expect(json).toEqual({ status: 'success', data: ['app', 'namespace', 'pod'] });
    const alias = await getJson(`${srv.url}/loki/api/v1/label?start=${ts - 100n * HOUR_NS}&end=${ts}`);
    expect(alias.json).toEqual({ status: 'success', data: ['app', 'legacy', 'namespace', 'pod'] });
  });

  it('omits data when there are no labels, as Loki does', async () => {
    const { json } = await getJson(`${srv.url}/loki/api/v1/labels?start=1000000000&end=1000000100`);
    expect(json).toEqual({ status: 'success' });
  });

  it('lists label values, optionally for a selector', async () => {
    expect((await getJson(`${srv.url}/loki/api/v1/label/app/values`)).json).toEqual({ status: 'success', data: ['api', 'web'] });
    const q = encodeURIComponent('{namespace="prod"}');
    expect((await getJson(`${srv.url}/loki/api/v1/label/pod/values?query=${q}`)).json).toEqual({ status: 'success', data: ['api-1'] });
  });

  it('answers POST forms like GET', async () => {
    const res = await fetch(`${srv.url}/loki/api/v1/label/namespace/values`, {
      method: 'POST',
      body: new URLSearchParams({ query: '{app="api"}', since: '2h' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'success', data: ['dev', 'prod'] });
  });

  it('returns series for several match[] selectors, each once', async () => {
    const params = new URLSearchParams();
    params.append('match[]', '{app="api"}');
    params.append('match[]', '{namespace=~"pro.*"}');
    const { status, json } = await getJson(`${srv.url}/loki/api/v1/series?${params}`);
    expect(status).toBe(200);
    expect(json).toEqual({
      status: 'success',
      data: [
        { app: 'api', namespace: 'dev', pod: 'api-2' },
        { app: 'api', namespace: 'prod', pod: 'api-1' },
        { app: 'web', namespace: 'prod' },
      ],
    });
  });

  it('answers bad selectors and times with 400 and plain text', async () => {
    const bad = await fetch(`${srv.url}/loki/api/v1/series?match[]=${encodeURIComponent('{app=}')}`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await bad.text()).toMatch(/^parse error at line 1, col \d+/);
    const badTime = await fetch(`${srv.url}/loki/api/v1/labels?start=tomorrow`);
    expect(badTime.status).toBe(400);
    expect(await badTime.text()).toContain('invalid start time "tomorrow"');
    const none = await fetch(`${srv.url}/loki/api/v1/series`);
    expect(none.status).toBe(400);
  });
});

describe('status endpoints', () => {
  let srv: InProcessServer;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(() => srv.close());

  it('serves /ready, /metrics and buildinfo', async () => {
    expect((await fetch(`${srv.url}/ready`)).status).toBe(200);
    expect((await push(srv.url, [{ labels: { app: 'm' }, entries: [{ ts: nowNs(-1000), line: 'x'.repeat(10) }, { ts: nowNs(-20 * 86_400_000), line: 'old' }] }])).status).toBe(400);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    expect(metrics).toMatch(/loki_distributor_lines_received_total\{tenant="fake"\} 2/);
    expect(metrics).toMatch(/loki_distributor_bytes_received_total\{tenant="fake"\} 13/);
    expect(metrics).toMatch(/loki_discarded_samples_total\{reason="greater_than_max_sample_age",tenant="fake"\} 1/);
    expect(metrics).toMatch(/loki_ingester_memory_streams 1/);
    expect(metrics).toMatch(/loki_request_duration_seconds_count\{route="loki_api_v1_push",status_code="400"\} 1/);
    const info = await getJson(`${srv.url}/loki/api/v1/status/buildinfo`);
    expect(info.json).toMatchObject({ version: expect.any(String), goVersion: expect.stringContaining('node') });
  });
});
