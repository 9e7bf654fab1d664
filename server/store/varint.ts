/**
 * Unsigned LEB128 varints for the head and block formats. Values are JS numbers up to
 * 2^53: `& 0x7f` keeps the low bits of any such integer, and division replaces `>>>`
 * once a value no longer fits in 32 bits.
 */

export function uvarintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = value < 0x1_0000_0000 ? value >>> 7 : Math.floor(value / 128);
    size++;
  }
  return size;
}

/** Writes `value` at `pos` and returns the position after it. */
export function writeUvarint(buf: Uint8Array, pos: number, value: number): number {
  while (value >= 0x80) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value = value < 0x1_0000_0000 ? value >>> 7 : Math.floor(value / 128);
  }
  buf[pos++] = value;
  return pos;
}

export function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

export function unzigzag(value: number): number {
  return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
}

/** Sequential reader over a byte range; one instance is reused per scan to avoid allocation. */
export class ByteCursor {
  pos = 0;
  constructor(public buf: Uint8Array, public end: number) {}

  uvarint(): number {
    const buf = this.buf;
    let pos = this.pos;
    let byte = buf[pos++]!;
    if (byte < 0x80) {
      this.pos = pos;
      return byte;
    }
    let value = byte & 0x7f;
    let scale = 128;
    for (;;) {
      if (pos >= this.end) throw new RangeError('truncated varint');
      byte = buf[pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 128;
      if (scale > 2 ** 56) throw new RangeError('varint too long');
    }
    this.pos = pos;
    return value;
  }
}
