import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, push } from '../helpers/push.js';
import { startServer, type InProcessServer } from '../helpers/server.js';

const SEC = 1_000_000_000n;
/** A fixed, recent-enough second so expected bodies can be written out literally. */
const T0 = (BigInt(Date.now()) / 1000n - 600n) * SEC;

const get = getJson;

function qs(params: Record<string, string | bigint | number>): string {
  return new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
}

describe('query_range with log queries', () => {
  let srv: InProcessServer;
  beforeAll(async () => {
    srv = await startServer({ limits_config: { reject_old_samples: false, discover_log_levels: false, discover_service_name: [] } });
    const res = await push(srv.url, [
      {
        labels: { app: 'api', env: 'prod' },
        entries: [
          { ts: T0 + 1n * SEC, line: 'level=info msg="started" status=200' },
          { ts: T0 + 2n * SEC, line: 'level=error msg="failed" status=500', metadata: [['trace_id', 't2']] },
          { ts: T0 + 3n * SEC, line: 'level=info msg="ok" status=200' },
          { ts: T0 + 5n * SEC, line: 'level=warn msg="slow" status=200' },
        ],
      },
      {
        labels: { app: 'web', env: 'prod' },
        entries: [
          { ts: T0 + 2n * SEC + 500n, line: 'level=error msg="web down" status=503' },
          { ts: T0 + 4n * SEC, line: 'level=info msg="web up" status=200' },
        ],
      },
    ]);
    expect(res.status).toBe(204);
  });
  afterAll(() => srv.close());

  const range = (query: string, extra: Record<string, string | bigint | number> = {}) =>
    `${srv.url}/loki/api/v1/query_range?${qs({ query, start: T0, end: T0 + 10n * SEC, ...extra })}`;

  it('returns the newest entries over all streams, streams sorted by labels, values newest first', async () => {
    const { status, json } = await get(range('{env="prod"}', { limit: 3 }));
    expect(status).toBe(200);
    expect(json.status).toBe('success');
    expect(json.data.resultType).toBe('streams');
    expect(json.data.result).toEqual([
      { stream: { app: 'api', env: 'prod' }, values: [[String(T0 + 5n * SEC), 'level=warn msg="slow" status=200'], [String(T0 + 3n * SEC), 'level=info msg="ok" status=200']] },
      { stream: { app: 'web', env: 'prod' }, values: [[String(T0 + 4n * SEC), 'level=info msg="web up" status=200']] },
    ]);
  });

  it('direction=forward returns the oldest entries, oldest first', async () => {
    const { json } = await get(range('{env="prod"}', { limit: 2, direction: 'FORWARD' }));
    // Structured metadata joins the stream labels; streams sort by label string as in Loki, where
    // `{app="api", env="prod", trace_id="t2"}` comes before `{app="api", env="prod"}` (',' < '}').
    expect(json.data.result).toEqual([
      { stream: { app: 'api', env: 'prod', trace_id: 't2' }, values: [[String(T0 + 2n * SEC), 'level=error msg="failed" status=500']] },
      { stream: { app: 'api', env: 'prod' }, values: [[String(T0 + 1n * SEC), 'level=info msg="started" status=200']] },
    ]);
  });

  it('includes start and excludes end', async () => {
    const { json } = await get(range('{app="api"}', { start: T0 + 2n * SEC, end: T0 + 5n * SEC, direction: 'forward' }));
    const values = json.data.result.flatMap((s: { values: string[][] }) => s.values.map((v) => v[0]));
    expect(values).toEqual([String(T0 + 2n * SEC), String(T0 + 3n * SEC)]);
  });

  it('keys streams by their final label set after the pipeline', async () => {
    const { json } = await get(range('{env="prod"} | logfmt | level="error" | keep app, level'));
    expect(json.data.result).toEqual([
      { stream: { app: 'api', level: 'error' }, values: [[String(T0 + 2n * SEC), 'level=error msg="failed" status=500']] },
      { stream: { app: 'web', level: 'error' }, values: [[String(T0 + 2n * SEC + 500n), 'level=error msg="web down" status=503']] },
    ]);
  });

  it('answers with Loki key order and exact body, without categorize-labels', async () => {
    const { text } = await get(range('{app="web"} |= "up"'));
    const prefix = `{"status":"success","data":{"resultType":"streams","result":[{"stream":{"app":"web","env":"prod"},"values":[["${T0 + 4n * SEC}","level=info msg=\\"web up\\" status=200"]]}],"stats":{"summary":{"bytesProcessedPerSecond":`;
    expect(text.startsWith(prefix)).toBe(true);
  });

  it('with categorize-labels puts encodingFlags before result and splits metadata and parsed labels', async () => {
    const { json, text } = await get(range('{app="api"} | logfmt | level="error"'), { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' });
    expect(Object.keys(json.data)).toEqual(['resultType', 'encodingFlags', 'result', 'stats']);
    expect(json.data.encodingFlags).toEqual(['categorize-labels']);
    expect(json.data.result).toEqual([
      {
        stream: { app: 'api', env: 'prod' },
        values: [
          [
            String(T0 + 2n * SEC),
            'level=error msg="failed" status=500',
            { structuredMetadata: { trace_id: 't2' }, parsed: { level: 'error', msg: 'failed', status: '500' } },
          ],
        ],
      },
    ]);
    expect(text).toContain('"encodingFlags":["categorize-labels"],"result":');
    const plain = await get(range('{app="web"}', { limit: 1 }), { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' });
    expect(plain.json.data.result[0].values[0][2]).toEqual({});
  });

  it('reports real processing statistics', async () => {
    const { json } = await get(range('{env="prod"} |= "error"'));
    const summary = json.data.stats.summary;
    expect(summary.totalLinesProcessed).toBe(6);
    expect(summary.totalBytesProcessed).toBeGreaterThan(6 * 25);
    expect(summary.totalEntriesReturned).toBe(2);
    expect(summary.totalPostFilterLines).toBe(2);
    expect(typeof summary.execTime).toBe('number');
    expect(Object.keys(json.data.stats)).toEqual(['summary', 'querier', 'ingester', 'cache', 'index']);
    expect(json.data.stats.querier.store.chunk.decompressedLines).toBeGreaterThanOrEqual(6);
  });

  it('answers POST forms like GET', async () => {
    const body = new URLSearchParams({ query: '{app="web"}', start: String(T0), end: String(T0 + 10n * SEC), limit: '1' });
    const res = await fetch(`${srv.url}/loki/api/v1/query_range`, { method: 'POST', body });
    const json = (await res.json()) as { data: { result: Array<{ values: string[][] }> } };
    expect(json.data.result[0]!.values).toEqual([[String(T0 + 4n * SEC), 'level=info msg="web up" status=200']]);
  });

  it('thins entries by interval over all streams', async () => {
    const { json } = await get(range('{env="prod"}', { interval: '2', direction: 'forward' }));
    const values = json.data.result.flatMap((s: { values: string[][] }) => s.values.map((v) => v[0])).sort();
    // 1s kept; 2s, 2.0000005s too close; 3s kept; 4s too close; 5s kept.
    expect(values).toEqual([String(T0 + 1n * SEC), String(T0 + 3n * SEC), String(T0 + 5n * SEC)]);
  });

  it('answers the legacy /api/prom/query with RFC3339 timestamps', async () => {
    const { json } = await get(`${srv.url}/api/prom/query?${qs({ query: '{app="web"}', regexp: 'web (up|down)', start: T0, end: T0 + 10n * SEC, limit: 1 })}`);
    const expectedTs = new Date(Number((T0 + 4n * SEC) / 1_000_000n)).toISOString().replace('.000Z', 'Z');
    expect(json.streams).toEqual([{ labels: '{app="web", env="prod"}', entries: [{ ts: expectedTs, line: 'level=info msg="web up" status=200' }] }]);
    const metric = await get(`${srv.url}/api/prom/query?${qs({ query: 'count_over_time({app="web"}[1m])' })}`);
    expect(metric.status).toBe(400);
    expect(metric.text).toBe('legacy endpoints only support streams result type');
  });
});

describe('query and query_range with metric queries', () => {
  let srv: InProcessServer;
  beforeAll(async () => {
    srv = await startServer({ limits_config: { reject_old_samples: false, discover_log_levels: false, discover_service_name: [] } });
    const entries = [0n, 10n, 20n, 30n, 59n, 60n, 61n].map((s) => ({ ts: T0 + s * SEC, line: `tick ${s}` }));
    expect((await push(srv.url, [{ labels: { app: 'clock' }, entries }])).status).toBe(204);
  });
  afterAll(() => srv.close());

  it('passes Grafana health check: vector(1)+vector(1) at time=4000000000 is one sample of 2', async () => {
    const { status, text } = await get(`${srv.url}/loki/api/v1/query?direction=backward&query=vector%281%29%2Bvector%281%29&time=4000000000`, {
      'X-Loki-Response-Encoding-Flags': 'categorize-labels',
    });
    expect(status).toBe(200);
    expect(text.startsWith('{"status":"success","data":{"resultType":"vector","encodingFlags":["categorize-labels"],"result":[{"metric":{},"value":[4000000000,"2"]}],"stats":{')).toBe(true);
  });

  it('returns a scalar for a literal, with and without categorize-labels', async () => {
    const url = `${srv.url}/loki/api/v1/query?${qs({ query: '1 + 1', time: 1700000000.5 })}`;
    const plain = await get(url);
    expect(plain.text.startsWith('{"status":"success","data":{"resultType":"scalar","result":[1700000000.5,"2"],"stats":{"summary":{')).toBe(true);
    const flagged = await get(url, { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' });
    expect(flagged.text.startsWith('{"status":"success","data":{"resultType":"scalar","encodingFlags":["categorize-labels"],"result":[1700000000.5,"2"],"stats":{')).toBe(true);
  });

  it('evaluates a range query at start + k·step up to end inclusive over (t − range, t]', async () => {
    const start = T0 + 30n * SEC;
    const { json, text } = await get(
      `${srv.url}/loki/api/v1/query_range?${qs({ query: 'count_over_time({app="clock"}[30s])', start, end: start + 31n * SEC, step: '15s' })}`,
    );
    const t = (s: bigint) => Number((start + s * SEC) / SEC);
    // At 30s: (0s, 30s] holds 10, 20, 30 → 3. At 45s: (15s, 45s] → 20, 30 → 2. At 60s: (30s, 60s] → 59, 60 → 2.
    expect(json.data.resultType).toBe('matrix');
    expect(json.data.result).toEqual([{ metric: { app: 'clock' }, values: [[t(0n), '3'], [t(15n), '2'], [t(30n), '2']] }]);
    expect(text).toContain(`"values":[[${t(0n)},"3"]`);
  });

  it('golden bodies of matrix and vector results, with and without categorize-labels', async () => {
    const start = T0 + 30n * SEC;
    const sec = (s: bigint) => String((start + s * SEC) / SEC);
    const matrixUrl = `${srv.url}/loki/api/v1/query_range?${qs({ query: 'sum by (app) (count_over_time({app="clock"}[30s]))', start, end: start + 30n * SEC, step: 30 })}`;
    const matrix = `"result":[{"metric":{"app":"clock"},"values":[[${sec(0n)},"3"],[${sec(30n)},"2"]]}],"stats":{"summary":{`;
    expect((await get(matrixUrl)).text.startsWith(`{"status":"success","data":{"resultType":"matrix",${matrix}`)).toBe(true);
    const flagged = await get(matrixUrl, { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' });
    expect(flagged.text.startsWith(`{"status":"success","data":{"resultType":"matrix","encodingFlags":["categorize-labels"],${matrix}`)).toBe(true);
    const vectorUrl = `${srv.url}/loki/api/v1/query?${qs({ query: 'count_over_time({app="clock"}[30s]) > 2', time: start })}`;
    const vector = await get(vectorUrl);
    expect(vector.text.startsWith(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"app":"clock"},"value":[${sec(0n)},"3"]}],"stats":{"summary":{`)).toBe(true);
  });

  it('evaluates an instant metric query at time', async () => {
    const { json } = await get(`${srv.url}/loki/api/v1/query?${qs({ query: 'sum(count_over_time({app="clock"}[1m]))', time: T0 + 61n * SEC })}`);
    // (1s, 61s] holds 10, 20, 30, 59, 60, 61.
    expect(json.data.result).toEqual([{ metric: {}, value: [Number((T0 + 61n * SEC) / SEC), '6'] }]);
  });

  it('prints NaN as Prometheus does (Loki divides by zero to NaN)', async () => {
    const { json } = await get(`${srv.url}/loki/api/v1/query?${qs({ query: 'sum(count_over_time({app="clock"}[1m])) / 0', time: T0 + 61n * SEC })}`);
    expect(json.data.result[0].value[1]).toBe('NaN');
  });
});

describe('query errors', () => {
  let srv: InProcessServer;
  beforeAll(async () => {
    srv = await startServer({ limits_config: { reject_old_samples: false, max_query_length: '2h' } });
  });
  afterAll(() => srv.close());

  const cases: Array<[string, string, number, string]> = [
    ['parse error with position', `query_range?${qs({ query: '{app="a"} |= ' })}`, 400, 'parse error at line 1, col 14: syntax error: unexpected $end, expecting STRING or ip'],
    ['log query as instant query', `query?${qs({ query: '{app="a"}' })}`, 400, 'log queries are not supported as an instant query type, please change your query to a range query type'],
    ['limit over the maximum', `query_range?${qs({ query: '{app="a"}', limit: 5001 })}`, 400, 'max entries limit per query exceeded, limit > max_entries_limit_per_query (5001 > 5000)'],
    ['too many points', `query_range?${qs({ query: 'count_over_time({app="a"}[1m])', start: 0, end: 11001, step: 1 })}`, 400, 'exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter'],
    ['zero step', `query_range?${qs({ query: '{app="a"}', step: 0 })}`, 400, 'zero or negative query resolution step widths are not accepted. Try a positive integer'],
    ['bad step', `query_range?${qs({ query: '{app="a"}', step: '1.5s' })}`, 400, 'cannot parse "1.5s" to a valid duration'],
    ['bad direction', `query_range?${qs({ query: '{app="a"}', direction: 'up' })}`, 400, "invalid direction 'up'"],
    ['negative limit', `query_range?${qs({ query: '{app="a"}', limit: -1 })}`, 400, 'limit must be a positive value'],
    ['end before start', `query_range?${qs({ query: '{app="a"}', start: 20, end: 10 })}`, 400, 'end timestamp must not be before or equal to start time'],
    ['range too long', `query_range?${qs({ query: '{app="a"}', start: 0, end: 3 * 3600, step: 60 })}`, 400, 'the query time range exceeds the limit (query length: 3h0m0s, limit: 2h0m0s)'],
    ['bad regex at run time', `query_range?${qs({ query: '{app="a"} |~ "(a"' })}`, 400, 'error parsing regexp: missing closing ): `(a`'],
  ];
  for (const [name, path, status, message] of cases) {
    it(`answers ${name} with Loki's status and text`, async () => {
      const res = await fetch(`${srv.url}/loki/api/v1/${path}`);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toContain('text/plain');
      expect(await res.text()).toBe(message);
    });
  }

  it('accepts a limit of exactly max_entries_limit_per_query and a large limit on metric queries', async () => {
    expect((await fetch(`${srv.url}/loki/api/v1/query_range?${qs({ query: '{app="a"}', limit: 5000 })}`)).status).toBe(200);
    expect((await fetch(`${srv.url}/loki/api/v1/query_range?${qs({ query: 'count_over_time({app="a"}[1m])', limit: 10000 })}`)).status).toBe(200);
  });
});
