/**
 * Protobuf wire-format reading over a byte array, with every bound checked against the end
 * of the enclosing message so malformed input fails fast with a PushDecodeError instead of
 * reading garbage, looping or allocating. Varints of the sizes push requests actually use
 * (1-byte tags, 1-3 byte lengths, 5-byte timestamps) take unrolled fast paths.
 */
import { PushDecodeError } from './errors.js';

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;

/** Groups are deprecated and absent from proto3, but skipping one must not recurse without bound. */
const MAX_GROUP_DEPTH = 32;

export function malformed(reason: string): PushDecodeError {
  return new PushDecodeError(`malformed protobuf: ${reason}`);
}

// Error messages are built out of line: a template literal inside a hot method slows the
// whole method down in V8 even when it never throws.
function tagTooLarge(at: number): PushDecodeError {
  return malformed(`field tag at offset ${at} does not fit in 32 bits`);
}

function fieldNumberZero(at: number): PushDecodeError {
  return malformed(`invalid field number 0 at offset ${at}`);
}

function lengthPastEnd(length: number, at: number, left: number): PushDecodeError {
  return malformed(`length ${length} at offset ${at} runs past the end (${left} bytes left)`);
}

function truncatedVarint(at: number): PushDecodeError {
  return malformed(`truncated varint at offset ${at}`);
}

function varintOverflow(at: number): PushDecodeError {
  return malformed(`varint at offset ${at} overflows 64 bits`);
}

export class WireReader {
  pos = 0;
  /** The two 32-bit halves of the last varint read by varint64(): a side channel, no allocation. */
  private low = 0;
  private high = 0;

  constructor(readonly buf: Uint8Array) {}

  /**
   * A varint truncated to its low 32 bits, unsigned (uint32 fields, int32 fields via `| 0`).
   * Unrolled without per-byte bounds checks while 10 bytes remain in the buffer; reading past
   * `end` into the parent message is caught right after, before the value is used.
   */
  uint32(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    if (buf.length - pos < 10) return this.uint32Checked(end);
    let byte = buf[pos++];
    let value = byte & 0x7f;
    if (byte >= 0x80) {
      byte = buf[pos++];
      value |= (byte & 0x7f) << 7;
      if (byte >= 0x80) {
        byte = buf[pos++];
        value |= (byte & 0x7f) << 14;
        if (byte >= 0x80) {
          byte = buf[pos++];
          value |= (byte & 0x7f) << 21;
          if (byte >= 0x80) {
            byte = buf[pos++];
            value |= byte << 28;
            if (byte >= 0x80) return this.uint32Checked(end);
          }
        }
      }
    }
    if (pos > end) return this.uint32Checked(end);
    this.pos = pos;
    return value >>> 0;
  }

  /** A signed 64-bit varint as a number; exact for |value| < 2^53, which covers any timestamp. */
  int64(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    // Positive timestamps take at most 5 bytes (35 bits); anything longer takes the general path.
    if (buf.length - pos >= 10) {
      let byte = buf[pos++];
      let value = byte & 0x7f;
      if (byte >= 0x80) {
        byte = buf[pos++];
        value |= (byte & 0x7f) << 7;
        if (byte >= 0x80) {
          byte = buf[pos++];
          value |= (byte & 0x7f) << 14;
          if (byte >= 0x80) {
            byte = buf[pos++];
            value |= (byte & 0x7f) << 21;
            if (byte >= 0x80) {
              byte = buf[pos++];
              value += byte * 268435456;
              // More than 5 bytes (negative or huge): fall through to the general path below.
              if (byte >= 0x80) pos = end + 1;
            }
          }
        }
      }
      if (pos <= end) {
        this.pos = pos;
        return value;
      }
    }
    this.varint64(end);
    return (this.high | 0) * 4294967296 + (this.low >>> 0);
  }

  private uint32Checked(end: number): number {
    this.varint64(end);
    return this.low >>> 0;
  }

  /** A field tag: (field number << 3) | wire type. Field number 0 is never valid. */
  tag(end: number): number {
    const at = this.pos;
    let tag: number;
    if (at < end && this.buf[at] < 0x80) {
      tag = this.buf[at];
      this.pos = at + 1;
    } else {
      this.varint64(end);
      tag = this.low >>> 0;
      if (this.high !== 0) throw tagTooLarge(at);
    }
    if (tag >>> 3 === 0) throw fieldNumberZero(at);
    return tag;
  }

