/** The test LogSource itself: range bounds, direction, batches. */
import { describe, expect, it } from 'vitest';
import { MemorySource, sec } from '../../helpers/memory-source.js';

const src = (batch: number): MemorySource =>
  new MemorySource(
    [
      { labels: { app: 'a', env: 'p' }, entries: [3, 1, 2, 4, 5].map((t) => ({ ts: sec(t), line: `l${t}` })) },
      { labels: { app: 'b' }, entries: [{ ts: sec(9), line: 'b', metadata: { k: 'v' } }] },
    ],
    batch,
  );

function read(s: MemorySource, start: number, end: number, dir: 'forward' | 'backward'): string[][] {
  const [stream] = s.selectStreams([{ type: '=', name: 'app', value: 'a' }], sec(0), sec(100));
  const out: string[][] = [];
  for (const b of s.entries(stream!, sec(start), sec(end), dir)) {
    const batch: string[] = [];
    for (let i = b.from; i < b.to; i++) batch.push(`${Number(b.base + BigInt(b.offsets[i]!)) / 1e9}:${new TextDecoder().decode(b.line(i))}`);
    out.push(batch);
  }
  return out;
}

describe('MemorySource', () => {
  it('serves start ≤ ts < end in ascending batches', () => {
    expect(read(src(2), 2, 5, 'forward')).toEqual([['2:l2', '3:l3'], ['4:l4']]);
  });
  it('serves batches newest first for backward, each ascending', () => {
    expect(read(src(2), 1, 6, 'backward')).toEqual([['5:l5'], ['3:l3', '4:l4'], ['1:l1', '2:l2']]);
  });
  it('selects streams by matchers and time, with sorted labels and metadata', () => {
    const s = src(3);
    expect(s.selectStreams([{ type: '=~', name: 'app', value: 'a|b' }], sec(6), sec(10)).map((x) => x.labels)).toEqual([[{ name: 'app', value: 'b' }]]);
    expect(s.selectStreams([{ type: '!=', name: 'env', value: 'p' }], sec(0), sec(100)).length).toBe(1);
    const [b] = s.selectStreams([{ type: '=', name: 'app', value: 'b' }], sec(0), sec(100));
    const batch = [...s.entries(b!, sec(0), sec(100), 'forward')][0]!;
    expect(batch.metadata(batch.from)).toEqual([{ name: 'k', value: 'v' }]);
  });
});
