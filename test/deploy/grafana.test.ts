/**
 * deploy/grafana/: the data source and dashboard provisioning cannot be loaded into a Grafana here,
 * so these tests check the files by reading them (the data source points at the Service in
 * deploy/kubernetes/server.yaml, every panel queries the Skald data source), then run every panel's
 * query against a real server the way Grafana's Loki data source sends it: variables interpolated,
 * GET query_range / query with ns times, `step=<n>ms`, `limit=maxLines`, `direction=backward` and
 * Grafana's headers, and check the answers make sense for the data pushed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, push, type TestStream } from '../helpers/push.js';
import { startServer, type InProcessServer } from '../helpers/server.js';

type Json = Record<string, any>;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const GRAFANA_DIR = posix.join(ROOT, 'deploy/grafana');
const DATASOURCE_UID = 'skald';

function readYaml(rel: string): Json {
  const doc = parseYaml(readFileSync(posix.join(GRAFANA_DIR, rel), 'utf8')) as unknown;
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${rel}: not a mapping`);
  return doc as Json;
}

const datasourceFile = readYaml('provisioning/datasources/skald.yaml');
const dashboardProviderFile = readYaml('provisioning/dashboards/skald.yaml');
const DASHBOARD_FILES = readdirSync(posix.join(GRAFANA_DIR, 'dashboards')).filter((f) => f.endsWith('.json')).sort();
const dashboard = JSON.parse(readFileSync(posix.join(GRAFANA_DIR, 'dashboards/skald-logs.json'), 'utf8')) as Json;
const panels = dashboard.panels as Json[];

function skaldDatasource(): Json {
  const matches = (datasourceFile.datasources as Json[]).filter((d) => d.uid === DATASOURCE_UID);
  expect(matches).toHaveLength(1);
  return matches[0]!;
}

function k8sObjects(file: string): Json[] {
  const docs = parseAllDocuments(readFileSync(posix.join(ROOT, 'deploy/kubernetes', file), 'utf8'));
  if (!Array.isArray(docs)) throw new Error(`${file}: no YAML documents`);
  return docs.map((d) => d.toJS() as Json).filter((o) => o !== null && o !== undefined);
}

describe('deploy/grafana provisioning', () => {
  it('provisions one Loki data source named Skald, uid skald, proxied, the default', () => {
    expect(datasourceFile.apiVersion).toBe(1);
    const ds = skaldDatasource();
    expect(ds.name).toBe('Skald');
    expect(ds.type).toBe('loki');
    expect(ds.access).toBe('proxy');
    expect(ds.isDefault).toBe(true);
    expect(ds.jsonData?.maxLines).toBe(1000);
    // Only one data source may be the default in an org.
    expect((datasourceFile.datasources as Json[]).filter((d) => d.isDefault === true)).toHaveLength(1);
  });

  it('points the data source at the skald Service in deploy/kubernetes/server.yaml', () => {
    const url = new URL(skaldDatasource().url as string);
    expect(url.protocol).toBe('http:');
    expect(url.pathname).toBe('/'); // Grafana appends /loki/api/v1/... itself
    const [serviceName, namespace, svc, ...rest] = url.hostname.split('.');
    expect(svc).toBe('svc');
    expect(rest.every((p, i) => ['cluster', 'local'][i] === p)).toBe(true);
    const services = k8sObjects('server.yaml').filter(
      (o) => o.kind === 'Service' && o.metadata?.name === serviceName && o.metadata?.namespace === namespace,
    );
    expect(services, `Service ${namespace}/${serviceName}`).toHaveLength(1);
    const service = services[0]!;
    expect(service.spec.clusterIP).not.toBe('None');
    const ports = (service.spec.ports as Json[]).map((p) => p.port as number);
    expect(ports).toContain(Number(url.port));
  });

  it('loads the dashboards directory through a file provider', () => {
    expect(dashboardProviderFile.apiVersion).toBe(1);
    const providers = dashboardProviderFile.providers as Json[];
    expect(providers).toHaveLength(1);
    const provider = providers[0]!;
    expect(provider.type).toBe('file');
    expect(typeof provider.folder).toBe('string');
    expect(provider.folder).not.toBe('');
    expect(typeof provider.options?.path).toBe('string');
    expect(posix.isAbsolute(provider.options.path)).toBe(true);
    expect(DASHBOARD_FILES).toEqual(['skald-logs.json']);
  });

  it('has a dashboard Grafana can import: uid, title, schemaVersion, unique panel ids on a 24-column grid', () => {
    expect(dashboard.uid).toBe('skald-logs');
    expect(typeof dashboard.title).toBe('string');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.schemaVersion).toBeLessThanOrEqual(41);
    expect(panels.length).toBeGreaterThanOrEqual(4);
    const ids = panels.map((p) => p.id as number);
    expect(new Set(ids).size).toBe(ids.length);
    // No two panels overlap.
    const cells = new Set<string>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos as { x: number; y: number; w: number; h: number };
      expect(x + w, p.title).toBeLessThanOrEqual(24);
      expect(w > 0 && h > 0, p.title).toBe(true);
      for (let i = x; i < x + w; i++)
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `${p.title} overlaps at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
    }
    expect(panels.map((p) => p.type).sort()).toEqual(['bargauge', 'logs', 'timeseries', 'timeseries']);
  });

  it('queries the Skald data source (uid skald) from every panel, target and variable', () => {
    const ref = { type: 'loki', uid: DATASOURCE_UID };
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual(ref);
      expect((p.targets as Json[]).length, p.title).toBeGreaterThan(0);
      for (const t of p.targets as Json[]) {
        expect(t.datasource, `${p.title} ${t.refId}`).toEqual(ref);
        expect(typeof t.refId).toBe('string');
        expect(typeof t.expr).toBe('string');
        expect(['range', 'instant']).toContain(t.queryType);
        if (p.type === 'logs') expect(t.queryType).toBe('range');
      }
    }
    for (const v of dashboard.templating.list as Json[]) expect(v.datasource, v.name).toEqual(ref);
  });

  it('has a namespace variable: Loki label values of `namespace`, with All = .+', () => {
    const vars = (dashboard.templating.list as Json[]).filter((v) => v.name === 'namespace');
    expect(vars).toHaveLength(1);
    const v = vars[0]!;
    expect(v.type).toBe('query');
    // LokiVariableQuery: type 1 = LokiVariableQueryType.LabelValues; no stream => /label/<name>/values.
    expect(v.query).toMatchObject({ type: 1, label: 'namespace' });
    expect(v.query.stream ?? '').toBe('');
    expect(v.includeAll).toBe(true);
    expect(v.allValue).toBe('.+');
    // Every query uses the variable in a regex matcher, so All and multi-value selections work.
    for (const p of panels) for (const t of p.targets as Json[]) expect(t.expr, p.title).toContain('namespace=~"$namespace"');
  });
});

// ---------------------------------------------------------------------------------------------
// The panels' queries against a real server.

const MS = 1_000_000n;
const MINUTE_MS = 60_000;

type Level = 'debug' | 'info' | 'warn' | 'error' | 'critical';

interface PodSpec {
  namespace: string;
  pod: string;
  container: string;
  node: string;
  /** Lines by level; the line formats vary (logfmt, JSON, plain keywords). */
  lines: Partial<Record<Level, number>>;
}

