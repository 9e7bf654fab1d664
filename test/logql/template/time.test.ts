import { describe, expect, it } from 'vitest';
import { formatTime, GoLocation, GoTime, loadLocation, parseTime, UTC } from '../../../logql/template/index.js';

// 2009-11-10 23:04:05.123456789 UTC
const T = new GoTime(1257894245, 123456789, UTC);

describe('Go time layouts', () => {
  it('formats the standard layouts', () => {
    expect(formatTime(T, 'Mon Jan _2 15:04:05 MST 2006')).toBe('Tue Nov 10 23:04:05 UTC 2009');
    expect(formatTime(T, '2006-01-02T15:04:05Z07:00')).toBe('2009-11-10T23:04:05Z');
    expect(formatTime(T, '2006-01-02T15:04:05.999999999Z07:00')).toBe('2009-11-10T23:04:05.123456789Z');
    expect(formatTime(T, '3:04PM')).toBe('11:04PM');
    expect(formatTime(T, 'Jan 2, 2006 at 3:04pm (MST)')).toBe('Nov 10, 2009 at 11:04pm (UTC)');
    expect(formatTime(T, 'January 02 06 Monday 002 __2')).toBe('November 10 09 Tuesday 314 314');
    expect(formatTime(T, '.000 ,999 .000000')).toBe('.123 ,123 .123456');
    expect(formatTime(T, '02/01/2006 03:4:5')).toBe('10/11/2009 11:4:5');
  });

  it('drops .999 fractions that are zero and pads .000 ones', () => {
    const t = new GoTime(1257894245, 0, UTC);
    expect(formatTime(t, '05.999|05.000')).toBe('05|05.000');
    expect(t.toString()).toBe('2009-11-10 23:04:05 +0000 UTC');
  });

  it('formats numeric zones and zones without a name', () => {
    const ist = new GoLocation('', { offset: 19800, abbrev: '' });
    const t = T.in(ist);
    expect(formatTime(t, '15:04 -07:00 -0700 Z07:00 -07 MST')).toBe('04:34 +05:30 +0530 +05:30 +05 +0530');
    expect(formatTime(T.in(new GoLocation('X', { offset: -3600, abbrev: 'X' })), 'Z0700 Z07:00:00')).toBe('-0100 -01:00:00');
  });

  it('parses values back, with zones', () => {
    expect(parseTime('2006-01-02T15:04:05Z07:00', '2021-11-02T10:11:12+02:00', UTC).toString()).toBe('2021-11-02 10:11:12 +0200 +0200');
    expect(parseTime('2006-01-02T15:04:05Z07:00', '2021-11-02T10:11:12Z', UTC).toString()).toBe('2021-11-02 10:11:12 +0000 UTC');
    expect(parseTime('Jan _2 2006', 'Feb  3 2013', UTC).toString()).toBe('2013-02-03 00:00:00 +0000 UTC');
    expect(parseTime('3:04PM', '11:30PM', UTC).toString()).toBe('0000-01-01 23:30:00 +0000 UTC');
    expect(parseTime('2006-01-02 15:04:05', '2021-11-02 10:11:12.75', UTC).nsec).toBe(750000000);
    expect(() => parseTime('2006-01-02', '2021-02-30', UTC)).toThrow();
    expect(() => parseTime('2006-01-02', '21-02-03', UTC)).toThrow();
  });

  it('uses IANA zones through Intl', () => {
    const ny = loadLocation('America/New_York')!;
    expect(parseTime('2006-01-02 15:04', '2021-07-01 12:00', ny).toString()).toBe('2021-07-01 12:00:00 -0400 EDT');
    expect(loadLocation('Not/AZone')).toBeNull();
    expect(loadLocation('')).toBe(UTC);
  });
});
