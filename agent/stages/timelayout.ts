/**
 * Go reference-time layouts (`2006-01-02T15:04:05.000Z07:00`) for the `timestamp` stage, to
 * nanoseconds since the epoch. Supported elements, as Go's `time.Parse`: `2006` `06` `01` `1`
 * `Jan` `January` `02` `2` `_2` `15` `03` `3` `04` `4` `05` `5` `PM` `pm` `Mon` `Monday` (checked
 * as a day name, otherwise ignored) `MST` `-0700` `-07:00` `-07` `-070000` `-07:00:00` and their
 * `Z` forms, `.000`/`,000` (exactly n digits) and `.999`/`,999` (optional, any number of digits);
 * a fraction after the seconds is accepted even when the layout has none (as Go does).
 * Not supported: day of year (`002`, `__2`). Zone abbreviations (`MST`) other than UTC/GMT take
 * the `location`'s offset if one is given, else UTC (Go: a zero offset for unknown abbreviations).
 */

type Element =
  | 'January' | 'Jan' | 'Monday' | 'Mon' | 'MST'
  | '01' | '1' | '02' | '2' | '_2' | '15' | '03' | '3' | '04' | '4' | '05' | '5' | '2006' | '06'
  | 'PM' | 'pm'
  | '-070000' | '-07:00:00' | '-0700' | '-07:00' | '-07' | 'Z070000' | 'Z07:00:00' | 'Z0700' | 'Z07:00' | 'Z07';

export type LayoutToken = { lit: string } | { el: Element } | { frac: number; optional: boolean };

const ZONES: readonly Element[] = ['-070000', '-07:00:00', '-0700', '-07:00', '-07', 'Z070000', 'Z07:00:00', 'Z0700', 'Z07:00', 'Z07'];
const WORDS: readonly Element[] = ['January', 'Jan', 'Monday', 'Mon', 'MST', '2006', '01', '02', '03', '04', '05', '06', '_2', '15', 'PM', 'pm', '1', '2', '3', '4', '5'];
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** Splits a Go layout into literal text and elements. */
export function compileLayout(layout: string): LayoutToken[] {
  const tokens: LayoutToken[] = [];
  let lit = '';
  let i = 0;
  outer: while (i < layout.length) {
    const c = layout[i]!;
    if ((c === '.' || c === ',') && (layout[i + 1] === '0' || layout[i + 1] === '9')) {
      const d = layout[i + 1]!;
      let j = i + 1;
      while (layout[j] === d) j++;
      if (!isDigit(layout[j])) {
        if (lit) tokens.push({ lit });
        lit = '';
        tokens.push({ frac: j - i - 1, optional: d === '9' });
        i = j;
        continue;
      }
    }
    for (const el of c === '-' || c === 'Z' ? ZONES : WORDS) {
      if (!layout.startsWith(el, i)) continue;
      // `_2006` is a literal `_` and a year; `1`, `2` … only where not part of a longer number.
      if (el === '_2' && layout.startsWith('_2006', i)) continue;
      if (lit) tokens.push({ lit });
      lit = '';
      tokens.push({ el });
      i += el.length;
      continue outer;
    }
    lit += c;
    i++;
  }
  if (lit) tokens.push({ lit });
  return tokens;
}

/** Whether the layout has a year element (Promtail: a layout without `06`/`2006` gets the current year). */
export function layoutHasYear(layout: string): boolean {
  return layout.includes('06');
}

export interface ParsedTime {
  year: number | undefined;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanos: number;
  /** Seconds east of UTC when the value carries a numeric zone or UTC/GMT/Z. */
  offset: number | undefined;
}

/** Reads a 1–2 digit (or exactly 2 digit when `fixed`) number at `at`; returns [value, next] or undefined. */
function num(value: string, at: number, fixed: boolean): [number, number] | undefined {
  if (!isDigit(value[at])) return undefined;
  if (!isDigit(value[at + 1])) return fixed ? undefined : [value.charCodeAt(at) - 48, at + 1];
  return [(value.charCodeAt(at) - 48) * 10 + value.charCodeAt(at + 1) - 48, at + 2];
}

function lookup(value: string, at: number, names: readonly string[], short: boolean): [number, number] | undefined {
  for (let k = 0; k < names.length; k++) {
    const name = short ? names[k]!.slice(0, 3) : names[k]!;
    if (value.slice(at, at + name.length).toLowerCase() === name) return [k, at + name.length];
  }
  return undefined;
}

