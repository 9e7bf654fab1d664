/** Entry points: run a grammar over a whole query and turn parsimmon failures into Loki's errors. */
import P from 'parsimmon';
import type { Expr, LabelMatcher } from '../ast.js';
import { ParseError } from '../errors.js';
import { Lexer } from './lexer.js';
import { expr } from './metric.js';
import { END, TOKEN_ORDER, withLexer } from './tokens.js';
import { validateExpr } from './validate.js';

/** Loki's `ParseExpr`: grammar, parse-time checks, then `validateExpr`. */
export function parseQuery(input: string): Expr {
  const ast = runGrammar(expr, input);
  validateExpr(ast);
  return ast;
}

/** Loki's `ParseMatchers`: a full query that must be a bare selector. */
export function parseMatchers(input: string): LabelMatcher[] {
  const ast = parseQuery(input);
  if (ast.kind !== 'LogSelector' || ast.stages.length > 0) {
    // Loki returns this one as a plain error, not a ParseError.
    throw new ParseError('only label matchers is supported', 0, 0, { prefixed: false });
  }
  return ast.matchers;
}

/** Loki refuses queries of this many bytes or more before parsing. */
const MAX_INPUT_BYTES = 5120;
/** goyacc names at most this many expected tokens (it copies Bison). */
const MAX_EXPECTED = 4;

function runGrammar<T>(grammar: P.Parser<T>, input: string): T {
  const size = new TextEncoder().encode(input).length;
  if (size >= MAX_INPUT_BYTES) {
    throw new ParseError(`input size too long (${size} > ${MAX_INPUT_BYTES})`, 0, 0);
  }
  const lexer = new Lexer(input);
  return withLexer(lexer, () => {
    const result = grammar.skip(END).parse(input);
    if (result.status) return result.value;
    const tok = lexer.at(result.index.offset);
    const { line, col } = lexer.position(tok);
    throw new ParseError(syntaxError(tok.name, result.expected), line, col);
  });
}

function syntaxError(unexpected: string, expected: string[]): string {
  const names = [...new Set(expected)]
    .filter((n) => TOKEN_ORDER.includes(n))
    .sort((a, b) => TOKEN_ORDER.indexOf(a) - TOKEN_ORDER.indexOf(b));
  let msg = `syntax error: unexpected ${unexpected}`;
  if (names.length > 0 && names.length <= MAX_EXPECTED) msg += `, expecting ${names.join(' or ')}`;
  return msg;
}
