import { describe, expect, it } from 'vitest';
import { AgentConfigError } from '../../../agent/config.js';
import { timeParser } from '../../../agent/stages/timestamp.js';
import { entry, pipelineFromYaml } from './helpers.js';

const ms = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
const NOW_2024_06 = Date.parse('2024-06-15T12:00:00Z');

function parse(format: string, value: string, location?: string, now = NOW_2024_06): bigint | undefined {
  return timeParser(format, location)(value, now);
}

describe('timestamp formats', () => {
  it('RFC3339 and RFC3339Nano', () => {
    expect(parse('RFC3339Nano', '2019-04-30T02:12:41.8443515Z')).toBe(ms('2019-04-30T02:12:41Z') + 844_351_500n);
    expect(parse('RFC3339', '2012-11-01T22:08:41+02:00')).toBe(ms('2012-11-01T20:08:41Z'));
    expect(parse('RFC3339', '2012-11-01 22:08:41')).toBeUndefined();
  });

  it('Unix, UnixMs, UnixUs, UnixNs', () => {
    expect(parse('Unix', '1562708916')).toBe(1_562_708_916_000_000_000n);
    expect(parse('Unix', '1562708916.414')).toBe(1_562_708_916_414_000_000n);
    expect(parse('Unix', '1562708916.000000123')).toBe(1_562_708_916_000_000_123n);
    expect(parse('UnixMs', '1562708916414')).toBe(1_562_708_916_414_000_000n);
    expect(parse('UnixUs', '1562708916414123')).toBe(1_562_708_916_414_123_000n);
    expect(parse('UnixNs', '1562708916000000123')).toBe(1_562_708_916_000_000_123n);
    expect(parse('UnixMs', '1562708916.414')).toBeUndefined();
    expect(parse('Unix', 'abc')).toBeUndefined();
  });

  it('named Go formats', () => {
    expect(parse('ANSIC', 'Mon Jan  2 15:04:05 2006')).toBe(ms('2006-01-02T15:04:05Z'));
    expect(parse('RFC1123', 'Tue, 10 Oct 2000 13:55:36 GMT')).toBe(ms('2000-10-10T13:55:36Z'));
    expect(parse('RFC1123Z', 'Tue, 10 Oct 2000 13:55:36 -0700')).toBe(ms('2000-10-10T20:55:36Z'));
    expect(parse('RFC822Z', '10 Oct 00 13:55 +0100')).toBe(ms('2000-10-10T12:55:00Z'));
    expect(parse('RubyDate', 'Tue Oct 10 13:55:36 -0700 2000')).toBe(ms('2000-10-10T20:55:36Z'));
    expect(parse('RFC850', 'Tuesday, 10-Oct-00 13:55:36 UTC')).toBe(ms('2000-10-10T13:55:36Z'));
  });

  it('Go layouts with zones, fractions, 12-hour clocks', () => {
    expect(parse('02/Jan/2006:15:04:05 -0700', '10/Oct/2000:13:55:36 -0700')).toBe(ms('2000-10-10T20:55:36Z'));
    expect(parse('2006-01-02T15:04:05.000Z07:00', '2021-01-07T14:17:43.494Z')).toBe(ms('2021-01-07T14:17:43.494Z'));
    expect(parse('2006-01-02T15:04:05.000Z07:00', '2021-01-07T14:17:43.49Z')).toBeUndefined();
    expect(parse('2006-01-02 15:04:05.999999999', '2021-01-07 14:17:43')).toBe(ms('2021-01-07T14:17:43Z'));
    // Go accepts a fraction after the seconds even when the layout has none.
    expect(parse('2006-01-02 15:04:05', '2021-01-07 14:17:43.5')).toBe(ms('2021-01-07T14:17:43.5Z'));
    expect(parse('01/02/06 3:04PM', '12/25/21 1:30PM')).toBe(ms('2021-12-25T13:30:00Z'));
    expect(parse('01/02/06 3:04PM', '12/25/21 12:30AM')).toBe(ms('2021-12-25T00:30:00Z'));
    expect(parse('2006-01-02', '2021-02-30')).toBeUndefined();
  });

  it('location applies to layouts without a zone, with daylight saving', () => {
    expect(parse('2006-01-02 15:04:05,000', '2021-01-07 14:17:43,494', 'America/New_York')).toBe(ms('2021-01-07T19:17:43.494Z'));
    expect(parse('2006-01-02 15:04:05,000', '2021-07-07 14:17:43,494', 'America/New_York')).toBe(ms('2021-07-07T18:17:43.494Z'));
    expect(parse('2006-01-02 15:04:05 -0700', '2021-07-07 14:17:43 +0000', 'America/New_York')).toBe(ms('2021-07-07T14:17:43Z'));
  });

  it('layouts without a year take the current one, across new year', () => {
    expect(parse('Jan _2 15:04:05', 'Jan  2 03:04:05')).toBe(ms('2024-01-02T03:04:05Z'));
    expect(parse('Jan _2 15:04:05', 'Jan  2 03:04:05', undefined, Date.parse('2024-12-31T23:59:00Z'))).toBe(ms('2025-01-02T03:04:05Z'));
    expect(parse('Jan _2 15:04:05', 'Dec 31 23:59:59', undefined, Date.parse('2025-01-01T00:00:05Z'))).toBe(ms('2024-12-31T23:59:59Z'));
  });
});