/** Parses `value` with a compiled layout; undefined when it does not fit. */
export function parseWithLayout(tokens: readonly LayoutToken[], value: string): ParsedTime | undefined {
  const t: ParsedTime = { year: undefined, month: 1, day: 1, hour: 0, minute: 0, second: 0, nanos: 0, offset: undefined };
  let pm: boolean | undefined;
  let at = 0;
  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k]!;
    if ('lit' in token) {
      if (!value.startsWith(token.lit, at)) return undefined;
      at += token.lit.length;
      continue;
    }
    if ('frac' in token) {
      const sep = value[at];
      if (sep !== '.' && sep !== ',') {
        if (token.optional) continue;
        return undefined;
      }
      let j = at + 1;
      while (isDigit(value[j])) j++;
      const count = j - at - 1;
      if (token.optional ? count === 0 : count !== token.frac) return undefined;
      if (count > 9) return undefined;
      t.nanos = Number(value.slice(at + 1, j).padEnd(9, '0'));
      at = j;
      continue;
    }
    let r: [number, number] | undefined;
    switch (token.el) {
      case 'January':
      case 'Jan':
        r = lookup(value, at, MONTHS, token.el === 'Jan');
        if (r) t.month = r[0] + 1;
        break;
      case 'Monday':
      case 'Mon':
        r = lookup(value, at, DAYS, token.el === 'Mon');
        break;
      case '01':
      case '1':
        r = num(value, at, token.el === '01');
        if (r) t.month = r[0];
        if (t.month < 1 || t.month > 12) return undefined;
        break;
      case '_2':
      case '02':
      case '2':
        r = num(value, token.el === '_2' && value[at] === ' ' ? at + 1 : at, token.el === '02');
        if (r) t.day = r[0];
        break;
      case '15':
        r = num(value, at, false);
        if (r) t.hour = r[0];
        if (t.hour > 23) return undefined;
        break;
      case '03':
      case '3':
        r = num(value, at, token.el === '03');
        if (r) t.hour = r[0];
        if (t.hour < 1 || t.hour > 12) return undefined;
        break;
      case '04':
      case '4':
        r = num(value, at, token.el === '04');
        if (r) t.minute = r[0];
        if (t.minute > 59) return undefined;
        break;
      case '05':
      case '5': {
        r = num(value, at, token.el === '05');
        if (r) t.second = r[0];
        if (t.second > 59) return undefined;
        // Go: a fraction may follow the seconds even if the layout does not say so.
        const next = tokens[k + 1];
        if (r && (next === undefined || !('frac' in next)) && (value[r[1]] === '.' || value[r[1]] === ',') && isDigit(value[r[1] + 1])) {
          let j = r[1] + 1;
          while (isDigit(value[j])) j++;
          if (j - r[1] - 1 > 9) return undefined;
          t.nanos = Number(value.slice(r[1] + 1, j).padEnd(9, '0'));
          r = [0, j];
        }
        break;
      }
      case '2006':
        if (/^[0-9]{4}/.test(value.slice(at, at + 4))) r = [Number(value.slice(at, at + 4)), at + 4];
        if (r) t.year = r[0];
        break;
      case '06':
        r = num(value, at, true);
        if (r) t.year = r[0] >= 69 ? 1900 + r[0] : 2000 + r[0];
        break;
      case 'PM':
      case 'pm': {
        const s = value.slice(at, at + 2);
        const upper = token.el === 'PM';
        if (s === (upper ? 'PM' : 'pm')) pm = true;
        else if (s === (upper ? 'AM' : 'am')) pm = false;
        else return undefined;
        r = [0, at + 2];
        break;
      }
      case 'MST': {
        const m = /^(?:UTC|GMT|[A-Z]{3,5})/.exec(value.slice(at, at + 5));
        if (m) {
          if (m[0] === 'UTC' || m[0] === 'GMT') t.offset = 0;
          r = [0, at + m[0].length];
        }
        break;
      }
      default: {
        // Numeric zones.
        const el = token.el;
        if (el[0] === 'Z' && value[at] === 'Z') {
          t.offset = 0;
          r = [0, at + 1];
          break;
        }
        const sign = value[at];
        if (sign !== '+' && sign !== '-') return undefined;
        const colons = el.includes(':');
        const parts = el.slice(1).replace(/:/g, '').length / 2; // 1: hh, 2: hhmm, 3: hhmmss
        let j = at + 1;
        let seconds = 0;
        for (let p = 0; p < parts; p++) {
          if (p > 0 && colons) {
            if (value[j] !== ':') return undefined;
            j++;
          }
          const n = num(value, j, true);
          if (!n) return undefined;
          seconds += n[0] * (p === 0 ? 3600 : p === 1 ? 60 : 1);
          j = n[1];
        }
        t.offset = sign === '-' ? -seconds : seconds;
        r = [0, j];
      }
    }
    if (r === undefined) return undefined;
    at = r[1];
  }
  if (at !== value.length) return undefined;
  if (pm !== undefined) {
    if (pm && t.hour < 12) t.hour += 12;
    else if (!pm && t.hour === 12) t.hour = 0;
  }
  return t;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (month 1–12). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  return era * 146_097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719_468;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Throws RangeError for an unknown IANA zone name. */
export function checkLocation(location: string): void {
  zoneFormatter(location);
}

function zoneFormatter(location: string): Intl.DateTimeFormat {
  let f = formatters.get(location);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: location, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short',
    });
    formatters.set(location, f);
  }
  return f;
}

/** Seconds east of UTC of `location` at the instant `utcSeconds`. */
export function zoneOffsetAt(location: string, utcSeconds: number): number {
  const parts = zoneFormatter(location).formatToParts(new Date(utcSeconds * 1000));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  let year = get('year');
  if (parts.find((p) => p.type === 'era')?.value === 'BC') year = 1 - year;
  const wall = daysFromCivil(year, get('month'), get('day')) * 86_400 + get('hour') * 3600 + get('minute') * 60 + get('second');
  return wall - utcSeconds;
}

/** Seconds since the epoch of a wall-clock time (seconds as if UTC) in `location`. */
export function wallToUtc(location: string, wallSeconds: number): number {
  const guess = wallSeconds - zoneOffsetAt(location, wallSeconds);
  return wallSeconds - zoneOffsetAt(location, guess);
}
