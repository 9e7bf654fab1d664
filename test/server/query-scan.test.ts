import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { push } from '../helpers/push.js';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startServer, tempDir, type InProcessServer } from '../helpers/server.js';

const SEC = 1_000_000_000n;
const T0 = (BigInt(Date.now()) / 1000n - 3600n) * SEC;

function qs(params: Record<string, string | bigint | number>): string {
  return new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
}

interface StoreStats {
  totalChunksRef: number;
  totalChunksDownloaded: number;
  chunk: { decompressedLines: number };
}

describe('what a query reads', () => {
  let srv: InProcessServer;
  const LINES = 2000;
  beforeAll(async () => {
    // A head is cut into a block when a push leaves it over 4 KB: each push of 50 lines of ~100
    // bytes makes one block, 40 blocks per stream.
    srv = await startServer({ limits_config: { reject_old_samples: false }, ingester: { chunk_block_size: '4KB' } });
    for (let first = 0; first < LINES; first += 50) {
      const streams = ['big', 'other'].map((app) => ({
        labels: { app },
        entries: Array.from({ length: 50 }, (_, k) => ({ ts: T0 + BigInt(first + k) * SEC, line: `${app} line ${first + k} ${'x'.repeat(80)}` })),
      }));
      expect((await push(srv.url, streams)).status).toBe(204);
    }
    await srv.store.persisted();
  });
  afterAll(() => srv.close());

  async function storeStats(query: string, extra: Record<string, string | bigint | number>): Promise<{ stats: StoreStats; values: string[] }> {
    const res = await fetch(`${srv.url}/loki/api/v1/query_range?${qs({ query, start: T0, end: T0 + BigInt(LINES) * SEC, ...extra })}`);
    const json = (await res.json()) as { data: { result: Array<{ values: string[][] }>; stats: { querier: { store: StoreStats } } } };
    return { stats: json.data.stats.querier.store, values: json.data.result.flatMap((s) => s.values.map((v) => v[1]!)) };
  }

  it('a backward query with a small limit loads only the newest blocks', async () => {
    const { stats, values } = await storeStats('{app="big"}', { limit: 5 });
    expect(values).toEqual([1999, 1998, 1997, 1996, 1995].map((i) => `big line ${i} ${'x'.repeat(80)}`));
    expect(stats.totalChunksRef).toBeGreaterThan(20);
    expect(stats.totalChunksDownloaded).toBeLessThanOrEqual(2);
  });

  it('a forward query with a small limit loads only the oldest blocks', async () => {
    const { stats, values } = await storeStats('{app="big"}', { limit: 3, direction: 'forward' });
    expect(values).toEqual([0, 1, 2].map((i) => `big line ${i} ${'x'.repeat(80)}`));
    expect(stats.totalChunksDownloaded).toBeLessThanOrEqual(2);
  });

  it('blocks outside the time range and of unmatched streams are not read', async () => {
    const { stats, values } = await storeStats('{app="big"}', { start: T0 + 1000n * SEC, end: T0 + 1100n * SEC, limit: 1000 });
    expect(values).toHaveLength(100);
    // Entries 1000–1099 are exactly blocks 20 and 21; the other stream is never touched.
    expect(stats.totalChunksRef).toBe(2);
    expect(stats.chunk.decompressedLines).toBe(100);
  });

  it('a substring filter skips, without decompressing, the blocks whose trigram filter rules it out', async () => {
    const absent = await storeStats('{app="big"} |= "nothing matches this"', {});
    expect(absent.values).toEqual([]);
    expect(absent.stats.totalChunksRef).toBe(40);
    expect(absent.stats.totalChunksDownloaded).toBe(0);

    const one = await storeStats('{app="big"} |= "big line 1234 "', {});
    expect(one.values).toEqual([`big line 1234 ${'x'.repeat(80)}`]);
    // The block holding line 1234, and perhaps a few whose filters collide by chance.
    expect(one.stats.totalChunksDownloaded).toBeGreaterThanOrEqual(1);
    expect(one.stats.totalChunksDownloaded).toBeLessThanOrEqual(4);
  });

  it('a count without a pipeline takes whole blocks from the index, reading only blocks cut by a window bound', async () => {
    const instant = await fetch(`${srv.url}/loki/api/v1/query?${qs({ query: 'sum(count_over_time({app="big"}[1h]))', time: T0 + 2000n * SEC })}`);
    const instantJson = (await instant.json()) as { data: { result: Array<{ value: [number, string] }>; stats: { querier: { store: StoreStats } } } };
    expect(instantJson.data.result[0]!.value[1]).toBe(String(LINES));
    expect(instantJson.data.stats.querier.store.totalChunksDownloaded).toBe(0);

    // Windows (100(j−1) s, 100j s]: entries at whole seconds 0…1999 give 100 per window, 99 in the
    // last (1901…1999). Blocks of 50 entries starting on a multiple of 100 s have a window bound at
    // their first entry and are read; the 20 others are counted from the index. (Grouping by stream
    // labels matters: without it structured metadata could split a block's entries into series.)
    const range = await fetch(
      `${srv.url}/loki/api/v1/query_range?${qs({ query: 'sum by (app) (count_over_time({app="big"}[100s]))', start: T0 + 100n * SEC, end: T0 + 2000n * SEC, step: 100 })}`,
    );
    const rangeJson = (await range.json()) as { data: { result: Array<{ values: Array<[number, string]> }>; stats: { querier: { store: StoreStats } } } };
    const values = rangeJson.data.result[0]!.values.map(([, v]) => v);
    expect(values).toEqual([...Array<string>(19).fill('100'), '99']);
    expect(rangeJson.data.stats.querier.store.totalChunksDownloaded).toBe(20);
  });

  it('a metric query with a common substring counts exactly the lines that hold it', async () => {
    const res = await fetch(`${srv.url}/loki/api/v1/query?${qs({ query: 'sum(count_over_time({app="big"} |= "line 1" [1h]))', time: T0 + 2000n * SEC })}`);
    const json = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
    // Lines 1, 10–19, 100–199 and 1000–1999.
    expect(json.data.result[0]!.value[1]).toBe('1111');
  });

  it('metric queries skip the same blocks', async () => {
    const res = await fetch(
      `${srv.url}/loki/api/v1/query?${qs({ query: 'sum(count_over_time({app="big"} |= "big line 1234 " [1h]))', time: T0 + 2000n * SEC })}`,
    );
    const json = (await res.json()) as { data: { result: Array<{ value: [number, string] }>; stats: { summary: { totalLinesProcessed: number } } } };
    expect(json.data.result[0]!.value[1]).toBe('1');
    expect(json.data.stats.summary.totalLinesProcessed).toBeLessThanOrEqual(4 * 50);
  });
});

