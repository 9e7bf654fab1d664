/**
 * `skald query` and `skald instant-query` as a user runs them: the built CLI as a child process
 * against a real in-process server, over HTTP.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, cleanEnv, SKALD_BIN } from '../helpers/cli.js';
import { push, type TestEntry } from '../helpers/push.js';
import { removeDir, startServer, type InProcessServer } from '../helpers/server.js';
import {
  formatEntry,
  formatLabels,
  formatTimestamp,
  fnv32,
  humanizeBytes,
  sparkline,
  useColor,
} from '../../cli/output.js';
import { parseRfc3339 } from '../../cli/paging.js';

const ESCAPE = /\u001b\[/;
const CLEAN = { limits_config: { discover_service_name: [], discover_log_levels: false } };

let srv: InProcessServer;
/** Base of the small data set: 20 minutes ago, on a whole second. */
const base = (BigInt(Date.now()) / 1000n - 20n * 60n) * 1_000_000_000n;
const SEC = 1_000_000_000n;

/** 3 streams × 4,000 entries sharing timestamps (every timestamp has 3 entries), for paging. */
const PAGING_STREAMS = 3;
const PAGING_PER_STREAM = 4000;
const pagingBase = base - 10n * 60n * SEC;

function entries(n: number, ts: (i: number) => bigint, line: (i: number) => string): TestEntry[] {
  return Array.from({ length: n }, (_, i) => ({ ts: ts(i), line: line(i) }));
}

function args(...rest: string[]): string[] {
  return [...rest, '--addr', srv.url];
}

beforeAll(async () => {
  srv = await startServer(CLEAN);
  const small = await push(srv.url, [
    { labels: { app: 'api', env: 'prod' }, entries: entries(5, (i) => base + BigInt(i) * 2n * SEC, (i) => `api line ${i}`) },
    { labels: { app: 'web', env: 'prod' }, entries: entries(5, (i) => base + (BigInt(i) * 2n + 1n) * SEC, (i) => `web line ${i} level=info`) },
    { labels: { app: 'nano' }, entries: [{ ts: base + 123_456_789n, line: 'nanoseconds' }] },
  ]);
  expect(small.status).toBe(204);
  const paging = await push(
    srv.url,
    Array.from({ length: PAGING_STREAMS }, (_, s) => ({
      labels: { job: 'paging', shard: String(s) },
      // Identical timestamps and lines across the streams, and two entries per timestamp in each
      // stream: 6 entries per timestamp, so page boundaries fall inside groups of equal timestamps.
      entries: entries(PAGING_PER_STREAM, (i) => pagingBase + BigInt(Math.floor(i / 2)) * 1000n, (i) => `entry ${i}`),
    })),
  );
  expect(paging.status).toBe(204);
});

afterAll(async () => {
  await srv.close();
  removeDir(srv.dataDir);
});

