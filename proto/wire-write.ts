/** Protobuf wire-format writing helpers shared by the push request encoders (reading is in wire.ts). */

export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** Size of an int64 varint: negative values always take 10 bytes (two's complement). */
export function int64Size(value: number): number {
  if (value < 0) return 10;
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** A length-delimited field: tag byte, length varint, content. */
export function fieldSize(contentLength: number): number {
  return 1 + varintSize(contentLength) + contentLength;
}

const TWO_TO_32 = 4294967296;

/** Writes a varint at `pos`; returns the position after it. */
export function writeVarint(buf: Buffer, pos: number, value: number): number {
  while (value >= 0x80) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[pos++] = value;
  return pos;
}

/** Writes an int64 varint at `pos`; returns the position after it. */
export function writeInt64(buf: Buffer, pos: number, value: number): number {
  if (value >= 0) return writeVarint(buf, pos, value);
  // Two's complement over 64 bits, split in halves because JS bit operations are 32-bit.
  let high = Math.floor(value / TWO_TO_32) >>> 0;
  let low = (value - Math.floor(value / TWO_TO_32) * TWO_TO_32) >>> 0;
  for (let index = 0; index < 9; index++) {
    buf[pos++] = (low & 0x7f) | 0x80;
    low = (low >>> 7) | ((high & 0x7f) << 25);
    high >>>= 7;
  }
  buf[pos++] = low & 0x01;
  return pos;
}
