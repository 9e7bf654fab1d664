import { describe, expect, it } from 'vitest';
import { decodeBlock, mergeBatches, type EntryBatch } from '../../server/store/block.js';
import { Head } from '../../server/store/head.js';

const NO_META = new Uint32Array(0);

function append(head: Head, sec: number, nanos: number, line: string, meta: Array<[string, string]> = []): boolean {
  // Lay the line and metadata out as a push batch would: bytes plus offsets.
  const parts = [line, ...meta.flat()];
  const data = Buffer.from(parts.join(''));
  const offsets = new Uint32Array(4 * meta.length);
  let pos = Buffer.byteLength(line);
  meta.forEach(([name, value], p) => {
    offsets[4 * p] = pos;
    pos += Buffer.byteLength(name);
    offsets[4 * p + 1] = pos;
    offsets[4 * p + 2] = pos;
    pos += Buffer.byteLength(value);
    offsets[4 * p + 3] = pos;
  });
  return head.append(sec, nanos, data, 0, Buffer.byteLength(line), meta.length ? offsets : NO_META, 0, meta.length);
}

function lines(batch: EntryBatch): string[] {
  const out: string[] = [];
  for (let i = batch.from; i < batch.to; i++) out.push(batch.lineText(i));
  return out;
}

describe('head', () => {
  it('keeps entries in arrival order when they arrive in order, and cuts a block without re-encoding', () => {
    const head = new Head(256 * 1024);
    append(head, 1_700_000_000, 5, 'a', [['trace', 't1']]);
    append(head, 1_700_000_000, 6, 'b');
    append(head, 1_700_000_001, 0, 'c');
    const snapshot = head.snapshot();
    expect(lines(snapshot)).toEqual(['a', 'b', 'c']);
    expect(snapshot.timestamp(0)).toBe(1_700_000_000_000_000_005n);
    expect(snapshot.metadata(0)).toEqual([['trace', 't1']]);
    const cut = head.cut();
    expect(head.empty).toBe(true);
    expect(cut.minTs).toBe(1_700_000_000_000_000_005n);
    expect(cut.maxTs).toBe(1_700_000_001_000_000_000n);
    const block = decodeBlock(cut.bytes);
    expect(lines(block)).toEqual(['a', 'b', 'c']);
    expect(block.timestamp(2)).toBe(1_700_000_001_000_000_000n);
  });

  it('sorts out-of-order entries, stably, when read or cut', () => {
    const head = new Head(256 * 1024);
    append(head, 100, 0, 'third');
    append(head, 50, 0, 'first');
    append(head, 75, 0, 'second-a');
    append(head, 75, 0, 'second-b');
    append(head, 20, 999, 'zeroth');
    expect(lines(head.snapshot())).toEqual(['zeroth', 'first', 'second-a', 'second-b', 'third']);
    const cut = head.cut();
    expect(cut.minTs).toBe(20_000_000_999n);
    expect(lines(decodeBlock(cut.bytes))).toEqual(['zeroth', 'first', 'second-a', 'second-b', 'third']);
  });

  it('ignores identical entries (timestamp, line, metadata) but keeps different ones at the same time', () => {
    const head = new Head(256 * 1024);
    expect(append(head, 10, 1, 'x')).toBe(true);
    expect(append(head, 10, 1, 'x')).toBe(false);
    expect(append(head, 10, 1, 'y')).toBe(true);
    expect(append(head, 10, 1, 'x', [['k', 'v']])).toBe(true);
    expect(append(head, 11, 0, 'later')).toBe(true);
    // An old duplicate arriving out of order is found too.
    expect(append(head, 10, 1, 'y')).toBe(false);
    expect(append(head, 10, 2, 'x')).toBe(true);
    expect(lines(head.snapshot())).toEqual(['x', 'y', 'x', 'x', 'later']);
  });

  it('clips a batch to [start, end) by binary search', () => {
    const head = new Head(256 * 1024);
    for (let s = 0; s < 10; s++) append(head, 1000 + s, 0, `s${s}`);
    const batch = head.snapshot();
    batch.clip(1_002_000_000_000n, 1_005_000_000_000n);
    expect(lines(batch)).toEqual(['s2', 's3', 's4']);
  });

  it('merges overlapping batches in time order and drops cross-batch duplicates', () => {
    const a = new Head(256 * 1024);
    const b = new Head(256 * 1024);
    append(a, 1, 0, 'one');
    append(a, 3, 0, 'three');
    append(b, 2, 0, 'two');
    append(b, 3, 0, 'three');
    append(b, 4, 0, 'four');
    expect(lines(mergeBatches([a.snapshot(), b.snapshot()]))).toEqual(['one', 'two', 'three', 'four']);
  });

  it('refuses entries too far from the head base for exact offsets', () => {
    const head = new Head(256 * 1024);
    append(head, 1_700_000_000, 0, 'now');
    expect(head.accepts(1_700_000_000 + 49 * 86_400)).toBe(true);
    expect(head.accepts(1_700_000_000 + 51 * 86_400)).toBe(false);
  });
});
