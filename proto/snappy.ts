/**
 * Snappy block-format decompression with every bound checked. We do not use snappyjs's
 * uncompress on request bodies: it silently stops at the end of its output buffer, never
 * checks that the output was filled, and a crafted 4-byte literal length makes it walk
 * backwards and spin for billions of iterations. It is also faster than snappyjs: short
 * copies move 4 bytes at a time through DataViews instead of byte by byte (bench/RESULTS.md).
 *
 * Error messages are built in separate functions on purpose: a template literal inside the
 * loop made V8 compile the whole loop ~35% slower.
 */
import { PushDecodeError } from './errors.js';

export const DEFAULT_MAX_DECOMPRESSED_BYTES = 100 * 1024 * 1024;

/** Longer copies go through native code; snappy's typical 4–64 byte copies are cheaper in JS. */
const NATIVE_COPY_MIN = 64;

function malformedSnappy(reason: string): PushDecodeError {
  return new PushDecodeError(`malformed snappy block: ${reason}`);
}

function truncated(what: string, offset: number): PushDecodeError {
  return malformedSnappy(`truncated ${what} at offset ${offset}`);
}

function literalPastInput(length: number, offset: number): PushDecodeError {
  return malformedSnappy(`literal of ${length} bytes at offset ${offset} runs past the input`);
}

function pastDeclaredLength(what: string, outputByte: number, declared: number): PushDecodeError {
  return malformedSnappy(`${what} at output byte ${outputByte} overflows the declared length ${declared}`);
}

function offsetBeforeStart(offset: number, outputByte: number): PushDecodeError {
  return malformedSnappy(`copy offset ${offset} at output byte ${outputByte} points before the start`);
}

/** The uncompressed length declared in the block's varint preamble (at most 32 bits). */
export function snappyDeclaredLength(compressed: Uint8Array): number {
  let length = 0;
  for (let index = 0; index < 5; index++) {
    if (index >= compressed.length) throw malformedSnappy('truncated length preamble');
    const byte = compressed[index];
    length += (byte & 0x7f) * 2 ** (7 * index);
    if (byte < 0x80) {
      if (length > 0xffffffff) break;
      return length;
    }
  }
  throw malformedSnappy('length preamble does not fit in 32 bits');
}

export function snappyUncompress(compressed: Uint8Array, maxDecompressedBytes: number = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  const length = snappyDeclaredLength(compressed);
  if (length > maxDecompressedBytes) {
    throw malformedSnappy(`declared length ${length} exceeds the limit of ${maxDecompressedBytes} bytes`);
  }
  const src = compressed;
  const srcEnd = src.length;
  let pos = 1;
  while (src[pos - 1] >= 0x80) pos++;
  // Every byte is written before we return (checked at the end), so uninitialised memory never leaks.
  const out = Buffer.allocUnsafe(length);
  const outView = new DataView(out.buffer, out.byteOffset, out.length);
  const srcView = new DataView(src.buffer, src.byteOffset, src.length);
  // Word copies may write up to 3 bytes past a copy's end (overwritten by the next copy);
  // they are used only while that stays inside the output.
  const wordCopyEnd = length - 4;
  let outPos = 0;
  while (pos < srcEnd) {
    const tagAt = pos;
    const tag = src[pos++];
    const kind = tag & 3;
    if (kind === 0) {
      let literalLength = (tag >>> 2) + 1;
      if (literalLength > 60) {
        const lengthBytes = literalLength - 60;
        if (pos + lengthBytes > srcEnd) throw truncated('literal length', tagAt);
        literalLength = src[pos] + 1;
        for (let index = 1; index < lengthBytes; index++) literalLength += src[pos + index] * 2 ** (8 * index);
        pos += lengthBytes;
      }
      if (literalLength > srcEnd - pos) throw literalPastInput(literalLength, pos);
      if (literalLength > length - outPos) throw pastDeclaredLength('literal', outPos, length);
      if (literalLength < NATIVE_COPY_MIN && outPos + literalLength <= wordCopyEnd && pos + literalLength + 4 <= srcEnd) {
        for (let index = 0; index < literalLength; index += 4) {
          outView.setUint32(outPos + index, srcView.getUint32(pos + index, true), true);
        }
      } else if (literalLength < NATIVE_COPY_MIN) {
        for (let index = 0; index < literalLength; index++) out[outPos + index] = src[pos + index];
      } else {
        out.set(src.subarray(pos, pos + literalLength), outPos);
      }
      pos += literalLength;
      outPos += literalLength;
      continue;
    }
    // Offset bytes are read before the bounds check: a read past the end yields undefined,
    // which is harmless because the check right after rejects it.
    let copyLength: number;
    let offset: number;
    if (kind === 1) {
      copyLength = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[pos];
      pos += 1;
    } else if (kind === 2) {
      copyLength = (tag >>> 2) + 1;
      offset = src[pos] | (src[pos + 1] << 8);
      pos += 2;
    } else {
      copyLength = (tag >>> 2) + 1;
      offset = (src[pos] | (src[pos + 1] << 8) | (src[pos + 2] << 16) | (src[pos + 3] << 24)) >>> 0;
      pos += 4;
    }
    if (pos > srcEnd) throw truncated('copy', tagAt);
    if (offset === 0 || offset > outPos) throw offsetBeforeStart(offset, outPos);
    if (copyLength > length - outPos) throw pastDeclaredLength('copy', outPos, length);
    const from = outPos - offset;
    if (offset >= 4 && copyLength < NATIVE_COPY_MIN && outPos + copyLength <= wordCopyEnd) {
      // Sound even when overlapping: with offset >= 4 each word read lies before the word written.
      for (let index = 0; index < copyLength; index += 4) {
        outView.setUint32(outPos + index, outView.getUint32(from + index, true), true);
      }
    } else if (copyLength < NATIVE_COPY_MIN || offset < copyLength) {
      // Overlapping copies (offset < length) repeat a pattern and must go byte by byte.
      for (let index = 0; index < copyLength; index++) out[outPos + index] = out[from + index];
    } else {
      out.copyWithin(outPos, from, from + copyLength);
    }
    outPos += copyLength;
  }
  if (outPos !== length) throw malformedSnappy(`decompressed to ${outPos} bytes but the preamble declares ${length}`);
  return out;
}

