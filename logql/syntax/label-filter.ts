/**
 * Label filter expressions (`| status >= 400 and level=~"warn|error"`).
 *
 * Loki's yacc grammar gives `and`/`or` precedence (`and` binds tighter) but none to `,` and to
 * juxtaposition (`a="x" b="y"`), so yacc shifts on every conflict involving them: whatever follows
 * a comma or a juxtaposed filter is grouped to its right. `a or b, c` is therefore
 * `a or (b and c)` while `a, b or c` is `a and (b or c)`. We build exactly those trees.
 */
import P from 'parsimmon';
import type { ComparisonOp, LabelFilterExpr } from '../ast.js';
import { literal } from './literals.js';
import { matcher } from './selector.js';
import { BYTES, committed, DURATION, IDENTIFIER, STRING, token } from './tokens.js';

const comparison: P.Parser<ComparisonOp> = token('>', '>=', '<', '<=', '!=', '=', '==').map((t) =>
  t.name === '=' ? '==' : (t.name as ComparisonOp),
);

/** `addr = ip("10.0.0.0/8")`: only `=` and `!=` (anything else is a syntax error at `ip`). */
const ipFilter: P.Parser<LabelFilterExpr> = P.seqMap(
  IDENTIFIER,
  token('=', '!='),
  token('ip').then(token('(')).then(STRING).skip(token(')')),
  (name, op, pattern) => ({ kind: 'IpFilter', name, op: op.name as '=' | '!=', pattern }),
);

const valueFilter: P.Parser<LabelFilterExpr> = P.seqMap(
  IDENTIFIER,
  comparison,
  P.alt(
    DURATION.map((durationNs) => ({ kind: 'DurationFilter' as const, durationNs })),
    BYTES.map((bytes) => ({ kind: 'BytesFilter' as const, bytes })),
    literal.map((value) => ({ kind: 'NumericFilter' as const, value })),
  ),
  (name, op, v): LabelFilterExpr => ({ ...v, name, op }),
);

type Connective = 'and' | 'or' | 'comma' | 'juxtaposed';

/** One filter or a parenthesised group, then the connective to the next one (if any). */
interface Item {
  filter: LabelFilterExpr;
  next?: Connective;
}

const primary: P.Parser<LabelFilterExpr> = P.lazy(() =>
  P.alt(
    token('(').then(labelFilter).skip(token(')')),
    ipFilter,
    matcher.map((m): LabelFilterExpr => ({ kind: 'StringFilter', matcher: m })),
    valueFilter,
  ),
);

const explicitConnective: P.Parser<Connective> = P.alt(
  token('and').result('and' as const),
  token('or').result('or' as const),
  token(',').result('comma' as const),
);

/** yacc `labelFilter`. */
export const labelFilter: P.Parser<LabelFilterExpr> = P.seqMap(
  primary,
  P.alt(
    // After an explicit `and`/`or`/`,` yacc has shifted it: only another filter may follow.
    P.seq(explicitConnective, committed(primary, ['IDENTIFIER', '('])),
    primary.map((f): [Connective, LabelFilterExpr] => ['juxtaposed', f]),
  ).many(),
  (first, rest) => {
    const items: Item[] = [{ filter: first }];
    for (const [conn, f] of rest) {
      items[items.length - 1]!.next = conn;
      items.push({ filter: f });
    }
    return build(items);
  },
);

const PRECEDENCE: Record<'and' | 'or', number> = { or: 1, and: 2 };

/** Replays yacc's shift/reduce decisions over the flat list of filters and connectives. */
function build(items: Item[]): LabelFilterExpr {
  let pos = 0;
  // `pending`: precedence of the rule waiting on our left; undefined means it never reduces early.
  const parse = (pending: number | undefined): LabelFilterExpr => {
    let left = items[pos]!.filter;
    for (;;) {
      const conn = items[pos]!.next;
      if (conn === undefined) return left;
      if (conn === 'and' || conn === 'or') {
        const prec = PRECEDENCE[conn];
        if (pending !== undefined && pending >= prec) return left;
        pos++;
        const right = parse(prec);
        left = { kind: conn === 'and' ? 'AndFilter' : 'OrFilter', left, right };
      } else {
        // `,` and juxtaposition have no precedence: yacc shifts, so the rest binds to the right.
        pos++;
        const right = parse(undefined);
        left = { kind: 'AndFilter', left, right };
      }
    }
  };
  return parse(undefined);
}
