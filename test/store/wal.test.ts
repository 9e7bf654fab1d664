import { appendFileSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Wal } from '../../server/store/wal.js';
import { tempDir } from '../helpers/tmp.js';

const OPTIONS = { sync: 'interval' as const, syncPeriodMs: 0, segmentSize: 1024 };

async function replayAll(dir: string): Promise<{ wal: Wal; records: Array<[number, string]>; corrupt: string[] }> {
  const wal = new Wal(dir, OPTIONS);
  const records: Array<[number, string]> = [];
  const summary = await wal.replay((seq, payload) => records.push([seq, payload.toString()]));
  return { wal, records, corrupt: summary.corruptSegments };
}

describe('write-ahead log', () => {
  it('replays records in order across segments and continues the sequence', async () => {
    const dir = tempDir();
    const { wal } = await replayAll(dir);
    wal.start();
    for (let i = 1; i <= 50; i++) expect(wal.append(Buffer.from(`record ${i} `.padEnd(100, '.')))).toBe(i);
    wal.close();
    expect(readdirSync(dir).length).toBeGreaterThan(3);
    const again = await replayAll(dir);
    expect(again.records.map(([seq]) => seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(again.records[49]![1]).toMatch(/^record 50 /);
    again.wal.start();
    expect(again.wal.append(Buffer.from('next'))).toBe(51);
    again.wal.close();
  });

  it('cuts a torn tail off the newest segment and keeps everything before it', async () => {
    const dir = tempDir();
    const { wal } = await replayAll(dir);
    wal.start();
    wal.append(Buffer.from('complete one'));
    wal.append(Buffer.from('complete two'));
    wal.close();
    const segment = join(dir, readdirSync(dir).sort().at(-1)!);
    // A crash in the middle of a write leaves half a record.
    appendFileSync(segment, Buffer.from([40, 0, 0, 0, 1, 2, 3, 4, 3, 0, 0, 0, 0, 0, 0, 0, 104, 105]));
    const sizeWithTail = statSync(segment).size;
    const replayed = await replayAll(dir);
    expect(replayed.records.map(([, text]) => text)).toEqual(['complete one', 'complete two']);
    expect(replayed.corrupt).toEqual([segment]);
    expect(statSync(segment).size).toBeLessThan(sizeWithTail);
  });

  it('detects a corrupted record by its checksum', async () => {
    const dir = tempDir();
    const { wal } = await replayAll(dir);
    wal.start();
    wal.append(Buffer.from('good'));
    wal.append(Buffer.from('will be damaged'));
    wal.close();
    const segment = join(dir, readdirSync(dir).sort().at(-1)!);
    truncateSync(segment, statSync(segment).size - 1);
    appendFileSync(segment, 'X');
    const replayed = await replayAll(dir);
    expect(replayed.records.map(([, text]) => text)).toEqual(['good']);
  });

  it('deletes only segments whose records are all below the given sequence', async () => {
    const dir = tempDir();
    const { wal } = await replayAll(dir);
    wal.start();
    for (let i = 0; i < 40; i++) wal.append(Buffer.alloc(200, 65));
    const before = readdirSync(dir).length;
    expect(wal.hasSegmentsBefore(20)).toBe(true);
    wal.truncateBefore(20);
    wal.close();
    expect(readdirSync(dir).length).toBeLessThan(before);
    const replayed = await replayAll(dir);
    expect(replayed.records[0]![0]).toBeLessThanOrEqual(20);
    expect(replayed.records.at(-1)![0]).toBe(40);
  });

  it('fsyncs per batch in batch mode, sharing one fsync between concurrent callers', async () => {
    const dir = tempDir();
    const wal = new Wal(dir, { sync: 'batch', syncPeriodMs: 0, segmentSize: 1 << 20 });
    await wal.replay(() => undefined);
    wal.start();
    wal.append(Buffer.from('a'));
    const first = wal.sync();
    wal.append(Buffer.from('b'));
    const second = wal.sync();
    await Promise.all([first, second]);
    expect(wal.syncPerBatch).toBe(true);
    wal.close();
  });
});
