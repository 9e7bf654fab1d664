/** `skald push`: the built CLI as a child process against a real in-process server. */
import { writeFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLabelSet } from '../../cli/push.js';
import { CliError } from '../../cli/target.js';
import { runCli } from '../helpers/cli.js';
import { startServer, tempDir, type InProcessServer } from '../helpers/server.js';

let server: InProcessServer;
let dir: string;

beforeAll(async () => {
  server = await startServer({ limits_config: { max_line_size: '64KB' } });
  dir = tempDir('skald-cli-push-');
});

afterAll(async () => {
  await server?.close();
});

interface Stream {
  stream: Record<string, string>;
  values: Array<[string, string]>;
}

/** Every entry of `selector` in the last hour, oldest first, straight from the server's HTTP API. */
async function queryAll(selector: string): Promise<Stream[]> {
  const params = new URLSearchParams({ query: selector, limit: '5000', direction: 'forward', since: '1h' });
  const res = await fetch(`${server.url}/loki/api/v1/query_range?${params.toString()}`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: { result: Stream[] } };
  return body.data.result;
}

async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('skald push', () => {
  it('pushes a file as one stream, in order, in ~1 MiB requests', async () => {
    // 2,500 lines of ~1 KB: more than 2 MiB, so at least three requests.
    const lines = Array.from({ length: 2500 }, (_, i) => `line ${String(i).padStart(5, '0')} ${'x'.repeat(1000)}`);
    lines[10] = lines[9]!; // a repeated line is kept (timestamps strictly increase)
    lines[20] = '';
    lines[30] = 'tab\tquote" backslash\\ unicode ü 🚀';
    const file = join(dir, 'big.log');
    writeFileSync(file, `${lines.join('\n')}\n`);

    const result = await runCli(['push', '--addr', server.url, '--labels', '{job="push-file", env="test"}', file]);
    expect(result.stderr).toMatch(/^pushed 2500 lines in [3-9] requests\n$/);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');

    const streams = await queryAll('{job="push-file"}');
    expect(streams).toHaveLength(1);
    expect(streams[0]!.stream).toMatchObject({ job: 'push-file', env: 'test' });
    const values = streams[0]!.values;
    expect(values.map(([, line]) => line)).toEqual(lines);
    const ts = values.map(([t]) => BigInt(t));
    for (let i = 1; i < ts.length; i++) expect(ts[i]! > ts[i - 1]!).toBe(true);
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    expect(nowNs - ts[0]! < 60_000_000_000n).toBe(true);
  });

  it('pushes stdin (no file, and "-"), CRLF and a last line without newline', async () => {
    const stdin = 'first\r\nsecond\n\nthird line é\nno newline at end';
    const a = await runCli(['push', '--addr', server.url, '--labels', `{job="push-stdin", note="a\\tb \\"q\\" \\u00e9"}`], { stdin });
    expect(a.stderr).toBe('pushed 5 lines in 1 request\n');
    expect(a.code).toBe(0);
    const streams = await queryAll('{job="push-stdin"}');
    expect(streams).toHaveLength(1);
    expect(streams[0]!.stream).toMatchObject({ job: 'push-stdin', note: 'a\tb "q" é' });
    expect(streams[0]!.values.map(([, l]) => l)).toEqual(['first', 'second', '', 'third line é', 'no newline at end']);

    const b = await runCli(['push', '--quiet', '--addr', server.url, '--labels', '{job="push-dash"}', '-'], { stdin: 'one\ntwo\n' });
    expect(b.code).toBe(0);
    expect(b.stderr).toBe('');
    const dash = await queryAll('{job="push-dash"}');
    expect(dash[0]!.values.map(([, l]) => l)).toEqual(['one', 'two']);
  });

  it('target flags come from the environment too (LOKI_ADDR)', async () => {
    const r = await runCli(['push', '--labels', '{job="push-env"}'], { stdin: 'via env\n', env: { LOKI_ADDR: server.url } });
    expect(r.code).toBe(0);
    expect((await queryAll('{job="push-env"}'))[0]!.values.map(([, l]) => l)).toEqual(['via env']);
  });

  it('empty input pushes nothing and exits 0 with a note', async () => {
    const r = await runCli(['push', '--addr', server.url, '--labels', '{job="push-empty"}'], { stdin: '' });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('skald push: the input is empty; nothing pushed\n');
    expect(await queryAll('{job="push-empty"}')).toEqual([]);
  });

  it('a bad --labels is an error with its position', async () => {
    const r = await runCli(['push', '--addr', server.url, '--labels', '{job="x", 1bad="y"}'], { stdin: 'x\n' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('skald push: --labels: expected a label name but found "1" at column 11 in "{job=\\"x\\", 1bad=\\"y\\"}"\n');
    const missing = await runCli(['push', '--addr', server.url], { stdin: 'x\n' });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('--labels');
  });

  it('a line over the server limit stops with the server message', async () => {
    const stdin = `ok\n${'y'.repeat(70 * 1024)}\nafter\n`;
    const r = await runCli(['push', '--addr', server.url, '--labels', '{job="push-too-long"}'], { stdin });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^skald push: 400 Bad Request: .*Max entry size '65536' bytes exceeded.*\(request 1, lines 1-3\)\n$/s);
  });

  it('an unreachable address is named', async () => {
    const port = await closedPort();
    const r = await runCli(['push', '--addr', `http://127.0.0.1:${port}`, '--labels', '{job="x"}'], { stdin: 'x\n' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`skald push: cannot reach http://127.0.0.1:${port}: ECONNREFUSED`);
  });

  it('a missing file is named', async () => {
    const r = await runCli(['push', '--addr', server.url, '--labels', '{job="x"}', join(dir, 'nope.log')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`skald push: cannot read ${join(dir, 'nope.log')}: no such file\n`);
  });
});

describe('parseLabelSet', () => {
  it('parses names, quotes and Go escapes', () => {
    expect(parseLabelSet(' { a = "1" , b_2="x\\ny\\x41\\101\\u00e9\\U0001F680", c=\'it\\\'s\', d=`raw\\n`, } ')).toEqual({
      a: '1',
      b_2: 'x\nyAAé🚀',
      c: "it's",
      d: 'raw\\n',
    });
  });

  it.each([
    ['job="x"', 'expected "{" but found "j" at column 1'],
    ['{job="x"', 'expected "," or "}" but found end of input at column 9'],
    ['{job=x}', 'expected a quoted label value but found "x" at column 6'],
    ['{job="x}', 'unterminated string at column 6'],
    ['{job="\\q"}', 'unknown escape sequence \\q at column 7'],
    ['{job="\\x4"}', 'invalid escape sequence (2 hex digits expected) at column 7'],
    ['{a="1", a="2"}', 'duplicate label name "a" at column 9'],
    ['{job="x"} extra', 'unexpected "e" after "}" at column 11'],
    ['{job "x"}', 'expected "=" after label name "job" but found "\\"" at column 6'],
  ])('%s → %s', (input, message) => {
    expect(() => parseLabelSet(input)).toThrow(CliError);
    expect(() => parseLabelSet(input)).toThrow(message);
  });

  it('requires a label', () => {
    expect(() => parseLabelSet('{}')).toThrow('at least one label is required');
  });
});
