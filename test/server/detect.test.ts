import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, configFromObject } from '../../server/config.js';
import { nowNs, readAllEntries, startServer, type InProcessServer } from '../helpers/server.js';
import { getJson, push, type TestEntry } from '../helpers/push.js';

/** Each entry's detected_level (undefined when it has none), keyed by line. */
function levelsByLine(srv: InProcessServer, labelsContain: string): Map<string, Array<[string, string]>> {
  const out = new Map<string, Array<[string, string]>>();
  for (const e of readAllEntries(srv.store)) if (e.labels.includes(labelsContain)) out.set(e.line, e.metadata);
  return out;
}

describe('detected_level at ingest (discover_log_levels, on by default)', () => {
  let srv: InProcessServer;
  const ts = nowNs(-60_000);
  const cases: Array<[string, string]> = [
    ['ts=2024-01-01 level=warn msg="disk almost full"', 'warn'],
    ['caller=main.go:12 LEVEL=Error msg=boom', 'error'],
    ['lvl=dbg component=cache', 'debug'],
    ['level=information msg=started', 'info'],
    ['level=notice msg="nothing to report"', 'unknown'],
    ['user=bob action=login', 'unknown'],
    ['{"msg":"request failed","level":"ERROR"}', 'error'],
    ['  {"ts":1,"severity":"Warning"}  ', 'warn'],
    ['{"ctx":{"lvl":"trace"},"msg":"nested one level"}', 'trace'],
    ['{"a":{"b":{"level":"fatal"}}}', 'unknown'],
    ['{"msg":"level in a string value: level","level":"critical"}', 'critical'],
    ['{"level":42,"msg":"info only as a keyword"}', 'info'],
    ['some INFO line', 'info'],
    ['[WARN] slow request', 'warn'],
    ['ERR: connection refused', 'error'],
    ['[error] upstream timed out', 'error'],
    ['CRITICAL: meltdown', 'critical'],
    ['entering debug mode', 'debug'],
    ['warning: deprecated flag', 'warn'],
    ['just a plain line', 'unknown'],
    ['', 'unknown'],
  ];

  beforeAll(async () => {
    srv = await startServer({ limits_config: { reject_old_samples: false } });
    const entries: TestEntry[] = cases.map(([line], i) => ({ ts: ts + BigInt(i), line }));
    const res = await push(srv.url, [
      { labels: { app: 'lines' }, entries },
      {
        labels: { app: 'meta' },
        entries: [
          { ts, line: 'error keyword ignored', metadata: [['detected_level', 'custom']] },
          { ts: ts + 1n, line: 'plain', metadata: [['level', 'WARNING'], ['trace_id', 'abc']] },
          { ts: ts + 2n, line: 'plain otlp', metadata: [['severity_number', '17']] },
          { ts: ts + 3n, line: 'odd level', metadata: [['severity', 'Notice']] },
          { ts: ts + 4n, line: 'both', metadata: [['lvl', 'info'], ['level', 'error']] },
        ],
      },
      { labels: { app: 'labelled', level: 'Error' }, entries: [{ ts, line: 'level=debug but the label wins' }] },
      { labels: { app: 'labelled2', severity: 'notice' }, entries: [{ ts, line: 'info' }] },
    ]);
    expect(res.status).toBe(204);
  });
  afterAll(() => srv.close());

  it('reads logfmt and JSON level fields, then keywords, else unknown', () => {
    const got = levelsByLine(srv, 'app="lines"');
    for (const [line, level] of cases) expect([line, got.get(line)]).toEqual([line, [['detected_level', level]]]);
  });

  it('keeps an entry’s own detected_level and takes level-like metadata, in Loki’s field order', () => {
    const got = levelsByLine(srv, 'app="meta"');
    expect(got.get('error keyword ignored')).toEqual([['detected_level', 'custom']]);
    expect(got.get('plain')).toEqual([
      ['level', 'WARNING'],
      ['trace_id', 'abc'],
      ['detected_level', 'warn'],
    ]);
    expect(got.get('plain otlp')).toEqual([
      ['severity_number', '17'],
      ['detected_level', 'error'],
    ]);
    expect(got.get('odd level')).toEqual([
      ['severity', 'Notice'],
      ['detected_level', 'Notice'],
    ]);
    // `level` comes before `lvl` in Loki's list, whatever the order of the pairs.
    expect(got.get('both')).toEqual([
      ['lvl', 'info'],
      ['level', 'error'],
      ['detected_level', 'error'],
    ]);
  });

  it('takes a level-like stream label first, normalised or as given', () => {
    expect(levelsByLine(srv, 'app="labelled"').get('level=debug but the label wins')).toEqual([['detected_level', 'error']]);
    expect(levelsByLine(srv, 'app="labelled2"').get('info')).toEqual([['detected_level', 'notice']]);
  });

  it('answers detected_level as structured metadata over HTTP', async () => {
    const params = new URLSearchParams({ query: '{app="lines"} | detected_level="warn"', start: String(ts - 1000n), end: String(ts + 1000n), limit: '100' });
    const res = await fetch(`${srv.url}/loki/api/v1/query_range?${params}`, { headers: { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { result: Array<{ values: Array<[string, string, { structuredMetadata?: Record<string, string> }]> }> } };
    const lines = body.data.result.flatMap((s) => s.values.map((v) => v[1])).sort();
    expect(lines).toEqual(['  {"ts":1,"severity":"Warning"}  ', '[WARN] slow request', 'ts=2024-01-01 level=warn msg="disk almost full"', 'warning: deprecated flag'].sort());
    for (const s of body.data.result) for (const v of s.values) expect(v[2].structuredMetadata).toEqual({ detected_level: 'warn' });
  });
});

describe('service_name at ingest (discover_service_name)', () => {
  let srv: InProcessServer;
  const ts = nowNs(-60_000);
  beforeAll(async () => {
    srv = await startServer();
    const res = await push(srv.url, [
      { labels: { app: 'shop', env: 'prod' }, entries: [{ ts, line: 'a' }] },
      { labels: { job: 'ns/worker', container: 'worker-c' }, entries: [{ ts, line: 'b' }] },
      { labels: { service: 'svc', app: 'ignored' }, entries: [{ ts, line: 'c' }] },
      { labels: { service_name: 'given', app: 'other' }, entries: [{ ts, line: 'd' }] },
      { labels: { foo: 'bar' }, entries: [{ ts, line: 'e' }] },
      { labels: { app_kubernetes_io_name: 'k8s-app', job: 'j' }, entries: [{ ts, line: 'f' }] },
    ]);
    expect(res.status).toBe(204);
    // The same stream pushed again (service_name derived again) is the same stream.
    expect((await push(srv.url, [{ labels: { app: 'shop', env: 'prod' }, entries: [{ ts: ts + 1n, line: 'a2' }] }])).status).toBe(204);
  });
  afterAll(() => srv.close());

  it('adds service_name from the first listed label, else unknown_service', async () => {
    const { status, json } = await getJson(`${srv.url}/loki/api/v1/series?match[]=${encodeURIComponent('{service_name=~".+"}')}`);
    expect(status).toBe(200);
    expect(json).toEqual({
      status: 'success',
      data: [
        { app: 'ignored', service: 'svc', service_name: 'svc' },
        { app: 'other', service_name: 'given' },
        { app: 'shop', env: 'prod', service_name: 'shop' },
        { app_kubernetes_io_name: 'k8s-app', job: 'j', service_name: 'k8s-app' },
        { container: 'worker-c', job: 'ns/worker', service_name: 'worker-c' },
        { foo: 'bar', service_name: 'unknown_service' },
      ],
    });
    expect((await getJson(`${srv.url}/loki/api/v1/label/service_name/values`)).json).toEqual({
      status: 'success',
      data: ['given', 'k8s-app', 'shop', 'svc', 'unknown_service', 'worker-c'],
    });
    const shop = readAllEntries(srv.store).filter((e) => e.labels.includes('service_name="shop"'));
    expect(shop.map((e) => e.line)).toEqual(['a', 'a2']);
    expect(new Set(shop.map((e) => e.labels)).size).toBe(1);
  });
});

describe('the discovery switches', () => {
  it('with discover_log_levels: false and discover_service_name: [] stores streams and entries as pushed', async () => {
    const srv = await startServer({ limits_config: { discover_log_levels: false, discover_service_name: [] } });
    try {
      const ts = nowNs(-1000);
      expect((await push(srv.url, [{ labels: { app: 'raw' }, entries: [{ ts, line: 'level=error boom' }] }])).status).toBe(204);
      expect(readAllEntries(srv.store).map((e) => [e.labels, e.metadata])).toEqual([['{app="raw"}', []]]);
    } finally {
      await srv.close();
    }
  });

  it('takes service_name from a configured list only', async () => {
    const srv = await startServer({ limits_config: { discover_service_name: ['team'], discover_log_levels: false } });
    try {
      const ts = nowNs(-1000);
      const res = await push(srv.url, [
        { labels: { app: 'x', team: 'red' }, entries: [{ ts, line: 'a' }] },
        { labels: { app: 'y' }, entries: [{ ts, line: 'b' }] },
      ]);
      expect(res.status).toBe(204);
      expect(readAllEntries(srv.store).map((e) => e.labels).sort()).toEqual(['{app="x", service_name="red", team="red"}', '{app="y", service_name="unknown_service"}']);
    } finally {
      await srv.close();
    }
  });

  it('checks the keys like every other limits_config key', () => {
    const defaults = configFromObject({}).limits_config;
    expect(defaults.discover_log_levels).toBe(true);
    expect(defaults.discover_service_name).toEqual([
      'service',
      'app',
      'application',
      'app_name',
      'name',
      'app_kubernetes_io_name',
      'container',
      'container_name',
      'k8s_container_name',
      'component',
      'workload',
      'job',
      'k8s_job_name',
    ]);
    expect(configFromObject({ limits_config: { discover_service_name: null } }).limits_config.discover_service_name).toEqual([]);
    expect(() => configFromObject({ limits_config: { discover_service_name: 'app' } })).toThrow(
      new ConfigError('limits_config.discover_service_name: must be a list of non-empty strings (got "app")'),
    );
    expect(() => configFromObject({ limits_config: { discover_service_name: ['app', ''] } })).toThrow(ConfigError);
    expect(() => configFromObject({ limits_config: { discover_log_levels: 'yes' } })).toThrow(
      new ConfigError('limits_config.discover_log_levels: must be true or false (got "yes")'),
    );
  });
});

describe('detected_level edge cases (keyword boundaries, label values, consecutive pushes)', () => {
  let srv: InProcessServer;
  const ts = nowNs(-60_000);
  const keywordCases: Array<[string, string]> = [
    ['warn without a colon', 'unknown'],
    ['WARNIN truncated', 'unknown'],
    ['Info in mixed case', 'unknown'],
    ['ends with inf', 'unknown'],
    ['ends with info', 'info'],
    ['ends with err', 'unknown'],
    ['ends with err:', 'error'],
    ['[warning] bracketed', 'warn'],
    ['debug first, info later', 'info'],
    ['ERR: and WARN: both', 'error'],
    ['WARNING: and debug', 'warn'],
    ['[critical] then debug', 'critical'],
    ['[CRITICAL] then [WARN]', 'warn'],
    ['[err] then [warn]', 'error'],
    ['crit: short', 'unknown'],
    ['DEBUGGING', 'debug'],
    ['[e [w [c [ alone', 'unknown'],
    ['a=b c', 'unknown'],
    ['msg="level=error" x=y', 'unknown'],
    ['Level=WARN x=1', 'warn'],
    ['SEVERITY_TEXT=Err x=1', 'error'],
    ['lvl=trc level=dbg', 'debug'],
    ['lvl="fatal" msg=x', 'fatal'],
    ['level=notice but warning: here', 'warn'], // an unknown field value falls back to the keyword scan
    ['{"level":"WRN","msg":"json"}', 'warn'],
    ['{"msg":"no level but [ERROR]"}', 'error'],
  ];

  beforeAll(async () => {
    srv = await startServer({ limits_config: { reject_old_samples: false } });
    const first = await push(srv.url, [
      { labels: { app: 'kw' }, entries: keywordCases.map(([line], i) => ({ ts: ts + BigInt(i), line })) },
      { labels: { app: 's1', level: 'notice' }, entries: [{ ts, line: 'error: ignored' }, { ts: ts + 1n, line: 'second', metadata: [['trace_id', 't1']] }] },
      { labels: { app: 's2', severity: 'audit' }, entries: [{ ts, line: 'info ignored' }] },
      { labels: { app: 's3', level: 'notice' }, entries: [{ ts, line: 'same odd value again' }] },
      { labels: { app: 's4', lvl: 'WRN' }, entries: [{ ts, line: 'debug ignored' }] },
      {
        labels: { app: 's5', level: 'error' },
        entries: [
          { ts, line: 'own level kept', metadata: [['detected_level', 'mine']] },
          { ts: ts + 1n, line: 'metadata kept', metadata: [['trace_id', 't5'], ['level', 'debug']] },
        ],
      },
      { labels: { app: 's6', level: 'wärn' }, entries: [{ ts, line: 'non-ASCII value kept as given' }] },
    ]);
    expect(first.status).toBe(204);
    // A second push reuses whatever the first one left behind: its entries must not change.
    const second = await push(srv.url, [
      { labels: { app: 'p2' }, entries: [{ ts, line: 'level=error second push' }, { ts: ts + 1n, line: 'plain' }] },
      { labels: { app: 's7', level: 'verbose' }, entries: [{ ts, line: 'another odd value' }] },
      { labels: { app: 's1', level: 'notice' }, entries: [{ ts: ts + 2n, line: 'third' }] },
    ]);
    expect(second.status).toBe(204);
  });
  afterAll(() => srv.close());

  it('scans keywords and logfmt/JSON fields exactly as Loki does', () => {
    const got = levelsByLine(srv, 'app="kw"');
    for (const [line, level] of keywordCases) expect([line, got.get(line)]).toEqual([line, [['detected_level', level]]]);
  });

  it('takes each stream’s label value, normalised or as given, for every entry of every push', () => {
    const s1 = levelsByLine(srv, 'app="s1"');
    expect(s1.get('error: ignored')).toEqual([['detected_level', 'notice']]);
    expect(s1.get('second')).toEqual([
      ['trace_id', 't1'],
      ['detected_level', 'notice'],
    ]);
    expect(s1.get('third')).toEqual([['detected_level', 'notice']]);
    expect(levelsByLine(srv, 'app="s2"').get('info ignored')).toEqual([['detected_level', 'audit']]);
    expect(levelsByLine(srv, 'app="s3"').get('same odd value again')).toEqual([['detected_level', 'notice']]);
    expect(levelsByLine(srv, 'app="s4"').get('debug ignored')).toEqual([['detected_level', 'warn']]);
    const s5 = levelsByLine(srv, 'app="s5"');
    expect(s5.get('own level kept')).toEqual([['detected_level', 'mine']]);
    expect(s5.get('metadata kept')).toEqual([
      ['trace_id', 't5'],
      ['level', 'debug'],
      ['detected_level', 'error'],
    ]);
    expect(levelsByLine(srv, 'app="s6"').get('non-ASCII value kept as given')).toEqual([['detected_level', 'wärn']]);
    expect(levelsByLine(srv, 'app="s7"').get('another odd value')).toEqual([['detected_level', 'verbose']]);
    const p2 = levelsByLine(srv, 'app="p2"');
    expect(p2.get('level=error second push')).toEqual([['detected_level', 'error']]);
    expect(p2.get('plain')).toEqual([['detected_level', 'unknown']]);
  });
});
