/** Finding the entries of a batch whose line contains a substring, with one search of its buffer. */
import type { QueryStats } from './context.js';
import type { EntryBatch } from './source.js';

export class SubstringHits {
  /** Indexes of the entries found by the last `find`, ascending. */
  hits = new Uint32Array(64);

  /**
   * Fills `hits` with the indexes of the batch's entries whose line contains `needle`, with one
   * `indexOf` scan over the batch's buffer (`batch.lineBounds` must be set), and returns how many.
   */
  find(batch: EntryBatch, needle: Uint8Array): number {
    const { data, lineStart, lineEnd } = batch.lineBounds!;
    const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const stop = lineEnd[batch.to - 1]!;
    let count = 0;
    let entry = batch.from;
    let pos = lineStart[batch.from]!;
    while (pos < stop) {
      const at = buffer.indexOf(needle, pos);
      if (at < 0 || at + needle.length > stop) break;
      // Advance to the entry whose line could contain `at` (hits are ascending, so is `entry`).
      while (entry < batch.to && lineEnd[entry]! < at + needle.length) entry++;
      if (entry >= batch.to) break;
      if (at >= lineStart[entry]!) {
        if (count === this.hits.length) {
          const grown = new Uint32Array(count * 2);
          grown.set(this.hits);
          this.hits = grown;
        }
        this.hits[count++] = entry;
        pos = lineEnd[entry]!;
        entry++;
      } else {
        // The match straddles a line boundary or lies in metadata: look again inside this line.
        pos = lineStart[entry]!;
      }
    }
    return count;
  }
}

/** A buffer search reads every line of the batch: they all count as processed (lines, line bytes). */
export function countSearchedBatch(stats: QueryStats, batch: EntryBatch): void {
  const { lineStart, lineEnd } = batch.lineBounds!;
  let bytes = 0;
  for (let i = batch.from; i < batch.to; i++) bytes += lineEnd[i]! - lineStart[i]!;
  stats.linesProcessed += batch.to - batch.from;
  stats.bytesProcessed += bytes;
}
