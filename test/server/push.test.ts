import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePushRequest } from '../../proto/index.js';
import { nowNs, readAllEntries, startServer, type InProcessServer } from '../helpers/server.js';
import { jsonBody, protobufBody, push } from '../helpers/push.js';

const MINUTE = 60_000;

describe('push API round trips', () => {
  let srv: InProcessServer;
  beforeAll(async () => {
    srv = await startServer({ limits_config: { discover_log_levels: false, discover_service_name: [] } });
  });
  afterAll(() => srv.close());

  it('stores protobuf pushes with nanosecond timestamps and structured metadata', async () => {
    const base = nowNs(-MINUTE);
    const res = await push(srv.url, [
      {
        labels: { app: 'proto', env: 'prod' },
        entries: [
          { ts: base + 1n, line: 'first line', metadata: [['trace_id', 'abc'], ['user', 'ü']] },
          { ts: base + 2n, line: 'ünïcödé ✓' },
          { ts: base + 3n, line: '' },
        ],
      },
    ]);
    expect(res).toEqual({ status: 204, body: '' });
    const entries = readAllEntries(srv.store).filter((e) => e.labels.includes('proto'));
    expect(entries).toEqual([
      { labels: '{app="proto", env="prod"}', ts: base + 1n, line: 'first line', metadata: [['trace_id', 'abc'], ['user', 'ü']] },
      { labels: '{app="proto", env="prod"}', ts: base + 2n, line: 'ünïcödé ✓', metadata: [] },
      { labels: '{app="proto", env="prod"}', ts: base + 3n, line: '', metadata: [] },
    ]);
  });

  it('stores JSON and gzip JSON pushes, including structured metadata', async () => {
    const base = nowNs(-MINUTE);
    const streams = (app: string) => [{ labels: { app }, entries: [{ ts: base, line: `${app} one`, metadata: [['k', 'v']] as Array<[string, string]> }, { ts: base + 5n, line: `${app} two` }] }];
    expect((await push(srv.url, streams('json'), 'json')).status).toBe(204);
    expect((await push(srv.url, streams('jsongz'), 'json-gzip')).status).toBe(204);
    for (const app of ['json', 'jsongz']) {
      const entries = readAllEntries(srv.store).filter((e) => e.labels === `{app="${app}"}`);
      expect(entries.map((e) => [e.ts, e.line, e.metadata])).toEqual([
        [base, `${app} one`, [['k', 'v']]],
        [base + 5n, `${app} two`, []],
      ]);
    }
  });

  it('accepts deflate and snappy content encodings and the legacy /api/prom/push path', async () => {
    const ts = nowNs(-MINUTE);
    const body = deflateSync(Buffer.from(jsonBody([{ labels: { app: 'deflate' }, entries: [{ ts, line: 'deflated' }] }])));
    const res = await fetch(`${srv.url}/loki/api/v1/push`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'content-encoding': 'deflate' },
    });
    expect(res.status).toBe(204);
    const legacy = await fetch(`${srv.url}/api/prom/push`, {
      method: 'POST',
      body: protobufBody([{ labels: { app: 'legacy' }, entries: [{ ts, line: 'old path' }] }]),
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
    });
    expect(legacy.status).toBe(204);
    const lines = readAllEntries(srv.store).map((e) => e.line);
    expect(lines).toContain('deflated');
    expect(lines).toContain('old path');
  });

  it('treats a missing Content-Type as protobuf, as Loki does', async () => {
    const ts = nowNs(-MINUTE);
    const res = await fetch(`${srv.url}/loki/api/v1/push`, {
      method: 'POST',
      body: protobufBody([{ labels: { app: 'notype' }, entries: [{ ts, line: 'no content type' }] }]),
    });
    expect(res.status).toBe(204);
    expect(readAllEntries(srv.store).map((e) => e.line)).toContain('no content type');
  });

  it('drops exact duplicates but keeps different lines with the same timestamp', async () => {
    const ts = nowNs(-MINUTE);
    const stream = { labels: { app: 'dedup' }, entries: [{ ts, line: 'same' }, { ts, line: 'same' }, { ts, line: 'other' }] };
    expect((await push(srv.url, [stream])).status).toBe(204);
    // A client retrying the whole batch must not duplicate it either, nor grow the WAL.
    const walBytes = () => readdirSync(join(srv.dataDir, 'wal')).reduce((sum, f) => sum + statSync(join(srv.dataDir, 'wal', f)).size, 0);
    const before = walBytes();
    expect((await push(srv.url, [stream])).status).toBe(204);
    expect(walBytes()).toBe(before);
    const entries = readAllEntries(srv.store).filter((e) => e.labels === '{app="dedup"}');
    expect(entries.map((e) => e.line)).toEqual(['same', 'other']);
  });

  it('accepts out-of-order entries within the window and reads them back in time order', async () => {
    const base = nowNs(-30 * MINUTE);
    const minute = 60_000_000_000n;
    const order = [5n, 1n, 4n, 2n, 3n];
    for (const k of order) {
      expect((await push(srv.url, [{ labels: { app: 'ooo' }, entries: [{ ts: base + k * minute, line: `line ${k}` }] }])).status).toBe(204);
    }
    const entries = readAllEntries(srv.store).filter((e) => e.labels === '{app="ooo"}');
    expect(entries.map((e) => e.line)).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
    const stream = srv.store.streamsInRange('fake', 0n, 2n ** 62n).find((s) => s.labels === '{app="ooo"}')!;
    const backward = [...srv.store.readEntries(stream, 0n, 2n ** 62n, 'backward')].flatMap((b) => {
      const lines: string[] = [];
      for (let i = b.to - 1; i >= b.from; i--) lines.push(b.lineText(i));
      return lines;
    });
    expect(backward).toEqual(['line 5', 'line 4', 'line 3', 'line 2', 'line 1']);
  });
});

