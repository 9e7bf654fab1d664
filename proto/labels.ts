/**
 * The Prometheus label-string format of StreamAdapter.labels: `{a="b", c="d"}`.
 * Parsing follows Prometheus' lexer (Go escapes; double-, single- and back-quoted values);
 * formatting produces the canonical form Loki prints (sorted, Go strconv.Quote values).
 */

export type LabelPair = [name: string, value: string];

export class LabelStringError extends Error {
  override readonly name = 'LabelStringError';
  /** 1-based line and byte column, as Prometheus reports them. */
  readonly line: number;
  readonly column: number;

  constructor(
    readonly input: string,
    /** UTF-16 index into input where the problem is. */
    readonly offset: number,
    readonly reason: string,
  ) {
    const before = input.slice(0, offset);
    const lineStart = before.lastIndexOf('\n') + 1;
    const line = before.split('\n').length;
    const column = Buffer.byteLength(before.slice(lineStart), 'utf8') + 1;
    super(`${line}:${column}: parse error: ${reason}`);
    this.line = line;
    this.column = column;
  }
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92 };

// Character codes: the parser runs once per stream of every push, so it scans codes, not regexes.
const SPACE = 0x20;
const TAB = 0x09;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BACKSLASH = 0x5c;

function isNameStart(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || code === 0x5f;
}

function isNameChar(code: number): boolean {
  return isNameStart(code) || (code >= 0x30 && code <= 0x39);
}

function describe(input: string, offset: number): string {
  if (offset >= input.length) return 'end of input';
  return JSON.stringify(String.fromCodePoint(input.codePointAt(offset) ?? 0));
}

function unexpected(input: string, offset: number, expected: string): LabelStringError {
  return new LabelStringError(input, offset, `unexpected ${describe(input, offset)}, ${expected}`);
}

/**
 * Parses `{name="value", ...}` into pairs in input order. Names are not sorted or deduplicated:
 * the server validates those itself. A trailing comma is accepted, as in Prometheus.
 */
export function parseLabelString(input: string): LabelPair[] {
  const pairs: LabelPair[] = [];
  let pos = skipSpaces(input, 0);
  if (input[pos] !== '{') throw unexpected(input, pos, 'expected "{"');
  pos = skipSpaces(input, pos + 1);
  while (input[pos] !== '}') {
    if (!isNameStart(input.charCodeAt(pos))) throw unexpected(input, pos, 'expected label name');
    const nameStart = pos;
    pos++;
    while (isNameChar(input.charCodeAt(pos))) pos++;
    const name = input.slice(nameStart, pos);
    pos = skipSpaces(input, pos);
    if (input[pos] !== '=') throw unexpected(input, pos, 'expected "="');
    pos = skipSpaces(input, pos + 1);
    const quote = input[pos];
    if (quote !== '"' && quote !== "'" && quote !== '`') throw unexpected(input, pos, 'expected quoted label value');
    const value = quote === '`' ? readRawString(input, pos) : readQuotedString(input, pos);
    pairs.push([name, value.text]);
    pos = skipSpaces(input, value.end);
    if (input[pos] === ',') {
      pos = skipSpaces(input, pos + 1);
    } else if (input[pos] !== '}') {
      throw unexpected(input, pos, 'expected "," or "}"');
    }
  }
  pos = skipSpaces(input, pos + 1);
  if (pos < input.length) throw new LabelStringError(input, pos, `unexpected ${describe(input, pos)} after "}"`);
  return pairs;
}

function skipSpaces(input: string, pos: number): number {
  for (;;) {
    const code = input.charCodeAt(pos);
    if (code !== SPACE && code !== TAB && code !== NEWLINE && code !== CARRIAGE_RETURN) return pos;
    pos++;
  }
}

interface ScannedString {
  text: string;
  /** Index just past the closing quote. */
  end: number;
}

/** A back-quoted string: no escapes; carriage returns are dropped, as Go does. */
function readRawString(input: string, open: number): ScannedString {
  const close = input.indexOf('`', open + 1);
  if (close < 0) throw new LabelStringError(input, open, 'unterminated raw string');
  return { text: input.slice(open + 1, close).replaceAll('\r', ''), end: close + 1 };
}

/** A double- or single-quoted string; values without escapes (nearly all) are one slice. */
function readQuotedString(input: string, open: number): ScannedString {
  const quoteCode = input.charCodeAt(open);
  for (let pos = open + 1; ; pos++) {
    const code = input.charCodeAt(pos);
    if (code === quoteCode) return { text: input.slice(open + 1, pos), end: pos + 1 };
    if (code === BACKSLASH) return readEscapedString(input, open);
    if (Number.isNaN(code) || code === NEWLINE) throw new LabelStringError(input, pos, 'unterminated quoted string');
  }
}

