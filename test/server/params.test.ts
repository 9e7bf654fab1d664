import { describe, expect, it } from 'vitest';
import { parseBounds, parseTimestamp } from '../../server/http/params.js';

describe("time parameters, parsed as Loki's params.go parses them", () => {
  it.each([
    ['1700000000000000000', 1_700_000_000_000_000_000n],
    ['1700000000', 1_700_000_000_000_000_000n],
    ['4000000000', 4_000_000_000_000_000_000n],
    ['0', 0n],
    ['1700000000.5', 1_700_000_000_500_000_000n],
    ['1700000000.1234', 1_700_000_000_123_000_000n],
    ['17000000000', 17_000_000_000n],
    ['2023-11-14T22:13:20Z', 1_700_000_000_000_000_000n],
    ['2023-11-14T22:13:20.123456789Z', 1_700_000_000_123_456_789n],
    ['2023-11-14T23:13:20+01:00', 1_700_000_000_000_000_000n],
    ['2023-11-14T22:13:20.5Z', 1_700_000_000_500_000_000n],
  ])('parses %s', (text, expected) => {
    expect(parseTimestamp(text, 'start')).toBe(expected);
  });

  it.each(['yesterday', '2023-11-14', '1e9', '', '12:00'])('rejects %j with a message naming the parameter', (text) => {
    expect(() => parseTimestamp(text, 'start')).toThrow(/invalid start time/);
  });

  it('defaults end to now and start to end minus since (1h by default)', () => {
    const now = 1_700_000_000_000;
    const nowNs = BigInt(now) * 1_000_000n;
    expect(parseBounds(new URLSearchParams(), now)).toEqual({ start: nowNs - 3_600_000_000_000n, end: nowNs });
    expect(parseBounds(new URLSearchParams('since=30m'), now)).toEqual({ start: nowNs - 1_800_000_000_000n, end: nowNs });
    const end = '1699990000';
    expect(parseBounds(new URLSearchParams(`end=${end}&since=1h`), now)).toEqual({
      start: 1_699_990_000_000_000_000n - 3_600_000_000_000n,
      end: 1_699_990_000_000_000_000n,
    });
  });

  it('applies since to now when end is in the future', () => {
    const now = 1_700_000_000_000;
    const bounds = parseBounds(new URLSearchParams('end=1800000000&since=1h'), now);
    expect(bounds.start).toBe(BigInt(now) * 1_000_000n - 3_600_000_000_000n);
    expect(bounds.end).toBe(1_800_000_000_000_000_000n);
  });

  it('rejects end before start and bad durations', () => {
    expect(() => parseBounds(new URLSearchParams('start=1700000001&end=1700000000'))).toThrow(/end timestamp must not be before start/);
    expect(() => parseBounds(new URLSearchParams('since=forever'))).toThrow(/invalid since duration/);
  });
});
