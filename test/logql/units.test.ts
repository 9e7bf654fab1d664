import { describe, expect, it } from 'vitest';
import { parseBytes, formatBytes } from '../../logql/syntax/bytes.js';
import { formatDuration, parseFilterDuration, parsePromDuration } from '../../logql/syntax/duration.js';
import { quoteString, unquoteString } from '../../logql/syntax/strings.js';

describe('durations', () => {
  it.each([
    ['5m', 300e9],
    ['1h30m', 5400e9],
    ['1d', 86400e9],
    ['1w', 7 * 86400e9],
    ['1y', 365 * 86400e9],
    ['500ms', 500e6],
    ['0', 0],
  ])('Prometheus syntax %s', (s, ns) => {
    expect(parsePromDuration(s)).toBe(ns);
  });

  it.each([
    ['1.5m', 90e9],
    ['100us', 100e3],
    ['3µs', 3e3],
    ['10ns', 10],
    ['-1s', -1e9],
    ['1h0m0s', 3600e9],
  ])('label-filter literal %s falls back to Go syntax', (s, ns) => {
    expect(parseFilterDuration(s)).toBe(ns);
  });

  it.each([
    ['5minutes', 'unknown unit "minutes" in duration "5minutes"'],
    ['1m1h', 'not a valid duration string: "1m1h"'],
    ['', 'empty duration string'],
  ])('rejects %j', (s, msg) => {
    expect(() => parsePromDuration(s)).toThrow(msg);
  });

  it('formats whole milliseconds in Prometheus form and finer values in Go form', () => {
    expect(formatDuration(5400e9)).toBe('1h30m');
    expect(formatDuration(86400e9 + 1e6)).toBe('1d1ms');
    expect(formatDuration(1500e3)).toBe('1ms500us');
    expect(formatDuration(-1e9)).toBe('-1s');
    expect(formatDuration(0)).toBe('0s');
  });
});

describe('bytes', () => {
  it.each([
    ['10KB', 10000],
    ['10kB', 10000],
    ['10KiB', 10240],
    ['1.5MiB', 1572864],
    ['3B', 3],
    ['20k', 20000],
    ['2GiB', 2 * 1024 ** 3],
  ])('%s = %d', (s, n) => {
    expect(parseBytes(s)).toBe(n);
  });

  it('rejects unknown units', () => {
    expect(parseBytes('10iB')).toBeUndefined();
    expect(parseBytes('10XB')).toBeUndefined();
  });

  it('formats the shortest exact spelling', () => {
    expect(formatBytes(10000)).toBe('10KB');
    expect(formatBytes(1572864)).toBe('1536KiB');
    expect(formatBytes(1536)).toBe('1536B');
    expect(formatBytes(0)).toBe('0KB');
    expect(formatBytes(2e15)).toBe('2000TB');
  });
});

describe('strings', () => {
  it('unquotes Go double-quoted and raw strings', () => {
    expect(unquoteString('"a\\tb\\\\c\\"d\\u00e9\\x41\\101"')).toBe('a\tb\\c"déAA');
    expect(unquoteString('`a\\d\r\n`')).toBe('a\\d\n');
  });

  it('quotes so that the lexer reads the value back', () => {
    for (const v of ['plain', 'a\\d+', 'with "quotes"', 'nl\nand\ttab', 'back`tick\\', '\u0001', 'é😀']) {
      expect(unquoteString(quoteString(v))).toBe(v);
    }
    expect(quoteString('a\\d+')).toBe('`a\\d+`');
  });
});
