import { describe, expect, it } from 'vitest';
import { parseBytesValue, parseFloatValue, parseGoDuration } from '../../../logql/pipeline/index.js';
import { compile, parsed, run } from './helpers.js';

const lf = (filter: string, line: string): Record<string, string> | null => parsed(`| logfmt | ${filter}`, line);

describe('label filters', () => {
  it('string filters use anchored matchers; a missing label is ""', () => {
    expect(lf('level="error"', 'level=error')).not.toBeNull();
    expect(lf('level="error"', 'level=errors')).toBeNull();
    expect(lf('level=~"warn|error"', 'level=warn')).not.toBeNull();
    expect(lf('level=~"warn|error"', 'level=warning')).toBeNull();
    expect(lf('path!=""', 'x=1')).toBeNull();
    expect(lf('path=""', 'x=1')).not.toBeNull();
  });

  it('filters stream labels and structured metadata without a parser', () => {
    expect(run('| app="a"', 'x')).not.toBeNull();
    expect(run('| trace_id="abc"', 'x', { app: 'a' }, { trace_id: 'abc' })).not.toBeNull();
    expect(run('| trace_id="abc"', 'x', { app: 'a' }, { trace_id: 'zzz' })).toBeNull();
  });

  it('numeric comparisons', () => {
    expect(lf('status >= 400', 'status=404')).not.toBeNull();
    expect(lf('status >= 400', 'status=200')).toBeNull();
    expect(lf('status == 200', 'status=200.0')).not.toBeNull();
    expect(lf('status = 200', 'status=2e2')).not.toBeNull();
    expect(lf('count != -1', 'count=-1')).toBeNull();
    expect(lf('count < 0', 'count=-1.5')).not.toBeNull();
    expect(lf('v > 1', 'v=+Inf')).not.toBeNull();
  });

  it('a missing label drops the line for numeric, duration, bytes and ip filters', () => {
    expect(lf('status >= 400', 'x=1')).toBeNull();
    expect(lf('d > 1s', 'x=1')).toBeNull();
    expect(lf('size > 1KB', 'x=1')).toBeNull();
    expect(lf('addr != ip("1.1.1.1")', 'x=1')).toBeNull();
  });

  it('a value that does not convert keeps the line with LabelFilterErr', () => {
    expect(lf('status >= 400', 'status=abc')).toEqual({
      status: 'abc',
      __error__: 'LabelFilterErr',
      __error_details__: 'strconv.ParseFloat: parsing "abc": invalid syntax',
    });
    expect(lf('status >= 400 | __error__=""', 'status=abc')).toBeNull();
  });

  it('a line that already has an error passes numeric filters', () => {
    const r = parsed('| json | status > 400', '{"status": 200');
    expect(r).toMatchObject({ __error__: 'JSONParserErr' });
  });

  it('duration filters parse values with Go time.ParseDuration', () => {
    expect(lf('duration > 1m30s', 'duration=91s')).not.toBeNull();
    expect(lf('duration > 1m30s', 'duration=1m29.5s')).toBeNull();
    expect(lf('latency >= 250ms', 'latency=0.25s')).not.toBeNull();
    expect(lf('latency >= 250ms', 'latency=250000us')).not.toBeNull();
    expect(lf('latency >= 250ms', 'latency=250000µs')).not.toBeNull();
    expect(lf('took == 1d', 'took=24h')).not.toBeNull();
    expect(lf('took == 1d', 'took=1d')).toMatchObject({
      __error__: 'LabelFilterErr',
      __error_details__: 'time: unknown unit "d" in duration "1d"',
    });
    expect(lf('took > 1s', 'took=5')).toMatchObject({
      __error_details__: 'time: missing unit in duration "5"',
    });
    expect(lf('took < 1s', 'took=0')).not.toBeNull();
  });

  it('bytes filters parse values like go-humanize', () => {
    expect(lf('size > 20MB', 'size=21MB')).not.toBeNull();
    expect(lf('size > 20MB', 'size=20000000')).toBeNull();
    expect(lf('size == 1KB', 'size=1kB')).not.toBeNull();
    expect(lf('bytes <= 1.5KiB', 'bytes=1536')).not.toBeNull();
    expect(lf('bytes <= 1.5KiB', 'bytes=1537')).toBeNull();
    expect(lf('size > 1KB', 'size="1.5 KiB"')).not.toBeNull();
    expect(lf('size > 1KB', 'size=1xb')).toMatchObject({ __error__: 'LabelFilterErr', __error_details__: 'unhandled size name: xb' });
  });

  it('ip label filters', () => {
    expect(lf('addr = ip("10.0.0.0/8")', 'addr=10.1.2.3')).not.toBeNull();
    expect(lf('addr = ip("10.0.0.0/8")', 'addr=11.1.2.3')).toBeNull();
    expect(lf('addr != ip("2001:db8::1")', 'addr=2001:db8::1')).toBeNull();
    expect(lf('addr != ip("2001:db8::1")', 'addr=2001:db8::2')).not.toBeNull();
    // Loki searches the value like a line: an address anywhere in it counts...
    expect(lf('addr = ip("10.0.0.0/8")', 'addr="client 10.1.2.3:80"')).not.toBeNull();
    // ...and its scan needs 5 characters to spot IPv6, so a bare "::1" is never found.
    expect(lf('addr != ip("::1")', 'addr=::1')).not.toBeNull();
    expect(lf('addr = ip("::1")', 'addr=::1')).toBeNull();
    expect(lf('addr = ip("10.0.0.1-10.0.0.3")', 'addr=10.0.0.2')).not.toBeNull();
    expect(lf('addr = ip("1.1.1.1")', 'addr=notanip')).toBeNull();
    expect(() => compile('| addr = ip("nope")')).toThrow('ip: invalid pattern');
  });

  it('and / or / comma / space and parentheses', () => {
    expect(lf('a="x" and b>1', 'a=x b=2')).not.toBeNull();
    expect(lf('a="x" and b>1', 'a=x b=1')).toBeNull();
    expect(lf('a="x", b>1', 'a=y b=2')).toBeNull();
    expect(lf('a="x" b>1', 'a=x b=2')).not.toBeNull();
    expect(lf('a="x" or b>1', 'a=y b=2')).not.toBeNull();
    expect(lf('a="x" or b>1', 'a=y b=0')).toBeNull();
    expect(lf('(d > 1s or status==200) and method="POST"', 'd=2s status=500 method=POST')).not.toBeNull();
    expect(lf('(d > 1s or status==200) and method="POST"', 'd=2s status=500 method=GET')).toBeNull();
  });

  it('and evaluates both sides; or stops at a passing left side', () => {
    // The right side's conversion error is recorded even though the left side fails.
    expect(lf('a="x" and b>1', 'a=y b=zz')).toBeNull();
    expect(lf('a="y" and b>1', 'a=y b=zz')).toMatchObject({ __error__: 'LabelFilterErr' });
    expect(lf('a="y" or b>1', 'a=y b=zz')).toEqual({ a: 'y', b: 'zz' });
  });
});

