/**
 * Go `time.Time` for templates: a Unix second + nanosecond and a location, formatted and parsed
 * with Go reference-time layouts ("2006-01-02T15:04:05.999999999Z07:00").
 *
 * Locations: UTC, fixed offsets, and IANA zones through `Intl` (abbreviations are what Intl's
 * en-US short names give, e.g. "PST", "GMT+9", where Go's tzdata may say "JST"). Go's `Local` is
 * taken to be UTC, as in a container without a TZ.
 */

export interface ZoneInfo {
  offset: number;
  abbrev: string;
}

export class GoLocation {
  private dtf: Intl.DateTimeFormat | null = null;
  private abbrevFmt: Intl.DateTimeFormat | null = null;

  constructor(
    readonly name: string,
    private readonly fixed: ZoneInfo | null,
    private readonly iana: string | null = null,
  ) {}

  /** Offset (seconds east of UTC) and abbreviation at a Unix second. */
  zoneAt(sec: number): ZoneInfo {
    if (this.fixed) return this.fixed;
    const tz = this.iana!;
    this.dtf ??= new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    this.abbrevFmt ??= new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'short' });
    const ms = sec * 1000;
    if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return { offset: 0, abbrev: 'UTC' };
    const d = new Date(ms);
    const p: Record<string, number> = {};
    for (const part of this.dtf.formatToParts(d)) if (part.type !== 'literal') p[part.type] = Number(part.value);
    const local = daysFromCivil(p.year!, p.month!, p.day!) * 86400 + p.hour! * 3600 + p.minute! * 60 + p.second!;
    const offset = local - Math.floor(sec);
    const name = this.abbrevFmt.formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? '';
    return { offset, abbrev: name };
  }
}

export const UTC = new GoLocation('UTC', { offset: 0, abbrev: 'UTC' });
/** Go's `time.Local`, assumed to be UTC. */
export const LOCAL = UTC;

const zoneCache = new Map<string, GoLocation | null>();

/** Go `time.LoadLocation`: "" and "UTC" are UTC, "Local" is Local, else an IANA name (null if unknown). */
export function loadLocation(name: string): GoLocation | null {
  if (name === '' || name === 'UTC') return UTC;
  if (name === 'Local') return LOCAL;
  let loc = zoneCache.get(name);
  if (loc !== undefined) return loc;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    loc = new GoLocation(name, null, name);
  } catch {
    loc = null;
  }
  zoneCache.set(name, loc);
  return loc;
}

export function fixedZone(name: string, offset: number): GoLocation {
  return new GoLocation(name, { offset, abbrev: name });
}

/** Days since 1970-01-01 of a proleptic Gregorian date. */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const y = yoe + era * 400;
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [m <= 2 ? y + 1 : y, m, d];
}

