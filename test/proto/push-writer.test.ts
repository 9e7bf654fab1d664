import { describe, expect, it } from 'vitest';
import { PushRequestWriter, decodePushRequest, encodePushRequest, type PushStreamInput } from '../../proto/index.js';
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
});
