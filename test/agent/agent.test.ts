/**
 * The agent in this process against a real Skald server (or, for 429/500, a stand-in that answers
 * with those statuses): real pods directory, real files, real positions file.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { agentConfigFromObject } from '../../agent/config.js';
import { startAgentHttp, type AgentHttpServer } from '../../agent/http.js';
import { parsePositions } from '../../agent/positions.js';
import { decodeSnappyPushRequest, entryLine } from '../../proto/index.js';
import { nowNs, readAllEntries, startServer, tempDir, type InProcessServer, type StoredEntry } from '../helpers/server.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(config: Record<string, unknown> = {}): Promise<InProcessServer> {
  const s = await startServer(config);
  cleanups.push(() => s.close());
  return s;
}

interface RunningAgent {
  agent: Agent;
  http: AgentHttpServer;
  positionsFile: string;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

async function agent(podsDir: string, url: string, extra: Record<string, unknown> = {}, client: Record<string, unknown> = {}): Promise<RunningAgent> {
  const positionsFile = join(tempDir(), 'positions.yaml');
  const config = agentConfigFromObject({
    server: { http_listen_address: '127.0.0.1', http_listen_port: 0 },
    positions: { filename: positionsFile, sync_period: '100ms' },
    pods_dir: podsDir,
    clients: [{ url: `${url}/loki/api/v1/push`, batchwait: '50ms', backoff_config: { min_period: '20ms', max_period: '100ms', max_retries: 3 }, ...client }],
    ...extra,
  });
  const a = new Agent({ config, nodeName: 'node-1', pollIntervalMs: 20, rescanIntervalMs: 200, logger: () => undefined });
  const http = await startAgentHttp({ host: '127.0.0.1', port: 0, registry: a.registry, ready: () => a.ready });
  await a.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await a.stop(1000);
    await http.close();
  };
  cleanups.push(stop);
  return {
    agent: a,
    http,
    positionsFile,
    metrics: async () => (await fetch(`http://127.0.0.1:${http.address.port}/metrics`)).text(),
    stop,
  };
}

/** A container log file under a fresh pods directory. */
function containerLog(namespace = 'shop', pod = 'web-1', container = 'app'): { podsDir: string; path: string } {
  const podsDir = tempDir();
  const dir = join(podsDir, `${namespace}_${pod}_0f0e0d0c-1111-2222-3333-444455556666`, container);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, '0.log');
  writeFileSync(path, '');
  return { podsDir, path };
}

/** RFC 3339 with 9 fraction digits in UTC (containerd's form) for a time in ns. */
function criTime(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  return new Date(ms).toISOString().slice(0, 19) + '.' + (ns % 1_000_000_000n).toString().padStart(9, '0') + 'Z';
}

