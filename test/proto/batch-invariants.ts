import { expect } from 'vitest';
import type { PushBatch } from '../../proto/index.js';

/** Every offset of a decoded batch stays inside its data, and streams tile the entries in order. */
export function expectConsistentBatch(batch: PushBatch): void {
  const size = batch.data.length;
  let nextEntry = 0;
  for (const stream of batch.streams) {
    expect(stream.firstEntry).toBe(nextEntry);
    nextEntry += stream.entryCount;
  }
  expect(nextEntry).toBe(batch.entryCount);
  let nextPair = 0;
  for (let entry = 0; entry < batch.entryCount; entry++) {
    expect(batch.lineStart[entry]).toBeLessThanOrEqual(batch.lineEnd[entry]);
    expect(batch.lineEnd[entry]).toBeLessThanOrEqual(size);
    expect(batch.metadataFirst[entry]).toBe(nextPair);
    nextPair += batch.metadataCount[entry];
  }
  expect(nextPair).toBe(batch.metadataPairCount);
  for (let at = 0; at < 4 * batch.metadataPairCount; at += 2) {
    expect(batch.metadataOffsets[at]).toBeLessThanOrEqual(batch.metadataOffsets[at + 1]);
    expect(batch.metadataOffsets[at + 1]).toBeLessThanOrEqual(size);
  }
}