  /** The length prefix of a length-delimited field, checked against the bytes left before `end`. */
  length(end: number): number {
    const at = this.pos;
    const buf = this.buf;
    // Lengths of lines and entries take 1-3 bytes: read those unrolled, anything else in general.
    let length = -1;
    if (buf.length - at >= 3) {
      const first = buf[at];
      if (first < 0x80) {
        length = first;
        this.pos = at + 1;
      } else {
        const second = buf[at + 1];
        if (second < 0x80) {
          length = (first & 0x7f) | (second << 7);
          this.pos = at + 2;
        } else {
          const third = buf[at + 2];
          if (third < 0x80) {
            length = (first & 0x7f) | ((second & 0x7f) << 7) | (third << 14);
            this.pos = at + 3;
          }
        }
      }
    }
    if (length < 0 || this.pos > end) {
      this.pos = at;
      this.varint64(end);
      length = this.high * 4294967296 + (this.low >>> 0);
    }
    const left = end - this.pos;
    if (length > left) {
      throw lengthPastEnd(length, at, left);
    }
    return length;
  }

  /** Skips a length-delimited value (its length prefix included). */
  skipLengthDelimited(end: number): void {
    // Not `this.pos += this.length(end)`: that would add to the position from before the prefix.
    const length = this.length(end);
    this.pos += length;
  }

  /** Skips the value of a field this decoder does not know (forward compatibility). */
  skip(tag: number, end: number, depth = 0): void {
    const at = this.pos;
    switch (tag & 7) {
      case WIRE_VARINT:
        this.varint64(end);
        return;
      case WIRE_FIXED64:
        this.skipBytes(8, end, at);
        return;
      case WIRE_LENGTH_DELIMITED:
        this.skipLengthDelimited(end);
        return;
      case WIRE_FIXED32:
        this.skipBytes(4, end, at);
        return;
      case WIRE_START_GROUP:
        this.skipGroup(tag >>> 3, end, depth);
        return;
      case WIRE_END_GROUP:
        throw malformed(`unexpected end-group tag for field ${tag >>> 3} before offset ${at}`);
      default:
        throw malformed(`invalid wire type ${tag & 7} for field ${tag >>> 3} before offset ${at}`);
    }
  }

  private skipBytes(count: number, end: number, at: number): void {
    if (count > end - at) throw malformed(`fixed-size field at offset ${at} runs past the end (${end - at} bytes left)`);
    this.pos = at + count;
  }

  private skipGroup(field: number, end: number, depth: number): void {
    if (depth >= MAX_GROUP_DEPTH) throw malformed(`groups nested deeper than ${MAX_GROUP_DEPTH} at offset ${this.pos}`);
    for (;;) {
      if (this.pos >= end) throw malformed(`group for field ${field} is not closed before offset ${end}`);
      const tag = this.tag(end);
      if ((tag & 7) === WIRE_END_GROUP) {
        if (tag >>> 3 !== field) throw malformed(`end-group tag for field ${tag >>> 3} closes group ${field}`);
        return;
      }
      this.skip(tag, end, depth + 1);
    }
  }

  /** Reads a varint of up to 10 bytes into low/high, rejecting truncation and 64-bit overflow. */
  private varint64(end: number): void {
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    let low = 0;
    let high = 0;
    for (let index = 0; index < 10; index++) {
      if (pos >= end) throw truncatedVarint(start);
      const byte = buf[pos++];
      const bits = byte & 0x7f;
      if (index < 4) {
        low |= bits << (7 * index);
      } else if (index === 4) {
        low |= bits << 28;
        high = bits >>> 4;
      } else {
        if (index === 9 && byte > 1) throw varintOverflow(start);
        high |= bits << (7 * index - 32);
      }
      if (byte < 0x80) {
        this.pos = pos;
        this.low = low;
        this.high = high >>> 0;
        return;
      }
    }
    throw malformed(`varint at offset ${start} is longer than 10 bytes`);
  }
}
