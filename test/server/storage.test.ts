import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nowNs, readAllEntries, spawnServer, startServer, tempDir } from '../helpers/server.js';
import { push } from '../helpers/push.js';

const SECOND_NS = 1_000_000_000n;

describe('blocks and chunks', () => {
  it('cuts blocks and chunks when full and reads every entry back in order, forward and backward', async () => {
    const srv = await startServer({ ingester: { chunk_block_size: '2KB', chunk_target_size: '3KB' } });
    try {
      const base = nowNs(-10 * 60_000);
      const lines: string[] = [];
      for (let batch = 0; batch < 20; batch++) {
        const entries = Array.from({ length: 50 }, (_, i) => {
          const n = batch * 50 + i;
          lines.push(`line ${n} level=info msg="request served" duration=${n}ms`);
          return { ts: base + BigInt(n) * SECOND_NS, line: lines[n]! };
        });
        expect((await push(srv.url, [{ labels: { app: 'chunky' }, entries }])).status).toBe(204);
      }
      await srv.store.persisted();
      const stats = srv.store.chunkStats(srv.store.streamsInRange('fake', 0n, 2n ** 62n)[0]!, 0n, 2n ** 62n);
      expect(stats.chunks).toBeGreaterThan(3);
      expect(stats.entries).toBe(1000);
      expect(readAllEntries(srv.store).map((e) => e.line)).toEqual(lines);

      // A window in the middle, backward: only its entries, newest first.
      const stream = srv.store.streamsInRange('fake', 0n, 2n ** 62n)[0]!;
      const from = base + 100n * SECOND_NS;
      const to = base + 700n * SECOND_NS;
      const backward: string[] = [];
      for (const b of srv.store.readEntries(stream, from, to, 'backward')) for (let i = b.to - 1; i >= b.from; i--) backward.push(b.lineText(i));
      expect(backward).toEqual(lines.slice(100, 700).reverse());
    } finally {
      await srv.close();
    }
  });

  it('decompresses only the blocks a read reaches', async () => {
    const srv = await startServer({ ingester: { chunk_block_size: '2KB', chunk_target_size: '8KB' } });
    const decompressed = async () => {
      const text = await (await fetch(`${srv.url}/metrics`)).text();
      return Number(/^skald_store_blocks_decompressed_total (\d+)/m.exec(text)![1]);
    };
    try {
      const base = nowNs(-10 * 60_000);
      const entries = Array.from({ length: 1000 }, (_, n) => ({ ts: base + BigInt(n) * SECOND_NS, line: `entry ${n} ${'x'.repeat(60)}` }));
      for (let i = 0; i < 1000; i += 100) {
        expect((await push(srv.url, [{ labels: { app: 'skip' }, entries: entries.slice(i, i + 100) }])).status).toBe(204);
      }
      await srv.store.persisted();
      const stream = srv.store.streamsInRange('fake', 0n, 2n ** 62n)[0]!;
      const before = await decompressed();
      // A ten-second window touches one or two of the ~40 blocks.
      let count = 0;
      for (const b of srv.store.readEntries(stream, base + 500n * SECOND_NS, base + 510n * SECOND_NS, 'forward')) count += b.size;
      expect(count).toBe(10);
      const afterWindow = await decompressed();
      expect(afterWindow - before).toBeGreaterThanOrEqual(1);
      expect(afterWindow - before).toBeLessThanOrEqual(2);
      // A backward reader that stops after its first batch has read the newest data only.
      const newest = srv.store.readEntries(stream, 0n, 2n ** 62n, 'backward').next().value!;
      expect(newest.lineText(newest.to - 1)).toBe(entries[999]!.line);
      expect((await decompressed()) - afterWindow).toBeLessThanOrEqual(1);
    } finally {
      await srv.close();
    }
  });

  it('cuts heads into chunks on clean shutdown, and the WAL sequence carries on across the restart', async () => {
    const dataDir = tempDir();
    const ts = nowNs(-60_000);
    const first = await spawnServer(dataDir);
    expect((await push(first.url, [{ labels: { app: 'restart' }, entries: [{ ts, line: 'kept' }] }])).status).toBe(204);
    expect(await first.stop('SIGTERM')).toBe(0);
    // A clean shutdown leaves nothing to replay: one empty segment that carries the sequence on.
    const walFiles = readdirSync(join(dataDir, 'wal'));
    expect(walFiles).toHaveLength(1);
    expect(statSync(join(dataDir, 'wal', walFiles[0]!)).size).toBe(0);

    // Written after the restart and only in the WAL when the process dies: replay must not
    // mistake it for a record the stream had already flushed.
    const second = await spawnServer(dataDir);
    expect((await push(second.url, [{ labels: { app: 'restart' }, entries: [{ ts: ts + 1n, line: 'after restart' }] }])).status).toBe(204);
    await second.stop('SIGKILL');

    const third = await startServer({}, dataDir);
    try {
      expect(readAllEntries(third.store).map((e) => e.line)).toEqual(['kept', 'after restart']);
      const stream = third.store.streamsInRange('fake', 0n, 2n ** 62n)[0]!;
      expect(third.store.chunkStats(stream, 0n, 2n ** 62n).chunks).toBe(1);
    } finally {
      await third.close();
    }
  });
});

