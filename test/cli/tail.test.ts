/** `skald tail`: the built CLI as a child process following a real in-process server. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { entryPrinter, formatRfc3339, followTail, type TailFrame } from '../../cli/tail.js';
import { CliError, targetFrom } from '../../cli/target.js';
import { cleanEnv, runCli, SKALD_BIN } from '../helpers/cli.js';
import { push } from '../helpers/push.js';
import { nowNs, REPO, startServer, type InProcessServer } from '../helpers/server.js';

let server: InProcessServer;
const children = new Set<ChildProcessWithoutNullStreams>();

beforeAll(async () => {
  server = await startServer();
});

afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});

afterAll(async () => {
  await server?.close();
});

interface TailChild {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout holds `count` complete lines (that `keep` accepts); rejects after `timeoutMs`. */
  lines(count: number, timeoutMs?: number, keep?: (line: string) => boolean): Promise<string[]>;
  exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnTail(args: string[]): TailChild {
  const child = spawn(process.execPath, [SKALD_BIN, 'tail', ...args], { env: cleanEnv(), cwd: REPO, stdio: 'pipe' });
  children.add(child);
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString('utf8');
    for (const w of [...waiters]) w();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  const complete = () => out.split('\n').slice(0, -1);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    lines(count, timeoutMs = 2000, keep = () => true) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const kept = complete().filter(keep);
          if (kept.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(kept);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} lines within ${timeoutMs} ms; stdout: ${JSON.stringify(out)}; stderr: ${JSON.stringify(err)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    exit: () => exited,
  };
}

async function pushLines(job: string, lines: string[], extra: Record<string, string> = {}): Promise<void> {
  const base = nowNs();
  const res = await push(server.url, [{ labels: { job, ...extra }, entries: lines.map((line, i) => ({ ts: base + BigInt(i), line })) }]);
  expect(res.status).toBe(204);
}

/** Waits until the child's tail is subscribed: a marker pushed repeatedly shows up. */
async function connected(tail: TailChild, job: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await pushLines(job, ['ready']);
    try {
      await tail.lines(1, 100);
      return;
    } catch {
      // not yet
    }
  }
  throw new Error(`tail never connected: ${tail.stderr()}`);
}

