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