const PODS: PodSpec[] = [
  { namespace: 'shop', pod: 'shop-api-7d9f8c6b5-x2k4q', container: 'api', node: 'node-a', lines: { info: 30, warn: 6, error: 5 } },
  { namespace: 'shop', pod: 'shop-web-5f6d7b9c8-p9zrt', container: 'nginx', node: 'node-b', lines: { info: 22, warn: 2 } },
  { namespace: 'payments', pod: 'payments-worker-0', container: 'worker', node: 'node-a', lines: { info: 12, error: 3, critical: 1, warn: 1 } },
  { namespace: 'payments', pod: 'payments-gateway-6c8d5-ml2vb', container: 'gateway', node: 'node-b', lines: { info: 9 } },
  { namespace: 'monitoring', pod: 'prometheus-0', container: 'prometheus', node: 'node-c', lines: { info: 5, debug: 2 } },
  // Enough small pods that topk(10, …) has to drop some (distinct counts, so the top 10 is unambiguous).
  ...[1, 2, 3, 4, 6, 8, 10, 11].map(
    (n, i): PodSpec => ({ namespace: 'batch', pod: `report-2026112${i}-${n}x7k`, container: 'report', node: 'node-c', lines: { info: n } }),
  ),
];
const NAMESPACES = [...new Set(PODS.map((p) => p.namespace))].sort();

