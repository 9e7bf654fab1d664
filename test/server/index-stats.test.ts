import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, tempDir, type InProcessServer } from '../helpers/server.js';
import { getJson, push, type TestStream } from '../helpers/push.js';

const SEC = 1_000_000_000n;
const MIN = 60n * SEC;

/** A minute boundary a few minutes ago, so step-aligned buckets are predictable. */
const T0 = ((BigInt(Date.now()) * 1_000_000n) / MIN) * MIN - 5n * MIN;

function entries(count: number, at: bigint, size: number, prefix: string) {
  return Array.from({ length: count }, (_, i) => ({ ts: at + BigInt(i), line: `${prefix} ${i} `.padEnd(size, 'x') }));
}

const STREAMS: TestStream[] = [
  // Two pushes' worth in different minutes: T0 − 3 min and T0.
  { labels: { app: 'api', env: 'prod' }, entries: [...entries(3, T0 - 3n * MIN, 100, 'api-prod'), ...entries(2, T0, 100, 'api-prod-late')] },
  { labels: { app: 'api', env: 'dev' }, entries: entries(2, T0, 50, 'api-dev') },
  { labels: { app: 'web', env: 'prod' }, entries: entries(4, T0, 400, 'web') },
  { labels: { team: 'ops' }, entries: entries(1, T0, 10, 'ops') },
  // Three days earlier: outside the ranges queried below.
  { labels: { app: 'old', env: 'prod' }, entries: entries(1, T0 - 72n * 60n * MIN, 10, 'old') },
];

const lineBytes = (labels: Record<string, string>) =>
  STREAMS.filter((s) => typeof s.labels !== 'string' && Object.entries(labels).every(([k, v]) => (s.labels as Record<string, string>)[k] === v))
    .flatMap((s) => s.entries)
    .reduce((sum, e) => sum + Buffer.byteLength(e.line), 0);

interface Stats {
  streams: number;
  chunks: number;
  bytes: number;
  entries: number;
}

function get(url: string, path: string, params: Record<string, string>): ReturnType<typeof getJson> {
  return getJson(`${url}${path}?${new URLSearchParams(params)}`);
}

const range = { start: String(T0 - 10n * MIN), end: String(T0 + MIN) };