describe('head memory limit', () => {
  it('cuts the largest heads early when all heads together pass head_memory_limit', async () => {
    const srv = await startServer({ ingester: { head_memory_limit: '64KB' } });
    try {
      const base = nowNs(-60_000);
      const lines: string[] = [];
      // Ten streams of ~20 KB each: far below the 256 KB block size, but 200 KB together.
      for (let round = 0; round < 10; round++) {
        const streams = Array.from({ length: 10 }, (_, s) => ({
          labels: { app: 'many', shard: String(s) },
          entries: Array.from({ length: 20 }, (_, i) => {
            const line = `round ${round} shard ${s} entry ${i} ${'z'.repeat(80)}`;
            lines.push(line);
            return { ts: base + BigInt(round * 100 + i), line };
          }),
        }));
        expect((await push(srv.url, streams)).status).toBe(204);
      }
      await srv.store.persisted();
      const metrics = await (await fetch(`${srv.url}/metrics`)).text();
      expect(Number(/^skald_ingester_blocks_cut_total (\d+)/m.exec(metrics)![1])).toBeGreaterThan(0);
      expect(readAllEntries(srv.store).map((e) => e.line).sort()).toEqual(lines.sort());
    } finally {
      await srv.close();
    }
  });
});

describe('chunk closing', () => {
  async function closedChunks(url: string, reason: string): Promise<number> {
    const text = await (await fetch(`${url}/metrics`)).text();
    const match = new RegExp(`^loki_ingester_chunks_flushed_total\\{reason="${reason}"\\} (\\d+)`, 'm').exec(text);
    return match ? Number(match[1]) : 0;
  }

  it('closes a chunk that keeps receiving entries once it is max_chunk_age old', async () => {
    const srv = await startServer({ ingester: { max_chunk_age: '1s', chunk_block_size: '1KB' } });
    try {
      const deadline = Date.now() + 3500;
      let n = 0;
      while (Date.now() < deadline) {
        const entries = Array.from({ length: 20 }, () => ({ ts: nowNs(-60_000) + BigInt(n), line: `line ${n++} ${'y'.repeat(50)}` }));
        expect((await push(srv.url, [{ labels: { app: 'aging' }, entries }])).status).toBe(204);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await closedChunks(srv.url, 'max_age')).toBeGreaterThanOrEqual(1);
      expect(await closedChunks(srv.url, 'idle')).toBe(0);
      expect(readAllEntries(srv.store)).toHaveLength(n);
    } finally {
      await srv.close();
    }
  });

  it('closes a chunk after chunk_idle_period without entries', async () => {
    const srv = await startServer({ ingester: { chunk_idle_period: '1s' } });
    try {
      expect((await push(srv.url, [{ labels: { app: 'idle' }, entries: [{ ts: nowNs(-1000), line: 'lonely' }] }])).status).toBe(204);
      const deadline = Date.now() + 5000;
      while ((await closedChunks(srv.url, 'idle')) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(await closedChunks(srv.url, 'idle')).toBe(1);
      expect(readAllEntries(srv.store).map((e) => e.line)).toEqual(['lonely']);
    } finally {
      await srv.close();
    }
  });
});

describe('retention', () => {
  it('deletes whole chunks older than retention_period and keeps newer ones', async () => {
    const srv = await startServer({
      limits_config: { retention_period: '1h', reject_old_samples: false },
      ingester: { chunk_idle_period: '1s' },
      compactor: { compaction_interval: '1s' },
    });
    try {
      const old = nowNs(-3 * 3_600_000);
      expect((await push(srv.url, [{ labels: { app: 'expired' }, entries: [{ ts: old, line: 'old' }] }])).status).toBe(204);
      expect((await push(srv.url, [{ labels: { app: 'fresh' }, entries: [{ ts: nowNs(-1000), line: 'new' }] }])).status).toBe(204);
      expect(readAllEntries(srv.store).map((e) => e.line).sort()).toEqual(['new', 'old']);
      // Idle chunks close after 1s; the next compaction after that removes the expired one.
      const deadline = Date.now() + 10_000;
      while (readAllEntries(srv.store).some((e) => e.line === 'old') && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(readAllEntries(srv.store).map((e) => e.line)).toEqual(['new']);
      const series = await (await fetch(`${srv.url}/loki/api/v1/series?match[]={app="expired"}&start=0`)).json();
      expect(series).toEqual({ status: 'success', data: [] });
      // The deleted stream comes back as a new one when it is written to again.
      expect((await push(srv.url, [{ labels: { app: 'expired' }, entries: [{ ts: nowNs(-1000), line: 'again' }] }])).status).toBe(204);
      expect(readAllEntries(srv.store).map((e) => e.line).sort()).toEqual(['again', 'new']);
    } finally {
      await srv.close();
    }
  });
});
