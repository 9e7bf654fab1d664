/**
 * Loki's LogQL lexer (pkg/logql/syntax/lex.go on top of Go's text/scanner), reproduced token for
 * token. The grammar asks for the token at an offset; because Loki's lexer is context-free, the
 * token at a given offset is the same whichever grammar rule asks, so the parsimmon grammar can
 * backtrack freely and still see exactly the tokens Loki's yacc parser sees.
 *
 * Token names are the ones Loki prints in `syntax error: unexpected X`: keyword and operator
 * tokens print as their text (`|=`, `by`, `json`), function tokens in upper case (`RATE`, `SUM`),
 * and the rest as IDENTIFIER, STRING, NUMBER, DURATION, BYTES, RANGE, FUNCTION_FLAG or `$end`.
 */
import { ParseError } from '../errors.js';
import { parseBytes } from './bytes.js';
import { nsToMs, parseFilterDuration, parsePromDuration } from './duration.js';
import { scanGoNumber } from './numbers.js';
import { checkUtf16, scanStringLiteral, StringLiteralError, unquoteString } from './strings.js';

export interface Token {
  /** Loki's name for the token, as shown in syntax errors. */
  name: string;
  /** Source text of the token. */
  text: string;
  start: number;
  end: number;
  /** STRING: decoded value. */
  str?: string;
  /** DURATION: nanoseconds. BYTES: bytes. RANGE: milliseconds. */
  num?: number;
}

/** Keywords and operators: always these tokens, whatever follows (lex.go `tokens`). */
const TOKENS = new Set([
  ',', '.', '{', '}', '=', '!=', '=~', '!~', '!>', '|=', '|~', '|>', '|', 'unwrap', '(', ')', 'by', 'without',
  'bool', ']', 'offset', 'on', 'ignoring', 'group_left', 'group_right', 'or', 'and', 'unless', '+', '-', '*',
  '/', '%', '^', '==', '>', '>=', '<', '<=', 'json', 'regexp', 'logfmt', 'unpack', 'pattern', 'label_format',
  'line_format', 'decolorize', 'drop', 'keep',
]);

/** Function words: keywords only when a call follows (`rate(`, `sum by (`), else identifiers (lex.go `functionTokens`). */
const FUNCTION_TOKENS: Record<string, string> = {
  rate: 'RATE',
  rate_counter: 'RATE_COUNTER',
  count_over_time: 'COUNT_OVER_TIME',
  bytes_rate: 'BYTES_RATE',
  bytes_over_time: 'BYTES_OVER_TIME',
  avg_over_time: 'AVG_OVER_TIME',
  sum_over_time: 'SUM_OVER_TIME',
  min_over_time: 'MIN_OVER_TIME',
  max_over_time: 'MAX_OVER_TIME',
  stdvar_over_time: 'STDVAR_OVER_TIME',
  stddev_over_time: 'STDDEV_OVER_TIME',
  quantile_over_time: 'QUANTILE_OVER_TIME',
  first_over_time: 'FIRST_OVER_TIME',
  last_over_time: 'LAST_OVER_TIME',
  absent_over_time: 'ABSENT_OVER_TIME',
  vector: 'VECTOR',
  sum: 'SUM',
  avg: 'AVG',
  max: 'MAX',
  min: 'MIN',
  count: 'COUNT',
  stddev: 'STDDEV',
  stdvar: 'STDVAR',
  bottomk: 'BOTTOMK',
  topk: 'TOPK',
  sort: 'SORT',
  sort_desc: 'SORT_DESC',
  approx_topk: 'APPROX_TOPK',
  label_replace: 'label_replace',
  bytes: 'BYTES_CONV',
  duration: 'DURATION_CONV',
  duration_seconds: 'DURATION_SECONDS_CONV',
  ip: 'ip',
};

const PARSER_FLAGS = new Set(['--strict', '--keep-empty']);

/**
 * Tokens Loki's lexer completes with extra `Next()` reads, which makes Go's scanner forget the line:
 * Loki reports line 0 for them.
 */
const LINELESS = new Set(['DURATION', 'BYTES', 'RANGE', 'FUNCTION_FLAG', '!=', '=~', '!~', '!>', '|=', '|~', '|>', '==', '>=', '<=']);