describe('hostile regexes and the query timeout', () => {
  let srv: InProcessServer;
  let slow: InProcessServer;
  const entries = Array.from({ length: 3000 }, (_, i) => ({ ts: T0 + BigInt(i) * SEC, line: 'a'.repeat(2000) + 'b' }));
  beforeAll(async () => {
    srv = await startServer({ limits_config: { reject_old_samples: false, query_timeout: '20s' } });
    slow = await startServer({ limits_config: { reject_old_samples: false, query_timeout: '50ms' } });
    for (const s of [srv, slow]) expect((await push(s.url, [{ labels: { app: 're' }, entries }])).status).toBe(204);
  });
  afterAll(async () => {
    await srv.close();
    await slow.close();
  });

  const hostile = (url: string) =>
    `${url}/loki/api/v1/query_range?${qs({ query: '{app="re"} |~ "(a+)+$"', start: T0, end: T0 + 4000n * SEC })}`;

  it('a catastrophic pattern over 6 MB finishes while other requests are served', async () => {
    const order: string[] = [];
    const query = fetch(hostile(srv.url)).then(async (res) => {
      order.push('query');
      return { status: res.status, body: (await res.json()) as { data: { result: unknown[] } } };
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const labels = await fetch(`${srv.url}/loki/api/v1/labels`);
    order.push('labels');
    expect(labels.status).toBe(200);
    const result = await query;
    expect(result.status).toBe(200);
    // No line ends in a run of a's: nothing matches (backtracking would take ages per line).
    expect(result.body.data.result).toEqual([]);
    expect(order).toEqual(['labels', 'query']);
  });

  it('a query past query_timeout answers 504 with Loki text', async () => {
    const res = await fetch(hostile(slow.url));
    expect(res.status).toBe(504);
    expect(await res.text()).toBe(
      'request timed out, decrease the duration of the request or add more label matchers (prefer exact match over regex match) to reduce the amount of data processed',
    );
  });
});

describe('stores written before blocks had filters', () => {
  it('gain the column on start, and their blocks are read (never skipped)', async () => {
    const dataDir = tempDir();
    const first = await startServer({ limits_config: { reject_old_samples: false }, ingester: { chunk_block_size: '1KB' } }, dataDir);
    const entries = Array.from({ length: 200 }, (_, i) => ({ ts: T0 + BigInt(i) * SEC, line: `old line ${i} ${'y'.repeat(40)}` }));
    expect((await push(first.url, [{ labels: { app: 'old' }, entries }])).status).toBe(204);
    await first.close();
    // What an older build left: no filter column at all.
    const db = new Database(join(dataDir, 'index.db'));
    db.exec('ALTER TABLE blocks DROP COLUMN filter');
    db.close();

    const second = await startServer({ limits_config: { reject_old_samples: false } }, dataDir);
    try {
      const res = await fetch(`${second.url}/loki/api/v1/query_range?${qs({ query: '{app="old"} |= "old line 123 "', start: T0, end: T0 + 300n * SEC })}`);
      const json = (await res.json()) as { data: { result: Array<{ values: string[][] }> } };
      expect(json.data.result.flatMap((s) => s.values.map((v) => v[1]))).toEqual([`old line 123 ${'y'.repeat(40)}`]);
      // A needle in no line: a block with a filter would be skipped; one without must be read.
      const absent = await fetch(`${second.url}/loki/api/v1/query_range?${qs({ query: '{app="old"} |= "quokka"', start: T0, end: T0 + 300n * SEC })}`);
      const absentJson = (await absent.json()) as { data: { result: unknown[]; stats: { querier: { store: StoreStats } } } };
      expect(absentJson.data.result).toEqual([]);
      const { totalChunksRef, totalChunksDownloaded } = absentJson.data.stats.querier.store;
      expect(totalChunksRef).toBeGreaterThan(0);
      expect(totalChunksDownloaded).toBe(totalChunksRef);
    } finally {
      await second.close();
    }
  });
});
