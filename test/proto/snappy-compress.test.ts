import snappy from 'snappyjs';
import { describe, expect, it } from 'vitest';
import { snappyCompress, snappyUncompress } from '../../proto/index.js';
import { seededRandom } from '../helpers/random.js';

/** Deterministic pseudo-random bytes. */
function randomBytes(length: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

function logText(length: number, seed: number): Uint8Array {
  const noise = randomBytes(length, seed);
  let text = '';
  for (let i = 0; text.length < length; i++) {
    text += `ts=2026-11-27T10:${String(noise[i % length]! % 60).padStart(2, '0')}:00Z level=${['info', 'warn', 'error'][noise[i % length]! % 3]} `;
    text += `msg="request served" trace_id=${Buffer.from(noise.subarray(i % length, (i % length) + 8)).toString('hex')} status=${200 + (noise[i % length]! % 5)}\n`;
  }
  return Buffer.from(text.slice(0, length));
}

function roundTrip(input: Uint8Array): void {
  const compressed = snappyCompress(input);
  expect(Buffer.from(snappyUncompress(compressed)).equals(Buffer.from(input))).toBe(true);
  // An independent decoder reads it too: the output is standard snappy.
  expect(Buffer.from(snappy.uncompress(compressed)).equals(Buffer.from(input))).toBe(true);
  expect(compressed.length).toBeLessThanOrEqual(32 + input.length + Math.floor(input.length / 6));
}

describe('snappy compression', () => {
  it.each([0, 1, 4, 14, 15, 16, 17, 100, 65535, 65536, 65537, 131072, 262144 + 13])('round-trips %i random bytes', (length) => {
    roundTrip(randomBytes(length, length + 1));
  });

  it.each([15, 1000, 65536, 200_000, 262_144])('round-trips and compresses %i bytes of log text', (length) => {
    const input = logText(length, length);
    roundTrip(input);
    if (length >= 1000) expect(snappyCompress(input).length).toBeLessThan(input.length * 0.7);
  });

  it('round-trips long runs and matches that cross fragment boundaries', () => {
    roundTrip(new Uint8Array(300_000).fill(97));
    const pattern = Buffer.from('abcdefghij'.repeat(10_000));
    roundTrip(pattern);
    const mixed = Buffer.concat([Buffer.from(randomBytes(70_000, 3)), pattern, Buffer.from(randomBytes(70_000, 3))]);
    roundTrip(mixed);
    expect(snappyCompress(new Uint8Array(300_000).fill(97)).length).toBeLessThan(15_000);
  });

  it('round-trips many random shapes', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const length = (seed * 7919) % 5000;
      // Random data with repeated stretches, so both literals and copies occur.
      const input = randomBytes(length, seed);
      for (let i = 0; i + 40 < length; i += 97) input.copyWithin(i + 20, i, i + 20);
      roundTrip(input);
    }
  });

  it('compresses views that do not start at their buffer start', () => {
    const backing = logText(80_000, 9);
    roundTrip(backing.subarray(1234, 70_000));
  });
});
