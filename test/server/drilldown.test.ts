import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { typeFromBits, typesOf } from '../../server/http/detected-fields.js';
import { getJson, push, type TestEntry } from '../helpers/push.js';
import { startServer, type InProcessServer } from '../helpers/server.js';

const SEC = 1_000_000_000n;
/** A minute boundary ten minutes ago: buckets of the pattern tests start here. */
const T0 = (BigInt(Date.now()) / 60_000n - 10n) * 60n * SEC;
const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();

function get(path: string, params: Record<string, string | bigint> = {}): ReturnType<typeof getJson> {
  const qs = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
  return getJson(`${path}${qs ? `?${qs}` : ''}`);
}

const withoutLevel = (fields: any[]) => fields.filter((f) => f.label !== 'detected_level');

describe('Logs Drilldown metadata endpoints', () => {
  let srv: InProcessServer;
  const range = { start: iso(T0 - 60n * SEC), end: iso(T0 + 300n * SEC) };

  beforeAll(async () => {
    srv = await startServer({ limits_config: { reject_old_samples: false } });
    // Three families of text lines: 12 logins and 6 requests in the first minute, 6 requests and
    // 3 cache misses in the second.
    const text: TestEntry[] = [];
    for (let i = 0; i < 12; i++) text.push({ ts: T0 + BigInt(i) * SEC, line: `user ${100 + i * 17} logged in from 10.0.${i}.${i * 3 + 1}` });
    for (let i = 0; i < 12; i++) text.push({ ts: T0 + BigInt(30 + i * 5) * SEC + 1n, line: `GET /api/items/${i * 11} 200 ${3 + i}ms` });
    for (let i = 0; i < 3; i++) text.push({ ts: T0 + BigInt(70 + i) * SEC, line: `cache miss key=${['alpha', 'beta', 'gamma'][i]}` });
    text.sort((a, b) => (a.ts < b.ts ? -1 : 1));
    // logfmt lines with structured metadata, and json lines.
    const logfmt: TestEntry[] = [];
    for (let i = 0; i < 6; i++) {
      logfmt.push({
        ts: T0 + BigInt(i) * SEC,
        line: `level=info status=${i % 2 ? 200 : 404} latency=${i + 1}ms size=${i + 1}KB ok=true ratio=0.${i + 1} msg="req ${i}"`,
        metadata: [['trace_id', `t${i % 3}`]],
      });
    }
    const json: TestEntry[] = [];
    for (let i = 0; i < 4; i++) {
      json.push({ ts: T0 + BigInt(i) * SEC, line: JSON.stringify({ user: { id: 7 + (i % 2), name: `n${i}` }, took: 1.5 + i, tags: ['x'] }) });
    }
    const res = await push(srv.url, [
      { labels: { service_name: 'shop', namespace: 'prod', pod: 'shop-1', req_id: '42' }, entries: text },
      { labels: { service_name: 'api', namespace: 'prod', pod: 'api-1', req_id: '43' }, entries: logfmt },
      { labels: { service_name: 'auth', namespace: 'dev', pod: 'auth-1', req_id: '44' }, entries: json },
    ]);
    expect(res.status).toBe(204);
  });
  afterAll(() => srv.close());

  describe('detected_labels', () => {
    it('lists stream labels with cardinalities, leaving out id-like labels', async () => {
      const { status, json } = await get(`${srv.url}/loki/api/v1/detected_labels`, { query: '', ...range });
      expect(status).toBe(200);
      expect(json).toEqual({
        detectedLabels: [
          { label: 'namespace', cardinality: 2 },
          { label: 'pod', cardinality: 3 },
          { label: 'service_name', cardinality: 3 },
        ],
      });
    });

    it('restricts to a selector, keeps static labels, and answers POST forms', async () => {
      const res = await fetch(`${srv.url}/loki/api/v1/detected_labels`, {
        method: 'POST',
        body: new URLSearchParams({ query: '{namespace="prod"}', ...range }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        detectedLabels: [
          { label: 'namespace', cardinality: 1 },
          { label: 'pod', cardinality: 2 },
          { label: 'service_name', cardinality: 2 },
        ],
      });
    });

    it('answers bad selectors and times with a plain-text 400', async () => {
      const bad = await get(`${srv.url}/loki/api/v1/detected_labels`, { query: '{a=}' });
      expect(bad.status).toBe(400);
      expect(bad.type).toMatch(/^text\/plain/);
      expect(bad.text).toMatch(/^parse error/);
      const badTime = await get(`${srv.url}/loki/api/v1/detected_labels`, { start: 'yesterday' });
      expect(badTime.status).toBe(400);
      expect(badTime.text).toContain('invalid start time');
    });
  });

  describe('detected_fields', () => {
    it('detects logfmt fields with types and structured metadata with parsers null', async () => {
      const { status, json } = await get(`${srv.url}/loki/api/v1/detected_fields`, { query: '{service_name="api"}', ...range });
      expect(status).toBe(200);
      expect(json.limit).toBe(1000);
      // detected_level: structured metadata added at ingest (discover_log_levels, on by default).
      expect(json.fields.find((f: any) => f.label === 'detected_level')).toEqual({ label: 'detected_level', type: 'string', cardinality: 1, parsers: null });
      expect(withoutLevel(json.fields)).toEqual([
        { label: 'latency', type: 'duration', cardinality: 6, parsers: ['logfmt'] },
        { label: 'level', type: 'string', cardinality: 1, parsers: ['logfmt'] },
        { label: 'msg', type: 'string', cardinality: 6, parsers: ['logfmt'] },
        { label: 'ok', type: 'boolean', cardinality: 1, parsers: ['logfmt'] },
        { label: 'ratio', type: 'float', cardinality: 6, parsers: ['logfmt'] },
        { label: 'size', type: 'bytes', cardinality: 6, parsers: ['logfmt'] },
        { label: 'status', type: 'int', cardinality: 2, parsers: ['logfmt'] },
        { label: 'trace_id', type: 'string', cardinality: 3, parsers: null },
      ]);
    });

    it('detects nested json fields with their json path', async () => {
      const { json } = await get(`${srv.url}/loki/api/v1/detected_fields`, { query: '{service_name="auth"}', ...range });
      expect(withoutLevel(json.fields)).toEqual([
        { label: 'took', type: 'float', cardinality: 4, parsers: ['json'], jsonPath: ['took'] },
        { label: 'user_id', type: 'int', cardinality: 2, parsers: ['json'], jsonPath: ['user', 'id'] },
        { label: 'user_name', type: 'string', cardinality: 4, parsers: ['json'], jsonPath: ['user', 'name'] },
      ]);
    });

    it('samples only the newest line_limit lines, honours the query pipeline and the field limit', async () => {
      const newest = await get(`${srv.url}/loki/api/v1/detected_fields`, { query: '{service_name="api"}', line_limit: '2', ...range });
      const byName = Object.fromEntries(newest.json.fields.map((f: any) => [f.label, f]));
      expect(byName.msg.cardinality).toBe(2);
      expect(byName.trace_id.cardinality).toBe(2);
      const filtered = await get(`${srv.url}/loki/api/v1/detected_fields`, {
        query: '{service_name="api"} | logfmt | status=404',
        ...range,
      });
      expect(filtered.json.fields.find((f: any) => f.label === 'msg').cardinality).toBe(3);
      const limited = await get(`${srv.url}/loki/api/v1/detected_fields`, { query: '{service_name="api"}', limit: '2', ...range });
      expect(limited.json.limit).toBe(2);
      expect(limited.json.fields).toHaveLength(2);
    });

    it('finds only the logfmt pairs in plain text', async () => {
      const { json } = await get(`${srv.url}/loki/api/v1/detected_fields`, { query: '{service_name="shop"}', ...range });
      expect(withoutLevel(json.fields)).toEqual([{ label: 'key', type: 'string', cardinality: 3, parsers: ['logfmt'] }]);
    });

    it('lists the values of one field', async () => {
      const status = await get(`${srv.url}/loki/api/v1/detected_field/status/values`, { query: '{service_name="api"}', ...range });
      expect(status.status).toBe(200);
      expect(status.json).toEqual({ values: ['200', '404'], limit: 1000 });
      const sm = await get(`${srv.url}/loki/api/v1/detected_field/trace_id/values`, { query: '{namespace="prod"}', limit: '2', ...range });
      expect(sm.json).toEqual({ values: ['t0', 't1'], limit: 2 });
      const none = await get(`${srv.url}/loki/api/v1/detected_field/nope/values`, { query: '{namespace="prod"}', ...range });
      expect(none.json).toEqual({ values: [], limit: 1000 });
    });

    it('rejects metric queries, bad queries and bad limits with a plain-text 400', async () => {
      for (const params of [
        { query: 'count_over_time({a="b"}[1m])' },
        { query: '{a=' },
        { query: '' },
        { query: '{a="b"}', limit: 'x' },
        { query: '{a="b"}', line_limit: '0' },
        { query: '{a="b"}', line_limit: '100000' },
      ]) {
        const res = await get(`${srv.url}/loki/api/v1/detected_fields`, params);
        expect(res.status, JSON.stringify(params)).toBe(400);
        expect(res.type).toMatch(/^text\/plain/);
      }
    });
  });

  describe('patterns', () => {
    it('mines the three families with counts per step', async () => {
      const { status, json } = await get(`${srv.url}/loki/api/v1/patterns`, { query: '{service_name="shop"}', step: '60s', ...range });
      expect(status).toBe(200);
      const t0 = Number(T0 / SEC);
      expect(json.status).toBe('success');
      // Each has the level detected at ingest (the same for all of these plain lines).
      expect(new Set(json.data.map((p: any) => p.level)).size).toBe(1);
      expect({ ...json, data: json.data.map(({ level: _level, ...p }: any) => p) }).toEqual({
        status: 'success',
        data: [
          {
            pattern: 'GET /api/items/<_> 200 <_>',
            samples: [
              [t0, 6],
              [t0 + 60, 6],
            ],
          },
          { pattern: 'user <_> logged in from <_>', samples: [[t0, 12]] },
          { pattern: 'cache miss key=<_>', samples: [[t0 + 60, 3]] },
        ],
      });
    });

    it('takes seconds and nanoseconds too, a 10s minimum step, and groups by level', async () => {
      const params = { query: '{service_name="api"}', start: String(T0 / SEC - 60n), end: String(T0 + 300n * SEC), step: '1s' };
      const { json } = await get(`${srv.url}/loki/api/v1/patterns`, params);
      const t0 = Number(T0 / SEC);
      expect(json.data).toHaveLength(1);
      expect(json.data[0].level).toBe('info');
      expect(json.data[0].pattern).toBe('level=info status=<_> latency=<_> size=<_> ok=true ratio=<_> msg="req <_>"');
      expect(json.data[0].samples).toEqual([[t0, 6]]);
      const none = await get(`${srv.url}/loki/api/v1/patterns`, { query: '{service_name="none"}', ...range });
      expect(none.json).toEqual({ status: 'success', data: [] });
      const bad = await get(`${srv.url}/loki/api/v1/patterns`, { query: '{service_name="api"}', step: '-5s' });
      expect(bad.status).toBe(400);
    });
  });

  describe('drilldown-limits and stream shards', () => {
    it('describes the limits', async () => {
      const { status, json } = await get(`${srv.url}/loki/api/v1/drilldown-limits`);
      expect(status).toBe(200);
      expect(json.pattern_ingester_enabled).toBe(true);
      expect(json.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(json.limits).toMatchObject({ max_entries_limit_per_query: 5000, max_query_series: 500, max_query_length: '30d1h', query_timeout: '1m' });
      // The volume routes exist, so Drilldown may use them; and POST answers the same.
      expect(json.limits.volume_enabled).toBe(true);
      const posted = await fetch(`${srv.url}/loki/api/v1/drilldown-limits`, { method: 'POST' });
      expect(posted.status).toBe(200);
      expect(await posted.json()).toEqual(json);
    });

    it('answers __stream_shard__ values with no data, other label values as before', async () => {
      const { status, json } = await get(`${srv.url}/loki/api/v1/label/__stream_shard__/values`, { query: '{namespace="prod"}', ...range });
      expect(status).toBe(200);
      expect(json).toEqual({ status: 'success' });
      const ns = await get(`${srv.url}/loki/api/v1/label/namespace/values`, range);
      expect(ns.json).toEqual({ status: 'success', data: ['dev', 'prod'] });
    });
  });
});

describe('detected field types', () => {
  const typeOf = (values: string[]) => typeFromBits(values.reduce((bits, v) => bits & typesOf(v), 31));
  it('follows Loki: int, float, boolean, duration, bytes, else string — over all values', () => {
    expect(typeOf(['1', '-42'])).toBe('int');
    expect(typeOf(['1', '2.5'])).toBe('float');
    expect(typeOf(['1e3', 'NaN'])).toBe('float');
    expect(typeOf(['true', 'False'])).toBe('boolean');
    expect(typeOf(['1', 'true'])).toBe('boolean');
    expect(typeOf(['12ms', '1h30m'])).toBe('duration');
    expect(typeOf(['5KB', '3 MiB', '10'])).toBe('bytes');
    expect(typeOf(['12ms', 'abc'])).toBe('string');
    expect(typeOf(['99999999999999999999'])).toBe('float');
  });
});