/**
 * A quoted string with Go escapes. \x and octal escapes denote bytes, so the value is
 * assembled as UTF-8 and decoded at the end; bytes that are not valid UTF-8 become U+FFFD.
 */
function readEscapedString(input: string, open: number): ScannedString {
  const quote = input[open];
  let pos = open + 1;
  let plainStart = pos;
  const bytes: number[] = [];
  const flushPlain = (until: number): void => {
    if (until > plainStart) bytes.push(...Buffer.from(input.slice(plainStart, until), 'utf8'));
  };
  const quoteCode = quote.charCodeAt(0);
  for (;;) {
    const code = input.charCodeAt(pos);
    if (code === quoteCode) break;
    if (Number.isNaN(code) || code === NEWLINE) throw new LabelStringError(input, pos, 'unterminated quoted string');
    if (code !== BACKSLASH) {
      pos++;
      continue;
    }
    flushPlain(pos);
    const escapeStart = pos;
    const kind = input[pos + 1];
    pos += 2;
    const simple = kind === undefined ? undefined : SIMPLE_ESCAPES[kind];
    if (simple !== undefined) {
      bytes.push(simple);
    } else if (kind === quote) {
      bytes.push(quote.charCodeAt(0));
    } else if (kind !== undefined && kind >= '0' && kind <= '7') {
      const digits = input.slice(pos - 1, pos + 2);
      if (!/^[0-7]{3}$/.test(digits) || parseInt(digits, 8) > 255) {
        throw new LabelStringError(input, escapeStart, `invalid octal escape "\\${digits}"`);
      }
      bytes.push(parseInt(digits, 8));
      pos += 2;
    } else if (kind === 'x' || kind === 'u' || kind === 'U') {
      const width = kind === 'x' ? 2 : kind === 'u' ? 4 : 8;
      const digits = input.slice(pos, pos + width);
      if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(digits)) {
        throw new LabelStringError(input, escapeStart, `invalid escape "\\${kind}${digits}", expected ${width} hex digits`);
      }
      const value = parseInt(digits, 16);
      pos += width;
      if (kind === 'x') {
        bytes.push(value);
      } else {
        if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) {
          throw new LabelStringError(input, escapeStart, `escape "\\${kind}${digits}" is not a valid Unicode code point`);
        }
        bytes.push(...Buffer.from(String.fromCodePoint(value), 'utf8'));
      }
    } else {
      throw new LabelStringError(input, escapeStart, `unknown escape sequence ${describe(input, escapeStart + 1)}`);
    }
    plainStart = pos;
  }
  flushPlain(pos);
  return { text: Buffer.from(bytes).toString('utf8'), end: pos + 1 };
}

/** Printable as Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols (and ASCII space, handled apart). */
const GO_PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const NEEDS_NO_QUOTING = /^[ !#-[\]-~]*$/;
const GO_ESCAPES: Readonly<Record<number, string>> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v', 34: '\\"', 92: '\\\\' };

/**
 * Quotes like Go's strconv.Quote. A lone UTF-16 surrogate cannot come from UTF-8 input; it is
 * written as U+FFFD, which is what it becomes when the string is stored as UTF-8.
 */
export function quoteGoString(value: string): string {
  if (NEEDS_NO_QUOTING.test(value)) return `"${value}"`;
  let out = '"';
  for (const char of value) {
    const codePoint = char.codePointAt(0) ?? 0;
    const escape = GO_ESCAPES[codePoint];
    if (escape !== undefined) {
      out += escape;
    } else if (codePoint >= 0x20 && codePoint < 0x7f) {
      out += char;
    } else if (codePoint >= 0xd800 && codePoint <= 0xdfff) {
      out += '\ufffd';
    } else if (GO_PRINTABLE.test(char)) {
      out += char;
    } else if (codePoint < 0x80) {
      out += `\\x${codePoint.toString(16).padStart(2, '0')}`;
    } else if (codePoint < 0x10000) {
      out += `\\u${codePoint.toString(16).padStart(4, '0')}`;
    } else {
      out += `\\U${codePoint.toString(16).padStart(8, '0')}`;
    }
  }
  return `${out}"`;
}

/** The canonical form `{a="b", c="d"}`: sorted by name (stable), values quoted like Go. */
export function formatLabelString(pairs: ReadonlyArray<readonly [string, string]>): string {
  const sorted = pairs.slice().sort((left, right) => (left[0] < right[0] ? -1 : left[0] > right[0] ? 1 : 0));
  let out = '{';
  for (let index = 0; index < sorted.length; index++) {
    if (index > 0) out += ', ';
    out += `${sorted[index][0]}=${quoteGoString(sorted[index][1])}`;
  }
  return `${out}}`;
}
