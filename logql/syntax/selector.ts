/** Stream selectors `{name="value", …}` and the matcher rule shared with label filters and drop/keep. */
import P from 'parsimmon';
import type { LabelMatcher, MatchType } from '../ast.js';
import { ParseError } from '../errors.js';
import { compileMatcher } from '../matcher.js';
import { RegexSyntaxError } from '../regex.js';
import { IDENTIFIER, STRING, list, token } from './tokens.js';

const EMPTY_COMPATIBLE_SELECTOR =
  'queries require at least one regexp or equality matcher that does not have an empty-compatible value. ' +
  'For instance, app=~".*" does not meet this requirement, but app=~".+" will';

/**
 * Builds a matcher, compiling its regex like Loki's `mustNewMatcher`: a bad regex aborts the whole
 * parse with a position-less error, even inside an otherwise valid query.
 */
function newMatcher(type: MatchType, name: string, value: string): LabelMatcher {
  const m: LabelMatcher = { type, name, value };
  try {
    compileMatcher(m);
  } catch (e) {
    if (e instanceof RegexSyntaxError) throw new ParseError(e.message, 0, 0);
    throw e;
  }
  return m;
}

const matchType: P.Parser<MatchType> = token('=', '!=', '=~', '!~').map((t) => t.name as MatchType);

/** `name op "value"` (yacc `matcher`). */
export const matcher: P.Parser<LabelMatcher> = P.seqMap(IDENTIFIER, matchType, STRING, (name, type, value) =>
  newMatcher(type, name, value),
);

/** `{…}`; `{}` is grammatical and only fails validation. */
export const selector: P.Parser<LabelMatcher[]> = list('{', matcher, '}');

/**
 * Loki's `validateMatchers`: some matcher must reject the empty string, otherwise the query would
 * select every stream.
 */
export function validateSelector(matchers: LabelMatcher[]): void {
  if (!matchers.some((m) => !compileMatcher(m)(''))) throw new ParseError(EMPTY_COMPATIBLE_SELECTOR, 0, 0);
}