function total(p: PodSpec, levels: readonly Level[] = ['debug', 'info', 'warn', 'error', 'critical']): number {
  return levels.reduce((n, l) => n + (p.lines[l] ?? 0), 0);
}

function lineFor(level: Level, i: number): string {
  switch (level) {
    case 'info':
      return i % 2 === 0
        ? `ts=2026-01-01T00:00:00Z level=info msg="request served" method=GET path=/api/items/${i} status=200 duration=12ms`
        : JSON.stringify({ level: 'info', msg: 'request served', status: 200, path: `/api/items/${i}` });
    case 'warn':
      return i % 2 === 0 ? JSON.stringify({ level: 'warn', msg: 'slow upstream', ms: 800 + i }) : `level=warn msg="retrying" attempt=${i}`;
    case 'error':
      return i % 2 === 0 ? `level=error msg="request failed" err="connection reset by peer" id=${i}` : JSON.stringify({ level: 'error', msg: 'timeout', id: i });
    case 'critical':
      return `level=critical msg="database connection pool exhausted" id=${i}`;
    case 'debug':
      return `level=debug msg="scrape done" target=${i}`;
  }
}

const ERROR_LEVELS: readonly Level[] = ['error', 'critical'];
/** Each pod's entry timestamps (ms) are kept to check the log query. */
const BASE_MS = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
/** The dashboard's time range: the last hour, end aligned to the step as Grafana's time ranges usually are. */
const END_MS = BASE_MS + MINUTE_MS;
const START_MS = END_MS - 60 * MINUTE_MS;

function buildStreams(): { streams: TestStream[]; count: number } {
  const streams: TestStream[] = [];
  let g = 0;
  for (const pod of PODS) {
    const stdout: TestStream['entries'] = [];
    const stderr: TestStream['entries'] = [];
    for (const level of ['debug', 'info', 'warn', 'error', 'critical'] as const) {
      for (let i = 0; i < (pod.lines[level] ?? 0); i++) {
        g++;
        // Spread over ~25 minutes, never on a minute boundary (123 ms past a whole second).
        const ts = BigInt(BASE_MS - g * 11_000 - 123) * MS;
        (ERROR_LEVELS.includes(level) ? stderr : stdout).push({ ts, line: lineFor(level, i) });
      }
    }
    for (const [streamName, entries] of [['stdout', stdout], ['stderr', stderr]] as const) {
      if (entries.length === 0) continue;
      entries.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
      streams.push({
        labels: {
          namespace: pod.namespace,
          pod: pod.pod,
          container: pod.container,
          node_name: pod.node,
          job: `${pod.namespace}/${pod.container}`,
          service_name: pod.container,
          filename: `/var/log/pods/${pod.namespace}_${pod.pod}_0b6c2f4e-1d3a-4c5b-9e7f-${pod.container.padEnd(12, '0').slice(0, 12)}/${pod.container}/0.log`,
          stream: streamName,
        },
        entries,
      });
    }
  }
  return { streams, count: g };
}

/** Grafana's multi-value/All interpolation of `$namespace` for Loki (regex-escaped values joined with |). */
function namespaceValue(selection: 'All' | string[]): string {
  if (selection === 'All') return '.+';
  const escaped = selection.map((v) => v.replace(/[\\^$*+?.()|[\]{}]/g, '\\$&'));
  return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
}

interface Interpolation {
  namespace: string;
  queryType: 'range' | 'instant';
}

