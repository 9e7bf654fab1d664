import { describe, expect, it } from 'vitest';
import { parseRfc3339Nano } from '../../agent/timestamp.js';

/** Expected value computed independently through Date for the whole-second part. */
function ns(isoSeconds: string, nanos: number): bigint {
  return BigInt(Date.parse(isoSeconds)) * 1_000_000n + BigInt(nanos);
}

describe('RFC3339Nano timestamps', () => {
  it('reads containerd UTC times with 1 to 9 fraction digits', () => {
    const cases: Array<[string, number]> = [
      ['2024-03-05T10:20:30Z', 0],
      ['2024-03-05T10:20:30.1Z', 100_000_000],
      ['2024-03-05T10:20:30.12Z', 120_000_000],
      ['2024-03-05T10:20:30.123Z', 123_000_000],
      ['2024-03-05T10:20:30.1234Z', 123_400_000],
      ['2024-03-05T10:20:30.12345Z', 123_450_000],
      ['2024-03-05T10:20:30.123456Z', 123_456_000],
      ['2024-03-05T10:20:30.1234567Z', 123_456_700],
      ['2024-03-05T10:20:30.12345678Z', 123_456_780],
      ['2024-03-05T10:20:30.123456789Z', 123_456_789],
    ];
    for (const [text, nanos] of cases) expect(parseRfc3339Nano(text), text).toBe(ns('2024-03-05T10:20:30Z', nanos));
  });

  it('reads CRI-O local times with an offset', () => {
    expect(parseRfc3339Nano('1997-03-25T13:20:42.999999999+01:00')).toBe(ns('1997-03-25T12:20:42Z', 999_999_999));
    expect(parseRfc3339Nano('2024-01-01T01:30:00.000000001+02:00')).toBe(ns('2023-12-31T23:30:00Z', 1));
    expect(parseRfc3339Nano('2024-02-29T20:00:00.5-05:30')).toBe(ns('2024-03-01T01:30:00Z', 500_000_000));
    expect(parseRfc3339Nano('2024-02-29T20:00:00+00:00')).toBe(parseRfc3339Nano('2024-02-29T20:00:00Z'));
  });

  it('handles calendar edges and dates before 1970', () => {
    expect(parseRfc3339Nano('1969-12-31T23:59:59.5Z')).toBe(-500_000_000n);
    expect(parseRfc3339Nano('1970-01-01T00:00:00Z')).toBe(0n);
    expect(parseRfc3339Nano('2000-02-29T00:00:00Z')).toBe(ns('2000-02-29T00:00:00Z', 0));
    expect(parseRfc3339Nano('2100-12-31T23:59:59Z')).toBe(ns('2100-12-31T23:59:59Z', 0));
  });

  it('reads a slice of a longer string', () => {
    const line = '2024-03-05T10:20:30.5Z stdout F hi';
    expect(parseRfc3339Nano(line, 0, 22)).toBe(ns('2024-03-05T10:20:30Z', 500_000_000));
  });

  it('gives the same answers in any order (the per-second cache never leaks between times)', () => {
    const times = [
      '2026-11-27T10:00:00.5Z',
      '2026-11-27T10:00:00.5+01:00',
      '2026-11-27T10:00:00Z',
      '2026-11-27T10:00:00.000000001-00:30',
      '2026-11-27T10:00:01Z',
      '2026-11-27T10:00:00.999999999Z',
      '2026-11-27T10:00:00x',
      '1969-12-31T23:59:59.5Z',
    ];
    const alone = times.map((t) => {
      parseRfc3339Nano('2000-01-01T00:00:00Z'); // a different second in the cache first
      return parseRfc3339Nano(t);
    });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < times.length; i++) expect(parseRfc3339Nano(times[(i * 3 + round) % times.length]!)).toBe(alone[(i * 3 + round) % times.length]);
    }
    expect(alone[1]).toBe(alone[0]! - 3600n * 1_000_000_000n);
    expect(alone[6]).toBeUndefined();
    expect(alone[7]).toBe(-500_000_000n);
  });

  it('rejects malformed times', () => {
    const bad = [
      '',
      'hello',
      '2024-03-05T10:20:30',
      '2024-03-05 10:20:30Z',
      '2024-03-05T10:20:30.Z',
      '2024-03-05T10:20:30.1234567890Z',
      '2024-13-05T10:20:30Z',
      '2023-02-29T10:20:30Z',
      '2024-04-31T10:20:30Z',
      '2024-03-05T24:00:00Z',
      '2024-03-05T10:60:00Z',
      '2024-03-05T10:20:60Z',
      '2024-03-05T10:20:30+0100',
      '2024-03-05T10:20:30+01:00x',
      '2024-03-05T10:20:30Zx',
      '2024-03-05T10:2a:30Z',
    ];
    for (const text of bad) expect(parseRfc3339Nano(text), text).toBeUndefined();
  });
});
