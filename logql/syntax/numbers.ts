/**
 * Numbers as Go sees them. Loki's lexer scans numbers with Go's text/scanner, which also reports
 * malformed literals (`0b`, `08`, `1_`, and `1PB` — `P` starts a hexadecimal-float exponent, so
 * petabyte literals never reach the byte-size check), and converts them with `strconv.ParseFloat`,
 * which rejects hex without a `p` exponent, octal, binary and `_` separators.
 */

/** End of the number at `start` and Go's first scanner error, if any (text/scanner `scanNumber`). */
export function scanGoNumber(input: string, start: number): { end: number; error?: string } {
  let i = start;
  let error: string | undefined;
  const fail = (msg: string): void => {
    error ??= msg;
  };
  let base = 10;
  let prefix = '';
  let digsep = 0;
  let invalid = '';
  let isFloat = false;

  const digits = (): void => {
    for (;;) {
      const c = input[i] ?? '';
      if (c === '_') digsep |= 2;
      else if (base <= 10 ? /[0-9]/.test(c) : /[0-9a-fA-F]/.test(c)) {
        if (base <= 10 && Number(c) >= base && invalid === '') invalid = c;
        digsep |= 1;
      } else return;
      i++;
    }
  };

  if (input[i] !== '.') {
    if (input[i] === '0') {
      i++;
      const p = (input[i] ?? '').toLowerCase();
      if (p === 'x' || p === 'o' || p === 'b') {
        base = p === 'x' ? 16 : p === 'o' ? 8 : 2;
        prefix = p;
        i++;
      } else {
        // A leading 0 makes a legacy octal integer (unless a fraction or exponent follows).
        base = 8;
        prefix = '0';
        digsep = 1;
      }
    }
    digits();
    if (input[i] === '.') {
      isFloat = true;
      i++;
    }
  } else {
    isFloat = true;
    i++;
  }
  if (isFloat) {
    if (prefix === 'o' || prefix === 'b') fail(`invalid radix point in ${litName(prefix)}`);
    digits();
  }
  if ((digsep & 1) === 0) fail(`${litName(prefix)} has no digits`);
  const e = input[i] ?? '';
  if (e.toLowerCase() === 'e' || e.toLowerCase() === 'p') {
    if (e.toLowerCase() === 'e' && prefix !== '' && prefix !== '0') fail(`'${e}' exponent requires decimal mantissa`);
    else if (e.toLowerCase() === 'p' && prefix !== 'x') fail(`'${e}' exponent requires hexadecimal mantissa`);
    i++;
    isFloat = true;
    if (input[i] === '+' || input[i] === '-') i++;
    const before = i;
    while (/[0-9_]/.test(input[i] ?? '')) {
      if (input[i] === '_') digsep |= 2;
      i++;
    }
    if (!/[0-9]/.test(input.slice(before, i))) fail('exponent has no digits');
  } else if (prefix === 'x' && isFloat) {
    fail("hexadecimal mantissa requires a 'p' exponent");
  }
  if (!isFloat && invalid !== '') fail(`invalid digit '${invalid}' in ${litName(prefix)}`);
  if (digsep & 2 && invalidSeparator(input.slice(start, i)) >= 0) fail("'_' must separate successive digits");
  return error === undefined ? { end: i } : { end: i, error };
}

function litName(prefix: string): string {
  switch (prefix) {
    case 'x':
      return 'hexadecimal literal';
    case 'o':
    case '0':
      return 'octal literal';
    case 'b':
      return 'binary literal';
    default:
      return 'decimal literal';
  }
}

/** Index of the first `_` that does not sit between two digits (a base prefix counts as a digit), or -1. */
function invalidSeparator(x: string): number {
  let hex = false;
  let d = '.';
  let i = 0;
  if (x.length >= 2 && x[0] === '0' && /[xXoObB]/.test(x[1]!)) {
    hex = x[1]!.toLowerCase() === 'x';
    d = '0';
    i = 2;
  }
  for (; i < x.length; i++) {
    const p = d;
    d = x[i]!;
    if (d === '_') {
      if (p !== '0') return i;
    } else if (/[0-9]/.test(d) || (hex && /[a-fA-F]/.test(d))) {
      d = '0';
    } else {
      if (p === '_') return i - 1;
      d = '.';
    }
  }
  return d === '_' ? x.length - 1 : -1;
}

const DECIMAL = /^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const HEX_FLOAT = /^0[xX](?:_?[0-9a-fA-F])*(?:\.(?:[0-9a-fA-F]_?)*)?[pP][+-]?[0-9]+$/;

/** Go `strconv.ParseFloat(s, 64)`; throws Error with Go's message. */
export function parseGoFloat(s: string): number {
  let value: number | undefined;
  if (DECIMAL.test(s)) value = Number(s);
  else if (HEX_FLOAT.test(s)) {
    const [mantissa, exp] = s.slice(2).replace(/_/g, '').split(/[pP]/) as [string, string];
    const [int, frac = ''] = mantissa.split('.') as [string, string?];
    value = (parseInt(int || '0', 16) + (frac ? parseInt(frac, 16) / 16 ** frac.length : 0)) * 2 ** Number(exp);
  }
  if (value === undefined) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: invalid syntax`);
  if (!Number.isFinite(value)) throw new Error(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: value out of range`);
  return value;
}