// ---- Compression ------------------------------------------------------------------------
//
// The reference algorithm (64 KiB fragments, a 14-bit hash of the next 4 bytes, skipping
// faster through data that does not compress), written for V8: 4-byte loads and compares
// through one DataView instead of byte by byte, Math.imul for the hash (snappyjs multiplies
// in floating point), and a 16-bit table of fragment offsets so it stays in L1 cache.
// 1.4x snappyjs's compressor on log lines (bench/RESULTS.md, "Block compression").

const FRAGMENT_SIZE = 65536;
const HASH_SHIFT = 32 - 14;
/** Matches are not searched in a fragment's last bytes, as in the reference implementation. */
const INPUT_MARGIN = 15;
const hashTable = new Uint16Array(1 << 14);

function hash4(view: DataView, pos: number): number {
  return Math.imul(view.getUint32(pos, true), 0x1e35a7bd) >>> HASH_SHIFT;
}

function emitLiteral(src: Uint8Array, start: number, length: number, out: Uint8Array, op: number): number {
  const n = length - 1;
  if (n < 60) {
    out[op++] = n << 2;
  } else if (n < 256) {
    out[op++] = 60 << 2;
    out[op++] = n;
  } else {
    out[op++] = 61 << 2;
    out[op++] = n & 0xff;
    out[op++] = n >>> 8;
  }
  if (length >= NATIVE_COPY_MIN) out.set(src.subarray(start, start + length), op);
  else for (let index = 0; index < length; index++) out[op + index] = src[start + index];
  return op + length;
}

function emitCopy(out: Uint8Array, op: number, offset: number, length: number): number {
  while (length >= 68) {
    out[op++] = 2 | (63 << 2);
    out[op++] = offset & 0xff;
    out[op++] = offset >>> 8;
    length -= 64;
  }
  if (length > 64) {
    out[op++] = 2 | (59 << 2);
    out[op++] = offset & 0xff;
    out[op++] = offset >>> 8;
    length -= 60;
  }
  if (length < 12 && offset < 2048) {
    out[op++] = 1 | ((length - 4) << 2) | ((offset >>> 8) << 5);
    out[op++] = offset & 0xff;
  } else {
    out[op++] = 2 | ((length - 1) << 2);
    out[op++] = offset & 0xff;
    out[op++] = offset >>> 8;
  }
  return op;
}

