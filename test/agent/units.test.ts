import { describe, expect, it } from 'vitest';
import { parseDuration, parseSize } from '../../agent/units.js';

describe('agent units', () => {
  it('parses Go and Prometheus durations to milliseconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('1w')).toBe(604_800_000);
    expect(parseDuration('250us')).toBeCloseTo(0.25);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('5m')).toBe(300_000);
  });

  it('rejects what is not a duration', () => {
    for (const bad of ['', 'x', '10', '-1s', '1 s', 's', '1s2', '1sm', '1.s.s']) expect(parseDuration(bad), bad).toBeUndefined();
  });

  it("parses Promtail's sizes with KB and KiB both base 2", () => {
    expect(parseSize('1MiB')).toBe(1_048_576);
    expect(parseSize('1MB')).toBe(1_048_576);
    expect(parseSize('256KB')).toBe(262_144);
    expect(parseSize('512kib')).toBe(524_288);
    expect(parseSize('1048576')).toBe(1_048_576);
    expect(parseSize(4096)).toBe(4096);
    expect(parseSize('1.5KB')).toBe(1536);
  });

  it('rejects what is not a size', () => {
    for (const bad of ['', 'MB', '1XB', '-1', '1.5', 'ten']) expect(parseSize(bad), bad).toBeUndefined();
    expect(parseSize(-1)).toBeUndefined();
    expect(parseSize(1.5)).toBeUndefined();
  });
});
