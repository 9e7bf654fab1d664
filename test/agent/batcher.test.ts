import { afterEach, describe, expect, it } from 'vitest';
import { Batcher, entrySizeBytes, type Batch } from '../../agent/batcher.js';
import { decodePushRequest, encodePushRequest, entryLine, entryMetadata } from '../../proto/index.js';

const made: Batcher<string>[] = [];
function batcher(options: ConstructorParameters<typeof Batcher<string>>[0]): Batcher<string> {
  const b = new Batcher<string>(options);
  made.push(b);
  return b;
}
afterEach(() => {
  for (const b of made.splice(0)) b.close();
});

const line = (n: number) => `line ${String(n).padStart(4, '0')} ${'x'.repeat(20)}`; // 30 bytes

describe('batcher', () => {
  it('cuts a batch when the next entry would exceed batchsize, recording each file\'s end offset', async () => {
    const b = batcher({ batchSize: 100, batchWaitMs: 60_000 });
    let offset = 0;
    for (let i = 0; i < 7; i++) {
      offset += 31;
      b.add(i % 2 === 0 ? '{app="a"}' : '{app="b"}', { ts: BigInt(i), line: line(i) }, { key: i < 4 ? '/a.log' : '/b.log', offset });
    }
    expect(entrySizeBytes({ ts: 0n, line: line(0) })).toBe(30);
    expect(b.queued).toBe(2); // 3 + 3 entries cut (4th would make 120 > 100); 1 entry still open
    const first = (await b.next())!;
    const second = (await b.next())!;
    expect(first.entryCount).toBe(3);
    expect(first.bytes).toBe(90);
    expect([...first.positions]).toEqual([['/a.log', 93]]);
    const request = decodePushRequest(first.encode());
    expect(request.streams.map((s) => s.labels)).toEqual(['{app="a"}', '{app="b"}']);
    const a = request.streams[0]!;
    expect(Array.from({ length: a.entryCount }, (_, i) => entryLine(request, a.firstEntry + i))).toEqual([line(0), line(2)]);
    expect([...second.positions]).toEqual([['/a.log', 124], ['/b.log', 186]]);
    b.flush();
    const third = (await b.next())!;
    expect(third.entryCount).toBe(1);
    expect([...third.positions]).toEqual([['/b.log', 217]]);
  });

  it('sends an entry larger than batchsize alone, and counts structured metadata in the size', async () => {
    const b = batcher({ batchSize: 50, batchWaitMs: 60_000 });
    b.add('{a="1"}', { ts: 1n, line: 'small' });
    b.add('{a="1"}', { ts: 2n, line: 'y'.repeat(80) });
    b.add('{a="1"}', { ts: 3n, line: 'z'.repeat(10), metadata: [['trace_id', 'a'.repeat(30)]] }); // 10 + 8 + 30 = 48
    b.add('{a="1"}', { ts: 4n, line: 'www' }); // 48 + 3 > 50
    b.flush();
    const sizes: number[] = [];
    for (let i = 0; i < 4; i++) sizes.push((await b.next())!.bytes);
    expect(sizes).toEqual([5, 80, 48, 3]);
  });

  it('cuts a batch batchwait after its first entry', async () => {
    const b = batcher({ batchSize: 1 << 20, batchWaitMs: 100 });
    const start = performance.now();
    b.add('{a="1"}', { ts: 1n, line: 'one' });
    await new Promise((r) => setTimeout(r, 40));
    b.add('{a="1"}', { ts: 2n, line: 'two' });
    const batch = (await b.next())!;
    const elapsed = performance.now() - start;
    expect(batch.entryCount).toBe(2);
    expect(elapsed).toBeGreaterThanOrEqual(99);
    expect(elapsed).toBeLessThan(400);
  });

  it('signals full above the pending-bytes bound and wakes readers when the sender releases', async () => {
    const b = batcher({ batchSize: 40, batchWaitMs: 60_000, maxPendingBytes: 100 });
    for (let i = 0; i < 3; i++) b.add('{a="1"}', { ts: BigInt(i), line: line(i) });
    expect(b.full).toBe(false);
    b.add('{a="1"}', { ts: 3n, line: line(3) });
    expect(b.pendingBytes).toBe(120);
    expect(b.full).toBe(true);
    let woke = false;
    const waiting = b.waitForRoom().then(() => (woke = true));
    const taken: Batch<string>[] = [];
    taken.push((await b.next())!);
    await new Promise((r) => setTimeout(r, 20));
    expect(woke).toBe(false); // taken by the sender but not yet acknowledged: still pending
    b.release(taken[0]!);
    await waiting;
    expect(woke).toBe(true);
    expect(b.pendingBytes).toBe(90);
  });

  it('carries positions of lines without entries, and drains then ends on close', async () => {
    const b = batcher({ batchSize: 100, batchWaitMs: 60_000 });
    b.add('{a="1"}', { ts: 1n, line: 'kept' }, { key: '/f', offset: 5 });
    b.advance('/f', 20); // a dropped line
    b.close();
    const batch = (await b.next())!;
    expect([...batch.positions]).toEqual([['/f', 20]]);
    expect(await b.next()).toBeUndefined();
  });

  it('encodes entries as the push request: stream order, per-stream entry order, seconds and nanos (also before 1970), metadata', () => {
    const b = batcher({ batchSize: 1000, batchWaitMs: 60_000 });
    b.add('{a="1"}', { ts: 1_700_000_000_123_456_789n, line: 'x', metadata: [['k', 'v']] });
    b.add('{b="2"}', { ts: -1_500_000_000n, line: 'before the epoch' });
    b.add('{a="1"}', { ts: 1_700_000_001_000_000_000n, line: 'ünïcödé' });
    b.add('{b="2"}', { ts: 0n, line: '' });
    b.flush();
    return b.next().then((batch) => {
      const request = decodePushRequest(batch!.encode((l) => l.replace('}', ', z="9"}')));
      const got = request.streams.map((s) => ({
        labels: s.labels,
        entries: Array.from({ length: s.entryCount }, (_, i) => {
          const e = s.firstEntry + i;
          return [request.seconds[e], request.nanos[e], entryLine(request, e), entryMetadata(request, e)];
        }),
      }));
      expect(got).toEqual([
        { labels: '{a="1", z="9"}', entries: [[1_700_000_000, 123_456_789, 'x', [['k', 'v']]], [1_700_000_001, 0, 'ünïcödé', []]] },
        { labels: '{b="2", z="9"}', entries: [[-2, 500_000_000, 'before the epoch', []], [0, 0, '', []]] },
      ]);
      // The same request as the one-shot encoder writes.
      expect(batch!.encode()).toEqual(
        encodePushRequest([
          { labels: '{a="1"}', entries: [{ seconds: 1_700_000_000, nanos: 123_456_789, line: 'x', metadata: [['k', 'v']] }, { seconds: 1_700_000_001, nanos: 0, line: 'ünïcödé' }] },
          { labels: '{b="2"}', entries: [{ seconds: -2, nanos: 500_000_000, line: 'before the epoch' }, { seconds: 0, nanos: 0, line: '' }] },
        ]),
      );
    });
  });
});
