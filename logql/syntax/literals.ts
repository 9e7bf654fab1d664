/** Number literals in metric expressions and label filters, and their canonical text. */
import P from 'parsimmon';
import { ParseError } from '../errors.js';
import { parseGoFloat } from './numbers.js';
import { NUMBER, token } from './tokens.js';

/** `mustNewLiteralExpr`: the conversion error aborts the parse without a position. */
function literalValue(text: string, negate: boolean): number {
  let v: number;
  try {
    v = parseGoFloat(text);
  } catch (e) {
    throw new ParseError(`unable to parse literal as a float: ${(e as Error).message}`, 0, 0);
  }
  return negate ? -v : v;
}

/** yacc `literalExpr`: NUMBER, `+NUMBER` or `-NUMBER` (a sign only ever applies to a number). */
export const literal: P.Parser<number> = P.seqMap(
  token('+', '-').atMost(1),
  NUMBER,
  (sign, text) => literalValue(text, sign[0]?.name === '-'),
);

/**
 * Canonical number text that Loki's lexer reads back as the same double. Infinities and NaN have
 * no literal form, so they print as the constant expressions Loki folds to them.
 */
export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return '(0/0)';
  if (n === Infinity) return '(1/0)';
  if (n === -Infinity) return '(-1/0)';
  if (Object.is(n, -0)) return '-0';
  return String(n);
}
