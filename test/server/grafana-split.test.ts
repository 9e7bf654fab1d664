/**
 * Grafana's day-by-day query splitting (reference §4, `lokiQuerySplitting`, on by default):
 * range queries run as 1-day chunks, one after the other, and Grafana merges the frames. The
 * merged answer must equal the answer of one unsplit query, so:
 * - logs: chunks share their boundaries (Loki's `end` is exclusive), run oldest first for
 *   forward and newest first for backward, each with `limit` = maxLines − rows received so far;
 * - metrics: chunks are step-aligned, a chunk's end = next chunk's start − step (the point at
 *   `end` is evaluated), so no timestamp is duplicated or missing.
 * The chunking functions below follow Grafana's logsTimeSplitting.ts / metricTimeSplitting.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { push, type TestEntry, type TestStream } from '../helpers/push.js';
import { startServer, type InProcessServer } from '../helpers/server.js';

const MS = 1_000_000n;
const SEC = 1000n * MS;
const MIN = 60n * SEC;
const HOUR = 60n * MIN;
const DAY = 24n * HOUR;
/** UTC midnight three days ago: entries run from D0 − 8h to D0 + 3d (today's midnight). */
const D0 = (BigInt(Date.now()) * MS) / DAY * DAY - 3n * DAY;

const CATEGORIZE = { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' };

/** Grafana's logs split (ms): walk back from the end so the short chunk is the oldest. */
function splitLogs(startMs: number, endMs: number, chunkMs: number): Array<[number, number]> {
  if (endMs - startMs <= chunkMs) return [[startMs, endMs]];
  const out: Array<[number, number]> = [];
  for (let chunkEnd = endMs; chunkEnd > startMs; chunkEnd -= chunkMs) out.push([Math.max(chunkEnd - chunkMs, startMs), chunkEnd]);
  return out.reverse();
}

/** Grafana's metric split (ms): step-aligned, chunk end = next chunk's start − step. */
function splitMetrics(startMs: number, endMs: number, stepMs: number, chunkMs: number): Array<[number, number]> {
  if (chunkMs < stepMs) return [[startMs, endMs]];
  const alignedStart = startMs - (startMs % stepMs);
  const alignedEnd = endMs - (endMs % stepMs);
  const chunk = Math.trunc(chunkMs / stepMs) * stepMs;
  const out: Array<[number, number]> = [];
  for (let s = alignedStart; s <= alignedEnd; s += chunk) out.push([s, Math.min(s + chunk - stepMs, alignedEnd)]);
  return out;
}

const msToNs = (ms: number) => BigInt(ms) * MS;
const nsToMs = (ns: bigint) => Number(ns / MS);
/** Grafana's step for a range: range/11000 ceiled to ms (at least the 1s interval here). */
const grafanaStep = (startMs: number, endMs: number) => `${Math.max(1000, Math.ceil((endMs - startMs) / 11000))}ms`;

async function getJson(url: string, headers: Record<string, string> = {}): Promise<any> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${res.status} ${text} for ${url}`);
  return JSON.parse(text);
}

function qs(params: Record<string, string | bigint | number>): string {
  return new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
}

// Stream a: every 10 minutes exactly (so on every midnight). Stream b: every 30 minutes off by
// 12345 ns, plus one entry 1 ns before and one exactly on and one 1 ns after each midnight.
const A: TestEntry[] = [];
for (let t = D0 - 8n * HOUR; t <= D0 + 3n * DAY; t += 10n * MIN) A.push({ ts: t, line: `a ${t}` });
const B: TestEntry[] = [];
for (let t = D0 - 8n * HOUR + 12_345n; t < D0 + 3n * DAY; t += 30n * MIN) B.push({ ts: t, line: `b ${t}` });
for (let d = 0n; d <= 3n; d++) for (const off of [-1n, 0n, 1n]) if (D0 + d * DAY + off <= D0 + 3n * DAY) B.push({ ts: D0 + d * DAY + off, line: `b edge ${d} ${off}` });
B.sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : 0));
const STREAMS: TestStream[] = [
  { labels: { job: 'split', stream: 'a' }, entries: A },
  { labels: { job: 'split', stream: 'b' }, entries: B },
];

type Row = [string, string, Record<string, unknown>];
interface LogsResult {
  /** stream label JSON → values in answer order */
  byStream: Map<string, Row[]>;
  rows: number;
}

function collect(json: any, into: LogsResult = { byStream: new Map(), rows: 0 }): LogsResult {
  expect(json.data.resultType).toBe('streams');
  for (const s of json.data.result) {
    const key = JSON.stringify(s.stream);
    const list = into.byStream.get(key) ?? [];
    list.push(...s.values);
    into.byStream.set(key, list);
    into.rows += s.values.length;
  }
  return into;
}

describe('Grafana day-by-day query splitting', () => {
  let srv: InProcessServer;
  beforeAll(async () => {
    srv = await startServer({ limits_config: { reject_old_samples: false } });
    expect((await push(srv.url, STREAMS)).status).toBe(204);
  });
  afterAll(() => srv.close());

  const logQuery = async (startMs: number, endMs: number, direction: 'forward' | 'backward', limit: number) =>
    getJson(
      `${srv.url}/loki/api/v1/query_range?${qs({ direction, end: msToNs(endMs), limit, query: '{job="split"}', start: msToNs(startMs), step: grafanaStep(startMs, endMs) })}`,
      { ...CATEGORIZE, 'X-Query-Tags': 'Source=infinitescroll' },
    );

  /** Runs Grafana's split sequence: forward oldest chunk first, backward newest first, shrinking limit. */
  async function splitLogQuery(startMs: number, endMs: number, direction: 'forward' | 'backward', maxLines: number): Promise<LogsResult> {
    const chunks = splitLogs(startMs, endMs, Number(DAY / MS));
    if (direction === 'backward') chunks.reverse();
    const merged: LogsResult = { byStream: new Map(), rows: 0 };
    for (const [s, e] of chunks) {
      const remaining = maxLines - merged.rows;
      if (remaining <= 0) break;
      collect(await logQuery(s, e, direction, remaining), merged);
    }
    return merged;
  }

  const ranges: Array<[string, number, number]> = [
    ['three whole days (boundaries on midnights)', nsToMs(D0), nsToMs(D0 + 3n * DAY)],
    ['3 days 8 hours (a short oldest chunk)', nsToMs(D0 - 8n * HOUR), nsToMs(D0 + 3n * DAY)],
    ['unaligned (boundaries at 17:23:45.678)', nsToMs(D0 - 6n * HOUR - 36n * MIN - 14_322n * MS), nsToMs(D0 + 2n * DAY + 17n * HOUR + 23n * MIN + 45_678n * MS)],
  ];

  for (const [name, startMs, endMs] of ranges) {
    for (const direction of ['forward', 'backward'] as const) {
      it(`logs, ${direction}, ${name}: chunks concatenate to the unsplit answer`, async () => {
        expect(splitLogs(startMs, endMs, Number(DAY / MS)).length).toBeGreaterThanOrEqual(3);
        const whole = collect(await logQuery(startMs, endMs, direction, 5000));
        const split = await splitLogQuery(startMs, endMs, direction, 5000);
        // The expected entries: start inclusive, end exclusive.
        const expected = [...A, ...B].filter((e) => e.ts >= msToNs(startMs) && e.ts < msToNs(endMs)).length;
        expect(whole.rows).toBe(expected);
        expect(split.rows).toBe(expected);
        expect([...split.byStream.keys()].sort()).toEqual([...whole.byStream.keys()].sort());
        for (const [key, values] of whole.byStream) expect(split.byStream.get(key), key).toEqual(values);
        // Boundary entries appear exactly once.
        for (const values of split.byStream.values()) expect(new Set(values.map((v) => v[0])).size).toBe(values.length);
      });
    }
  }

  for (const direction of ['forward', 'backward'] as const) {
    it(`logs, ${direction}, maxLines reached inside the second chunk: same rows as one query`, async () => {
      const [, startMs, endMs] = ranges[0]!;
      const whole = collect(await logQuery(startMs, endMs, direction, 250));
      const split = await splitLogQuery(startMs, endMs, direction, 250);
      expect(whole.rows).toBe(250);
      expect(split.rows).toBe(250);
      for (const [key, values] of whole.byStream) expect(split.byStream.get(key), key).toEqual(values);
    });
  }

  interface Series {
    metric: Record<string, string>;
    values: Array<[number, string]>;
  }

  const metricQuery = async (query: string, startMs: number, endMs: number, stepMs: number, limit?: number) =>
    getJson(
      `${srv.url}/loki/api/v1/query_range?${qs({ direction: 'backward', end: msToNs(endMs), ...(limit ? { limit } : {}), query, start: msToNs(startMs), step: `${stepMs}ms` })}`,
      { ...CATEGORIZE, 'X-Query-Tags': 'Source=logvolhist' },
    );

  const metricCases: Array<[string, number, number]> = [
    ['count_over_time({job="split"}[10m])', ranges[0]![1], ranges[0]![2]],
    ['count_over_time({job="split"}[10m])', ranges[1]![1], ranges[1]![2]],
    ['sum(count_over_time({job="split"}[1h]))', ranges[2]![1], ranges[2]![2]],
    ['sum by (stream) (count_over_time({job="split"}[25m]))', ranges[2]![1], ranges[2]![2]],
  ];

  for (const [query, startMs, endMs] of metricCases) {
    it(`metrics: ${query} over ${(endMs - startMs) / 3_600_000}h, step 10m: the chunks' union equals one query`, async () => {
      const stepMs = 600_000;
      const chunks = splitMetrics(startMs, endMs, stepMs, Number(DAY / MS));
      expect(chunks.length).toBeGreaterThanOrEqual(3);
      // Grafana aligns the whole range the same way before splitting.
      const alignedStart = startMs - (startMs % stepMs);
      const alignedEnd = endMs - (endMs % stepMs);
      const whole = await metricQuery(query, alignedStart, alignedEnd, stepMs, 1000);
      expect(whole.data.resultType).toBe('matrix');
      const merged = new Map<string, Array<[number, string]>>();
      for (const [s, e] of chunks) {
        const json = await metricQuery(query, s, e, stepMs);
        expect(json.data.resultType).toBe('matrix');
        for (const series of json.data.result as Series[]) {
          for (const [t] of series.values) {
            expect(t * 1000).toBeGreaterThanOrEqual(s);
            expect(t * 1000).toBeLessThanOrEqual(e);
          }
          const key = JSON.stringify(series.metric);
          merged.set(key, [...(merged.get(key) ?? []), ...series.values]);
        }
      }
      const wholeMap = new Map((whole.data.result as Series[]).map((s) => [JSON.stringify(s.metric), s.values]));
      expect([...merged.keys()].sort()).toEqual([...wholeMap.keys()].sort());
      for (const [key, values] of wholeMap) {
        const got = merged.get(key)!;
        // No duplicated or missing timestamps, same values, in time order.
        expect(new Set(got.map((v) => v[0])).size).toBe(got.length);
        expect(got, key).toEqual(values);
        // The point at the range's end is there (the last chunk ends at alignedEnd).
      }
      const lastTimes = [...wholeMap.values()].map((v) => v[v.length - 1]![0]);
      expect(Math.max(...lastTimes) * 1000).toBe(alignedEnd);
      // Every step point of the range is evaluated: stream a has an entry in every 10m window.
      const points = (alignedEnd - alignedStart) / stepMs + 1;
      const maxLen = Math.max(...[...wholeMap.values()].map((v) => v.length));
      expect(maxLen).toBe(points);
    });
  }

  it('metrics: the per-chunk counts at day boundaries include the boundary entries exactly once', async () => {
    const stepMs = 600_000;
    const [, startMs, endMs] = ranges[0]!;
    const query = 'sum(count_over_time({job="split", stream="b"} |= "edge" [10m]))';
    const total = (json: any) => (json.data.result as Series[]).flatMap((s) => s.values).reduce((n, [, v]) => n + Number(v), 0);
    const whole = total(await metricQuery(query, startMs, endMs, stepMs, 1000));
    let split = 0;
    for (const [s, e] of splitMetrics(startMs, endMs, stepMs, Number(DAY / MS))) split += total(await metricQuery(query, s, e, stepMs));
    // Windows (t − 10m, t] on the 10m grid from D0 to D0 + 3d: the edge entries at D0 − 1ns and
    // D0 fall in the window ending at D0; D0 + 1ns in the next; likewise for each midnight; the
    // entry at D0 + 3d + 1ns is after the end. 4 midnights × 3 − 1 = 11.
    expect(whole).toBe(11);
    expect(split).toBe(11);
  });
});
