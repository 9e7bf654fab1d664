/**
 * LogQL string literals: Go double-quoted strings (Prometheus `strutil.Unquote`) and backtick raw strings.
 * Values are decoded to bytes first because Go escapes (`\xNN`, octal) produce bytes, and a value that
 * is not valid UTF-8 is rejected — a JS string cannot hold it.
 */

/** Why a literal was rejected; the lexer attaches the position. Messages are Go's. */
export class StringLiteralError extends Error {}

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34 };
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/**
 * Length (in UTF-16 units) of the literal starting at `start` (which holds the opening quote),
 * or throws `literal not terminated` / `invalid char escape` like Go's text/scanner.
 */
export function scanStringLiteral(input: string, start: number): number {
  const quote = input[start];
  let i = start + 1;
  let escapeError = false;
  for (;;) {
    if (i >= input.length) throw new StringLiteralError('literal not terminated');
    const c = input[i]!;
    if (c === quote) break;
    if (quote === '"') {
      if (c === '\n') throw new StringLiteralError('literal not terminated');
      if (c === '\\') {
        const skip = escapeLength(input, i);
        if (skip < 0) escapeError = true;
        i += Math.abs(skip);
        continue;
      }
    }
    i++;
  }
  // Go's scanner reports a bad escape but keeps scanning to the closing quote; the first error wins.
  if (escapeError) throw new StringLiteralError('invalid char escape');
  return i + 1 - start;
}

/** Length of the escape at `i` (a backslash); negative when the escape is invalid. */
function escapeLength(input: string, i: number): number {
  const c = input[i + 1] ?? '';
  if (c in SIMPLE_ESCAPES) return 2;
  let prefix = 2;
  let count: number;
  let digit = /[0-9a-fA-F]/;
  if (c >= '0' && c <= '7') {
    // Octal escapes are exactly three digits, the first of which follows the backslash directly.
    prefix = 1;
    count = 3;
    digit = /[0-7]/;
  } else if (c === 'x') count = 2;
  else if (c === 'u') count = 4;
  else if (c === 'U') count = 8;
  else return -1;
  let k = 0;
  while (k < count && digit.test(input[i + prefix + k] ?? '')) k++;
  return k === count ? prefix + count : -(prefix + k);
}

/** Decodes a complete literal (quotes included). Throws StringLiteralError with Go's message. */
export function unquoteString(literal: string): string {
  const quote = literal[0];
  const body = literal.slice(1, -1);
  // Go drops carriage returns from raw strings.
  if (quote === '`') return checkUtf16(body.replace(/\r/g, ''));
  const bytes: number[] = [];
  const pushText = (s: string): void => {
    for (const b of utf8Encoder.encode(s)) bytes.push(b);
  };
  for (let i = 0; i < body.length; ) {
    const c = body[i]!;
    if (c !== '\\') {
      const cp = body.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      pushText(checkUtf16(ch));
      i += ch.length;
      continue;
    }
    const e = body[i + 1]!;
    if (e in SIMPLE_ESCAPES) {
      bytes.push(SIMPLE_ESCAPES[e]!);
      i += 2;
    } else if (e >= '0' && e <= '7') {
      const v = parseInt(body.slice(i + 1, i + 4), 8);
      if (v > 255) throw new StringLiteralError('invalid syntax');
      bytes.push(v);
      i += 4;
    } else if (e === 'x') {
      bytes.push(parseInt(body.slice(i + 2, i + 4), 16));
      i += 4;
    } else {
      const n = e === 'u' ? 4 : 8;
      const cp = parseInt(body.slice(i + 2, i + 2 + n), 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new StringLiteralError('invalid syntax');
      pushText(String.fromCodePoint(cp));
      i += 2 + n;
    }
  }
  try {
    return utf8Decoder.decode(new Uint8Array(bytes));
  } catch {
    throw new StringLiteralError('invalid UTF-8 encoding');
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Lone surrogates are what invalid UTF-8 becomes in a JS string. */
export function checkUtf16(s: string): string {
  if (LONE_SURROGATE.test(s)) throw new StringLiteralError('invalid UTF-8 encoding');
  return s;
}

/**
 * Canonical literal for a value: a backtick raw string when the value has backslashes (regexes read
 * better that way, and Loki prints them so), otherwise a double-quoted Go string.
 */
export function quoteString(value: string): string {
  if (value.includes('\\') && !/[`\r\n]/.test(value) && !/[\u0000-\u001f\u007f]/.test(value)) {
    return `\`${value}\``;
  }
  let out = '"';
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        break;
      case '\\':
        out += '\\\\';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      default:
        out += cp < 0x20 || cp === 0x7f ? `\\u${cp.toString(16).padStart(4, '0')}` : ch;
    }
  }
  return `${out}"`;
}