describe('index/stats', () => {
  let srv: InProcessServer;
  const dataDir = tempDir();
  beforeAll(async () => {
    srv = await startServer({ limits_config: { reject_old_samples: false } }, dataDir);
    expect((await push(srv.url, STREAMS)).status).toBe(204);
  });
  afterAll(() => srv.close());

  it('counts the matching streams, their chunks, entries and bytes in the range', async () => {
    const { status, json } = await get(srv.url, '/loki/api/v1/index/stats', { query: '{app="api"}', ...range });
    expect(status).toBe(200);
    const stats = json as Stats;
    expect(Object.keys(stats)).toEqual(['streams', 'chunks', 'bytes', 'entries']);
    expect(stats.streams).toBe(2);
    expect(stats.entries).toBe(7);
    expect(stats.chunks).toBe(2);
    // Uncompressed bytes: the lines and metadata (detected_level) plus a few bytes per entry of framing.
    expect(stats.bytes).toBeGreaterThan(lineBytes({ app: 'api' }));
    expect(stats.bytes).toBeLessThan(lineBytes({ app: 'api' }) + 7 * 40);
  });

  it('sums every stream for a wide selector and leaves out streams outside the range', async () => {
    const all = (await get(srv.url, '/loki/api/v1/index/stats', { query: '{service_name=~".+"}', ...range })).json as Stats;
    expect(all.streams).toBe(4);
    expect(all.entries).toBe(5 + 2 + 4 + 1);
    const old = (await get(srv.url, '/loki/api/v1/index/stats', { query: '{app="old"}', ...range })).json as Stats;
    expect(old).toEqual({ streams: 0, chunks: 0, bytes: 0, entries: 0 });
    const older = (await get(srv.url, '/loki/api/v1/index/stats', { query: '{app="old"}', start: String(T0 - 73n * 60n * MIN), end: String(T0 - 71n * 60n * MIN) })).json as Stats;
    expect(older.streams).toBe(1);
    expect(older.entries).toBe(1);
  });

  it('accepts RFC3339 and seconds for start and end, and POST forms', async () => {
    const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();
    const byIso = (await get(srv.url, '/loki/api/v1/index/stats', { query: '{app="web"}', start: iso(T0 - MIN), end: iso(T0 + MIN) })).json as Stats;
    expect(byIso.streams).toBe(1);
    expect(byIso.entries).toBe(4);
    const bySeconds = (await get(srv.url, '/loki/api/v1/index/stats', { query: '{app="web"}', start: String((T0 - MIN) / SEC), end: String((T0 + MIN) / SEC) })).json;
    expect(bySeconds).toEqual(byIso);
    const res = await fetch(`${srv.url}/loki/api/v1/index/stats`, { method: 'POST', body: new URLSearchParams({ query: '{app="web"}', ...range }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(byIso);
  });

  it('answers bad requests with 400 and Loki’s plain-text messages', async () => {
    const bad = await get(srv.url, '/loki/api/v1/index/stats', { query: '{app=}', ...range });
    expect(bad.status).toBe(400);
    expect(bad.type).toMatch(/^text\/plain/);
    expect(bad.text).toMatch(/^parse error at line 1, col \d+/);
    const none = await get(srv.url, '/loki/api/v1/index/stats', range);
    expect(none.status).toBe(400);
    expect(none.text).toMatch(/^parse error/);
    const time = await get(srv.url, '/loki/api/v1/index/stats', { query: '{app="api"}', start: 'yesterday' });
    expect(time.status).toBe(400);
    expect(time.text).toBe('invalid start time "yesterday": use Unix seconds, Unix nanoseconds or RFC3339');
    const order = await get(srv.url, '/loki/api/v1/index/stats', { query: '{app="api"}', start: range.end, end: range.start });
    expect(order.status).toBe(400);
    expect(order.text).toBe('end timestamp must not be before or equal to start time');
  });

  it('gives the same numbers from stored chunks after a restart', async () => {
    const before = (await get(srv.url, '/loki/api/v1/index/stats', { query: '{env=~".+"}', ...range })).json as Stats;
    await srv.close();
    srv = await startServer({ limits_config: { reject_old_samples: false } }, dataDir);
    const after = (await get(srv.url, '/loki/api/v1/index/stats', { query: '{env=~".+"}', ...range })).json as Stats;
    expect(after.streams).toBe(before.streams);
    expect(after.entries).toBe(before.entries);
    expect(after.chunks).toBe(3);
    expect(Math.abs(after.bytes - before.bytes)).toBeLessThan(100);
  });
});

describe('index/volume and index/volume_range', () => {
  let srv: InProcessServer;
  beforeAll(async () => {
    srv = await startServer({ limits_config: { reject_old_samples: false } });
    expect((await push(srv.url, STREAMS)).status).toBe(204);
  });
  afterAll(() => srv.close());

  const volume = (params: Record<string, string>) => get(srv.url, '/loki/api/v1/index/volume', { ...range, ...params });
  const bytesOf = (json: any) => json.data.result.map((r: any) => Number(r.value[1]));

  it('answers a vector of bytes per series, labelled by the selector’s label names, largest first', async () => {
    const { status, json } = await volume({ query: '{env=~".+"}' });
    expect(status).toBe(200);
    expect(json.status).toBe('success');
    expect(json.data.resultType).toBe('vector');
    expect(json.data.result.map((r: any) => r.metric)).toEqual([{ env: 'prod' }, { env: 'dev' }]);
    for (const r of json.data.result) expect(r.value[0]).toBe(Number(BigInt(range.end) / 1_000_000n) / 1000);
    const [prod, dev] = bytesOf(json);
    expect(prod).toBeGreaterThan(dev);
    // prod = api/prod + web/prod: the same bytes index/stats reports for them.
    const stats = (await get(srv.url, '/loki/api/v1/index/stats', { query: '{env="prod"}', ...range })).json as Stats;
    expect(prod).toBe(stats.bytes);
    expect(typeof json.data.result[0].value[1]).toBe('string');
  });

  it('keeps the limit largest series', async () => {
    const { json } = await volume({ query: '{app=~".+", env=~".+"}', limit: '2' });
    expect(json.data.result.map((r: any) => r.metric)).toEqual([
      { app: 'web', env: 'prod' },
      { app: 'api', env: 'prod' },
    ]);
    const all = await volume({ query: '{app=~".+", env=~".+"}', limit: '0' });
    expect(all.json.data.result).toHaveLength(3);
  });

  it('with targetLabels keeps only those labels, of streams that have them all', async () => {
    const { json } = await volume({ query: '{service_name=~".+"}', targetLabels: 'app' });
    expect(json.data.result.map((r: any) => r.metric)).toEqual([{ app: 'web' }, { app: 'api' }]);
    const both = await volume({ query: '{env="prod"}', targetLabels: 'app,env' });
    expect(both.json.data.result.map((r: any) => r.metric)).toEqual([
      { app: 'web', env: 'prod' },
      { app: 'api', env: 'prod' },
    ]);
  });

  it('with aggregateBy=labels sums per label name', async () => {
    const { json } = await volume({ query: '{service_name=~".+"}', targetLabels: 'env,app', aggregateBy: 'labels' });
    // app and env cover the same three streams: equal bytes, then ordered by name.
    expect(json.data.result.map((r: any) => r.metric)).toEqual([{ app: '' }, { env: '' }]);
    const [app, env] = bytesOf(json);
    expect(app).toBe(env);
    // Without targetLabels: the selector's label names; every target label is required.
    const bySelector = await volume({ query: '{service_name=~".+"}', aggregateBy: 'labels' });
    expect(bySelector.json.data.result.map((r: any) => r.metric)).toEqual([{ service_name: '' }]);
    expect(bytesOf(bySelector.json)[0]).toBeGreaterThan(app);
    const none = await volume({ query: '{service_name=~".+"}', targetLabels: 'env,app,team', aggregateBy: 'labels' });
    expect(none.json).toEqual({ status: 'success', data: { resultType: 'vector', result: [] } });
  });

  it('with {} labels each series with all its labels', async () => {
    const { json } = await volume({ query: '{}', limit: '1' });
    expect(json.data.result.map((r: any) => r.metric)).toEqual([{ app: 'web', env: 'prod', service_name: 'web' }]);
  });

  it('accepts a selector followed by a pipeline, RFC3339 times and POST forms', async () => {
    const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();
    const plain = await volume({ query: '{app="api"}' });
    const piped = await get(srv.url, '/loki/api/v1/index/volume', { query: '{app="api"} | json | level="error"', start: iso(BigInt(range.start)), end: iso(BigInt(range.end)) });
    expect(piped.status).toBe(200);
    expect(piped.json).toEqual(plain.json);
    const res = await fetch(`${srv.url}/loki/api/v1/index/volume`, { method: 'POST', body: new URLSearchParams({ query: '{app="api"}', ...range }) });
    expect(await res.json()).toEqual(plain.json);
  });

  it('volume_range answers a matrix of step-aligned buckets, each at its end', async () => {
    const { status, json } = await get(srv.url, '/loki/api/v1/index/volume_range', { query: '{app="api", env="prod"}', ...range, step: '60' });
    expect(status).toBe(200);
    expect(json.data.resultType).toBe('matrix');
    expect(json.data.result).toHaveLength(1);
    const [series] = json.data.result;
    expect(series.metric).toEqual({ app: 'api', env: 'prod' });
    const times = series.values.map((v: [number, string]) => v[0]);
    // Entries from T0 − 3 min to T0, still in one head (a chunk): every minute bucket it overlaps counts
    // it, stamped 1 ms before the bucket's end; the last bucket is stamped with `end`.
    const sec = (ns: bigint, minusMs = 0n) => Number(ns / 1_000_000n - minusMs) / 1000;
    expect(times).toEqual([sec(T0 - 2n * MIN, 1n), sec(T0 - MIN, 1n), sec(T0, 1n), sec(BigInt(range.end))]);
    expect(series.values.every((v: [number, string]) => Number(v[1]) > 0)).toBe(true);
    // A single sample per series: a vector, as Loki answers it.
    const single = await get(srv.url, '/loki/api/v1/index/volume_range', { query: '{app="web"}', ...range, step: '60' });
    expect(single.json.data.resultType).toBe('vector');
  });

  it('answers bad requests with 400 and Loki’s plain-text messages', async () => {
    const cases: Array<[Record<string, string>, string | RegExp]> = [
      [{ query: '{app="api"}', aggregateBy: 'pods' }, 'invalid aggregation option'],
      [{ query: '{app="api"}', limit: '-1' }, 'limit must be a positive value'],
      [{ query: '{app="api"}', limit: 'many' }, 'strconv.Atoi: parsing "many": invalid syntax'],
      [{ query: '{app=~"("}' }, /^parse error/],
      [{ query: 'sum(rate({app="api"}[1m]))' }, 'only label matchers is supported'],
      [{ query: '{app="api"}', end: 'soon' }, 'invalid end time "soon": use Unix seconds, Unix nanoseconds or RFC3339'],
    ];
    for (const [params, message] of cases) {
      const res = await volume(params);
      expect([params, res.status]).toEqual([params, 400]);
      expect(res.type).toMatch(/^text\/plain/);
      if (typeof message === 'string') expect(res.text).toBe(message);
      else expect(res.text).toMatch(message);
    }
    const step = await get(srv.url, '/loki/api/v1/index/volume_range', { query: '{app="api"}', ...range, step: '0' });
    expect(step.status).toBe(400);
    expect(step.text).toBe('zero or negative query resolution step widths are not accepted. Try a positive integer');
  });
});
