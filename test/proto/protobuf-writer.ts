/** Hand-rolled protobuf bytes for tests that need field orders and fields our encoder never writes. */

export function varint(value: bigint | number): number[] {
  let rest = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return bytes;
}

export function tag(field: number, wireType: number): number[] {
  return varint((field << 3) | wireType);
}

export function bytesField(field: number, content: number[] | string): number[] {
  const bytes = typeof content === 'string' ? [...Buffer.from(content, 'utf8')] : content;
  return [...tag(field, 2), ...varint(bytes.length), ...bytes];
}

export function varintField(field: number, value: bigint | number): number[] {
  return [...tag(field, 0), ...varint(value)];
}

export function toBuffer(bytes: number[]): Buffer {
  return Buffer.from(bytes);
}
