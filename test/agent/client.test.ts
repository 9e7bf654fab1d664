import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Batcher, type Batch } from '../../agent/batcher.js';
import { Backoff, PushClient, commitsPositions, type AgentLogger, type ClientConfig } from '../../agent/client.js';
import { Positions, type FilePosition } from '../../agent/positions.js';
import { decodeSnappyPushRequest, entryLine } from '../../proto/index.js';
import { nowNs, readAllEntries, startServer, tempDir, type InProcessServer } from '../helpers/server.js';

interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  streams: Array<{ labels: string; lines: string[] }>;
}

/** A stand-in for a failing or unreachable Loki: answers each request with the next reply. */
async function stubLoki(replies: Array<number | 'hang'>, port = 0): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const batch = decodeSnappyPushRequest(Buffer.concat(chunks));
      received.push({
        at: performance.now(),
        headers: req.headers,
        streams: batch.streams.map((s) => ({ labels: s.labels, lines: Array.from({ length: s.entryCount }, (_, i) => entryLine(batch, s.firstEntry + i)) })),
      });
      const reply = replies.length > 1 ? replies.shift()! : replies[0]!;
      if (reply === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(reply, { 'content-type': 'text/plain' }).end(reply === 204 ? '' : `stub says ${reply}\nsecond line`);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/loki/api/v1/push`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const quiet: AgentLogger = () => undefined;

async function batchOf(lines: string[], labels = '{app="web"}', ts = nowNs(-60_000)): Promise<Batch<string>> {
  const b = new Batcher<string>({ batchSize: 1 << 20, batchWaitMs: 60_000 });
  lines.forEach((line, i) => b.add(labels, { ts: ts + BigInt(i), line }, { key: '/f.log', offset: (i + 1) * 100 }));
  b.close();
  return (await b.next())!;
}

function client(config: ClientConfig, registry?: Registry): PushClient {
  return new PushClient(config, registry === undefined ? { logger: quiet } : { logger: quiet, registry });
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return value?.value;
}

describe('push client against a real server', () => {
  let srv: InProcessServer;
  beforeAll(async () => {
    srv = await startServer({ auth_enabled: true, limits_config: { max_line_size: 64, discover_log_levels: false, discover_service_name: [] } });
  });
  afterAll(() => srv.close());

  it('delivers the lines with external labels merged (stream labels win) under the tenant', async () => {
    const ts = nowNs(-60_000);
    const c = client({ url: `${srv.url}/loki/api/v1/push`, tenantId: 'team-a', externalLabels: { cluster: 'ext', env: 'prod' } });
    const outcome = await c.send(await batchOf(['first', 'second'], '{app="web", cluster="mine"}', ts));
    expect(outcome).toEqual({ kind: 'acked', status: 204, attempts: 1 });
    const stored = readAllEntries(srv.store, 'team-a');
    expect(stored.map((e) => [e.labels, e.ts, e.line])).toEqual([
      ['{app="web", cluster="mine", env="prod"}', ts, 'first'],
      ['{app="web", cluster="mine", env="prod"}', ts + 1n, 'second'],
    ]);
    expect(readAllEntries(srv.store, 'fake')).toEqual([]);
  });

  it('drops a batch the server rejects with 400, logs its message and counts the reason', async () => {
    const registry = new Registry();
    const logged: string[] = [];
    const c = new PushClient({ url: `${srv.url}/loki/api/v1/push`, tenantId: 'team-b', backoff: { minPeriodMs: 10, maxPeriodMs: 20, maxRetries: 5 } }, {
      registry,
      logger: (level, message, fields) => logged.push(`${level} ${message} ${JSON.stringify(fields)}`),
    });
    const outcome = await c.send(await batchOf(['ok line', 'x'.repeat(100), 'another ok line']));
    expect(outcome).toMatchObject({ kind: 'dropped', status: 400, reason: 'line_too_long', attempts: 1 });
    expect(outcome.kind === 'dropped' && outcome.message).toContain("Max entry size '64' bytes exceeded");
    expect(logged.some((l) => l.startsWith('error push rejected') && l.includes('Max entry size'))).toBe(true);
    expect(await metricValue(registry, 'skald_agent_dropped_entries_total', { reason: 'line_too_long', tenant: 'team-b' })).toBe(3);
    expect(c.stats.droppedBatches).toEqual({ line_too_long: 1 });
    expect(c.stats.retries).toBe(0);
    // Loki's 400 means the valid entries were stored: re-sending would duplicate them.
    expect(readAllEntries(srv.store, 'team-b').map((e) => e.line)).toEqual(['ok line', 'another ok line']);
  });
});

describe('push client retries', () => {
  it('sends protobuf with tenant, basic auth from the URL and extra headers', async () => {
    const stub = await stubLoki([204]);
    try {
      const url = stub.url.replace('http://', 'http://agent:p%40ss@');
      const c = client({ url, tenantId: 't1', headers: { 'X-Custom': 'yes', 'Content-Type': 'text/plain' } });
      expect((await c.send(await batchOf(['hello']))).kind).toBe('acked');
      const [req] = stub.received;
      expect(req!.headers['authorization']).toBe(`Basic ${Buffer.from('agent:p@ss').toString('base64')}`);
      expect(req!.headers['x-scope-orgid']).toBe('t1');
      expect(req!.headers['x-custom']).toBe('yes');
      expect(req!.headers['content-type']).toBe('application/x-protobuf');
      expect(req!.streams).toEqual([{ labels: '{app="web"}', lines: ['hello'] }]);
      // No tenant configured: no header at all.
      await client({ url: stub.url }).send(await batchOf(['again']));
      expect(stub.received[1]!.headers['x-scope-orgid']).toBeUndefined();
    } finally {
      await stub.close();
    }
  });

  it('retries 429 and 5xx with growing, jittered waits until acknowledged', async () => {
    const stub = await stubLoki([429, 500, 503, 204]);
    const registry = new Registry();
    try {
      const c = client({ url: stub.url, backoff: { minPeriodMs: 40, maxPeriodMs: 1000, maxRetries: 10 } }, registry);
      const outcome = await c.send(await batchOf(['a', 'b']));
      expect(outcome).toEqual({ kind: 'acked', status: 204, attempts: 4 });
      const at = stub.received.map((r) => r.at);
      const gaps = at.slice(1).map((t, i) => t - at[i]!);
      // dskit's ranges: [40, 80), [80, 160), [160, 320) ms.
      expect(gaps[0]).toBeGreaterThanOrEqual(38);
      expect(gaps[1]).toBeGreaterThanOrEqual(78);
      expect(gaps[2]).toBeGreaterThanOrEqual(158);
      expect(gaps[2]).toBeLessThan(600);
      expect(stub.received.every((r) => r.streams[0]!.lines.join() === 'a,b')).toBe(true);
      expect(await metricValue(registry, 'skald_agent_batch_retries_total', {})).toBe(3);
      expect(await metricValue(registry, 'skald_agent_sent_entries_total', {})).toBe(2);
    } finally {
      await stub.close();
    }
  });

  it('retries connection errors until the server comes up', async () => {
    const probe = await stubLoki([204]);
    const port = Number(new URL(probe.url).port);
    await probe.close();
    const c = client({ url: `http://127.0.0.1:${port}/loki/api/v1/push`, backoff: { minPeriodMs: 30, maxPeriodMs: 60, maxRetries: 0 } });
    const sending = c.send(await batchOf(['survives the outage']));
    await new Promise((r) => setTimeout(r, 250));
    const stub = await stubLoki([204], port);
    try {
      const outcome = await sending;
      expect(outcome.kind).toBe('acked');
      expect(outcome.attempts).toBeGreaterThan(2);
      expect(c.stats.retries).toBe(outcome.attempts - 1);
      expect(stub.received[0]!.streams[0]!.lines).toEqual(['survives the outage']);
    } finally {
      await stub.close();
    }
  });

  it('gives up after max_retries attempts and counts the drop by the last error', async () => {
    const stub = await stubLoki([500]);
    const registry = new Registry();
    try {
      const c = client({ url: stub.url, tenantId: 'x', backoff: { minPeriodMs: 5, maxPeriodMs: 10, maxRetries: 3 } }, registry);
      const outcome = await c.send(await batchOf(['lost']));
      expect(outcome).toMatchObject({ kind: 'gave_up', status: 500, reason: 'ingester_error', attempts: 3, message: 'server returned HTTP status 500: stub says 500' });
      expect(stub.received).toHaveLength(3);
      expect(await metricValue(registry, 'skald_agent_dropped_entries_total', { reason: 'ingester_error', tenant: 'x' })).toBe(1);
    } finally {
      await stub.close();
    }
    const limited = await stubLoki([429]);
    try {
      const c = client({ url: limited.url, backoff: { minPeriodMs: 5, maxPeriodMs: 10, maxRetries: 2 } });
      expect(await c.send(await batchOf(['limited']))).toMatchObject({ kind: 'gave_up', status: 429, reason: 'rate_limited', attempts: 2 });
    } finally {
      await limited.close();
    }
  });

  it('stops retrying on stop() without dropping: the batch is not to be committed', async () => {
    const stub = await stubLoki([503]);
    try {
      const c = client({ url: stub.url, backoff: { minPeriodMs: 5000, maxPeriodMs: 10_000, maxRetries: 0 } });
      const start = performance.now();
      const sending = c.send(await batchOf(['keep me']));
      await new Promise((r) => setTimeout(r, 100));
      c.stop();
      const outcome = await sending;
      expect(outcome).toMatchObject({ kind: 'stopped', status: 503, attempts: 1 });
      expect(commitsPositions(outcome)).toBe(false);
      expect(performance.now() - start).toBeLessThan(2000);
      expect(c.stats.droppedEntries).toEqual({});
    } finally {
      await stub.close();
    }
  });

  it('bounds each request by the timeout and retries it', async () => {
    const stub = await stubLoki(['hang', 204]);
    try {
      const c = client({ url: stub.url, timeoutMs: 150, backoff: { minPeriodMs: 10, maxPeriodMs: 20, maxRetries: 5 } });
      const start = performance.now();
      const outcome = await c.send(await batchOf(['slow']));
      expect(outcome).toEqual({ kind: 'acked', status: 204, attempts: 2 });
      expect(performance.now() - start).toBeGreaterThanOrEqual(145);
    } finally {
      await stub.close();
    }
    const dead = await stubLoki(['hang']);
    try {
      const c = client({ url: dead.url, timeoutMs: 100, backoff: { minPeriodMs: 10, maxPeriodMs: 20, maxRetries: 2 } });
      const start = performance.now();
      const outcome = await c.send(await batchOf(['never']));
      expect(outcome).toMatchObject({ kind: 'gave_up', status: -1, message: 'request timed out after 100ms', attempts: 2 });
      expect(performance.now() - start).toBeLessThan(1000);
    } finally {
      await dead.close();
    }
  });

  it('commits positions only once the batch is acknowledged, and keeps readers paused meanwhile', async () => {
    const stub = await stubLoki([503, 503, 204]);
    const dir = tempDir();
    const positions = await Positions.open({ filename: join(dir, 'positions.yaml'), syncPeriodMs: 0 });
    try {
      const file = positions.track('/var/log/pods/ns_p_u/c/0.log', undefined);
      const batcher = new Batcher<FilePosition>({ batchSize: 1 << 20, batchWaitMs: 20, maxPendingBytes: 10 });
      batcher.add('{app="web"}', { ts: nowNs(), line: 'line one' }, { key: file, offset: 9 });
      batcher.add('{app="web"}', { ts: nowNs(), line: 'line two' }, { key: file, offset: 18 });
      positions.markSent(file, 18);
      expect(batcher.full).toBe(true);
      const c = client({ url: stub.url, backoff: { minPeriodMs: 50, maxPeriodMs: 100, maxRetries: 10 } });
      const batch = (await batcher.next())!;
      const sending = c.send(batch).then((outcome) => {
        if (commitsPositions(outcome)) for (const [key, offset] of batch.positions) positions.commit(key, offset);
        batcher.release(batch);
        return outcome;
      });
      await new Promise((r) => setTimeout(r, 60));
      expect(stub.received.length).toBeGreaterThanOrEqual(1);
      expect(file.acked).toBe(0); // failed attempts so far: nothing acknowledged
      expect(batcher.full).toBe(true);
      await positions.save();
      expect((await Positions.open({ filename: join(dir, 'positions.yaml'), syncPeriodMs: 0 })).get(file.path)!.acked).toBe(0);
      await batcher.waitForRoom();
      expect((await sending).kind).toBe('acked');
      expect(file.acked).toBe(18);
      batcher.close();
    } finally {
      await positions.close();
      await stub.close();
    }
  });
});

describe('backoff', () => {
  it('draws from a doubling range starting at min_period, capped at max_period (dskit)', () => {
    // Ranges: [500,1000) [1000,2000) [2000,4000) [4000,5000) then [4000,5000) for ever.
    const low = new Backoff({ minPeriodMs: 500, maxPeriodMs: 5000, maxRetries: 10 }, () => 0);
    expect(Array.from({ length: 6 }, () => low.next())).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
    const high = new Backoff({ minPeriodMs: 500, maxPeriodMs: 5000, maxRetries: 10 }, () => 0.999);
    expect(Array.from({ length: 6 }, () => high.next())).toEqual([999, 1999, 3998, 4999, 4999, 4999]);
  });
});
