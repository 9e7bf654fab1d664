/** Stream selectors in query parameters (`query`, `match[]`), parsed by logql with Loki's error text. */
import { ParseError, parseSelector, type LabelMatcher } from '../../logql/index.js';
import { badRequest } from './errors.js';

export function selectorParam(text: string): LabelMatcher[] {
  try {
    return parseSelector(text);
  } catch (err) {
    if (err instanceof ParseError) throw badRequest(err.lokiMessage);
    throw err;
  }
}