describe.concurrent('skald query: log output modes', () => {
  it('default: RFC3339 time, labels without the common ones, line; common labels on stderr', async () => {
    const r = await runCli(args('query', '{env="prod"}', '--forward', '--limit', '4', '-z', 'UTC'));
    expect(r.stderr).toBe('Common labels: {env="prod"}\n');
    expect(r.code).toBe(0);
    const t = (s: bigint) => formatTimestamp(base + s * SEC, { utc: true });
    expect(r.stdout).toBe(
      `${t(0n)} {app="api"} api line 0\n${t(1n)} {app="web"} web line 0 level=info\n` +
        `${t(2n)} {app="api"} api line 1\n${t(3n)} {app="web"} web line 1 level=info\n`,
    );
    expect(r.stdout).not.toMatch(ESCAPE);
  });

  it('backward (the default) prints the newest entries first, 30 at most', async () => {
    const r = await runCli(args('query', '{env="prod"}', '-o', 'raw'));
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, 2)).toEqual(['web line 4 level=info', 'api line 4']);
    expect(r.stdout.trim().split('\n')).toHaveLength(10);
  });

  it('-o raw prints the line only and pipes cleanly', async () => {
    const r = await runCli(args('query', '{app="api"} |= "line 3"', '-o', 'raw', '--quiet'));
    expect(r).toMatchObject({ code: 0, stdout: 'api line 3\n', stderr: '' });
  });

  it('-o jsonl prints labels (without the common ones, as logcli), line and an RFC3339Nano timestamp', async () => {
    const r = await runCli(args('query', '{env="prod"}', '-o', 'jsonl', '--forward', '--limit', '2', '-z', 'UTC', '-q'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [first, second] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(first).toEqual({ labels: { app: 'api' }, line: 'api line 0', timestamp: formatTimestamp(base, { utc: true, nano: true }) });
    expect(second).toEqual({ labels: { app: 'web' }, line: 'web line 0 level=info', timestamp: formatTimestamp(base + SEC, { utc: true, nano: true }) });
    const full = await runCli(args('query', '{app="web"}', '-o', 'jsonl', '--limit', '1', '--include-common-labels', '-q'));
    expect(full.stdout).toMatch(/^\{"labels":\{"app":"web","env":"prod"\},"line":"web line 4 level=info","timestamp":"[^"]+"\}\n$/);
    const nano = await runCli(args('query', '{app="nano"}', '-o', 'jsonl', '-q', '-z', 'UTC'));
    expect(JSON.parse(nano.stdout).timestamp).toBe(formatTimestamp(base + 123_456_789n, { utc: true, nano: true }));
    expect(JSON.parse(nano.stdout).timestamp).toMatch(/\.123456789Z$/);
  });

  it('--no-labels, --include-label, --exclude-label, --include-common-labels', async () => {
    const q = ['query', '{env="prod"}', '--forward', '--limit', '2', '-z', 'UTC'];
    const noLabels = await runCli(args(...q, '--no-labels', '-q'));
    expect(noLabels.stdout).toBe(`${formatTimestamp(base, { utc: true })} api line 0\n${formatTimestamp(base + SEC, { utc: true })} web line 0 level=info\n`);
    const include = await runCli(args(...q, '--include-label', 'env', '-q'));
    expect(include.stdout.split('\n')[0]).toBe(`${formatTimestamp(base, { utc: true })} {env="prod"} api line 0`);
    const exclude = await runCli(args(...q, '--exclude-label', 'app'));
    expect(exclude.stdout.split('\n')[0]).toBe(`${formatTimestamp(base, { utc: true })} {} api line 0`);
    expect(exclude.stderr).toContain('Ignoring labels key: app');
    const common = await runCli(args(...q, '--include-common-labels'));
    expect(common.stdout.split('\n')[0]).toBe(`${formatTimestamp(base, { utc: true })} {app="api", env="prod"} api line 0`);
  });

  it('--from/--to select an RFC3339 range', async () => {
    const from = formatTimestamp(base + 2n * SEC, { utc: true });
    const to = formatTimestamp(base + 4n * SEC, { utc: true });
    const r = await runCli(args('query', '{env="prod"}', '--from', from, '--to', to, '-o', 'raw', '--forward'));
    expect(r.stdout).toBe('api line 1\nweb line 1 level=info\n');
  });

  it('--stats prints the summary on stderr', async () => {
    const r = await runCli(args('query', '{app="api"}', '--stats', '-q', '-o', 'raw'));
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Summary\.TotalLinesProcessed\s+5\n/);
    expect(r.stderr).toMatch(/Summary\.ExecTime\s+\S+/);
    expect(r.stdout.trim().split('\n')).toHaveLength(5);
  });
});

