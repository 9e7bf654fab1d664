/**
 * `skald labels`, `series`, `stats` and `volume`: the built CLI against a real in-process
 * server, plus the metric table/chart formatting in process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { push } from '../helpers/push.js';
import { removeDir, startServer, type InProcessServer } from '../helpers/server.js';
import { formatSeries } from '../../cli/output.js';

const ESCAPE = /\u001b\[/;
let srv: InProcessServer;
const SEC = 1_000_000_000n;
const base = (BigInt(Date.now()) / 1000n - 10n * 60n) * SEC;

function args(...rest: string[]): string[] {
  return [...rest, '--addr', srv.url];
}

beforeAll(async () => {
  srv = await startServer({ limits_config: { discover_service_name: [], discover_log_levels: false } });
  const r = await push(srv.url, [
    { labels: { app: 'api', env: 'prod', pod: 'api-1' }, entries: [{ ts: base, line: 'a'.repeat(100) }, { ts: base + SEC, line: 'b'.repeat(100) }] },
    { labels: { app: 'api', env: 'prod', pod: 'api-2' }, entries: [{ ts: base, line: 'c'.repeat(100) }] },
    { labels: { app: 'web', env: 'dev', pod: 'web-1' }, entries: [{ ts: base, line: 'd'.repeat(1000) }] },
  ]);
  expect(r.status).toBe(204);
});

afterAll(async () => {
  await srv.close();
  removeDir(srv.dataDir);
});

describe.concurrent('skald labels', () => {
  it('lists label names, one per line', async () => {
    const r = await runCli(args('labels'));
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe('app\nenv\npod\n');
  });

  it('lists the values of a label', async () => {
    const r = await runCli(args('labels', 'pod'));
    expect(r.stdout).toBe('api-1\napi-2\nweb-1\n');
  });

  it('--query narrows to matching streams; --since limits the range', async () => {
    expect((await runCli(args('labels', 'pod', '--query', '{app="web"}'))).stdout).toBe('web-1\n');
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await runCli(args('labels', '--from', future, '--to', future.replace(/Z$/, '+00:00')))).stdout).toBe('');
  });

  it('LOKI_ADDR picks the server', async () => {
    const r = await runCli(['labels', 'app'], { env: { LOKI_ADDR: srv.url } });
    expect(r.stdout).toBe('api\nweb\n');
  });
});

describe.concurrent('skald series', () => {
  it('prints the matching label sets', async () => {
    const r = await runCli(args('series', '{app="api"}'));
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(['{app="api", env="prod", pod="api-1"}', '{app="api", env="prod", pod="api-2"}']);
  });

  it('--analyze-labels prints a cardinality table', async () => {
    const r = await runCli(args('series', '{app=~".+"}', '--analyze-labels', '--since', '2h'));
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual(['Total Streams:  3', 'Unique Labels:  3', '']);
    expect(lines[3]).toMatch(/^Label Name\s+Unique Values\s+Found In Streams$/);
    expect(lines[4]).toMatch(/^pod\s+3\s+3$/);
    expect(lines.slice(5, 7).map((l) => l.split(/\s+/).join(' ')).sort()).toEqual(['app 2 3', 'env 2 3']);
    expect(r.stdout).not.toMatch(ESCAPE);
  });

  it('a bad selector: the server\'s message, exit 1', async () => {
    const r = await runCli(args('series', '{app='));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^skald series: 400 Bad Request: .*parse error/);
  });
});

describe('skald stats', () => {
  it('prints streams, chunks, bytes and entries as logcli does', async () => {
    const r = await runCli(args('stats', '{app="api"}'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\{\n  bytes: \d+(\.\d)?[kMG]?B\n  chunks: \d+\n  streams: 2\n  entries: 3\n\}\n$/);
  });
});

describe.concurrent('skald volume', () => {
  it('prints bytes per series as a table', async () => {
    const r = await runCli(args('volume', '{app=~".+"}'));
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SERIES\s+TIMESTAMP\s+VALUE$/);
    // Bytes as the server counts them (line bytes and a little per entry), largest first.
    const rows = lines.slice(1).map((l) => [l.split(/\s+/)[0], Number(l.split(/\s+/).at(-1))] as const);
    expect(rows.map(([labels]) => labels)).toEqual(['{app="web"}', '{app="api"}']);
    expect(rows[0]![1]).toBeGreaterThanOrEqual(1000);
    expect(rows[1]![1]).toBeGreaterThanOrEqual(300);
  });

  it('-o jsonl, --limit and --target-labels', async () => {
    const r = await runCli(args('volume', '{app=~".+"}', '-o', 'jsonl', '--target-labels', 'pod', '--limit', '2'));
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { metric: Record<string, string>; value: string });
    expect(rows.map((x) => x.metric)).toEqual([{ pod: 'web-1' }, { pod: 'api-1' }]);
    expect(Number(rows[1]!.value)).toBeGreaterThanOrEqual(200);
  });

  it('a tenant-required server: 401 without --org-id, LOKI_ORG_ID works', async () => {
    const auth = await startServer({ auth_enabled: true });
    try {
      const denied = await runCli(['volume', '{app="x"}', '--addr', auth.url]);
      expect(denied).toMatchObject({ code: 1, stderr: 'skald volume: 401 Unauthorized: no org id\n' });
      const ok = await runCli(['labels', '--addr', auth.url], { env: { LOKI_ORG_ID: 'someone' } });
      expect(ok).toMatchObject({ code: 0, stdout: '', stderr: '' });
    } finally {
      await auth.close();
      removeDir(auth.dataDir);
    }
  });
});

describe('metric tables and charts (in process)', () => {
  const series = [
    { metric: { app: 'a' }, values: [[1_700_000_000, '1'], [1_700_000_060, '5'], [1_700_000_120, '3']] as Array<[number, string]> },
    { metric: { app: 'bb' }, values: [[1_700_000_000, '0'], [1_700_000_060, '0'], [1_700_000_120, '7']] as Array<[number, string]> },
  ];

  it('a table, and on a terminal a chart per series', () => {
    const text = formatSeries({ mode: 'default', color: false, utc: true, chart: true }, series);
    expect(text).toBe(
      'SERIES      TIMESTAMP             VALUE\n' +
        '{app="a"}   2023-11-14T22:13:20Z  1\n' +
        '{app="a"}   2023-11-14T22:14:20Z  5\n' +
        '{app="a"}   2023-11-14T22:15:20Z  3\n' +
        '{app="bb"}  2023-11-14T22:13:20Z  0\n' +
        '{app="bb"}  2023-11-14T22:14:20Z  0\n' +
        '{app="bb"}  2023-11-14T22:15:20Z  7\n' +
        '\n' +
        '{app="a"}   ▁█▅  min 1  max 5\n' +
        '{app="bb"}  ▁▁█  min 0  max 7\n',
    );
    expect(formatSeries({ mode: 'default', color: false, utc: true, chart: false }, series)).not.toContain('▁');
  });

  it('raw: tab-separated rows without a header', () => {
    expect(formatSeries({ mode: 'raw', color: false, utc: true, chart: false }, [series[0]!]).split('\n')[0]).toBe('{app="a"}\t2023-11-14T22:13:20Z\t1');
  });
});