async function until<T>(get: () => T | undefined | false | Promise<T | undefined | false>, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await get();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function entries(s: InProcessServer): StoredEntry[] {
  return readAllEntries(s.store);
}

function metric(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name + ' ') || line.startsWith(name + '{')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

describe('agent', () => {
  it('ships CRI lines with the target labels and the runtime timestamps (containerd Z and CRI-O offsets, 1–9 digits)', async () => {
    const s = await server();
    const { podsDir, path } = containerLog();
    const base = nowNs(-60_000);
    const baseMs = Number(base / 1_000_000n);
    const iso = new Date(baseMs).toISOString().slice(0, 19);
    const local = new Date(baseMs + 2 * 3600_000).toISOString().slice(0, 19); // the same instant at +02:00
    writeFileSync(
      path,
      [
        `${criTime(base)} stdout F nine digits`,
        `${iso}.5Z stderr F one digit`,
        `${iso}Z stdout F no fraction`,
        `${local}.123456+02:00 stdout F crio offset`,
        '',
      ].join('\n'),
    );
    await agent(podsDir, s.url);
    const got = await until(() => entries(s).length === 4 && entries(s), 'four entries');
    const byLine = new Map(got.map((e) => [e.line, e]));
    const secondNs = BigInt(Math.floor(baseMs / 1000)) * 1_000_000_000n;
    expect(byLine.get('nine digits')!.ts).toBe(base);
    expect(byLine.get('one digit')!.ts).toBe(secondNs + 500_000_000n);
    expect(byLine.get('no fraction')!.ts).toBe(secondNs);
    expect(byLine.get('crio offset')!.ts).toBe(secondNs + 123_456_000n);
    expect(byLine.get('one digit')!.labels).toBe(
      `{container="app", filename="${path}", job="shop/app", namespace="shop", node_name="node-1", pod="web-1", service_name="app", stream="stderr"}`,
    );
    expect(byLine.get('nine digits')!.labels).toContain('stream="stdout"');
  });

  it('joins partial lines, including a 100 KB line in 16 KiB parts, and flushes a partial whose final part never comes', async () => {
    const s = await server();
    const { podsDir, path } = containerLog();
    const t = criTime(nowNs(-30_000));
    const big = Array.from({ length: 100_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const parts: string[] = [];
    for (let i = 0; i < big.length; i += 16_384) parts.push(`${t} stdout ${i + 16_384 >= big.length ? 'F' : 'P'} ${big.slice(i, i + 16_384)}`);
    writeFileSync(path, [`${t} stdout P hello `, `${t} stderr F interleaved`, `${t} stdout F world`, ...parts, `${t} stderr P never finished`, ''].join('\n'));
    const a = await agent(podsDir, s.url, { pipeline_stages: [{ cri: { max_wait_time: '300ms' } }] });
    await until(() => entries(s).length === 3, 'the complete lines');
    const lines = entries(s).map((e) => e.line);
    expect(lines).toContain('hello world');
    expect(lines).toContain('interleaved');
    expect(lines.find((l) => l.length === big.length)).toBe(big);
    // The lone partial is flushed after max_wait_time, and then committed with the rest.
    await until(() => entries(s).length === 4, 'the partial flushed after max_wait_time', 5000);
    expect(entries(s).map((e) => e.line)).toContain('never finished');
    await a.stop();
    const saved = parsePositions(readFileSync(a.positionsFile, 'utf8')).get(path)!;
    expect(saved.acked).toBe(readFileSync(path).length);
  });

  it('keeps the position before a held partial line, so a restart joins it again', async () => {
    const s = await server();
    const { podsDir, path } = containerLog();
    const t = criTime(nowNs(-30_000));
    const first = `${t} stdout F done\n`;
    writeFileSync(path, `${first}${t} stdout P half `);
    appendFileSync(path, `\n`);
    const a = await agent(podsDir, s.url, { pipeline_stages: [{ cri: { max_wait_time: '1h' } }] });
    await until(() => entries(s).length === 1, 'the complete line');
    await sleep(300); // a few position syncs
    await a.stop();
    const saved = parsePositions(readFileSync(a.positionsFile, 'utf8')).get(path)!;
    expect(saved.acked).toBe(Buffer.byteLength(first));
    // The final part comes while the agent is down; the restarted agent resumes at the partial.
    appendFileSync(path, `${t} stdout F and whole\n`);
    const b = await agent(podsDir, s.url, { positions: { filename: a.positionsFile, sync_period: '100ms' } });
    await until(() => entries(s).length === 2, 'the joined line');
    expect(entries(s).map((e) => e.line).sort()).toEqual(['done', 'half and whole']);
    await b.stop();
  });

  it('reads docker json-file logs, joining 16 KiB chunks', async () => {
    const s = await server();
    const { podsDir, path } = containerLog('ops', 'db-0', 'postgres');
    const time = new Date(Date.now() - 20_000).toISOString();
    const chunk = 'x'.repeat(16_384);
    writeFileSync(
      path,
      [
        JSON.stringify({ log: 'plain line\n', stream: 'stdout', time }),
        JSON.stringify({ log: chunk, stream: 'stderr', time }),
        JSON.stringify({ log: 'tail\n', stream: 'stderr', time }),
        '',
      ].join('\n'),
    );
    await agent(podsDir, s.url);
    const got = await until(() => entries(s).length === 2 && entries(s), 'two docker lines');
    expect(got.map((e) => e.line).sort()).toEqual([`${chunk}tail`, 'plain line'].sort());
    expect(got.find((e) => e.line === 'plain line')!.labels).toContain('stream="stdout"');
    expect(got.find((e) => e.line !== 'plain line')!.labels).toContain('stream="stderr"');
  });

  it('runs the configured pipeline: a label from logfmt, a dropped level', async () => {
    const s = await server();
    const { podsDir, path } = containerLog();
    const t = criTime(nowNs(-10_000));
    writeFileSync(path, `${t} stdout F level=info msg=a\n${t} stdout F level=debug msg=b\n${t} stdout F level=error msg=c\n`);
    const a = await agent(podsDir, s.url, {
      pipeline_stages: [{ cri: {} }, { logfmt: { mapping: { level: '' } } }, { labels: { level: '' } }, { drop: { source: 'level', value: 'debug', drop_counter_reason: 'debug_noise' } }],
    });
    const got = await until(() => entries(s).length === 2 && entries(s), 'two entries');
    expect(got.map((e) => /level="(\w+)"/.exec(e.labels)![1]).sort()).toEqual(['error', 'info']);
    await until(async () => metric(await a.metrics(), 'skald_agent_pipeline_dropped_entries_total') === 1, 'drop counted');
    expect(await a.metrics()).toContain('skald_agent_pipeline_dropped_entries_total{reason="debug_noise"} 1');
  });

  it('drops a batch the server rejects with 400, counts it by reason, commits past it and ships what follows', async () => {
    const s = await server({ limits_config: { reject_old_samples: true, reject_old_samples_max_age: '1h' } });
    const { podsDir, path } = containerLog();
    writeFileSync(path, `${criTime(nowNs(-3 * 3600_000))} stdout F too old\n`);
    const a = await agent(podsDir, s.url);
    const text = await until(async () => {
      const m = await a.metrics();
      return metric(m, 'skald_agent_dropped_entries_total') === 1 ? m : undefined;
    }, 'the drop');
    expect(text).toMatch(/skald_agent_dropped_entries_total\{host="127\.0\.0\.1:\d+",tenant="",reason="greater_than_max_sample_age"\} 1/);
    appendFileSync(path, `${criTime(nowNs(-1000))} stdout F fresh\n`);
    await until(() => entries(s).length === 1, 'the next line');
    expect(entries(s)[0]!.line).toBe('fresh');
    await a.stop();
    expect(parsePositions(readFileSync(a.positionsFile, 'utf8')).get(path)!.acked).toBe(readFileSync(path).length);
  });

  it('retries 429 and 500 until acknowledged, counting retries, and commits only then', async () => {
    const replies = [500, 429, 500];
    const bodies: string[][] = [];
    const stub: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const batch = decodeSnappyPushRequest(Buffer.concat(chunks));
        const lines: string[] = [];
        for (const st of batch.streams) for (let i = 0; i < st.entryCount; i++) lines.push(entryLine(batch, st.firstEntry + i));
        bodies.push(lines);
        const status = replies.shift() ?? 204;
        res.writeHead(status).end(status === 204 ? '' : `stub answers ${status}`);
      });
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => stub.close(() => resolve())));
    const url = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
    const { podsDir, path } = containerLog();
    writeFileSync(path, `${criTime(nowNs(-1000))} stdout F one\n${criTime(nowNs(-999))} stdout F two\n`);
    const a = await agent(podsDir, url, {}, { backoff_config: { min_period: '50ms', max_period: '200ms', max_retries: 0 } });
    await until(() => bodies.length === 4, 'four attempts');
    expect(bodies.every((b) => JSON.stringify(b) === JSON.stringify(['one', 'two']))).toBe(true);
    const text = await a.metrics();
    expect(metric(text, 'skald_agent_batch_retries_total')).toBe(3);
    expect(metric(text, 'skald_agent_sent_entries_total')).toBe(2);
    expect(metric(text, 'skald_agent_dropped_entries_total')).toBe(0);
    await a.stop();
    expect(parsePositions(readFileSync(a.positionsFile, 'utf8')).get(path)!.acked).toBe(readFileSync(path).length);
    expect(bodies.length).toBe(4);
  });

  it('does not commit while the server is away, and keeps reading paused once the batches are full', async () => {
    const { podsDir, path } = containerLog();
    const line = (i: number) => `${criTime(nowNs(-5000))} stdout F line ${i} ${'y'.repeat(200)}\n`;
    let text = '';
    for (let i = 0; i < 20_000; i++) text += line(i);
    writeFileSync(path, text);
    // Nothing listens here: every push is a connection error, retried for ever.
    const a = await agent(podsDir, 'http://127.0.0.1:9', {}, { batchsize: '16KiB', backoff_config: { min_period: '20ms', max_period: '50ms', max_retries: 0 } });
    await sleep(800);
    const m = await a.metrics();
    // 4 × batchsize of pending bytes, about 300 of these lines, plus what one chunk read held.
    expect(metric(m, 'skald_agent_read_lines_total')).toBeLessThan(1000);
    expect(metric(m, 'skald_agent_batch_retries_total')).toBeGreaterThan(3);
    await a.stop();
    const saved = parsePositions(readFileSync(a.positionsFile, 'utf8')).get(path);
    expect(saved?.acked ?? 0).toBe(0);
  });

  it('ships lines of neither format as they are, stamped with the read time, without a stream label', async () => {
    const s = await server();
    const { podsDir, path } = containerLog();
    writeFileSync(path, 'plain text one\nplain text two\n');
    const before = nowNs();
    const a = await agent(podsDir, s.url);
    const got = await until(() => entries(s).length === 2 && entries(s), 'two raw lines');
    expect(got.map((e) => e.line)).toEqual(['plain text one', 'plain text two']);
    expect(got[0]!.labels).not.toContain('stream=');
    expect(got[0]!.ts >= before && got[0]!.ts <= nowNs()).toBe(true);
    expect(metric(await a.metrics(), 'skald_agent_malformed_lines_total')).toBe(0);
  });

  it('with two clients, commits a position only once both acknowledged it', async () => {
    const s = await server();
    // Refuses until the test has checked the positions file, however slow the machine.
    let refusing = true;
    let refused = 0;
    let received = 0;
    const flaky: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (refusing) {
          refused++;
          res.writeHead(503).end('not yet');
          return;
        }
        received++;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => flaky.close(() => resolve())));
    const { podsDir, path } = containerLog();
    writeFileSync(path, `${criTime(nowNs(-1000))} stdout F both\n`);
    const positionsFile = join(tempDir(), 'positions.yaml');
    const config = agentConfigFromObject({
      positions: { filename: positionsFile, sync_period: '50ms' },
      pods_dir: podsDir,
      clients: [
        { url: `${s.url}/loki/api/v1/push`, batchwait: '20ms' },
        { url: `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/loki/api/v1/push`, batchwait: '20ms', backoff_config: { min_period: '100ms', max_period: '100ms', max_retries: 0 } },
      ],
    });
    const a = new Agent({ config, pollIntervalMs: 20, rescanIntervalMs: 200, logger: () => undefined });
    await a.start();
    cleanups.push(() => a.stop(500));
    await until(() => entries(s).length === 1, 'the first client');
    await until(() => refused >= 3, 'the second client being refused a few times');
    await sleep(250); // several position syncs pass
    const early = parsePositions(readFileSync(positionsFile, 'utf8')).get(path);
    expect(received).toBe(0);
    expect(early?.acked ?? 0).toBe(0);
    refusing = false;
    await until(() => received === 1, 'the second client', 5000);
    await until(() => parsePositions(readFileSync(positionsFile, 'utf8')).get(path)?.acked === readFileSync(path).length, 'the commit');
  });

  it('answers /ready once started and serves /metrics', async () => {
    const s = await server();
    const { podsDir } = containerLog();
    const a = await agent(podsDir, s.url);
    const ready = await fetch(`http://127.0.0.1:${a.http.address.port}/ready`);
    expect(ready.status).toBe(200);
    expect(metric(await a.metrics(), 'skald_agent_files_active')).toBe(1);
    await a.stop();
  });
});
