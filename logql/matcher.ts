/** Runtime evaluation of label matchers (stream selectors, label filters, drop/keep matchers). */
import type { LabelMatcher } from './ast.js';
import { compileRegex } from './regex.js';

/**
 * A predicate for one matcher; a missing label should be passed as "" (Prometheus semantics).
 * Regexes are RE2, fully anchored. Throws RegexSyntaxError for a bad regex.
 */
export function compileMatcher(m: LabelMatcher): (value: string) => boolean {
  const expected = m.value;
  switch (m.type) {
    case '=':
      return (v) => v === expected;
    case '!=':
      return (v) => v !== expected;
    case '=~': {
      const re = compileRegex(expected, { anchored: true });
      return (v) => re.test(v);
    }
    case '!~': {
      const re = compileRegex(expected, { anchored: true });
      return (v) => !re.test(v);
    }
  }
}
