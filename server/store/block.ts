/**
 * The block format, shared by a stream's in-memory head and the compressed blocks in
 * chunks, so an ordered head can be read without copying and cut without re-encoding:
 *
 *   block  = base:int64le  count:uint32le  entry*
 *   entry  = zigzag(ts - base):uvarint  lineLen:uvarint  line  pairs:uvarint  (nameLen name valueLen value)*
 *
 * Timestamps are nanoseconds. Offsets from `base` are plain numbers (exact below 2^53 ns,
 * about 104 days, which the head guarantees by cutting first), so no entry needs a BigInt.
 */
import { ByteCursor, unzigzag, uvarintSize, writeUvarint, zigzag } from './varint.js';

export const BLOCK_HEADER_BYTES = 12;

const utf8 = new TextDecoder();

/**
 * Entries decoded from one block or head, in ascending time order, with line bytes left
 * in `data`. `from`/`to` narrow the batch to a time window without copying.
 */
export class EntryBatch {
  from = 0;
  to: number;

  constructor(
    readonly base: bigint,
    readonly offsets: Float64Array,
    readonly data: Uint8Array,
    readonly lineStart: Uint32Array,
    readonly lineEnd: Uint32Array,
    readonly metaEnd: Uint32Array,
    readonly count: number,
  ) {
    this.to = count;
  }

  get size(): number {
    return this.to - this.from;
  }

  timestamp(i: number): bigint {
    return this.base + BigInt(this.offsets[i]!);
  }

  line(i: number): Uint8Array {
    return this.data.subarray(this.lineStart[i]!, this.lineEnd[i]!);
  }

  lineText(i: number): string {
    return utf8.decode(this.data.subarray(this.lineStart[i]!, this.lineEnd[i]!));
  }

  metadata(i: number): Array<[string, string]> {
    const cursor = new ByteCursor(this.data, this.metaEnd[i]!);
    cursor.pos = this.lineEnd[i]!;
    const pairs = cursor.uvarint();
    const out: Array<[string, string]> = [];
    for (let p = 0; p < pairs; p++) {
      const nameLen = cursor.uvarint();
      const name = utf8.decode(this.data.subarray(cursor.pos, cursor.pos + nameLen));
      cursor.pos += nameLen;
      const valueLen = cursor.uvarint();
      const value = utf8.decode(this.data.subarray(cursor.pos, cursor.pos + valueLen));
      cursor.pos += valueLen;
      out.push([name, value]);
    }
    return out;
  }

  /** Narrows the window to entries with `start ≤ ts < end` (binary search: entries are sorted). */
  clip(start: bigint, end: bigint): void {
    this.from = this.lowerBound(start, this.from, this.to);
    this.to = this.lowerBound(end, this.from, this.to);
  }