describe.concurrent('skald query: paging with --batch', () => {
  const total = PAGING_STREAMS * PAGING_PER_STREAM;

  async function pagedEntries(extra: string[]): Promise<Array<{ labels: Record<string, string>; line: string; timestamp: string }>> {
    const r = await runCli(args('query', '{job="paging"}', '--limit', String(total), '--batch', '1000', '-o', 'jsonl', '-z', 'UTC', '--since', '2h', '--quiet', ...extra));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  }

  function check(list: Array<{ labels: Record<string, string>; line: string; timestamp: string }>, forward: boolean): void {
    expect(list).toHaveLength(total);
    // Every (stream, line) exactly once.
    const keys = new Set(list.map((e) => `${e.labels['shard']}|${e.line}`));
    expect(keys.size).toBe(total);
    const ts = list.map((e) => parseRfc3339(e.timestamp, 'timestamp'));
    for (let i = 1; i < ts.length; i++) expect(forward ? ts[i]! >= ts[i - 1]! : ts[i]! <= ts[i - 1]!).toBe(true);
    expect(ts[forward ? 0 : ts.length - 1]).toBe(pagingBase);
  }

  it('pages forward past the server maximum (5,000) without gaps or duplicates', async () => {
    check(await pagedEntries(['--forward']), true);
  });

  it('pages backward too', async () => {
    check(await pagedEntries([]), false);
  });

  it('a --limit above the server maximum without paging is the server\'s error', async () => {
    const r = await runCli(args('query', '{job="paging"}', '--limit', '6000', '--batch', '6000', '--since', '2h'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('skald query: 400 Bad Request: max entries limit per query exceeded');
  });

  it('stops at --limit across batches', async () => {
    const r = await runCli(args('query', '{job="paging"}', '--limit', '2500', '--batch', '1000', '-o', 'jsonl', '--forward', '--since', '2h'));
    expect(r.code).toBe(0);
    const list = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { line: string; timestamp: string });
    expect(list).toHaveLength(2500);
    expect(new Set(list.map((e) => JSON.stringify(e))).size).toBe(2500);
    // 6 entries per timestamp, oldest first: the 2,500th is of the 417th timestamp.
    expect(parseRfc3339(list[0]!.timestamp, 't')).toBe(pagingBase);
    expect(parseRfc3339(list[2499]!.timestamp, 't')).toBe(pagingBase + 416n * 1000n);
  });
});

describe.concurrent('skald query: metric queries', () => {
  it('a range metric query prints a table (no chart off a terminal)', async () => {
    const from = formatTimestamp(base, { utc: true });
    const to = formatTimestamp(base + 60n * SEC, { utc: true });
    const r = await runCli(args('query', 'sum by (app) (count_over_time({env="prod"}[1m]))', '--from', from, '--to', to, '--step', '30s', '-z', 'UTC'));
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SERIES\s+TIMESTAMP\s+VALUE$/);
    expect(lines.slice(1).every((l) => /^\{app="(api|web)"\}\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+\d+$/.test(l))).toBe(true);
    expect(lines.some((l) => /^\{app="api"\}\s+\S+\s+5$/.test(l))).toBe(true);
    expect(r.stdout).not.toMatch(/[▁▂▃▄▅▆▇█]/);
    expect(r.stdout).not.toMatch(ESCAPE);
  });

  it('-o jsonl prints one object per sample', async () => {
    const r = await runCli(args('query', 'sum(count_over_time({app="api"}[1h]))', '--step', '10m', '-o', 'jsonl'));
    expect(r.code).toBe(0);
    const samples = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(samples.length).toBeGreaterThan(0);
    expect(samples.at(-1)).toMatchObject({ metric: {}, value: '5' });
  });

  it('skald instant-query prints a table', async () => {
    const r = await runCli(args('instant-query', 'sum by (app) (count_over_time({env="prod"}[1h]))'));
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SERIES\s+TIMESTAMP\s+VALUE$/);
    expect(lines.slice(1).map((l) => l.replace(/\s+\S+\s+/, ' ')).sort()).toEqual(['{app="api"} 5', '{app="web"} 5']);
  });

  it('instant-query of a log query reports the server\'s message', async () => {
    const r = await runCli(args('instant-query', '{app="api"}'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^skald instant-query: 400 Bad Request: log queries are not supported as an instant query type/);
  });
});

