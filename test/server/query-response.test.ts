import { describe, expect, it } from 'vitest';
import { formatRfc3339Nano } from '../../server/http/query.js';
import { formatGoDuration, parseDurationParam } from '../../server/http/query-params.js';
import { formatSampleValue, wantsCategorizedLabels } from '../../server/http/query-response.js';

describe('query response formatting', () => {
  it('formats sample values like Go strconv.FormatFloat(v, f, -1, 64)', () => {
    expect(formatSampleValue(2)).toBe('2');
    expect(formatSampleValue(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(formatSampleValue(NaN)).toBe('NaN');
    expect(formatSampleValue(Infinity)).toBe('+Inf');
    expect(formatSampleValue(-Infinity)).toBe('-Inf');
    expect(formatSampleValue(1e21)).toBe('1000000000000000000000');
    expect(formatSampleValue(-1.5e-7)).toBe('-0.00000015');
    expect(formatSampleValue(1.2345e22)).toBe('12345000000000000000000');
  });

  it('formats RFC3339Nano like Go, trailing zeros dropped', () => {
    expect(formatRfc3339Nano(1_700_000_000_000_000_000n)).toBe('2023-11-14T22:13:20Z');
    expect(formatRfc3339Nano(1_700_000_000_120_000_000n)).toBe('2023-11-14T22:13:20.12Z');
    expect(formatRfc3339Nano(1_700_000_000_000_000_001n)).toBe('2023-11-14T22:13:20.000000001Z');
  });

  it('parses step and interval like Loki: float seconds, then a Prometheus duration', () => {
    expect(parseDurationParam('15')).toBe(15_000_000_000n);
    expect(parseDurationParam('0.5')).toBe(500_000_000n);
    expect(parseDurationParam('15000ms')).toBe(15_000_000_000n);
    expect(parseDurationParam('1m30s')).toBe(90_000_000_000n);
    expect(() => parseDurationParam('1.5s')).toThrow('cannot parse "1.5s" to a valid duration');
    expect(() => parseDurationParam('30s1m')).toThrow('cannot parse');
  });

  it('formats durations like Go time.Duration', () => {
    expect(formatGoDuration(721 * 3_600_000)).toBe('721h0m0s');
    expect(formatGoDuration(90_000)).toBe('1m30s');
    expect(formatGoDuration(1500)).toBe('1.5s');
    expect(formatGoDuration(0)).toBe('0s');
  });

  it('reads categorize-labels among comma-separated encoding flags', () => {
    expect(wantsCategorizedLabels('categorize-labels')).toBe(true);
    expect(wantsCategorizedLabels('other, categorize-labels')).toBe(true);
    expect(wantsCategorizedLabels(undefined)).toBe(false);
    expect(wantsCategorizedLabels('categorize')).toBe(false);
  });
});