/** What Grafana does to the expression before sending it (GL parse_query.go interpolateVariables). */
function interpolate(expr: string, { namespace, queryType }: Interpolation): string {
  const rangeSeconds = (END_MS - START_MS) / 1000;
  return expr
    .replaceAll('$namespace', namespace)
    .replaceAll('${namespace}', namespace)
    .replaceAll('$__auto', queryType === 'range' ? '1m' : `${rangeSeconds}s`)
    .replaceAll('$__range', `${rangeSeconds}s`)
    .replaceAll('$__interval', '1m');
}

const GRAFANA_HEADERS = {
  'X-Loki-Response-Encoding-Flags': 'categorize-labels',
  'X-Query-Tags': 'Source=grafana',
};

interface QueryAnswer {
  url: string;
  status: number;
  text: string;
  json: any;
}

function selectedNamespaces(selection: 'All' | string[]): string[] {
  return selection === 'All' ? NAMESPACES : selection;
}

describe('deploy/grafana dashboard queries against a Skald server', () => {
  let srv: InProcessServer;
  let pushed = 0;

  beforeAll(async () => {
    srv = await startServer();
    const { streams, count } = buildStreams();
    pushed = count;
    const res = await push(srv.url, streams);
    expect(res.status, res.body).toBe(204);
  });
  afterAll(() => srv?.close());

  async function run(target: Json, selection: 'All' | string[], headers: Record<string, string> = GRAFANA_HEADERS): Promise<QueryAnswer> {
    const queryType = target.queryType as 'range' | 'instant';
    const query = interpolate(target.expr as string, { namespace: namespaceValue(selection), queryType });
    const params = new URLSearchParams({ direction: 'backward', query, limit: String(skaldDatasource().jsonData.maxLines) });
    let url: string;
    if (queryType === 'instant') {
      params.set('time', String(BigInt(END_MS) * MS));
      url = `${srv.url}/loki/api/v1/query?${params}`;
    } else {
      params.set('start', String(BigInt(START_MS) * MS));
      params.set('end', String(BigInt(END_MS) * MS));
      params.set('step', `${MINUTE_MS}ms`);
      url = `${srv.url}/loki/api/v1/query_range?${params}`;
    }
    const { status, text, json } = await getJson(url, headers);
    return { url: `${decodeURIComponent(url)}`, status, text, json };
  }

  function expectSuccess(a: QueryAnswer, resultType: string): any[] {
    const where = `${a.url}\n-> ${a.status} ${a.text.slice(0, 500)}`;
    expect(a.status, where).toBe(200);
    expect(a.json?.status, where).toBe('success');
    expect(a.json.data.resultType, where).toBe(resultType);
    expect(Array.isArray(a.json.data.result), where).toBe(true);
    expect(a.json.data.result.length, where).toBeGreaterThan(0);
    return a.json.data.result as any[];
  }

  function panel(title: string): Json {
    const p = panels.find((x) => x.title === title);
    if (!p) throw new Error(`no panel ${title}`);
    return p;
  }

  const SELECTIONS: Array<'All' | string[]> = ['All', ['shop'], ['payments', 'monitoring']];

  it('answers every panel query, for All, one and several namespaces, with the result type the panel needs', async () => {
    for (const p of panels) {
      for (const t of p.targets as Json[]) {
        for (const selection of SELECTIONS) {
          const a = await run(t, selection);
          const resultType = p.type === 'logs' ? 'streams' : t.queryType === 'instant' ? 'vector' : 'matrix';
          const result = expectSuccess(a, resultType);
          const allowed = new Set(selectedNamespaces(selection));
          for (const r of result) {
            const labels = (r.stream ?? r.metric) as Record<string, string>;
            // Queries that keep the namespace label only return the selected namespaces.
            if ('namespace' in labels) expect(allowed.has(labels.namespace!), `${a.url}: ${JSON.stringify(labels)}`).toBe(true);
          }
        }
      }
    }
  });

  it('answers the namespace variable’s label values request with every namespace', async () => {
    // LanguageProvider.fetchLabelValues: GET label/<name>/values?start&end (ms × 1e6).
    const url = `${srv.url}/loki/api/v1/label/namespace/values?start=${BigInt(START_MS) * MS}&end=${BigInt(END_MS) * MS}`;
    const res = await fetch(url);
    const text = await res.text();
    expect(res.status, text).toBe(200);
    const json = JSON.parse(text);
    expect(json.status).toBe('success');
    expect([...json.data].sort()).toEqual(NAMESPACES);
  });

  it('log volume by level: counts per detected_level add up to the lines pushed', async () => {
    const target = panel('Log volume by level').targets[0] as Json;
    for (const selection of SELECTIONS) {
      const a = await run(target, selection);
      const result = expectSuccess(a, 'matrix');
      const pods = PODS.filter((p) => selectedNamespaces(selection).includes(p.namespace));
      const expected: Record<string, number> = {};
      for (const p of pods) for (const [level, n] of Object.entries(p.lines)) expected[level] = (expected[level] ?? 0) + n;
      const got: Record<string, number> = {};
      for (const series of result) {
        expect(Object.keys(series.metric), a.url).toEqual(['detected_level']);
        for (const [t, v] of series.values as Array<[number, string]>) {
          expect(typeof t).toBe('number');
          expect(t * 1000).toBeGreaterThanOrEqual(START_MS);
          expect(t * 1000).toBeLessThanOrEqual(END_MS);
          expect(typeof v).toBe('string');
          got[series.metric.detected_level] = (got[series.metric.detected_level] ?? 0) + Number(v);
        }
      }
      expect(got, `${a.url}`).toEqual(expected);
    }
  });

  it('error rate by namespace: series only for namespaces with error/critical/fatal lines, rates matching their counts', async () => {
    const target = panel('Error rate by namespace').targets[0] as Json;
    for (const selection of SELECTIONS) {
      const a = await run(target, selection);
      const expected = new Map<string, number>();
      for (const p of PODS.filter((x) => selectedNamespaces(selection).includes(x.namespace))) {
        const n = total(p, ERROR_LEVELS);
        if (n > 0) expected.set(p.namespace, (expected.get(p.namespace) ?? 0) + n);
      }
      if (expected.size === 0) {
        // e.g. monitoring alone: Loki answers an empty matrix.
        expect(a.status).toBe(200);
        expect(a.json.data.result).toEqual([]);
        continue;
      }
      const result = expectSuccess(a, 'matrix');
      expect(result.map((s) => s.metric.namespace).sort(), a.url).toEqual([...expected.keys()].sort());
      for (const series of result) {
        expect(Object.keys(series.metric)).toEqual(['namespace']);
        // rate = count / 60 s per 1m window; the windows tile the range, so the sum × 60 is the count.
        const sum = (series.values as Array<[number, string]>).reduce((s, [, v]) => s + Number(v), 0);
        expect(sum * 60, `${a.url} ${series.metric.namespace}`).toBeCloseTo(expected.get(series.metric.namespace)!, 6);
      }
    }
    // Spot check the exact totals: shop 5 errors, payments 3 errors + 1 critical; monitoring none.
    const all = expectSuccess(await run(target, 'All'), 'matrix');
    expect(all.map((s) => s.metric.namespace).sort()).toEqual(['payments', 'shop']);
  });

  it('top pods by lines: one sample per pod, line counts over $__range, at most 10, the top ones by count', async () => {
    const target = panel('Top pods by lines').targets[0] as Json;
    expect(target.queryType).toBe('instant');
    // Loki answers topk in label order; the panel orders the bars by value itself.
    expect(panel('Top pods by lines').transformations).toContainEqual({
      id: 'sortBy',
      options: { fields: {}, sort: [{ desc: true, field: 'Value' }] },
    });
    let truncated = false;
    for (const selection of SELECTIONS) {
      const a = await run(target, selection);
      const result = expectSuccess(a, 'vector');
      const expected = PODS.filter((p) => selectedNamespaces(selection).includes(p.namespace))
        .map((p) => ({ metric: { namespace: p.namespace, pod: p.pod }, count: total(p) }))
        .sort((x, y) => y.count - x.count)
        .slice(0, 10);
      expect(result.length).toBeLessThanOrEqual(10);
      if (PODS.filter((p) => selectedNamespaces(selection).includes(p.namespace)).length > 10) truncated = true;
      for (const r of result) {
        expect(r.value[0] * 1000, a.url).toBe(END_MS);
        expect(typeof r.value[1]).toBe('string');
      }
      const got = result.map((r) => ({ metric: r.metric as Record<string, string>, count: Number(r.value[1]) }));
      // Loki sorts an instant vector by labels unless the query has sort/sort_desc (engine.go
      // JoinSampleVector/Sortable), topk included; the panel's sortBy transformation orders the bars.
      const byLabels = (x: { metric: Record<string, string> }, y: { metric: Record<string, string> }) =>
        x.metric.namespace! < y.metric.namespace! ? -1 : x.metric.namespace! > y.metric.namespace! ? 1 : x.metric.pod! < y.metric.pod! ? -1 : 1;
      expect(got, a.url).toEqual([...got].sort(byLabels));
      expect([...got].sort((x, y) => y.count - x.count), a.url).toEqual(expected);
    }
    expect(truncated, 'the data has more than 10 pods in some selection').toBe(true);
    // Older Grafana versions and hand-written queries use `[1h]` for the same range: same answer.
    const inHours = await run({ ...target, expr: (target.expr as string).replace('$__range', '1h') }, 'All');
    const inSeconds = await run(target, 'All');
    expect(expectSuccess(inHours, 'vector')).toEqual(expectSuccess(inSeconds, 'vector'));
  });

  it('logs: every line of the selected namespaces, newest first, with detected_level as structured metadata', async () => {
    const target = panel('Logs').targets[0] as Json;
    for (const selection of SELECTIONS) {
      const a = await run(target, selection);
      const result = expectSuccess(a, 'streams');
      const pods = PODS.filter((p) => selectedNamespaces(selection).includes(p.namespace));
      // Grafana asked for categorize-labels: entries are [ts, line, {structuredMetadata?, parsed?}].
      expect(a.json.data.encodingFlags, a.url).toContain('categorize-labels');
      let entries = 0;
      for (const s of result) {
        expect(Object.keys(s).sort()).toEqual(['stream', 'values']);
        expect(s.stream.detected_level, 'structured metadata stays out of the stream labels').toBeUndefined();
        expect(Object.keys(s.stream).sort()).toEqual(['container', 'filename', 'job', 'namespace', 'node_name', 'pod', 'service_name', 'stream']);
        let previous: bigint | undefined;
        for (const v of s.values as Array<[string, string, Json]>) {
          expect(v).toHaveLength(3);
          expect(typeof v[0]).toBe('string');
          const ts = BigInt(v[0]);
          if (previous !== undefined) expect(ts <= previous, 'backward: newest first').toBe(true);
          previous = ts;
          expect(v[2].structuredMetadata?.detected_level, v[1]).toMatch(/^(debug|info|warn|error|critical)$/);
          entries++;
        }
      }
      expect(entries, a.url).toBe(pods.reduce((n, p) => n + total(p), 0));
    }
    // All the pushed lines are within the dashboard's hour and under maxLines.
    const all = expectSuccess(await run(target, 'All'), 'streams');
    expect(all.reduce((n, s) => n + s.values.length, 0)).toBe(pushed);
  });

  it('logs without categorize-labels (older Grafana): detected_level merged into the stream labels', async () => {
    const target = panel('Logs').targets[0] as Json;
    const a = await run(target, ['payments'], { 'X-Query-Tags': 'Source=grafana' });
    const result = expectSuccess(a, 'streams');
    expect(a.json.data.encodingFlags ?? []).not.toContain('categorize-labels');
    const byLevel: Record<string, number> = {};
    for (const s of result) {
      expect(s.stream.namespace).toBe('payments');
      expect(typeof s.stream.detected_level, JSON.stringify(s.stream)).toBe('string');
      for (const v of s.values) {
        expect(v).toHaveLength(2);
        byLevel[s.stream.detected_level] = (byLevel[s.stream.detected_level] ?? 0) + 1;
      }
    }
    expect(byLevel).toEqual({ info: 21, error: 3, critical: 1, warn: 1 });
  });
});
