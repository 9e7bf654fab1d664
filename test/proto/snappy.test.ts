import { compress, uncompress } from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { PushDecodeError, snappyUncompress } from '../../proto/index.js';

function seededBytes(seed: number, length: number, alphabet: number): Buffer {
  let state = seed >>> 0;
  const bytes = Buffer.alloc(length);
  for (let index = 0; index < length; index++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    bytes[index] = (state >>> 24) % alphabet;
  }
  return bytes;
}

describe('snappyUncompress', () => {
  it('agrees with snappyjs on compressible, incompressible and repetitive data', () => {
    const inputs = [
      Buffer.alloc(0),
      Buffer.from('a'),
      Buffer.from('abcabcabcabcabcabcabcabcabcabcabcabcabcabc'),
      Buffer.alloc(200_000, 7),
      seededBytes(1, 100_000, 256),
      seededBytes(2, 300_000, 4),
      Buffer.from('level=info msg="request completed" path=/api/v1/users status=200\n'.repeat(5000)),
    ];
    for (const input of inputs) {
      const compressed = Buffer.from(compress(input));
      expect(snappyUncompress(compressed).equals(input)).toBe(true);
      expect(Buffer.from(uncompress(compressed)).equals(input)).toBe(true);
    }
  });

  it('agrees with snappyjs on many random inputs (word copies near the end, overlapping offsets 1-8)', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const length = seed % 50 === 0 ? 70_000 : (seed * 37) % 3000;
      const period = 1 + (seed % 9);
      const noise = seededBytes(seed, length, 2 + (seed % 5));
      const input = Buffer.from(noise.map((byte, index) => (index % 97 < 60 ? noise[index % period] : byte)));
      const compressed = Buffer.from(compress(input));
      expect(snappyUncompress(compressed).equals(input)).toBe(true);
    }
  });

  it('decodes long literals (2-, 3- and 4-byte lengths) and 4-byte-offset copies', () => {
    const varint = (value: number): number[] => {
      const bytes: number[] = [];
      for (; value >= 0x80; value = Math.floor(value / 128)) bytes.push((value & 0x7f) | 0x80);
      return [...bytes, value];
    };
    const literalTag = (length: number, lengthBytes: number): number[] => {
      const stored = length - 1;
      return [(59 + lengthBytes) << 2, ...Array.from({ length: lengthBytes }, (_, index) => (stored >>> (8 * index)) & 0xff)];
    };
    const first = seededBytes(3, 300, 256);
    const second = seededBytes(4, 70_000, 256);
    const third = seededBytes(5, 5, 256);
    const copyOffset = second.length + third.length;
    const expected = Buffer.concat([first, second, third, second.subarray(0, 8)]);
    const body = Buffer.from([
      ...varint(expected.length),
      ...literalTag(first.length, 2), ...first,
      ...literalTag(second.length, 3), ...second,
      ...literalTag(third.length, 4), ...third,
      ((8 - 1) << 2) | 3, copyOffset & 0xff, (copyOffset >>> 8) & 0xff, copyOffset >>> 16, 0,
    ]);
    expect(snappyUncompress(body).equals(expected)).toBe(true);
  });

  const malformed: Array<[string, number[], RegExp]> = [
    ['an empty body', [], /truncated length preamble/],
    ['a preamble longer than 32 bits', [0xff, 0xff, 0xff, 0xff, 0xff, 0x01], /does not fit in 32 bits/],
    ['a 4 GB declared length', [0xff, 0xff, 0xff, 0xff, 0x0f], /declared length 4294967295 exceeds the limit/],
    ['output shorter than declared', [0x05, 0x00, 0x41], /decompressed to 1 bytes but the preamble declares 5/],
    ['a literal past the input', [0x05, 0x10, 0x41], /literal of 5 bytes at offset 2 runs past the input/],
    ['a literal past the declared length', [0x01, 0x04, 0x41, 0x42], /overflows the declared length 1/],
    ['a copy before the start', [0x08, 0x00, 0x41, 0x01, 0x05], /copy offset 5 at output byte 1 points before the start/],
    ['a copy with offset 0', [0x08, 0x00, 0x41, 0x01, 0x00], /copy offset 0/],
    ['a copy past the declared length', [0x03, 0x00, 0x41, 0x01, 0x01], /copy at output byte 1 overflows the declared length 3/],
    ['a truncated copy', [0x08, 0x00, 0x41, 0x02, 0x01], /truncated copy/],
    ['a truncated long literal length', [0x08, 0xf0], /truncated literal length/],
    ['a huge 4-byte literal length (snappyjs spins on this)', [0x08, 0xfc, 0x00, 0x00, 0x00, 0x80, 0x41], /runs past the input/],
  ];
  for (const [name, bytes, message] of malformed) {
    it(`rejects ${name}`, () => {
      expect(() => snappyUncompress(Buffer.from(bytes))).toThrow(PushDecodeError);
      expect(() => snappyUncompress(Buffer.from(bytes))).toThrow(message);
    });
  }

  it('rejects above a custom limit and accepts at it', () => {
    const compressed = Buffer.from(compress(Buffer.alloc(1000, 1)));
    expect(() => snappyUncompress(compressed, 999)).toThrow(/exceeds the limit of 999 bytes/);
    expect(snappyUncompress(compressed, 1000).length).toBe(1000);
  });
});
