/**
 * Replays, in their exact forms, the requests Grafana's Loki data source and the Logs
 * Drilldown app send (/work/shared/reference/grafana-loki-contract.md §1–§5), and checks every
 * property of the answers that Grafana's parsers depend on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, push, type TestStream } from '../helpers/push.js';
import { startServer, type InProcessServer } from '../helpers/server.js';

const SEC = 1_000_000_000n;
const MIN = 60n * SEC;
/** A minute boundary ten minutes ago. */
const T0 = (BigInt(Date.now()) / 60_000n - 10n) * MIN;
const START = T0 - MIN;
const END = T0 + 5n * MIN;
/** Drilldown's RFC3339 ms strings (`toISOString()`). */
const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();

const CATEGORIZE = { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' };
const DRILLDOWN = { 'X-Query-Tags': 'Source=grafana-lokiexplore-app' };

const get = getJson;
type Res = Awaited<ReturnType<typeof getJson>>;

function qs(params: Record<string, string | bigint | number>): string {
  return new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
}

/** Loki's label string, by which it sorts streams: `{a="b", c="d"}`, names sorted. */
function labelString(labels: Record<string, string>): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(', ')}}`;
}

function isStringMap(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

/** The index in `text` of the first `"key":` — to check key order in the raw body. */
function keyAt(text: string, key: string): number {
  return text.indexOf(`"${key}":`);
}

/** Grafana's parser rules for a `streams` result (§3). */
function expectStreamsShape(res: Res, { categorized, direction }: { categorized: boolean; direction: 'backward' | 'forward' }) {
  expect(res.status).toBe(200);
  expect(res.json.status).toBe('success');
  const data = res.json.data;
  expect(data.resultType).toBe('streams');
  expect(Array.isArray(data.result)).toBe(true);
  // Loki writes resultType, encodingFlags, result, stats — Grafana needs encodingFlags before result.
  const keys = Object.keys(data);
  expect(keys[0]).toBe('resultType');
  if (categorized) {
    expect(data.encodingFlags).toEqual(['categorize-labels']);
    expect(keys.indexOf('encodingFlags')).toBe(1);
    expect(keyAt(res.text, 'encodingFlags')).toBeGreaterThan(0);
    expect(keyAt(res.text, 'encodingFlags')).toBeLessThan(keyAt(res.text, 'result'));
  } else {
    expect(keys).not.toContain('encodingFlags');
  }
  if ('stats' in data) {
    expect(keys.indexOf('stats')).toBeGreaterThan(keys.indexOf('result'));
    expect(res.text.lastIndexOf('"stats":')).toBeGreaterThan(keyAt(res.text, 'result'));
  }
  const labelStrings: string[] = [];
  for (const stream of data.result) {
    expect(Object.keys(stream)).toEqual(['stream', 'values']);
    expect(isStringMap(stream.stream)).toBe(true);
    labelStrings.push(labelString(stream.stream));
    const ts: bigint[] = [];
    for (const value of stream.values) {
      expect(value).toHaveLength(categorized ? 3 : 2);
      expect(typeof value[0]).toBe('string');
      expect(value[0]).toMatch(/^\d{19}$/);
      expect(typeof value[1]).toBe('string');
      ts.push(BigInt(value[0]));
      if (categorized) {
        const extra = value[2];
        expect(typeof extra === 'object' && extra !== null && !Array.isArray(extra)).toBe(true);
        for (const k of Object.keys(extra)) {
          expect(['structuredMetadata', 'parsed']).toContain(k);
          expect(isStringMap(extra[k])).toBe(true);
        }
      }
    }
    const sorted = [...ts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (direction === 'backward') sorted.reverse();
    expect(ts).toEqual(sorted);
  }
  expect(labelStrings).toEqual([...labelStrings].sort());
  expect(new Set(labelStrings).size).toBe(labelStrings.length);
}

/** Grafana's parser rules for a `matrix` result. */
function expectMatrixShape(res: Res, categorized: boolean) {
  expect(res.status).toBe(200);
  expect(res.json.status).toBe('success');
  const data = res.json.data;
  expect(data.resultType).toBe('matrix');
  if (categorized) {
    expect(data.encodingFlags).toEqual(['categorize-labels']);
    expect(keyAt(res.text, 'encodingFlags')).toBeLessThan(keyAt(res.text, 'result'));
  }
  if ('stats' in data) expect(Object.keys(data).indexOf('stats')).toBeGreaterThan(Object.keys(data).indexOf('result'));
  for (const series of data.result) {
    expect(Object.keys(series)).toEqual(['metric', 'values']);
    expect(isStringMap(series.metric)).toBe(true);
    const times: number[] = [];
    for (const [t, v] of series.values) {
      expect(typeof t).toBe('number');
      expect(typeof v).toBe('string');
      expect(Number.isNaN(Number(v)) && v !== 'NaN').toBe(false);
      times.push(t);
    }
    expect(times).toEqual([...times].sort((a, b) => a - b));
  }
}

// --- data ---------------------------------------------------------------------------------

const STREAMS: TestStream[] = [
  {
    labels: { service_name: 'shop', env: 'prod', cluster: 'eu' },
    entries: Array.from({ length: 6 }, (_, i) => ({
      ts: T0 + BigInt(i) * 10n * SEC,
      line: `level=${i % 3 === 2 ? 'error' : 'info'} msg="order ${i}" status=${i % 3 === 2 ? 500 : 200}`,
      ...(i % 2 === 0 ? { metadata: [['trace_id', `t${i}`]] as Array<[string, string]> } : {}),
    })),
  },
  {
    labels: { service_name: 'auth', env: 'prod' },
    entries: Array.from({ length: 4 }, (_, i) => ({
      ts: T0 + BigInt(i) * 15n * SEC + 5n * SEC + 123n,
      line: JSON.stringify({ level: 'warn', user: `u${i}`, took: i + 0.5 }),
    })),
  },
  {
    labels: { service_name: 'batch', env: 'dev' },
    entries: Array.from({ length: 3 }, (_, i) => ({ ts: T0 + BigInt(i) * MIN + 7n * SEC, line: `job ${i} done` })),
  },
];
const PROD = STREAMS[0]!.entries.length + STREAMS[1]!.entries.length;

describe('Grafana / Logs Drilldown request replay', () => {
  let srv: InProcessServer;
  beforeAll(async () => {
    srv = await startServer({ limits_config: { reject_old_samples: false } });
    expect((await push(srv.url, STREAMS)).status).toBe(204);
  });
  afterAll(() => srv.close());

  const api = (path: string, params: Record<string, string | bigint | number>) => `${srv.url}/loki/api/v1/${path}?${qs(params)}`;

  describe('health check (§1)', () => {
    it('≤10.1: labels over the last 10 minutes in ns is a non-empty array', async () => {
      const now = BigInt(Date.now()) * 1_000_000n;
      const res = await get(`${srv.url}/loki/api/v1/labels?start=${now - 600n * SEC}&end=${now}`);
      expect(res.status).toBe(200);
      expect(res.json.status).toBe('success');
      expect(Array.isArray(res.json.data)).toBe(true);
      expect(res.json.data.length).toBeGreaterThan(0);
      expect(res.json.data).toContain('service_name');
    });

    it('≥10.2: vector(1)+vector(1) at time=4000000000 is exactly one sample of "2"', async () => {
      const res = await get(`${srv.url}/loki/api/v1/query?direction=backward&query=vector%281%29%2Bvector%281%29&time=4000000000`, CATEGORIZE);
      expect(res.status).toBe(200);
      expect(res.json.status).toBe('success');
      expect(res.json.data.resultType).toBe('vector');
      expect(keyAt(res.text, 'encodingFlags')).toBeLessThan(keyAt(res.text, 'result'));
      expect(res.json.data.result).toHaveLength(1);
      const [sample] = res.json.data.result;
      expect(Object.keys(sample)).toEqual(['metric', 'value']);
      expect(sample.metric).toEqual({});
      expect(sample.value).toHaveLength(2);
      expect(typeof sample.value[0]).toBe('number');
      // 10 digits: seconds (Loki's parseTimestamp), so the sample is at 4000000000 s.
      expect(sample.value[0]).toBe(4000000000);
      expect(sample.value[1]).toBe('2');
    });
  });

  describe('query_range as Grafana sends it (§2.1)', () => {
    const grafanaRange = (query: string, extra: Record<string, string | bigint | number> = {}) =>
      api('query_range', { direction: 'backward', end: END, limit: 1000, query, start: START, step: '200ms', ...extra });

    it('log query, backward, categorize-labels: full body shape and content', async () => {
      const res = await get(grafanaRange('{env="prod"}'), { ...CATEGORIZE, 'X-Query-Tags': 'Source=infinitescroll' });
      expectStreamsShape(res, { categorized: true, direction: 'backward' });
      const result = res.json.data.result;
      // With categorize-labels, stream holds the stream labels only.
      // `{cluster="eu", …}` sorts before `{env="prod", …}`.
      expect(result.map((s: any) => s.stream)).toEqual([
        { cluster: 'eu', env: 'prod', service_name: 'shop' },
        { env: 'prod', service_name: 'auth' },
      ]);
      const all = result.flatMap((s: any) => s.values);
      expect(all).toHaveLength(PROD);
      const shop = result[0].values;
      expect(shop.map((v: any) => v[1])).toEqual([...STREAMS[0]!.entries].reverse().map((e) => e.line));
      expect(shop.map((v: any) => v[0])).toEqual([...STREAMS[0]!.entries].reverse().map((e) => String(e.ts)));
      // Structured metadata stays out of `stream` and goes to the third element.
      expect(shop[shop.length - 1][2].structuredMetadata.trace_id).toBe('t0');
      expect(shop[0][2].structuredMetadata?.trace_id).toBeUndefined();
      expect(res.json.data.stats).toBeDefined();
      expect(typeof res.json.data.stats.summary.execTime).toBe('number');
    });

    it('log query with a parser: parsed labels in the third element, stream unchanged', async () => {
      const res = await get(grafanaRange('{service_name="shop"} | logfmt | level="error"'), { ...CATEGORIZE, 'X-Query-Tags': 'Source=logsample' });
      expectStreamsShape(res, { categorized: true, direction: 'backward' });
      expect(res.json.data.result).toHaveLength(1);
      const [stream] = res.json.data.result;
      expect(stream.stream).toEqual({ cluster: 'eu', env: 'prod', service_name: 'shop' });
      expect(stream.values.map((v: any) => v[0])).toEqual([String(T0 + 50n * SEC), String(T0 + 20n * SEC)]);
      expect(stream.values[0][2].parsed).toEqual({ level: 'error', msg: 'order 5', status: '500' });
      expect(stream.values[1][2].parsed).toEqual({ level: 'error', msg: 'order 2', status: '500' });
      expect(stream.values[1][2].structuredMetadata.trace_id).toBe('t2');
    });

    it('log query forward, limit across streams, oldest first', async () => {
      const res = await get(grafanaRange('{service_name=~".+"}', { direction: 'forward', limit: 3 }), CATEGORIZE);
      expectStreamsShape(res, { categorized: true, direction: 'forward' });
      const ts = res.json.data.result.flatMap((s: any) => s.values.map((v: any) => BigInt(v[0]))).sort((a: bigint, b: bigint) => (a < b ? -1 : 1));
      const expected = STREAMS.flatMap((s) => s.entries.map((e) => e.ts))
        .sort((a, b) => (a < b ? -1 : 1))
        .slice(0, 3);
      expect(ts).toEqual(expected);
    });

    it('log query backward, limit counts entries across all streams (newest N)', async () => {
      const res = await get(grafanaRange('{service_name=~".+"}', { limit: 4 }), CATEGORIZE);
      expectStreamsShape(res, { categorized: true, direction: 'backward' });
      const ts = res.json.data.result.flatMap((s: any) => s.values.map((v: any) => BigInt(v[0]))).sort((a: bigint, b: bigint) => (a > b ? -1 : 1));
      const expected = STREAMS.flatMap((s) => s.entries.map((e) => e.ts))
        .sort((a, b) => (a > b ? -1 : 1))
        .slice(0, 4);
      expect(ts).toEqual(expected);
    });

    it('without the flag (Grafana < 10.3): two-element entries, metadata merged into stream', async () => {
      const res = await get(grafanaRange('{service_name="shop"}'), { 'X-Query-Tags': 'Source=logsample' });
      expectStreamsShape(res, { categorized: false, direction: 'backward' });
      const withTrace = res.json.data.result.filter((s: any) => s.stream.trace_id !== undefined);
      expect(withTrace).toHaveLength(3);
      expect(res.json.data.result.flatMap((s: any) => s.values)).toHaveLength(6);
    });

    it('log-volume histogram: sum by (level, detected_level) (count_over_time(… | drop __error__[1m]))', async () => {
      const query = 'sum by (level, detected_level) (count_over_time({service_name=~".+"} | drop __error__[1m]))';
      const res = await get(grafanaRange(query, { step: '60000ms' }), { ...CATEGORIZE, 'X-Query-Tags': 'Source=logvolhist' });
      expectMatrixShape(res, true);
      const result = res.json.data.result;
      // No level label on these streams: grouped by the detected_level found at ingest.
      for (const series of result) {
        for (const k of Object.keys(series.metric)) expect(['level', 'detected_level']).toContain(k);
        expect(series.metric.detected_level).toBeDefined();
      }
      const metrics = result.map((s: any) => labelString(s.metric));
      expect(metrics).toEqual([...metrics].sort());
      const byLevel = Object.fromEntries(result.map((s: any) => [s.metric.detected_level, s.values.reduce((n: number, v: any) => n + Number(v[1]), 0)]));
      // Each entry is counted in exactly one 1m window of the 1m-step grid ((t−1m, t]).
      expect(byLevel).toEqual({ info: 4, error: 2, warn: 4, unknown: 3 });
      // Timestamps are whole steps from start, as numbers in seconds.
      for (const series of result) for (const [t] of series.values) expect((BigInt(t) * SEC - START) % MIN).toBe(0n);
    });

    it('metric query with limit (Grafana sends it on metric queries too) and a vector instant query', async () => {
      const range = await get(grafanaRange('sum by (service_name) (count_over_time({env="prod"}[1m]))', { step: '30000ms' }), CATEGORIZE);
      expectMatrixShape(range, true);
      expect(range.json.data.result.map((s: any) => s.metric)).toEqual([{ service_name: 'auth' }, { service_name: 'shop' }]);
      const instant = await get(api('query', { direction: 'backward', limit: 1000, query: 'sum by (service_name) (count_over_time({env="prod"}[10m]))', time: END }), CATEGORIZE);
      expect(instant.status).toBe(200);
      expect(instant.json.data.resultType).toBe('vector');
      expect(keyAt(instant.text, 'encodingFlags')).toBeLessThan(keyAt(instant.text, 'result'));
      expect(instant.json.data.result).toEqual([
        { metric: { service_name: 'auth' }, value: [Number(END) / 1e9, '4'] },
        { metric: { service_name: 'shop' }, value: [Number(END) / 1e9, '6'] },
      ]);
    });

    it('Drilldown service query by detected_level, with the extra headers Grafana may forward', async () => {
      const query = 'sum by (detected_level) (count_over_time({service_name="shop"}[1m]))';
      const res = await get(grafanaRange(query, { step: '60000ms' }), {
        ...CATEGORIZE,
        ...DRILLDOWN,
        'X-Loki-Query-Limits-Context': JSON.stringify({ Expr: query, From: iso(START), To: iso(END) }),
        'X-Grafana-Org-Id': '1',
        'X-Dashboard-Uid': 'abc',
      });
      expectMatrixShape(res, true);
      const totals = res.json.data.result.map((s: any) => [s.metric, s.values.reduce((n: number, v: any) => n + Number(v[1]), 0)]);
      expect(totals).toEqual([
        [{ detected_level: 'error' }, 2],
        [{ detected_level: 'info' }, 4],
      ]);
    });

    it('log context: forward and backward around a row (±2h window)', async () => {
      const row = STREAMS[0]!.entries[3]!.ts;
      const params = { query: '{cluster="eu", env="prod", service_name="shop"}', limit: 10, step: '1000ms' };
      const after = await get(api('query_range', { ...params, direction: 'forward', start: row, end: row + 7200n * SEC }), CATEGORIZE);
      expectStreamsShape(after, { categorized: true, direction: 'forward' });
      expect(after.json.data.result[0].values.map((v: any) => v[0])).toEqual(STREAMS[0]!.entries.slice(3).map((e) => String(e.ts)));
      const before = await get(api('query_range', { ...params, direction: 'backward', start: row - 7200n * SEC, end: row }), CATEGORIZE);
      expectStreamsShape(before, { categorized: true, direction: 'backward' });
      expect(before.json.data.result[0].values.map((v: any) => v[0])).toEqual(STREAMS[0]!.entries.slice(0, 3).reverse().map((e) => String(e.ts)));
    });
  });

  describe('metadata calls of the core data source (§2.2, ns times)', () => {
    const range = { start: START, end: END };

    it('labels, with and without a query', async () => {
      const res = await get(api('labels', range));
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ status: 'success', data: ['cluster', 'env', 'service_name'] });
      const narrowed = await get(api('labels', { ...range, query: '{env="dev"}' }));
      expect(narrowed.json).toEqual({ status: 'success', data: ['env', 'service_name'] });
    });

    it('label/<name>/values, with and without a query', async () => {
      const res = await get(api(`label/${encodeURIComponent('service_name')}/values`, range));
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ status: 'success', data: ['auth', 'batch', 'shop'] });
      const narrowed = await get(api('label/service_name/values', { ...range, query: '{env="prod"}' }));
      expect(narrowed.json).toEqual({ status: 'success', data: ['auth', 'shop'] });
      const none = await get(api('label/nope/values', range));
      expect(none.status).toBe(200);
      expect(none.json.data ?? []).toEqual([]);
    });

    it('series with match[]', async () => {
      const res = await get(api('series', { 'match[]': '{env="prod"}', ...range }));
      expect(res.status).toBe(200);
      expect(res.json.status).toBe('success');
      expect(Array.isArray(res.json.data)).toBe(true);
      for (const s of res.json.data) expect(isStringMap(s)).toBe(true);
      const sorted = res.json.data.map(labelString).sort();
      expect(sorted).toEqual([labelString({ cluster: 'eu', env: 'prod', service_name: 'shop' }), labelString({ env: 'prod', service_name: 'auth' })]);
    });

    it('index/stats per stream selector: bare object of numbers', async () => {
      const res = await get(api('index/stats', { query: '{env="prod"}', ...range }));
      expect(res.status).toBe(200);
      expect(Object.keys(res.json)).toEqual(['streams', 'chunks', 'bytes', 'entries']);
      for (const v of Object.values(res.json)) expect(typeof v).toBe('number');
      expect(res.json.streams).toBe(2);
      expect(res.json.entries).toBe(PROD);
    });

    it('detected_fields with limit=1000: `fields`, no `data`', async () => {
      const res = await get(api('detected_fields', { query: '{service_name="shop"}', ...range, limit: 1000 }));
      expect(res.status).toBe(200);
      expect(res.json.data).toBeUndefined();
      expect(res.json.limit).toBe(1000);
      expect(Array.isArray(res.json.fields)).toBe(true);
      const labels = res.json.fields.map((f: any) => f.label);
      expect(labels).toEqual(expect.arrayContaining(['level', 'msg', 'status', 'trace_id']));
      for (const f of res.json.fields) {
        expect(typeof f.label).toBe('string');
        expect(typeof f.type).toBe('string');
        expect(typeof f.cardinality).toBe('number');
        expect(f.parsers === null || Array.isArray(f.parsers)).toBe(true);
      }
      expect(res.json.fields.find((f: any) => f.label === 'trace_id').parsers).toBeNull();
    });

    it('detected_field/<name>/values: `values`', async () => {
      const res = await get(api('detected_field/status/values', { query: '{service_name="shop"}', ...range, limit: 1000 }));
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ values: ['200', '500'], limit: 1000 });
    });

    it('label/__stream_shard__/values: no shards ⇒ Grafana takes the normal path', async () => {
      const res = await get(api('label/__stream_shard__/values', { query: '{env="prod"}', ...range }));
      expect(res.status).toBe(200);
      expect(res.json.status).toBe('success');
      expect(res.json.data ?? []).toEqual([]);
    });
  });

  describe('Logs Drilldown calls (§2.3, RFC3339 ms times)', () => {
    const range = () => ({ start: iso(START), end: iso(END) });

    it('index/volume with limit=5000: vector of bytes per service, descending', async () => {
      const res = await get(api('index/volume', { query: '{service_name=~".+"}', ...range(), limit: 5000 }), DRILLDOWN);
      expect(res.status).toBe(200);
      expect(res.json.status).toBe('success');
      expect(res.json.data.resultType).toBe('vector');
      const result = res.json.data.result;
      expect(result.map((r: any) => r.metric.service_name).sort()).toEqual(['auth', 'batch', 'shop']);
      const bytes = result.map((r: any) => {
        expect(typeof r.value[0]).toBe('number');
        expect(typeof r.value[1]).toBe('string');
        return Number(r.value[1]);
      });
      for (const b of bytes) expect(b).toBeGreaterThan(0);
      expect(bytes).toEqual([...bytes].sort((a: number, b: number) => b - a));
    });

    it('patterns with step=30s', async () => {
      const res = await get(api('patterns', { query: '{service_name="batch"}', ...range(), step: '30s' }), DRILLDOWN);
      expect(res.status).toBe(200);
      expect(res.json.status).toBe('success');
      expect(Array.isArray(res.json.data)).toBe(true);
      expect(res.json.data.length).toBeGreaterThan(0);
      let total = 0;
      for (const p of res.json.data) {
        expect(typeof p.pattern).toBe('string');
        if ('level' in p) expect(typeof p.level).toBe('string');
        for (const [t, n] of p.samples) {
          expect(Number.isInteger(t)).toBe(true);
          expect(t % 30).toBe(0);
          expect(Number.isInteger(n)).toBe(true);
          total += n;
        }
      }
      expect(total).toBe(3);
    });

    it('detected_labels with an empty query', async () => {
      const res = await get(api('detected_labels', { query: '', ...range() }), DRILLDOWN);
      expect(res.status).toBe(200);
      expect(Object.keys(res.json)).toEqual(['detectedLabels']);
      for (const l of res.json.detectedLabels) {
        expect(Object.keys(l).sort()).toEqual(['cardinality', 'label']);
        expect(typeof l.cardinality).toBe('number');
      }
      const byLabel = Object.fromEntries(res.json.detectedLabels.map((l: any) => [l.label, l.cardinality]));
      expect(byLabel).toMatchObject({ env: 2, service_name: 3 });
    });

    it('detected_fields: fields[].{label,cardinality,type,parsers|null,jsonPath?}', async () => {
      const res = await get(api('detected_fields', { query: '{service_name="auth"}', ...range() }), DRILLDOWN);
      expect(res.status).toBe(200);
      const byLabel = Object.fromEntries(res.json.fields.map((f: any) => [f.label, f]));
      expect(byLabel.user).toEqual({ label: 'user', type: 'string', cardinality: 4, parsers: ['json'], jsonPath: ['user'] });
      expect(byLabel.took).toEqual({ label: 'took', type: 'float', cardinality: 4, parsers: ['json'], jsonPath: ['took'] });
      expect(byLabel.detected_level.parsers).toBeNull();
    });

    it('labels with RFC3339 times', async () => {
      const res = await get(api('labels', range()), DRILLDOWN);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ status: 'success', data: ['cluster', 'env', 'service_name'] });
    });

    it('drilldown-limits', async () => {
      const res = await get(`${srv.url}/loki/api/v1/drilldown-limits`, DRILLDOWN);
      expect(res.status).toBe(200);
      expect(Object.keys(res.json).sort()).toEqual(['limits', 'pattern_ingester_enabled', 'version']);
      expect(typeof res.json.limits).toBe('object');
      expect(typeof res.json.pattern_ingester_enabled).toBe('boolean');
      expect(typeof res.json.version).toBe('string');
    });
  });

  describe('errors as Grafana receives them (§5)', () => {
    const headers = { ...CATEGORIZE, 'X-Query-Tags': 'Source=logsample' };
    it('a LogQL parse error: 400 text/plain `parse error …`', async () => {
      const res = await get(api('query_range', { direction: 'backward', end: END, limit: 1000, query: '{env="prod"} |= ', start: START, step: '200ms' }), headers);
      expect(res.status).toBe(400);
      expect(res.type).toMatch(/^text\/plain/);
      expect(res.text).toMatch(/^parse error at line 1, col \d+: /);
    });

    it('a log query as an instant query: 400 with Loki’s text', async () => {
      const res = await get(api('query', { direction: 'backward', limit: 1000, query: '{env="prod"}', time: END }), headers);
      expect(res.status).toBe(400);
      expect(res.type).toMatch(/^text\/plain/);
      expect(res.text).toBe('log queries are not supported as an instant query type, please change your query to a range query type');
    });

    it('limit over max_entries_limit_per_query: 400 with Loki’s text', async () => {
      const res = await get(api('query_range', { direction: 'backward', end: END, limit: 5001, query: '{env="prod"}', start: START, step: '200ms' }), headers);
      expect(res.status).toBe(400);
      expect(res.type).toMatch(/^text\/plain/);
      expect(res.text).toBe('max entries limit per query exceeded, limit > max_entries_limit_per_query (5001 > 5000)');
    });
  });
});