function compressFragment(src: Uint8Array, view: DataView, start: number, end: number, out: Uint8Array, op: number): number {
  let nextEmit = start;
  if (end - start >= INPUT_MARGIN) {
    hashTable.fill(0);
    const limit = end - INPUT_MARGIN;
    let ip = start + 1;
    let nextHash = hash4(view, ip);
    for (;;) {
      let skip = 32;
      let nextIp = ip;
      let candidate: number;
      do {
        ip = nextIp;
        const h = nextHash;
        nextIp = ip + (skip++ >>> 5);
        if (nextIp > limit) return nextEmit < end ? emitLiteral(src, nextEmit, end - nextEmit, out, op) : op;
        nextHash = hash4(view, nextIp);
        // An empty slot reads as the fragment start; the compare below rejects it if wrong.
        candidate = start + hashTable[h]!;
        hashTable[h] = ip - start;
      } while (view.getUint32(candidate, true) !== view.getUint32(ip, true));

      op = emitLiteral(src, nextEmit, ip - nextEmit, out, op);
      do {
        const base = ip;
        let matched = 4;
        while (ip + matched + 4 <= end && view.getUint32(ip + matched, true) === view.getUint32(candidate + matched, true)) matched += 4;
        while (ip + matched < end && src[ip + matched] === src[candidate + matched]) matched++;
        ip += matched;
        op = emitCopy(out, op, base - candidate, matched);
        nextEmit = ip;
        if (ip >= limit) return nextEmit < end ? emitLiteral(src, nextEmit, end - nextEmit, out, op) : op;
        hashTable[hash4(view, ip - 1)] = ip - 1 - start;
        const h = hash4(view, ip);
        candidate = start + hashTable[h]!;
        hashTable[h] = ip - start;
      } while (view.getUint32(candidate, true) === view.getUint32(ip, true));
      nextHash = hash4(view, ++ip);
    }
  }
  return nextEmit < end ? emitLiteral(src, nextEmit, end - nextEmit, out, op) : op;
}

/** The most bytes `snappyCompress` can produce for `inputLength` bytes (snappy's bound). */
export function snappyMaxCompressedLength(inputLength: number): number {
  return 32 + inputLength + Math.floor(inputLength / 6);
}

/** Compresses `input` into one snappy block: the length preamble, then 64 KiB fragments. */
export function snappyCompress(input: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(snappyMaxCompressedLength(input.length));
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  let op = 0;
  let length = input.length;
  while (length >= 0x80) {
    out[op++] = (length & 0x7f) | 0x80;
    length >>>= 7;
  }
  out[op++] = length;
  for (let start = 0; start < input.length; start += FRAGMENT_SIZE) {
    op = compressFragment(input, view, start, Math.min(input.length, start + FRAGMENT_SIZE), out, op);
  }
  return out.subarray(0, op);
}

/** Input of `SnappyBlockWriter`'s fragment being gathered; one for all, as blocks are written one at a time. */
let stagingFragment: Buffer | undefined;

/**
 * Compresses an input that exists only in pieces into one snappy block: the bytes
 * `snappyCompress` makes of the pieces put together (the same 64 KiB fragments), without
 * assembling the input — only one fragment is gathered at a time. For the agent's push requests,
 * whose assembled copy was a megabyte of memory per client.
 */
export class SnappyBlockWriter {
  private readonly out: Buffer;
  private op = 0;
  private readonly staging: Buffer;
  private readonly view: DataView;
  private filled = 0;
  private written = 0;

  /** `length`: the input's total bytes; the block goes into `into` when it has room (`snappyMaxCompressedLength`). */
  constructor(
    private readonly length: number,
    into?: Buffer,
  ) {
    const bound = snappyMaxCompressedLength(length);
    this.out = into !== undefined && into.length >= bound ? into : Buffer.allocUnsafe(bound);
    let rest = length;
    while (rest >= 0x80) {
      this.out[this.op++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.out[this.op++] = rest;
    this.staging = stagingFragment ??= Buffer.allocUnsafeSlow(FRAGMENT_SIZE);
    this.view = new DataView(this.staging.buffer, this.staging.byteOffset, FRAGMENT_SIZE);
  }

  /** Appends `source[start, end)` to the input. */
  write(source: Buffer, start: number, end: number): void {
    this.written += end - start;
    if (this.written > this.length) throw new RangeError(`snappy block input longer than the declared ${this.length} bytes`);
    while (start < end) {
      const n = Math.min(end - start, FRAGMENT_SIZE - this.filled);
      source.copy(this.staging, this.filled, start, start + n);
      this.filled += n;
      start += n;
      if (this.filled === FRAGMENT_SIZE) this.flush();
    }
  }

  /** The block (a view of `into` when it was used). */
  finish(): Buffer {
    if (this.written !== this.length) throw new RangeError(`snappy block input of ${this.written} bytes, declared ${this.length}`);
    if (this.filled > 0) this.flush();
    return this.out.subarray(0, this.op);
  }

  private flush(): void {
    this.op = compressFragment(this.staging, this.view, 0, this.filled, this.out, this.op);
    this.filled = 0;
  }
}