describe.concurrent('skald query: target and errors', () => {
  it('bad LogQL: the server\'s message and exit 1', async () => {
    const r = await runCli(args('query', '{app="api"'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^skald query: 400 Bad Request: parse error/);
    expect(r.stdout).toBe('');
  });

  it('an unknown flag prints the usage and exits non-zero', async () => {
    const r = await runCli(args('query', '{app="api"}', '--no-such-flag'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("unknown option '--no-such-flag'");
    expect(r.stderr).toContain('Usage: skald query [options] <query>');
  });

  it('a bad flag value is a one-line error', async () => {
    const r = await runCli(args('query', '{app="api"}', '-o', 'xml'));
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(/^skald query: -o\/--output: unknown mode "xml"/);
  });

  it('an unreachable server: a message naming the address', async () => {
    const port = await closedPort();
    const r = await runCli(['query', '{app="api"}', '--addr', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`skald query: cannot reach http://127.0.0.1:${port}: ECONNREFUSED\n`);
    const nine = await runCli(['query', '{app="api"}', '--addr', 'http://127.0.0.1:9']);
    expect(nine.code).toBe(1);
    expect(nine.stderr).toContain('http://127.0.0.1:9');
  });

  it('LOKI_ADDR and LOKI_ORG_ID; a tenant-required server answers 401 without --org-id', async () => {
    const auth = await startServer({ ...CLEAN, auth_enabled: true });
    try {
      expect((await push(auth.url, [{ labels: { app: 'tenant' }, entries: [{ ts: base, line: 'for team-a' }] }], 'protobuf', { 'X-Scope-OrgID': 'team-a' })).status).toBe(204);
      const denied = await runCli(['query', '{app="tenant"}'], { env: { LOKI_ADDR: auth.url } });
      expect(denied.code).toBe(1);
      expect(denied.stderr).toBe('skald query: 401 Unauthorized: no org id\n');
      const env = await runCli(['query', '{app="tenant"}', '-o', 'raw'], { env: { LOKI_ADDR: auth.url, LOKI_ORG_ID: 'team-a' } });
      expect(env).toMatchObject({ code: 0, stdout: 'for team-a\n' });
      const flag = await runCli(['query', '{app="tenant"}', '-o', 'raw', '--addr', auth.url, '--org-id', 'team-b'], { env: { LOKI_ORG_ID: 'team-a' } });
      expect(flag).toMatchObject({ code: 0, stdout: '' });
    } finally {
      await auth.close();
      removeDir(auth.dataDir);
    }
  });

  it('NO_COLOR and --no-color: no escape codes', async () => {
    for (const extra of [{ env: { NO_COLOR: '1' } }, {}]) {
      const r = await runCli(args('query', '{env="prod"}', '--no-color'), extra);
      expect(r.code).toBe(0);
      expect(r.stdout + r.stderr).not.toMatch(ESCAPE);
    }
  });
});

describe('skald query -t', () => {
  it('follows the query over the WebSocket tail', async () => {
    const child = spawn(process.execPath, [SKALD_BIN, 'query', '-t', '{app="follow"}', '-o', 'raw', '--addr', srv.url], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 15_000;
      let n = 0;
      // Push until the tail is connected and has sent a line (the connection takes a moment).
      while (!stdout.includes('followed') && Date.now() < deadline) {
        await push(srv.url, [{ labels: { app: 'follow' }, entries: [{ ts: BigInt(Date.now()) * 1_000_000n, line: `followed ${n++}` }] }]);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(stdout).toMatch(/^followed \d+\n/);
    } finally {
      child.kill('SIGINT');
    }
    const code = await exited;
    expect(stderr).not.toContain('Error');
    expect(code === 0 || code === null).toBe(true);
  });
});

describe('output formatting (in process)', () => {
  it('colours only on a terminal, never with NO_COLOR or --no-color', () => {
    expect(useColor({ isTTY: true }, false, {})).toBe(true);
    expect(useColor({ isTTY: false }, false, {})).toBe(false);
    expect(useColor({}, false, {})).toBe(false);
    expect(useColor({ isTTY: true }, true, {})).toBe(false);
    expect(useColor({ isTTY: true }, false, { NO_COLOR: '1' })).toBe(false);
    expect(useColor({ isTTY: true }, false, { NO_COLOR: '' })).toBe(true);
  });

  it('on a terminal: a blue timestamp and the label set in its logcli colour', () => {
    const line = formatEntry({ mode: 'default', color: true, noLabels: false, utc: true }, 1_700_000_000_000_000_000n, { a: 'b' }, 12, 'hello');
    expect(line).toBe('\u001b[34m2023-11-14T22:13:20Z\u001b[0m \u001b[' + String([96, 36, 92, 32, 95, 35, 93, 33, 91, 31][fnv32('{a="b"}') % 10]) + 'm{a="b"}     \u001b[0m hello');
  });

  it('Go-compatible helpers', () => {
    // FNV-32 (not 1a) of "a" is 0x050c5d7e.
    expect(fnv32('a')).toBe(0x050c5d7e);
    expect(formatLabels({ z: '1', a: 'x"y' })).toBe('{a="x\\"y", z="1"}');
    expect(formatTimestamp(1_700_000_000_123_450_000n, { utc: true, nano: true })).toBe('2023-11-14T22:13:20.12345Z');
    expect(parseRfc3339('2023-11-14T23:13:20.12345+01:00', 'x')).toBe(1_700_000_000_123_450_000n);
    expect([humanizeBytes(9), humanizeBytes(1234), humanizeBytes(34_000_000)]).toEqual(['9 B', '1.2 kB', '34 MB']);
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe('▁▂▃▄▅▆▇█');
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
