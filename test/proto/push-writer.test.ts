import { describe, expect, it } from 'vitest';
import { PushRequestWriter, SnappyBlockWriter, decodePushRequest, encodePushRequest, snappyCompress, snappyMaxCompressedLength, type PushStreamInput } from '../../proto/index.js';
import { seededRandom } from '../helpers/random.js';

describe('PushRequestWriter', () => {
  it('writes the same bytes as the one-shot encoder for random entries over many streams, growing its buffers', () => {
    const random = seededRandom(7);
    const streams = new Map<string, PushStreamInput & { entries: PushStreamInput['entries'][number][] }>();
    const writer = new PushRequestWriter(64); // tiny: forces many doublings
    for (let i = 0; i < 5000; i++) {
      const labels = `{app="a${Math.floor(random() * 40)}"}`;
      const seconds = Math.floor(random() * 4e9) - 2e9;
      const nanos = Math.floor(random() * 1e9);
      const line = random() < 0.05 ? '' : 'é'.repeat(Math.floor(random() * 3)) + 'x'.repeat(Math.floor(random() * 300));
      const metadata = random() < 0.2 ? ([['trace_id', String(i)]] as const) : undefined;
      writer.add(labels, seconds, nanos, line, Buffer.byteLength(line), metadata);
      let stream = streams.get(labels);
      if (stream === undefined) streams.set(labels, (stream = { labels, entries: [] }));
      stream.entries.push(metadata === undefined ? { seconds, nanos, line } : { seconds, nanos, line, metadata });
    }
    const bytes = writer.finish();
    expect(bytes.equals(encodePushRequest([...streams.values()]))).toBe(true);
    expect(decodePushRequest(bytes).entryCount).toBe(5000);
    expect(writer.entryCount).toBe(5000);
  });

  it('compresses without assembling the request: the same bytes as snappyCompress(finish()), from lines given as bytes too', () => {
    const random = seededRandom(11);
    const writer = new PushRequestWriter(64);
    const source = Buffer.from('xx' + 'log line payload é '.repeat(40));
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 20000; i++) {
        const labels = `{app="a${Math.floor(random() * 30)}", stream="stdout"}`;
        const seconds = 1_700_000_000 + i;
        const nanos = Math.floor(random() * 1e9);
        if (random() < 0.5) {
          const start = 2 + Math.floor(random() * 20);
          writer.addBytes(labels, seconds, nanos, source, start, start + Math.floor(random() * 200));
        } else {
          const line = `line ${i} ` + 'y'.repeat(Math.floor(random() * 150));
          writer.add(labels, seconds, nanos, line, Buffer.byteLength(line));
        }
      }
      const mapLabels = (labels: string): string => labels.replace('}', ', cluster="c"}');
      const request = writer.finish(mapLabels);
      expect(writer.requestLength(mapLabels)).toBe(request.length);
      expect(request.length).toBeGreaterThan(3 * 65536); // several snappy fragments
      const expected = snappyCompress(request);
      expect(writer.finishSnappy(mapLabels).equals(expected)).toBe(true);
      const into = Buffer.alloc(snappyMaxCompressedLength(request.length));
      const body = writer.finishSnappy(mapLabels, into);
      expect(body.buffer).toBe(into.buffer);
      expect(body.equals(expected)).toBe(true);
      expect(decodePushRequest(request).entryCount).toBe(20000);
      writer.reset(); // the second round reuses the grown buffers
      expect(writer.entryCount).toBe(0);
      expect(writer.finish().length).toBe(0);
    }
  });

  it('SnappyBlockWriter refuses input of another length than declared', () => {
    const block = new SnappyBlockWriter(4);
    block.write(Buffer.from('abc'), 0, 3);
    expect(() => block.finish()).toThrow(RangeError);
    expect(() => new SnappyBlockWriter(2).write(Buffer.from('abc'), 0, 3)).toThrow(RangeError);
  });
});