  /** First index in [lo, hi) whose timestamp is ≥ ts. */
  private lowerBound(ts: bigint, lo: number, hi: number): number {
    const rel = ts - this.base;
    // Beyond ±2^53 the comparison is decided by the sign alone.
    const target = rel > 2n ** 53n ? Infinity : rel < -(2n ** 53n) ? -Infinity : Number(rel);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.offsets[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export function writeBlockHeader(block: Uint8Array, base: bigint, count: number): void {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  view.setBigInt64(0, base, true);
  view.setUint32(8, count, true);
}

/**
 * Decodes the entries in `data[start, end)` (the bytes after a block header) and sorts
 * them by time when they arrived out of order. Sorting permutes the index arrays only.
 */
export function scanEntries(data: Uint8Array, start: number, end: number, base: bigint, count: number): EntryBatch {
  const offsets = new Float64Array(count);
  const lineStart = new Uint32Array(count);
  const lineEnd = new Uint32Array(count);
  const metaEnd = new Uint32Array(count);
  const cursor = new ByteCursor(data, end);
  cursor.pos = start;
  let sorted = true;
  let previous = -Infinity;
  for (let i = 0; i < count; i++) {
    const offset = unzigzag(cursor.uvarint());
    offsets[i] = offset;
    if (offset < previous) sorted = false;
    previous = offset;
    const lineLen = cursor.uvarint();
    lineStart[i] = cursor.pos;
    cursor.pos += lineLen;
    lineEnd[i] = cursor.pos;
    const pairs = cursor.uvarint();
    for (let p = 0; p < pairs; p++) {
      // Read the length before adding: `pos += uvarint()` would use the pos from before the varint.
      const nameLen = cursor.uvarint();
      cursor.pos += nameLen;
      const valueLen = cursor.uvarint();
      cursor.pos += valueLen;
    }
    metaEnd[i] = cursor.pos;
  }
  if (cursor.pos !== end) throw new RangeError(`block holds ${end - cursor.pos} bytes beyond its ${count} entries`);
  const batch = new EntryBatch(base, offsets, data, lineStart, lineEnd, metaEnd, count);
  return sorted ? batch : sortBatch(batch);
}

/** Decodes a whole uncompressed block. */
export function decodeBlock(block: Uint8Array): EntryBatch {
  const view = new DataView(block.buffer, block.byteOffset, block.byteLength);
  return scanEntries(block, BLOCK_HEADER_BYTES, block.byteLength, view.getBigInt64(0, true), view.getUint32(8, true));
}

/** A stable sort by time; arrival order breaks ties, as Loki's head block keeps it. */
function sortBatch(batch: EntryBatch): EntryBatch {
  const n = batch.count;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const offsets = batch.offsets;
  order.sort((a, b) => offsets[a]! - offsets[b]! || a - b);
  return permuteBatch(batch, order);
}

function permuteBatch(batch: EntryBatch, order: Uint32Array): EntryBatch {
  const n = order.length;
  const offsets = new Float64Array(n);
  const lineStart = new Uint32Array(n);
  const lineEnd = new Uint32Array(n);
  const metaEnd = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const j = order[i]!;
    offsets[i] = batch.offsets[j]!;
    lineStart[i] = batch.lineStart[j]!;
    lineEnd[i] = batch.lineEnd[j]!;
    metaEnd[i] = batch.metaEnd[j]!;
  }
  return new EntryBatch(batch.base, offsets, batch.data, lineStart, lineEnd, metaEnd, n);
}

/**
 * Merges batches whose time ranges overlap (blocks written out of order) into one sorted
 * batch, dropping entries identical in timestamp, line and metadata, as Loki's querier
 * dedupes. Rare, so it copies entries into a fresh block rather than being clever.
 */
export function mergeBatches(batches: readonly EntryBatch[]): EntryBatch {
  let base = batches[0]!.base;
  let bytes = BLOCK_HEADER_BYTES;
  let count = 0;
  for (const batch of batches) {
    if (batch.base < base) base = batch.base;
    count += batch.size;
    for (let i = batch.from; i < batch.to; i++) bytes += 10 + batch.metaEnd[i]! - batch.lineStart[i]! + 10;
  }
  const out = Buffer.allocUnsafe(bytes);
  let pos = BLOCK_HEADER_BYTES;
  for (const batch of batches) {
    const shift = Number(batch.base - base);
    for (let i = batch.from; i < batch.to; i++) {
      pos = writeUvarint(out, pos, zigzag(batch.offsets[i]! + shift));
      const lineStart = batch.lineStart[i]!;
      const bodyStart = lineStart - uvarintSize(batch.lineEnd[i]! - lineStart);
      out.set(batch.data.subarray(bodyStart, batch.metaEnd[i]!), pos);
      pos += batch.metaEnd[i]! - bodyStart;
    }
  }
  writeBlockHeader(out, base, count);
  return dropDuplicates(scanEntries(out, BLOCK_HEADER_BYTES, pos, base, count));
}

function sameBody(batch: EntryBatch, a: number, b: number): boolean {
  const data = batch.data;
  const aStart = batch.lineStart[a]!;
  const bStart = batch.lineStart[b]!;
  const aLen = batch.metaEnd[a]! - aStart;
  if (aLen !== batch.metaEnd[b]! - bStart || batch.lineEnd[a]! - aStart !== batch.lineEnd[b]! - bStart) return false;
  for (let k = 0; k < aLen; k++) if (data[aStart + k] !== data[bStart + k]) return false;
  return true;
}

function dropDuplicates(batch: EntryBatch): EntryBatch {
  const keep: number[] = [];
  for (let i = 0; i < batch.count; i++) {
    let duplicate = false;
    for (let k = keep.length - 1; k >= 0 && batch.offsets[keep[k]!] === batch.offsets[i]; k--) {
      if (sameBody(batch, keep[k]!, i)) {
        duplicate = true;
        break;
      }
    }
    if (!duplicate) keep.push(i);
  }
  return keep.length === batch.count ? batch : permuteBatch(batch, Uint32Array.from(keep));
}
