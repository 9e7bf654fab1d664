import { describe, expect, it } from 'vitest';
import { PushBatchBuilder, entryLine, entryLineBytes, entryMetadata } from '../../proto/index.js';
import { expectConsistentBatch } from './batch-invariants.js';

describe('PushBatchBuilder', () => {
  it('builds a columnar batch from strings, bytes and metadata', () => {
    const builder = new PushBatchBuilder();
    builder.startStream('{a="1"}');
    builder.addEntry(10, 20, 'héllo', [['trace_id', 'x'], ['ü', 'ÿ']]);
    builder.addEntry(-3, 999_999_999, Uint8Array.from([0, 255]));
    builder.startStream('{a="2"}');
    builder.startStream('{a="3"}');
    builder.addEntry(0, 0, '');
    const batch = builder.finish();
    expectConsistentBatch(batch);
    expect(batch.streams).toEqual([
      { labels: '{a="1"}', firstEntry: 0, entryCount: 2 },
      { labels: '{a="2"}', firstEntry: 2, entryCount: 0 },
      { labels: '{a="3"}', firstEntry: 2, entryCount: 1 },
    ]);
    expect(batch.entryCount).toBe(3);
    expect([batch.seconds[0], batch.nanos[0], batch.seconds[1], batch.nanos[1]]).toEqual([10, 20, -3, 999_999_999]);
    expect(entryLine(batch, 0)).toBe('héllo');
    expect([...entryLineBytes(batch, 1)]).toEqual([0, 255]);
    expect(entryLine(batch, 2)).toBe('');
    expect(entryMetadata(batch, 0)).toEqual([['trace_id', 'x'], ['ü', 'ÿ']]);
    expect(entryMetadata(batch, 1)).toEqual([]);
  });

  it('grows past its initial capacity and is reusable after finish()', () => {
    const builder = new PushBatchBuilder();
    builder.startStream('{a="b"}');
    for (let index = 0; index < 10_000; index++) builder.addEntry(index, 0, `line ${index} ${'x'.repeat(index % 50)}`, [['i', String(index)]]);
    const first = builder.finish();
    expectConsistentBatch(first);
    expect(entryLine(first, 9_999)).toBe(`line 9999 ${'x'.repeat(9_999 % 50)}`);
    expect(entryMetadata(first, 9_999)).toEqual([['i', '9999']]);

    builder.startStream('{c="d"}');
    builder.addEntry(1, 2, 'again');
    const second = builder.finish();
    expect(second.streams).toEqual([{ labels: '{c="d"}', firstEntry: 0, entryCount: 1 }]);
    expect(entryLine(second, 0)).toBe('again');
    expect(entryLine(first, 0)).toBe('line 0 ');
  });

  it('refuses entries before the first stream', () => {
    expect(() => new PushBatchBuilder().addEntry(0, 0, 'x')).toThrow(/before startStream/);
  });
});