const GO_WHITESPACE = /[\t\n\r ]/;
const IDENT_START = /[\p{L}_]/u;
const IDENT_PART = /[\p{L}\p{Nd}_]/u;
const DURATION_RUNE = /[\p{N}numsµhdwy.]/u;
const BYTES_RUNE = /[\p{N}BikKMGTP.]/u;
const IS_FUNCTION = /^\s*(?:\(|(?:by|without)\s*\()/iu;

export class Lexer {
  private readonly cache = new Map<number, Token>();
  private readonly lineStarts: number[] = [0];

  constructor(readonly input: string) {
    for (let i = 0; i < input.length; i++) if (input[i] === '\n') this.lineStarts.push(i + 1);
  }

  /** The token starting at or after `offset` (whitespace and `#` comments skipped). Throws ParseError on lexical errors. */
  at(offset: number): Token {
    let tok = this.cache.get(offset);
    if (!tok) {
      tok = this.scan(this.skipSpace(offset));
      this.cache.set(offset, tok);
    }
    return tok;
  }

  /** Loki's reported position of a token (line 0 for the tokens its scanner loses the line on). */
  position(tok: Token): { line: number; col: number } {
    // Go's scanner reports the end of an empty input as line 0, col 0.
    if (this.input.length === 0) return { line: 0, col: 0 };
    const { line, col } = this.lineCol(tok.start);
    return { line: LINELESS.has(tok.name) ? 0 : line, col };
  }

  /** 1-based line and column (in characters) of an offset. */
  private lineCol(offset: number): { line: number; col: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    const lineStart = this.lineStarts[lo]!;
    return { line: lo + 1, col: [...this.input.slice(lineStart, offset)].length + 1 };
  }

  private skipSpace(offset: number): number {
    let i = offset;
    for (;;) {
      const c = this.input[i];
      if (c !== undefined && GO_WHITESPACE.test(c)) i++;
      else if (c === '#') {
        while (i < this.input.length && this.input[i] !== '\n') i++;
      } else return i;
    }
  }

  private error(msg: string, start: number, lineless = false): ParseError {
    const { line, col } = this.lineCol(start);
    return new ParseError(msg, lineless ? 0 : line, col);
  }

  private scan(start: number): Token {
    const input = this.input;
    const make = (name: string, end: number, extra: Partial<Token> = {}): Token => ({
      name,
      text: input.slice(start, end),
      start,
      end,
      ...extra,
    });
    if (start >= input.length) return make('$end', start);
    const c = input[start]!;
    const cp = input.codePointAt(start)!;
    const ch = String.fromCodePoint(cp);
    try {
      checkUtf16(ch);
    } catch {
      throw this.error('invalid UTF-8 encoding', start);
    }

    if (c === '"' || c === '`') {
      let len: number;
      let value: string;
      try {
        len = scanStringLiteral(input, start);
        value = unquoteString(input.slice(start, start + len));
      } catch (e) {
        if (e instanceof StringLiteralError) throw this.error(e.message, start);
        throw e;
      }
      return make('STRING', start + len, { str: value });
    }

    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(input[start + 1] ?? ''))) {
      const { end: numEnd, error } = scanGoNumber(input, start);
      // Go's scanner reports a malformed number while lexing it, before Loki looks at units.
      if (error !== undefined) throw this.error(error, start);
      return this.afterNumber(start, numEnd) ?? make('NUMBER', numEnd);
    }

    if (c === '-') {
      if (input[start + 1] === '-') {
        const flag = /^--[\p{L}-]*/u.exec(input.slice(start))![0];
        if (PARSER_FLAGS.has(flag)) return make('FUNCTION_FLAG', start + flag.length);
      }
      const dur = this.tryDuration(start, start + 1);
      if (dur) return dur;
    }

    if (c === '[') {
      const close = input.indexOf(']', start + 1);
      if (close < 0) throw this.error("missing closing ']' in duration", start, true);
      const text = input.slice(start + 1, close);
      let ns: number;
      try {
        ns = parsePromDuration(text);
      } catch (e) {
        throw this.error((e as Error).message, start, true);
      }
      return make('RANGE', close + 1, { num: nsToMs(ns) });
    }

    if (IDENT_START.test(ch)) {
      let end = start + ch.length;
      for (;;) {
        const next = input.codePointAt(end);
        if (next === undefined) break;
        const nch = String.fromCodePoint(next);
        if (!IDENT_PART.test(nch)) break;
        end += nch.length;
      }
      const word = input.slice(start, end);
      const lower = word.toLowerCase();
      const fn = FUNCTION_TOKENS[lower];
      if (fn !== undefined) {
        return make(IS_FUNCTION.test(input.slice(end)) ? fn : 'IDENTIFIER', end);
      }
      return make(TOKENS.has(lower) ? lower : 'IDENTIFIER', end);
    }

    const two = input.slice(start, start + 2);
    if (two.length === 2 && TOKENS.has(two)) return make(two, start + 2);
    if (TOKENS.has(c)) return make(c, start + 1);
    // Go's scanner returns any other character as itself; Loki then calls it an identifier.
    return make('IDENTIFIER', start + ch.length);
  }

  /** lex.go tryScanDuration then tryScanBytes on the characters glued to a number. */
  private afterNumber(start: number, numEnd: number): Token | undefined {
    const dur = this.tryDuration(start, numEnd);
    if (dur) return dur;
    const end = this.glued(numEnd, BYTES_RUNE);
    if (end === numEnd) return undefined;
    const text = this.input.slice(start, end);
    const bytes = parseBytes(text);
    if (bytes === undefined) return undefined;
    return { name: 'BYTES', text, start, end, num: bytes };
  }

  private tryDuration(start: number, from: number): Token | undefined {
    const end = this.glued(from, DURATION_RUNE);
    if (end === from) return undefined;
    const text = this.input.slice(start, end);
    try {
      return { name: 'DURATION', text, start, end, num: parseFilterDuration(text) };
    } catch {
      return undefined;
    }
  }

  /** End of the run of `allowed` characters at `from`, stopping at whitespace like lex.go. */
  private glued(from: number, allowed: RegExp): number {
    let end = from;
    for (;;) {
      const cp = this.input.codePointAt(end);
      if (cp === undefined) return end;
      const ch = String.fromCodePoint(cp);
      if (/\s/u.test(ch) || !allowed.test(ch)) return end;
      end += ch.length;
    }
  }
}