const isLeap = (y: number): boolean => y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
const daysIn = (m: number, y: number): number => (m === 2 ? (isLeap(y) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!);

const LONG_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Unix second of Go's zero time, January 1, year 1, 00:00:00 UTC. */
const ZERO_SEC = -62135596800;

export class GoTime {
  constructor(
    /** Whole seconds since the Unix epoch. */
    readonly sec: number,
    /** Nanoseconds within the second, 0..999999999. */
    readonly nsec: number,
    readonly loc: GoLocation = LOCAL,
  ) {}

  static zero(): GoTime {
    return new GoTime(ZERO_SEC, 0, UTC);
  }

  /** Go `time.Unix(0, ns)`. */
  static fromUnixNanos(ns: bigint, loc: GoLocation = LOCAL): GoTime {
    let sec = ns / 1_000_000_000n;
    let nsec = ns % 1_000_000_000n;
    if (nsec < 0n) {
      nsec += 1_000_000_000n;
      sec -= 1n;
    }
    return new GoTime(Number(sec), Number(nsec), loc);
  }

  static now(): GoTime {
    const ms = Date.now();
    return new GoTime(Math.floor(ms / 1000), (ms % 1000) * 1e6, LOCAL);
  }

  in(loc: GoLocation): GoTime {
    return new GoTime(this.sec, this.nsec, loc);
  }

  unixNanos(): bigint {
    return BigInt(this.sec) * 1_000_000_000n + BigInt(this.nsec);
  }

  isZero(): boolean {
    return this.sec === ZERO_SEC && this.nsec === 0;
  }

  equals(o: GoTime): boolean {
    return this.sec === o.sec && this.nsec === o.nsec && this.loc === o.loc;
  }

  /** Go `Time.String()`: "2006-01-02 15:04:05.999999999 -0700 MST". */
  toString(): string {
    return formatTime(this, '2006-01-02 15:04:05.999999999 -0700 MST');
  }

  /** Civil fields in the time's location. */
  fields(): { year: number; month: number; day: number; hour: number; min: number; sec: number; wday: number; yday: number; zone: ZoneInfo } {
    const zone = this.loc.zoneAt(this.sec);
    const local = this.sec + zone.offset;
    const days = Math.floor(local / 86400);
    const sod = local - days * 86400;
    const [year, month, day] = civilFromDays(days);
    const wday = (((days + 4) % 7) + 7) % 7;
    const yday = days - daysFromCivil(year, 1, 1) + 1;
    return { year, month, day, hour: Math.floor(sod / 3600), min: Math.floor((sod % 3600) / 60), sec: sod % 60, wday, yday, zone };
  }
}

// ---- layouts ----

type Std =
  | 'January' | 'Jan' | 'Monday' | 'Mon' | 'MST'
  | '1' | '01' | '2' | '_2' | '02' | '002' | '__2'
  | '15' | '3' | '03' | '4' | '04' | '5' | '05' | '06' | '2006' | 'PM' | 'pm'
  | 'Z070000' | 'Z07:00:00' | 'Z0700' | 'Z07:00' | 'Z07'
  | '-070000' | '-07:00:00' | '-0700' | '-07:00' | '-07'
  | 'frac0' | 'frac9';

interface Chunk {
  prefix: string;
  std: Std | null;
  /** Fractional seconds: digit count and separator. */
  digits?: number;
  sep?: string;
  suffix: string;
}

const startsWithLower = (s: string): boolean => s.length > 0 && s[0]! >= 'a' && s[0]! <= 'z';
const isDigitAt = (s: string, i: number): boolean => i < s.length && s[i]! >= '0' && s[i]! <= '9';

/** Go's `nextStdChunk`: the text before the first layout element, the element, and the rest. */
function nextStdChunk(layout: string): Chunk {
  for (let i = 0; i < layout.length; i++) {
    const c = layout[i]!;
    const rest = layout.slice(i);
    const hit = (std: Std, len: number): Chunk => ({ prefix: layout.slice(0, i), std, suffix: layout.slice(i + len) });
    switch (c) {
      case 'J':
        if (rest.startsWith('Jan')) {
          if (rest.startsWith('January')) return hit('January', 7);
          if (!startsWithLower(rest.slice(3))) return hit('Jan', 3);
        }
        break;
      case 'M':
        if (rest.startsWith('Mon')) {
          if (rest.startsWith('Monday')) return hit('Monday', 6);
          if (!startsWithLower(rest.slice(3))) return hit('Mon', 3);
        }
        if (rest.startsWith('MST')) return hit('MST', 3);
        break;
      case '0':
        if (rest.length >= 2 && rest[1]! >= '1' && rest[1]! <= '6') return hit(('0' + rest[1]) as Std, 2);
        if (rest.startsWith('002')) return hit('002', 3);
        break;
      case '1':
        if (rest.startsWith('15')) return hit('15', 2);
        return hit('1', 1);
      case '2':
        if (rest.startsWith('2006')) return hit('2006', 4);
        return hit('2', 1);
      case '_':
        if (rest.startsWith('_2')) {
          if (rest.startsWith('_2006')) return { prefix: layout.slice(0, i + 1), std: '2006', suffix: layout.slice(i + 5) };
          return hit('_2', 2);
        }
        if (rest.startsWith('__2')) return hit('__2', 3);
        break;
      case '3':
      case '4':
      case '5':
        return hit(c as Std, 1);
      case 'P':
        if (rest.startsWith('PM')) return hit('PM', 2);
        break;
      case 'p':
        if (rest.startsWith('pm')) return hit('pm', 2);
        break;
      case '-':
        for (const s of ['-070000', '-07:00:00', '-0700', '-07:00', '-07'] as const) if (rest.startsWith(s)) return hit(s, s.length);
        break;
      case 'Z':
        for (const s of ['Z070000', 'Z07:00:00', 'Z0700', 'Z07:00', 'Z07'] as const) if (rest.startsWith(s)) return hit(s, s.length);
        break;
      case '.':
      case ',':
        if (i + 1 < layout.length && (layout[i + 1] === '0' || layout[i + 1] === '9')) {
          const ch = layout[i + 1]!;
          let j = i + 1;
          while (j < layout.length && layout[j] === ch) j++;
          if (!isDigitAt(layout, j)) {
            return { prefix: layout.slice(0, i), std: ch === '0' ? 'frac0' : 'frac9', digits: j - (i + 1), sep: c, suffix: layout.slice(j) };
          }
        }
        break;
    }
  }
  return { prefix: layout, std: null, suffix: '' };
}

const pad = (n: number, w: number): string => {
  const s = String(Math.abs(n)).padStart(w, '0');
  return n < 0 ? '-' + s : s;
};

function formatTz(std: Std, offset: number): string {
  if (std.startsWith('Z') && offset === 0) return 'Z';
  let zone = Math.floor(Math.abs(offset) / 60);
  const absOffset = Math.abs(offset);
  let s = offset < 0 ? '-' : '+';
  s += pad(Math.floor(zone / 60), 2);
  if (std === 'Z07:00' || std === '-07:00' || std === 'Z07:00:00' || std === '-07:00:00') s += ':';
  if (std !== 'Z07' && std !== '-07') s += pad(zone % 60, 2);
  if (std === 'Z07:00:00' || std === '-07:00:00') s += ':';
  if (std === 'Z070000' || std === '-070000' || std === 'Z07:00:00' || std === '-07:00:00') s += pad(absOffset % 60, 2);
  zone = 0;
  return s;
}

/** Go `Time.Format(layout)`. */
export function formatTime(t: GoTime, layout: string): string {
  const f = t.fields();
  let out = '';
  let rest = layout;
  while (rest !== '') {
    const ch = nextStdChunk(rest);
    out += ch.prefix;
    if (ch.std === null) break;
    rest = ch.suffix;
    switch (ch.std) {
      case '06':
        out += pad(((f.year % 100) + 100) % 100, 2);
        break;
      case '2006':
        out += pad(f.year, 4);
        break;
      case 'January':
        out += LONG_MONTHS[f.month - 1];
        break;
      case 'Jan':
        out += LONG_MONTHS[f.month - 1]!.slice(0, 3);
        break;
      case '1':
        out += String(f.month);
        break;
      case '01':
        out += pad(f.month, 2);
        break;
      case 'Monday':
        out += LONG_DAYS[f.wday];
        break;
      case 'Mon':
        out += LONG_DAYS[f.wday]!.slice(0, 3);
        break;
      case '2':
        out += String(f.day);
        break;
      case '_2':
        out += f.day < 10 ? ' ' + f.day : String(f.day);
        break;
      case '02':
        out += pad(f.day, 2);
        break;
      case '__2':
        out += String(f.yday).padStart(3, ' ');
        break;
      case '002':
        out += pad(f.yday, 3);
        break;
      case '15':
        out += pad(f.hour, 2);
        break;
      case '3':
        out += String(f.hour % 12 === 0 ? 12 : f.hour % 12);
        break;
      case '03':
        out += pad(f.hour % 12 === 0 ? 12 : f.hour % 12, 2);
        break;
      case '4':
        out += String(f.min);
        break;
      case '04':
        out += pad(f.min, 2);
        break;
      case '5':
        out += String(f.sec);
        break;
      case '05':
        out += pad(f.sec, 2);
        break;
      case 'PM':
        out += f.hour >= 12 ? 'PM' : 'AM';
        break;
      case 'pm':
        out += f.hour >= 12 ? 'pm' : 'am';
        break;
      case 'MST':
        out += f.zone.abbrev !== '' ? f.zone.abbrev : formatTz('-0700', f.zone.offset);
        break;
      case 'frac0': {
        const digits = String(t.nsec).padStart(9, '0').slice(0, ch.digits);
        out += ch.sep! + digits;
        break;
      }
      case 'frac9': {
        const digits = String(t.nsec).padStart(9, '0').slice(0, ch.digits).replace(/0+$/, '');
        if (digits !== '') out += ch.sep! + digits;
        break;
      }
      default:
        out += formatTz(ch.std, f.zone.offset);
    }
  }
  return out;
}

class ParseFail extends Error {}

/**
 * Go `time.ParseInLocation(layout, value, loc)` for the common layout elements. Throws on a value
 * that does not match (callers in sprig/Loki turn that into the zero time).
 */
export function parseTime(layout: string, value: string, loc: GoLocation): GoTime {
  let year = 0;
  let month = -1;
  let day = -1;
  let yday = -1;
  let hour = 0;
  let min = 0;
  let sec = 0;
  let nsec = 0;
  let pmSet = false;
  let amSet = false;
  let zoneOffset: number | null = null;
  let zoneName: string | null = null;
  let utc = false;
  const fail = (): never => {
    throw new ParseFail(`cannot parse ${JSON.stringify(value)} as ${JSON.stringify(layout)}`);
  };
  const num = (fixed: boolean, max = 2): number => {
    if (!isDigitAt(value, 0)) fail();
    let n = 1;
    while (n < max && isDigitAt(value, n)) n++;
    if (fixed && n < max) fail();
    const v = Number(value.slice(0, n));
    value = value.slice(n);
    return v;
  };
  const lookupName = (names: string[]): number => {
    for (let i = 0; i < names.length; i++) {
      const n = names[i]!;
      if (value.length >= n.length && value.slice(0, n.length).toLowerCase() === n.toLowerCase()) {
        value = value.slice(n.length);
        return i;
      }
    }
    return fail();
  };
  const frac = (): void => {
    // A fractional second after the seconds field, even if the layout has none.
    if (value.length >= 2 && (value[0] === '.' || value[0] === ',') && isDigitAt(value, 1)) {
      let n = 1;
      while (isDigitAt(value, n)) n++;
      nsec = Number(value.slice(1, n).padEnd(9, '0').slice(0, 9));
      value = value.slice(n);
    }
  };
  let rest = layout;
  while (true) {
    const ch = nextStdChunk(rest);
    if (!value.startsWith(ch.prefix)) fail();
    value = value.slice(ch.prefix.length);
    if (ch.std === null) {
      if (value !== '') fail();
      break;
    }
    rest = ch.suffix;
    const nextIsFrac = (): boolean => {
      const n = nextStdChunk(rest);
      return n.prefix === '' && (n.std === 'frac0' || n.std === 'frac9');
    };
    switch (ch.std) {
      case '06': {
        const y = num(true);
        year = y >= 69 ? 1900 + y : 2000 + y;
        break;
      }
      case '2006':
        if (value.length < 4 || !/^[0-9]{4}/.test(value)) fail();
        year = Number(value.slice(0, 4));
        value = value.slice(4);
        break;
      case 'January':
        month = lookupName(LONG_MONTHS) + 1;
        break;
      case 'Jan':
        month = lookupName(LONG_MONTHS.map((m) => m.slice(0, 3))) + 1;
        break;
      case '1':
      case '01':
        month = num(ch.std === '01');
        if (month < 1 || month > 12) fail();
        break;
      case 'Monday':
        lookupName(LONG_DAYS);
        break;
      case 'Mon':
        lookupName(LONG_DAYS.map((d) => d.slice(0, 3)));
        break;
      case '2':
      case '_2':
      case '02':
        if (ch.std === '_2' && value[0] === ' ') value = value.slice(1);
        day = num(ch.std === '02');
        break;
      case '__2':
      case '002':
        while (ch.std === '__2' && value[0] === ' ') value = value.slice(1);
        yday = num(ch.std === '002', 3);
        break;
      case '15':
        hour = num(false);
        if (hour > 23) fail();
        break;
      case '3':
      case '03':
        hour = num(ch.std === '03');
        if (hour < 0 || hour > 12) fail();
        break;
      case '4':
      case '04':
        min = num(ch.std === '04');
        if (min > 59) fail();
        break;
      case '5':
      case '05':
        sec = num(ch.std === '05');
        if (sec > 59) fail();
        if (!nextIsFrac()) frac();
        break;
      case 'PM':
      case 'pm': {
        const p = value.slice(0, 2).toUpperCase();
        if (p === 'PM') pmSet = true;
        else if (p === 'AM') amSet = true;
        else fail();
        value = value.slice(2);
        break;
      }
      case 'MST': {
        if (value.startsWith('UTC')) {
          utc = true;
          value = value.slice(3);
          break;
        }
        const m = /^[A-Z]{3,5}/.exec(value);
        if (!m) fail();
        zoneName = m![0];
        value = value.slice(zoneName.length);
        break;
      }
      case 'frac0': {
        if (value[0] !== ch.sep) fail();
        const d = value.slice(1, 1 + ch.digits!);
        if (!new RegExp(`^[0-9]{${ch.digits}}$`).test(d)) fail();
        nsec = Number(d.padEnd(9, '0').slice(0, 9));
        value = value.slice(1 + ch.digits!);
        break;
      }
      case 'frac9':
        frac();
        break;
      default: {
        if (ch.std.startsWith('Z') && value[0] === 'Z') {
          value = value.slice(1);
          utc = true;
          break;
        }
        const colon = ch.std.includes(':');
        const withSec = ch.std.endsWith('0000') || ch.std.endsWith(':00:00');
        const short = ch.std.endsWith('07');
        const m = (colon ? /^([+-])([0-9]{2})(?::([0-9]{2}))?(?::([0-9]{2}))?/ : /^([+-])([0-9]{2})([0-9]{2})?([0-9]{2})?/).exec(value);
        if (!m || (!short && m[3] === undefined) || (withSec && m[4] === undefined)) fail();
        const off = Number(m![2]) * 3600 + Number(m![3] ?? 0) * 60 + Number(m![4] ?? 0);
        zoneOffset = m![1] === '-' ? -off : off;
        let used = 3;
        if (!short) used += colon ? 3 : 2;
        if (withSec) used += colon ? 3 : 2;
        value = value.slice(used);
      }
    }
  }
  if (pmSet && hour < 12) hour += 12;
  else if (amSet && hour === 12) hour = 0;
  if (yday >= 0 && month < 0) {
    const d0 = daysFromCivil(year, 1, 1) + yday - 1;
    const [, mm, dd] = civilFromDays(d0);
    month = mm;
    day = dd;
  }
  if (month < 0) month = 1;
  if (day < 0) day = 1;
  if (day < 1 || day > daysIn(month, year)) throw new ParseFail('day out of range');
  const localSec = daysFromCivil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
  if (utc) return new GoTime(localSec, nsec, UTC);
  if (zoneOffset !== null) {
    const s = localSec - zoneOffset;
    if (loc.zoneAt(s).offset === zoneOffset) return new GoTime(s, nsec, loc);
    return new GoTime(s, nsec, fixedZone('', zoneOffset));
  }
  if (zoneName !== null) {
    const guess = localSec - loc.zoneAt(localSec).offset;
    const z = loc.zoneAt(guess);
    if (z.abbrev === zoneName) return new GoTime(localSec - z.offset, nsec, loc);
    return new GoTime(localSec, nsec, fixedZone(zoneName, 0));
  }
  const guess = localSec - loc.zoneAt(localSec).offset;
  return new GoTime(localSec - loc.zoneAt(guess).offset, nsec, loc);
}