describe('value converters', () => {
  it('parseFloatValue is Go ParseFloat', () => {
    expect(parseFloatValue('1e3')).toBe(1000);
    expect(parseFloatValue('-0.5')).toBe(-0.5);
    expect(Number.isNaN(parseFloatValue('NaN'))).toBe(true);
    expect(() => parseFloatValue('')).toThrow('invalid syntax');
    expect(() => parseFloatValue(' 1')).toThrow('invalid syntax');
    expect(() => parseFloatValue('0x10')).toThrow('invalid syntax');
    expect(parseFloatValue('0x1p4')).toBe(16);
    expect(parseFloatValue('-Inf')).toBe(-Infinity);
    expect(() => parseFloatValue('--1')).toThrow('invalid syntax');
    expect(() => parseFloatValue('1e400')).toThrow('value out of range');
  });

  it('parseGoDuration is Go time.ParseDuration', () => {
    expect(parseGoDuration('1h30m')).toBe(5400e9);
    expect(parseGoDuration('-1.5s')).toBe(-1.5e9);
    expect(parseGoDuration('.5ms')).toBe(5e5);
    expect(() => parseGoDuration('')).toThrow('time: invalid duration ""');
    expect(() => parseGoDuration('1w')).toThrow('time: unknown unit "w" in duration "1w"');
    expect(() => parseGoDuration('s')).toThrow('time: invalid duration "s"');
  });

  it('parseBytesValue is go-humanize ParseBytes', () => {
    expect(parseBytesValue('42')).toBe(42);
    expect(parseBytesValue('42MB')).toBe(42e6);
    expect(parseBytesValue('42 MiB')).toBe(42 * 1024 ** 2);
    expect(parseBytesValue('1,024 kb')).toBe(1024000);
    expect(() => parseBytesValue('abc')).toThrow('invalid syntax');
  });
});
