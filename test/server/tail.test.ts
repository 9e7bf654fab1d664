import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { TailHub } from '../../server/query/tail.js';
import { nowNs, startServer, type InProcessServer } from '../helpers/server.js';
import { push, type TestEntry } from '../helpers/push.js';

interface Frame {
  streams?: Array<{ stream: Record<string, string>; values: Array<[string, string]> }>;
  dropped_entries?: Array<{ labels: Record<string, string>; timestamp: string }>;
}

interface TailClient {
  ws: WebSocket;
  frames: Frame[];
  /** Every received entry, in arrival order. */
  entries(): Array<{ labels: Record<string, string>; ts: string; line: string }>;
  /** Resolves once `predicate` holds for the frames received so far. */
  until(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function tailUrl(base: string, params: Record<string, string>, path = '/loki/api/v1/tail'): string {
  return `${base.replace(/^http/, 'ws')}${path}?${new URLSearchParams(params).toString()}`;
}

async function openTail(base: string, params: Record<string, string>, tenant = 'tenant-a'): Promise<TailClient> {
  const ws = new WebSocket(tailUrl(base, params), { headers: { 'X-Scope-OrgID': tenant } });
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    frames.push(JSON.parse(data.toString()) as Frame);
    for (const w of [...waiters]) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const entries = () =>
    frames.flatMap((f) => (f.streams ?? []).flatMap((s) => s.values.map(([ts, line]) => ({ labels: s.stream, ts, line }))));
  return {
    ws,
    frames,
    entries,
    until(predicate, timeoutMs = 5000) {
      if (predicate()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out; frames so far: ${JSON.stringify(frames).slice(0, 2000)}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    close() {
      if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
      return new Promise((resolve) => {
        ws.once('close', () => resolve());
        ws.close();
      });
    },
  };
}

/** The HTTP answer to a handshake the server refuses. */
function refusedHandshake(base: string, params: Record<string, string>, tenant = 'tenant-a'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(tailUrl(base, params), { headers: { 'X-Scope-OrgID': tenant } });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('open', () => {
      ws.close();
      reject(new Error('the handshake was accepted'));
    });
    ws.on('error', () => undefined);
  });
}

async function waitFor(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const A = { 'X-Scope-OrgID': 'tenant-a' };
const B = { 'X-Scope-OrgID': 'tenant-b' };

describe('GET /loki/api/v1/tail', () => {
  let srv: InProcessServer;
  let hub: TailHub;
  beforeAll(async () => {
    srv = await startServer({
      auth_enabled: true,
      limits_config: {
        ingestion_rate_mb: 1024,
        ingestion_burst_size_mb: 1024,
        per_stream_rate_limit: '1GB',
        per_stream_rate_limit_burst: '1GB',
        // Labels discovered at ingest would only clutter the expected streams here.
        discover_log_levels: false,
        discover_service_name: [],
      },
    });
    hub = srv.server.context.distributor.tail;
  });
  afterAll(() => srv.close());

  it('sends the newest `limit` entries since `start` first, oldest first', async () => {
    const old = nowNs(-30 * 60_000);
    const base = nowNs(-10 * 60_000);
    const entries: TestEntry[] = [
      { ts: old, line: 'before start' },
      { ts: base, line: 'first' },
      { ts: base + 1_000_000_000n, line: 'second' },
      { ts: base + 2_000_000_000n, line: 'third' },
    ];
    expect((await push(srv.url, [{ labels: { app: 'backfill' }, entries }], 'protobuf', A)).status).toBe(204);

    const client = await openTail(srv.url, { query: '{app="backfill"}', start: String(nowNs(-20 * 60_000)), limit: '2' });
    await client.until(() => client.entries().length >= 2);
    expect(client.frames[0]).toEqual({
      streams: [{ stream: { app: 'backfill' }, values: [[String(base + 1_000_000_000n), 'second'], [String(base + 2_000_000_000n), 'third']] }],
    });
    expect('dropped_entries' in client.frames[0]!).toBe(false);

    // Default start is now − 1h: the entry 30 minutes old is included then.
    const all = await openTail(srv.url, { query: '{app="backfill"}' });
    await all.until(() => all.entries().length >= 4);
    expect(all.entries().map((e) => e.line)).toEqual(['before start', 'first', 'second', 'third']);
    await Promise.all([client.close(), all.close()]);
  });

  it('delivers a pushed entry within a second', async () => {
    const client = await openTail(srv.url, { query: '{app="live"}' });
    await waitFor(() => hub.subscriberCount('tenant-a') >= 1);
    const ts = nowNs();
    const sent = performance.now();
    expect((await push(srv.url, [{ labels: { app: 'live', pod: 'p1' }, entries: [{ ts, line: 'hello live' }] }], 'json', A)).status).toBe(204);
    await client.until(() => client.entries().length >= 1, 2000);
    const latencyMs = performance.now() - sent;
    expect(latencyMs).toBeLessThan(1000);
    expect(client.entries()).toEqual([{ labels: { app: 'live', pod: 'p1' }, ts: String(ts), line: 'hello live' }]);
    await client.close();
  });

  it('applies the pipeline: line filters and parsed-label filters, with parsed labels in the stream', async () => {
    const lineFilter = await openTail(srv.url, { query: '{app="pipe"} |= "x"' });
    const jsonFilter = await openTail(srv.url, { query: '{app="pipe"} | json | level="error"' });
    await waitFor(() => hub.subscriberCount('tenant-a') >= 2);
    const ts = nowNs();
    const lines = ['has x in it', 'nothing here', '{"level":"error","msg":"boom"}', '{"level":"info","msg":"fine"}', '{"level":"error","msg":"x again"}'];
    const entries = lines.map((line, i) => ({ ts: ts + BigInt(i), line }));
    expect((await push(srv.url, [{ labels: { app: 'pipe' }, entries }], 'protobuf', A)).status).toBe(204);

    await lineFilter.until(() => lineFilter.entries().length >= 2);
    await jsonFilter.until(() => jsonFilter.entries().length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(lineFilter.entries().map((e) => e.line)).toEqual(['has x in it', '{"level":"error","msg":"x again"}']);
    expect(jsonFilter.entries()).toEqual([
      { labels: { app: 'pipe', level: 'error', msg: 'boom' }, ts: String(ts + 2n), line: '{"level":"error","msg":"boom"}' },
      { labels: { app: 'pipe', level: 'error', msg: 'x again' }, ts: String(ts + 4n), line: '{"level":"error","msg":"x again"}' },
    ]);
    await Promise.all([lineFilter.close(), jsonFilter.close()]);
  });

  it("only sends the subscriber's tenant's entries", async () => {
    const client = await openTail(srv.url, { query: '{app="iso"}' }, 'tenant-a');
    await waitFor(() => hub.subscriberCount('tenant-a') >= 1);
    expect((await push(srv.url, [{ labels: { app: 'iso' }, entries: [{ ts: nowNs(), line: 'from B' }] }], 'protobuf', B)).status).toBe(204);
    expect((await push(srv.url, [{ labels: { app: 'iso' }, entries: [{ ts: nowNs(), line: 'from A' }] }], 'protobuf', A)).status).toBe(204);
    await client.until(() => client.entries().length >= 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(client.entries().map((e) => e.line)).toEqual(['from A']);
    await client.close();
  });

  it('refuses bad parameters with a plain-text 400 before the upgrade', async () => {
    expect(await refusedHandshake(srv.url, { query: '{app="x"}', delay_for: '6' })).toEqual({ status: 400, body: "delay_for can't be greater than 5" });
    expect((await refusedHandshake(srv.url, { query: 'count_over_time({app="x"}[1m])' })).status).toBe(400);
    expect((await refusedHandshake(srv.url, { query: '{app="x"' })).body).toMatch(/^parse error/);
    expect(await refusedHandshake(srv.url, { query: '{app="x"}', limit: '0' })).toEqual({ status: 400, body: 'limit must be a positive value' });
    // The tenant check applies to the handshake like to any other route.
    const noTenant = await new Promise<number>((resolve) => {
      const ws = new WebSocket(tailUrl(srv.url, { query: '{app="x"}' }));
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect(noTenant).toBe(401);
    // A plain GET without the handshake is refused too.
    const plain = await fetch(`${srv.url}/loki/api/v1/tail?query=${encodeURIComponent('{app="x"}')}`, { headers: A });
    expect(plain.status).toBe(400);
    // delay_for=5 is allowed.
    const ok = await openTail(srv.url, { query: '{app="x"}', delay_for: '5' });
    await ok.close();
  });

  it('holds entries for delay_for seconds after their timestamp', async () => {
    const client = await openTail(srv.url, { query: '{app="delayed"}', delay_for: '1' });
    await waitFor(() => hub.subscriberCount('tenant-a') >= 1);
    const sent = Date.now();
    expect((await push(srv.url, [{ labels: { app: 'delayed' }, entries: [{ ts: nowNs(), line: 'late' }] }], 'protobuf', A)).status).toBe(204);
    await client.until(() => client.entries().length >= 1, 3000);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(900);
    await client.close();
  });

  it('drops entries for a slow consumer, reports them in dropped_entries, and keeps its buffer bounded', async () => {
    const client = await openTail(srv.url, { query: '{app="flood"}', limit: '100' });
    await waitFor(() => hub.subscriberCount('tenant-a') >= 1);
    const sub = hub.subscriptions().find((s) => s.tenant === 'tenant-a')!;
    // Stop reading: the server's socket backs up once the kernel buffers are full.
    (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();

    const line = 'y'.repeat(1000);
    const pushes = 40;
    const perPush = 1000;
    let ts = nowNs(-60_000);
    let maxServerBuffered = 0;
    for (let p = 0; p < pushes; p++) {
      const entries: TestEntry[] = [];
      for (let i = 0; i < perPush; i++) entries.push({ ts: (ts += 1000n), line: `${p}:${i}:${line}` });
      expect((await push(srv.url, [{ labels: { app: 'flood' }, entries }], 'protobuf', A)).status).toBe(204);
      expect(sub.bufferedEntries).toBeLessThanOrEqual(sub.maxBufferedEntries);
      await new Promise((r) => setImmediate(r));
      maxServerBuffered = Math.max(maxServerBuffered, sub.connectionBufferedBytes);
    }
    const total = pushes * perPush;
    expect(sub.droppedEntries).toBeGreaterThan(0);
    expect(sub.peakBufferedEntries).toBeLessThanOrEqual(1000);
    // Unsent bytes in the process stay near the high-water mark (1 MiB) plus one frame (~100 KB).
    expect(maxServerBuffered).toBeLessThan(2 * 1024 * 1024);

    (client.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await client.until(() => client.entries().length === sub.sentEntries && sub.bufferedEntries === 0, 15_000);
    expect(sub.sentEntries + sub.droppedEntries).toBe(total);
    const dropped = client.frames.flatMap((f) => f.dropped_entries ?? []);
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped.length).toBeLessThanOrEqual(Math.min(sub.droppedEntries, 1000 * client.frames.length));
    expect(dropped[0]!.labels).toEqual({ app: 'flood' });
    expect(dropped[0]!.timestamp).toMatch(/^\d{19}$/);
    // Entries that did arrive came in order and are not duplicated.
    const got = client.entries().map((e) => BigInt(e.ts));
    for (let i = 1; i < got.length; i++) expect(got[i]! > got[i - 1]!).toBe(true);
    await client.close();
  });

  it('frees the subscription as soon as the client goes', async () => {
    const before = hub.subscriberCount();
    const a = await openTail(srv.url, { query: '{app="bye"}' });
    const b = await openTail(srv.url, { query: '{app="bye"} |= "z"' });
    await waitFor(() => hub.subscriberCount() === before + 2);
    await a.close();
    b.ws.terminate();
    await waitFor(() => hub.subscriberCount() === before, 1000);
    expect(hub.subscriberCount()).toBe(0);
  });

  it('serves the legacy /api/prom/tail with label strings and RFC3339 times', async () => {
    const ws = new WebSocket(tailUrl(srv.url, { query: '{app="legacy"}', regexp: 'keep' }, '/api/prom/tail'), { headers: A });
    const frames: unknown[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.once('open', r));
    await waitFor(() => hub.subscriberCount('tenant-a') >= 1);
    const ts = BigInt(Math.floor(Date.now() / 1000)) * 1_000_000_000n + 123_456_789n;
    expect((await push(srv.url, [{ labels: { app: 'legacy' }, entries: [{ ts, line: 'drop me' }, { ts: ts + 1n, line: 'keep me' }] }], 'protobuf', A)).status).toBe(204);
    await waitFor(() => frames.length >= 1);
    const frame = frames[0] as { streams: Array<{ labels: string; entries: Array<{ ts: string; line: string }> }>; dropped_entries: unknown };
    expect(frame.dropped_entries).toBeNull();
    expect(frame.streams).toHaveLength(1);
    expect(frame.streams[0]!.labels).toBe('{app="legacy"}');
    expect(frame.streams[0]!.entries.map((e) => e.line)).toEqual(['keep me']);
    expect(frame.streams[0]!.entries[0]!.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.12345679Z$/);
    ws.close();
    await waitFor(() => hub.subscriberCount() === 0);
  });
});
