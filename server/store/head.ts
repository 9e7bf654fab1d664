/**
 * A stream's head: the entries not yet cut into a block, kept encoded in one growing
 * buffer in the block format (see block.ts), so appending a line is a byte copy and
 * reading the head needs no decoding pass beyond the index arrays.
 */
import { BLOCK_HEADER_BYTES, EntryBatch, scanEntries, writeBlockHeader } from './block.js';
import { OffsetIndex } from './offset-index.js';
import { unzigzag, uvarintSize, writeUvarint, zigzag } from './varint.js';

const INITIAL_CAPACITY = 4096;
/** Offsets are exact only below 2^53 ns; a head spanning more than this is cut first. */
const MAX_SPAN_SECONDS = 50 * 86_400;

export interface CutBlock {
  /** Uncompressed block bytes, entries in time order. */
  bytes: Uint8Array;
  minTs: bigint;
  maxTs: bigint;
  count: number;
}

export class Head {
  constructor(private readonly blockSize: number) {}

  private buf: Buffer = Buffer.allocUnsafe(0);
  private len = BLOCK_HEADER_BYTES;
  count = 0;
  private baseSec = 0;
  private baseNanos = 0;
  private base = 0n;
  private minOffset = Infinity;
  private maxOffset = -Infinity;
  private ordered = true;
  /** Byte position of the first entry of the in-order run sharing the newest timestamp. */
  private runStart = BLOCK_HEADER_BYTES;
  /** Offsets of all entries, kept once the head is out of order (see OffsetIndex). */
  private offsetIndex: OffsetIndex | null = null;
  /** First allocation after a cut: a head that filled a block will likely fill the next. */
  private initialCapacity = INITIAL_CAPACITY;

  get empty(): boolean {
    return this.count === 0;
  }

  /** Encoded size of the entries, the measure the block size limit applies to. */
  get bytes(): number {
    return this.len - BLOCK_HEADER_BYTES;
  }

  get minTs(): bigint {
    return this.base + BigInt(this.minOffset);
  }

  get maxTs(): bigint {
    return this.base + BigInt(this.maxOffset);
  }

  /** Whether an entry at `seconds` can join this head with an exact offset. */
  accepts(seconds: number): boolean {
    return this.count === 0 || Math.abs(seconds - this.baseSec) < MAX_SPAN_SECONDS;
  }

  /**
   * Appends one entry whose line is `src[lineStart, lineEnd)` and whose structured
   * metadata pairs are given as offsets into `src` (4 per pair, from `metaFirst`).
   * Returns false, appending nothing, when the head already holds an identical entry
   * (same timestamp, line and metadata), as Loki's head block ignores those.
   */
  append(
    seconds: number,
    nanos: number,
    src: Uint8Array,
    lineStart: number,
    lineEnd: number,
    metaOffsets: Uint32Array,
    metaFirst: number,
    metaCount: number,
  ): boolean {
    if (this.count === 0) {
      this.baseSec = seconds;
      this.baseNanos = nanos;
      this.base = BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
    }
    const offset = (seconds - this.baseSec) * 1e9 + (nanos - this.baseNanos);
    const lineLen = lineEnd - lineStart;

    let need = 10 + uvarintSize(lineLen) + lineLen + 5;
    for (let p = metaFirst * 4, last = (metaFirst + metaCount) * 4; p < last; p += 4) {
      const nameLen = metaOffsets[p + 1]! - metaOffsets[p]!;
      const valueLen = metaOffsets[p + 3]! - metaOffsets[p + 2]!;
      need += uvarintSize(nameLen) + nameLen + uvarintSize(valueLen) + valueLen;
    }
    this.reserve(need);

    const buf = this.buf;
    const entryStart = this.len;
    let pos = writeUvarint(buf, entryStart, zigzag(offset));
    const bodyStart = pos;
    pos = writeUvarint(buf, pos, lineLen);
    pos = copyBytes(src, lineStart, lineEnd, buf, pos);
    pos = writeUvarint(buf, pos, metaCount);
    for (let p = metaFirst * 4, last = (metaFirst + metaCount) * 4; p < last; p += 4) {
      const nameStart = metaOffsets[p]!;
      const nameEnd = metaOffsets[p + 1]!;
      const valueStart = metaOffsets[p + 2]!;
      const valueEnd = metaOffsets[p + 3]!;
      pos = writeUvarint(buf, pos, nameEnd - nameStart);
      pos = copyBytes(src, nameStart, nameEnd, buf, pos);
      pos = writeUvarint(buf, pos, valueEnd - valueStart);
      pos = copyBytes(src, valueStart, valueEnd, buf, pos);
    }

    if (offset <= this.maxOffset) {
      if (this.ordered && offset === this.maxOffset) {
        if (this.holdsDuplicate(this.runStart, entryStart, offset, bodyStart, pos)) return false;
      } else {
        this.offsetIndex ??= this.buildOffsetIndex();
        if (this.offsetIndex.some(offset, (entry) => this.sameBodyAt(entry, bodyStart, pos))) return false;
      }
    }
    this.offsetIndex?.add(offset, entryStart);

    if (offset > this.maxOffset) {
      this.maxOffset = offset;
      this.runStart = entryStart;
    } else if (offset < this.maxOffset) {
      this.ordered = false;
    }
    if (offset < this.minOffset) this.minOffset = offset;
    this.len = pos;
    this.count++;
    return true;
  }