describe('timestamp stage', () => {
  it('sets the time from an extracted value (docs timestamp.md: RFC3339Nano)', () => {
    const p = pipelineFromYaml(`
- json:
    expressions:
      time:
- timestamp:
    source: time
    format: RFC3339Nano
`);
    expect(p.process(entry('{"time":"2019-04-30T02:12:41.8443515Z"}'))?.timestamp).toBe(ms('2019-04-30T02:12:41Z') + 844_351_500n);
  });

  it('tries fallback_formats in order', () => {
    const p = pipelineFromYaml(`
- regex: {expression: "^(?P<t>\\\\S+)"}
- timestamp:
    source: t
    format: RFC3339
    fallback_formats: [UnixMs, "2006-01-02"]
`);
    expect(p.process(entry('1562708916414 x'))?.timestamp).toBe(1_562_708_916_414_000_000n);
    expect(p.process(entry('2020-02-29 x'))?.timestamp).toBe(ms('2020-02-29T00:00:00Z'));
    // None fits: the default action_on_failure (fudge) gives the last good time + 1ns.
    expect(p.process(entry('garbage x', {}, 7n))?.timestamp).toBe(ms('2020-02-29T00:00:00Z') + 1n);
  });

  it('fudge: last good time of the same label set + 1ns; skip keeps the time', () => {
    const fudge = pipelineFromYaml(`[{regex: {expression: "^(?P<t>\\\\S+)"}}, {timestamp: {source: t, format: UnixNs}}]`);
    expect(fudge.process(entry('1000 a', { app: 'a' }, 5n))?.timestamp).toBe(1000n);
    expect(fudge.process(entry('bad b', { app: 'a' }, 5n))?.timestamp).toBe(1001n);
    expect(fudge.process(entry('bad c', { app: 'a' }, 5n))?.timestamp).toBe(1002n);
    expect(fudge.process(entry('bad d', { app: 'b' }, 5n))?.timestamp).toBe(5n);
    expect(fudge.process(entry('', { app: 'a' }, 5n))?.timestamp).toBe(1003n);
    const skip = pipelineFromYaml(`[{regex: {expression: "^(?P<t>\\\\S+)"}}, {timestamp: {source: t, format: UnixNs, action_on_failure: skip}}]`);
    expect(skip.process(entry('1000 a', { app: 'a' }, 5n))?.timestamp).toBe(1000n);
    expect(skip.process(entry('bad b', { app: 'a' }, 5n))?.timestamp).toBe(5n);
  });

  it('rejects an unknown location when the config is read', () => {
    expect(() => pipelineFromYaml(`[{timestamp: {source: t, format: RFC3339, location: Mars/Olympus}}]`)).toThrow(AgentConfigError);
  });
});