describe('skald tail', () => {
  it('-o raw prints pushed lines live, in order; SIGINT exits 0', async () => {
    const tail = spawnTail(['--addr', server.url, '{job="tail-raw"}', '-o', 'raw']);
    await connected(tail, 'tail-raw');

    const lines = Array.from({ length: 50 }, (_, i) => `live ${i}`);
    await pushLines('tail-raw', lines.slice(0, 25));
    await pushLines('tail-raw', lines.slice(25));
    const got = await tail.lines(50, 2000, (l) => l !== 'ready');
    expect(got).toEqual(lines);
    expect(tail.stdout().split('\n').slice(0, -1).filter((l) => l !== 'ready')).toEqual(lines);

    tail.child.kill('SIGINT');
    expect(await tail.exit()).toEqual({ code: 0, signal: null });
    expect(tail.stderr()).toBe('');
  });

  it('entries the server dropped are reported on stderr', async () => {
    // limit 1: the server queues at most 10 entries for this client, so most of 40 pushed at once are dropped.
    const tail = spawnTail(['--addr', server.url, '{job="tail-dropped"}', '-o', 'raw', '--limit', '1']);
    await connected(tail, 'tail-dropped');
    await pushLines('tail-dropped', Array.from({ length: 40 }, (_, i) => `burst ${i}`));
    const deadline = Date.now() + 2000;
    while (!/dropped \d+ entries/.test(tail.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(tail.stderr()).toMatch(/^(dropped \d+ entries \(the client was too slow\)\n)+$/);
    tail.child.kill('SIGINT');
    expect((await tail.exit()).code).toBe(0);
  });

  it('-o jsonl has labels, line and an RFC3339Nano timestamp', async () => {
    const tail = spawnTail(['--addr', server.url, '{job="tail-jsonl"} |= "payload"', '-o', 'jsonl', '--timezone', 'UTC', '--exclude-label', 'service_name', '--exclude-label', 'detected_level']);
    const base = nowNs();
    // Pushed before the child connects: comes back as the history part of the tail.
    const res = await push(server.url, [{ labels: { job: 'tail-jsonl', pod: 'p-1' }, entries: [{ ts: base + 123n, line: 'payload "one" ü' }, { ts: base + 200n, line: 'skipped' }] }]);
    expect(res.status).toBe(204);
    const [line] = await tail.lines(1, 5000);
    const record = JSON.parse(line!) as Record<string, unknown>;
    expect(Object.keys(record)).toEqual(['labels', 'line', 'timestamp']);
    expect(record['labels']).toEqual({ job: 'tail-jsonl', pod: 'p-1' });
    expect(record['line']).toBe('payload "one" ü');
    expect(record['timestamp']).toBe(formatRfc3339(base + 123n, true, true));
    expect(record['timestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/);
    tail.child.kill('SIGINT');
    expect((await tail.exit()).code).toBe(0);
  });

  it('default output: time, labels, line (no colour when stdout is not a terminal)', async () => {
    const tail = spawnTail(['--addr', server.url, '{job="tail-default"}', '--timezone', 'UTC', '--include-label', 'job', '--include-label', 'pod']);
    await pushLines('tail-default', ['  hello world  '], { pod: 'a' });
    const [line] = await tail.lines(1, 5000);
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \{job="tail-default", pod="a"\} hello world$/);
    tail.child.kill('SIGINT');
    expect((await tail.exit()).code).toBe(0);
  });

  it('a bad query gets the server message and exit 1', async () => {
    const r = await runCli(['tail', '--addr', server.url, '{job=x}']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^skald tail: 400 Bad Request: parse error at line 1, col 6: .+\n$/);
    const metric = await runCli(['tail', '--addr', server.url, 'count_over_time({job="x"}[1m])']);
    expect(metric.code).toBe(1);
    expect(metric.stderr).toContain('unsupported query expression');
  });

  it('bad flags are refused before connecting', async () => {
    const r = await runCli(['tail', '--addr', server.url, '{job="x"}', '-o', 'yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('skald tail: -o: unknown output mode "yaml" (default, raw or jsonl)\n');
    const since = await runCli(['tail', '--addr', server.url, '{job="x"}', '--since', 'soon']);
    expect(since.code).toBe(1);
    expect(since.stderr).toContain('--since: invalid duration');
  });

  it('an unreachable address is named', async () => {
    const s = createNetServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((r) => s.close(() => r()));
    const r = await runCli(['tail', '--addr', `http://127.0.0.1:${port}`, '{job="x"}']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`skald tail: cannot reach http://127.0.0.1:${port}: ECONNREFUSED\n`);
  });

  it('a server that goes away ends the tail with the close reason and exit 1', async () => {
    const other = await startServer();
    const tail = spawnTail(['--addr', other.url, '{job="tail-gone"}', '-o', 'raw']);
    const deadline = Date.now() + 5000;
    // Connected once a pushed line comes back.
    for (;;) {
      const res = await push(other.url, [{ labels: { job: 'tail-gone' }, entries: [{ ts: nowNs(), line: 'x' }] }]);
      expect(res.status).toBe(204);
      if (await tail.lines(1, 100).then(() => true, () => false)) break;
      if (Date.now() > deadline) throw new Error(`no output: ${tail.stderr()}`);
    }
    await other.close();
    const { code } = await tail.exit();
    expect(code).toBe(1);
    expect(tail.stderr()).toMatch(/^skald tail: http:\/\/127\.0\.0\.1:\d+: tail connection closed: server shutting down \(code 1001\)\n$/);
  });
});

describe('followTail (in process)', () => {
  it('resolves when aborted and writes to the given streams', async () => {
    const chunks: string[] = [];
    const out = new (await import('node:stream')).Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    const controller = new AbortController();
    const target = targetFrom({ addr: server.url });
    const done = followTail(target, '{job="tail-inproc"}', { output: 'raw', color: false, out, signal: controller.signal, handleSigint: false });
    for (let i = 0; i < 100 && chunks.length === 0; i++) {
      await pushLines('tail-inproc', ['in process']);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(chunks.join('')).toMatch(/^(in process\n)+$/);
    controller.abort();
    await expect(done).resolves.toBeUndefined();
  });

  it('rejects with CliError on a refused handshake', async () => {
    const target = targetFrom({ addr: server.url });
    await expect(followTail(target, '{', { output: 'raw', color: false, handleSigint: false })).rejects.toBeInstanceOf(CliError);
  });
});

describe('entryPrinter', () => {
  const frame: TailFrame = {
    streams: [
      { stream: { job: 'b', app: 'x' }, values: [['3000000000', 'third'], ['1000000000', 'first']] },
      { stream: { job: 'a' }, values: [['2000000000', ' second ']] },
    ],
  };

  it('orders a frame by time and formats each mode', () => {
    expect(entryPrinter({ output: 'raw', color: false })(frame)).toBe('first\n second \nthird\n');
    expect(entryPrinter({ output: 'default', color: false, timezone: 'UTC' })(frame)).toBe(
      '1970-01-01T00:00:01Z {app="x", job="b"} first\n1970-01-01T00:00:02Z {job="a"} second\n1970-01-01T00:00:03Z {app="x", job="b"} third\n',
    );
    expect(entryPrinter({ output: 'default', color: false, timezone: 'UTC', noLabels: true })(frame).split('\n')[0]).toBe('1970-01-01T00:00:01Z first');
    expect(entryPrinter({ output: 'jsonl', color: false, timezone: 'UTC', excludeLabels: ['app'] })(frame).split('\n')[0]).toBe(
      '{"labels":{"job":"b"},"line":"first","timestamp":"1970-01-01T00:00:01Z"}',
    );
    const colored = entryPrinter({ output: 'default', color: true, timezone: 'UTC' })(frame);
    expect(colored).toContain('\x1b[34m1970-01-01T00:00:01Z\x1b[0m');
  });

  it('formats RFC3339Nano like Go', () => {
    expect(formatRfc3339(1_500_000_000n, true, true)).toBe('1970-01-01T00:00:01.5Z');
    expect(formatRfc3339(1_000_000_001n, true, true)).toBe('1970-01-01T00:00:01.000000001Z');
    expect(formatRfc3339(1_999_999_999n, false, true)).toBe('1970-01-01T00:00:01Z');
  });
});