  /** The head's entries in time order, sharing the head's buffer (appends never rewrite it). */
  snapshot(): EntryBatch {
    return scanEntries(this.buf, BLOCK_HEADER_BYTES, this.len, this.base, this.count);
  }

  /**
   * Takes the head's entries as an uncompressed block and leaves the head empty. `full`
   * says the head reached the block size, so the next one is allocated at that size at
   * once instead of growing through copies.
   */
  cut(full = false): CutBlock {
    const minTs = this.minTs;
    const maxTs = this.maxTs;
    const count = this.count;
    let bytes: Uint8Array;
    if (this.ordered) {
      bytes = this.buf.subarray(0, this.len);
      writeBlockHeader(bytes, this.base, count);
    } else {
      bytes = this.writeSorted();
    }
    this.buf = Buffer.allocUnsafe(0);
    this.initialCapacity = full ? this.blockSize + (this.blockSize >>> 3) : INITIAL_CAPACITY;
    this.len = BLOCK_HEADER_BYTES;
    this.count = 0;
    this.minOffset = Infinity;
    this.maxOffset = -Infinity;
    this.ordered = true;
    this.runStart = BLOCK_HEADER_BYTES;
    this.offsetIndex = null;
    return { bytes, minTs, maxTs, count };
  }

  private writeSorted(): Uint8Array {
    const batch = this.snapshot();
    const out = Buffer.allocUnsafe(this.len);
    writeBlockHeader(out, this.base, this.count);
    let pos = BLOCK_HEADER_BYTES;
    for (let i = 0; i < batch.count; i++) {
      pos = writeUvarint(out, pos, zigzag(batch.offsets[i]!));
      const lineStart = batch.lineStart[i]!;
      const bodyStart = lineStart - uvarintSize(batch.lineEnd[i]! - lineStart);
      out.set(this.buf.subarray(bodyStart, batch.metaEnd[i]!), pos);
      pos += batch.metaEnd[i]! - bodyStart;
    }
    return out.subarray(0, pos);
  }

  private buildOffsetIndex(): OffsetIndex {
    const index = new OffsetIndex(this.count * 2);
    let pos = BLOCK_HEADER_BYTES;
    while (pos < this.len) {
      const [zz, body] = readUvarintAt(this.buf, pos);
      index.add(unzigzag(zz), pos);
      pos = skipBody(this.buf, body);
    }
    return index;
  }

  /** Whether the entry at byte `entry` has the body `[bodyStart, bodyEnd)`. */
  private sameBodyAt(entry: number, bodyStart: number, bodyEnd: number): boolean {
    const body = readUvarintAt(this.buf, entry)[1];
    const end = skipBody(this.buf, body);
    return end - body === bodyEnd - bodyStart && this.buf.compare(this.buf, bodyStart, bodyEnd, body, end) === 0;
  }

  /** Whether an entry in `[from, end)` has `offset` and the same body bytes as `[bodyStart, bodyEnd)`. */
  private holdsDuplicate(from: number, end: number, offset: number, bodyStart: number, bodyEnd: number): boolean {
    let pos = from;
    while (pos < end) {
      const [zz, body] = readUvarintAt(this.buf, pos);
      if (unzigzag(zz) === offset && this.sameBodyAt(pos, bodyStart, bodyEnd)) return true;
      pos = skipBody(this.buf, body);
    }
    return false;
  }

  private reserve(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    // Double while small; near the block size grow only as needed, since a head is cut
    // soon after it passes the block size and a doubled buffer would sit half empty.
    let capacity = Math.max(this.initialCapacity, this.buf.length * 2);
    if (capacity > this.blockSize) capacity = Math.max(this.blockSize + (this.blockSize >>> 3), need + (need >>> 4));
    while (capacity < need) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
}

/** Below this length a loop beats creating a subarray for a native copy (one allocation per call). */
const LOOP_COPY_MAX = 96;

/** Copies `src[start, end)` to `dst` at `pos`; returns the position after it. */
function copyBytes(src: Uint8Array, start: number, end: number, dst: Uint8Array, pos: number): number {
  const length = end - start;
  if (length <= LOOP_COPY_MAX) {
    for (let i = 0; i < length; i++) dst[pos + i] = src[start + i]!;
  } else {
    dst.set(src.subarray(start, end), pos);
  }
  return pos + length;
}

function readUvarintAt(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  let byte: number;
  do {
    byte = buf[pos++]!;
    value += (byte & 0x7f) * scale;
    scale *= 128;
  } while (byte >= 0x80);
  return [value, pos];
}

/** Returns the position after an entry body (line and metadata) starting at `pos`. */
function skipBody(buf: Uint8Array, pos: number): number {
  let [len, next] = readUvarintAt(buf, pos);
  pos = next + len;
  let pairs: number;
  [pairs, pos] = readUvarintAt(buf, pos);
  for (let p = 0; p < pairs; p++) {
    [len, next] = readUvarintAt(buf, pos);
    pos = next + len;
    [len, next] = readUvarintAt(buf, pos);
    pos = next + len;
  }
  return pos;
}
