/**
 * Parsimmon primitives over Loki's tokens. Each primitive asks the active lexer for the token at
 * the current offset, so the grammar works on Loki's tokens while parsimmon tracks positions and
 * the furthest failure (which becomes `syntax error: unexpected X, expecting Y`).
 */
import P from 'parsimmon';
import { ParseError } from '../errors.js';
import type { Lexer, Token } from './lexer.js';

let active: Lexer | undefined;

/** Runs `fn` with `lexer` serving the token primitives (parsing is synchronous, so one slot suffices). */
export function withLexer<T>(lexer: Lexer, fn: () => T): T {
  const previous = active;
  active = lexer;
  try {
    return fn();
  } finally {
    active = previous;
  }
}

function lexer(): Lexer {
  if (!active) throw new Error('LogQL grammar used outside withLexer()');
  return active;
}

/** One token whose Loki name is one of `names`. */
export function token(...names: string[]): P.Parser<Token> {
  const wanted = new Set(names);
  return P((_input, i) => {
    const tok = lexer().at(i);
    return wanted.has(tok.name) ? P.makeSuccess(tok.end, tok) : P.makeFailure(i, names);
  });
}

/**
 * `p`, or an immediate syntax error naming `expected`. Emulates yacc having already shifted the
 * preceding token: after a line filter or label filter, `or` can only continue that filter, so a
 * query like `{a="b"} |= "x" or vector(1)` fails there instead of being reinterpreted.
 */
export function committed<T>(p: P.Parser<T>, expected: string[]): P.Parser<T> {
  return p.or(
    P((_input, i) => {
      const lex = lexer();
      const tok = lex.at(i);
      const { line, col } = lex.position(tok);
      throw new ParseError(`syntax error: unexpected ${tok.name}, expecting ${expected.join(' or ')}`, line, col);
    }),
  );
}

export const IDENTIFIER = token('IDENTIFIER').map((t) => t.text);
export const STRING = token('STRING').map((t) => t.str!);
export const NUMBER = token('NUMBER').map((t) => t.text);
export const DURATION = token('DURATION').map((t) => t.num!);
export const BYTES = token('BYTES').map((t) => t.num!);
export const RANGE = token('RANGE').map((t) => t.num!);
export const END = token('$end');

/** `open item (, item)* close` or `open close`; no trailing comma (yacc lists). */
export function list<T>(open: string, item: P.Parser<T>, close: string): P.Parser<T[]> {
  return token(open).then(P.sepBy(item, token(','))).skip(token(close));
}

/** Loki's token numbering (syntax.y %token order); yacc lists expected tokens in this order. */
export const TOKEN_ORDER: readonly string[] = [
  'BYTES', 'IDENTIFIER', 'STRING', 'NUMBER', 'FUNCTION_FLAG', 'DURATION', 'RANGE', '=', '=~', '!~', '!>', '{', '}',
  ']', ',', '.', '|~', '|=', '|>', '(', ')', 'by', 'without', 'COUNT_OVER_TIME', 'RATE', 'RATE_COUNTER', 'SUM',
  'SORT', 'SORT_DESC', 'AVG', 'MAX', 'MIN', 'COUNT', 'STDDEV', 'STDVAR', 'BOTTOMK', 'TOPK', 'APPROX_TOPK',
  'BYTES_OVER_TIME', 'BYTES_RATE', 'bool', 'json', 'regexp', 'logfmt', '|', 'line_format', 'label_format',
  'unwrap', 'AVG_OVER_TIME', 'SUM_OVER_TIME', 'MIN_OVER_TIME', 'MAX_OVER_TIME', 'STDVAR_OVER_TIME',
  'STDDEV_OVER_TIME', 'QUANTILE_OVER_TIME', 'BYTES_CONV', 'DURATION_CONV', 'DURATION_SECONDS_CONV',
  'FIRST_OVER_TIME', 'LAST_OVER_TIME', 'ABSENT_OVER_TIME', 'VECTOR', 'label_replace', 'unpack', 'offset',
  'pattern', 'ip', 'on', 'ignoring', 'group_left', 'group_right', 'decolorize', 'drop', 'keep', 'or', 'and',
  'unless', '==', '!=', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', '^',
];