describe('push validation, as Loki validates', () => {
  let srv: InProcessServer;
  beforeAll(async () => {
    srv = await startServer({ limits_config: { discover_log_levels: false, discover_service_name: [] } });
  });
  afterAll(() => srv.close());

  const ok = () => ({ ts: nowNs(-MINUTE), line: 'valid line' });

  it('rejects too long lines but stores the valid entries of the same request', async () => {
    const res = await push(srv.url, [{ labels: { app: 'long' }, entries: [ok(), { ts: nowNs(-MINUTE) + 1n, line: 'x'.repeat(256 * 1024 + 1) }] }]);
    expect(res.status).toBe(400);
    expect(res.body).toContain("Max entry size '262144' bytes exceeded for stream '{app=\"long\"}'");
    expect(res.body).toContain('total ignored: 1 out of 2');
    expect(readAllEntries(srv.store).filter((e) => e.labels === '{app="long"}').map((e) => e.line)).toEqual(['valid line']);
  });

  it('rejects entries too old, too new and too far behind the stream', async () => {
    const tooOld = { ts: nowNs(-8 * 24 * 60 * MINUTE), line: 'old' };
    const tooNew = { ts: nowNs(20 * MINUTE), line: 'future' };
    const res = await push(srv.url, [{ labels: { app: 'times' }, entries: [ok(), tooOld, tooNew] }]);
    expect(res.status).toBe(400);
    expect(res.body).toContain("entry for stream '{app=\"times\"}' has timestamp too old");
    expect(res.body).toContain("entry for stream '{app=\"times\"}' has timestamp too new");
    expect(res.body).toContain('total ignored: 2 out of 3');

    const behind = await push(srv.url, [{ labels: { app: 'times' }, entries: [{ ts: nowNs(-2 * 60 * MINUTE), line: 'behind' }] }]);
    expect(behind.status).toBe(400);
    expect(behind.body).toContain('entry too far behind');
    expect(readAllEntries(srv.store).filter((e) => e.labels === '{app="times"}').map((e) => e.line)).toEqual(['valid line']);
  });

  it.each([
    ['too many labels', Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`l${i}`, 'v'])), 'has 16 label names; limit 15'],
    ['label name too long', { ['n'.repeat(1025)]: 'v' }, 'has label name too long'],
    ['label value too long', { app: 'v'.repeat(2049) }, 'has label value too long'],
  ])('rejects a stream with %s', async (_name, labels, message) => {
    const res = await push(srv.url, [{ labels, entries: [ok()] }, { labels: { app: 'neighbour' }, entries: [ok()] }]);
    expect(res.status).toBe(400);
    expect(res.body).toContain(message);
    expect(res.body).toContain('total ignored: 1 out of 2');
  });

  it.each([
    ['duplicate label names', '{app="a", app="b"}', "has duplicate label name: 'app'"],
    ['no labels', '{}', 'error at least one label pair is required per stream'],
    ['a malformed label string', '{app=unquoted}', "error parsing labels '{app=unquoted}'"],
    ['an invalid label name', '{1app="x"}', "error parsing labels '{1app=\"x\"}'"],
  ])('rejects a stream with %s', async (_name, labels, message) => {
    const res = await push(srv.url, [{ labels, entries: [ok()] }]);
    expect(res.status).toBe(400);
    expect(res.body).toContain(message);
  });

  it('answers malformed bodies with 400 and a message, and keeps serving', async () => {
    const cases: Array<[string, Buffer | string, Record<string, string>]> = [
      ['snappy', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]), { 'content-type': 'application/x-protobuf' }],
      ['protobuf', Buffer.from([0x0a, 0x05, 0x01]), { 'content-type': 'application/x-protobuf', 'content-encoding': 'identity' }],
      ['json', '{"streams": [', { 'content-type': 'application/json' }],
      ['json shape', '{"streams": [{"stream": {"a": "b"}, "values": [[1, "x"]]}]}', { 'content-type': 'application/json' }],
      ['gzip', Buffer.from('not gzip'), { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
    ];
    for (const [name, body, headers] of cases) {
      const res = await fetch(`${srv.url}/loki/api/v1/push`, { method: 'POST', body, headers });
      expect(res.status, name).toBe(400);
      expect((await res.text()).length, name).toBeGreaterThan(0);
    }
    const protobuf = encodePushRequest([{ labels: '{app="x"}', entries: [{ seconds: 1, nanos: 0, line: 'x' }] }]);
    const raw = await fetch(`${srv.url}/loki/api/v1/push`, { method: 'POST', body: protobuf, headers: { 'content-type': 'application/x-protobuf' } });
    expect(raw.status).toBe(400);
    expect((await push(srv.url, [{ labels: { app: 'after' }, entries: [ok()] }])).status).toBe(204);
  });

  it('rejects unsupported Content-Encoding with 400', async () => {
    const res = await fetch(`${srv.url}/loki/api/v1/push`, {
      method: 'POST',
      body: protobufBody([{ labels: { app: 'br' }, entries: [ok()] }]),
      headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'br' },
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('Content-Encoding "br" not supported');
  });

  it('answers a push without streams with 422', async () => {
    const res = await fetch(`${srv.url}/loki/api/v1/push`, { method: 'POST', body: '{"streams": []}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(422);
  });
});

describe('push limits', () => {
  let srv: InProcessServer;
  beforeAll(async () => {
    srv = await startServer({
      distributor: { max_recv_msg_size: '64KB' },
      limits_config: { ingestion_rate_mb: 0.01, ingestion_burst_size_mb: 0.02, per_stream_rate_limit: '1KB', per_stream_rate_limit_burst: '4KB', discover_log_levels: false, discover_service_name: [] },
    });
  });
  afterAll(() => srv.close());

  it('answers 413 to a body over the size limit', async () => {
    const res = await fetch(`${srv.url}/loki/api/v1/push`, { method: 'POST', body: Buffer.alloc(70 * 1024, 1), headers: { 'content-type': 'application/x-protobuf' } });
    expect(res.status).toBe(413);
  });

  it('answers 429 when a stream exceeds its rate, storing the other streams', async () => {
    const res = await push(srv.url, [
      { labels: { app: 'hot' }, entries: [{ ts: nowNs(-MINUTE), line: 'h'.repeat(5000) }] },
      { labels: { app: 'cool' }, entries: [{ ts: nowNs(-MINUTE), line: 'fine' }] },
    ]);
    expect(res.status).toBe(429);
    expect(res.body).toContain("Per stream rate limit exceeded (limit: 1KB/sec) while attempting to ingest for stream '{app=\"hot\"}'");
    expect(readAllEntries(srv.store).map((e) => e.labels)).toEqual(['{app="cool"}']);
  });

  it('answers 429 when the tenant exceeds its ingestion rate, storing nothing of that push', async () => {
    const streams = Array.from({ length: 10 }, (_, i) => ({ labels: { app: `many${i}` }, entries: [{ ts: nowNs(-MINUTE), line: 'r'.repeat(3000) }] }));
    const res = await push(srv.url, streams);
    expect(res.status).toBe(429);
    expect(res.body).toContain('Ingestion rate limit exceeded for user fake');
    expect(readAllEntries(srv.store).filter((e) => e.labels.startsWith('{app="many'))).toEqual([]);
  });
});

describe('push with worker_threads: 0 (everything on the event loop)', () => {
  let srv: InProcessServer;
  beforeAll(async () => {
    srv = await startServer({ ingester: { worker_threads: 0, chunk_block_size: '1KB' }, limits_config: { discover_log_levels: false, discover_service_name: [] } });
  });
  afterAll(() => srv.close());

  it('decodes, validates, stores and compresses blocks the same way', async () => {
    const base = nowNs(-MINUTE);
    const entries = Array.from({ length: 50 }, (_, i) => ({ ts: base + BigInt(i), line: `inline ${i} ${'q'.repeat(40)}` }));
    expect((await push(srv.url, [{ labels: { app: 'inline' }, entries }])).status).toBe(204);
    expect((await push(srv.url, [{ labels: { app: 'inline-json' }, entries: entries.slice(0, 3) }], 'json')).status).toBe(204);
    const bad = await fetch(`${srv.url}/loki/api/v1/push`, { method: 'POST', body: Buffer.from([0x0a, 0x05, 0x01]), headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'identity' } });
    expect(bad.status).toBe(400);
    await srv.store.persisted();
    const stream = srv.store.streamsInRange('fake', 0n, 2n ** 62n).find((s) => s.labels === '{app="inline"}')!;
    expect(srv.store.chunkStats(stream, 0n, 2n ** 62n).chunks).toBeGreaterThan(0);
    expect(readAllEntries(srv.store).filter((e) => e.labels === '{app="inline"}').map((e) => e.line)).toEqual(entries.map((e) => e.line));
  });
});
