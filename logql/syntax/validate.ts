/**
 * Loki's `validateExpr`, run after a query parsed: every selector the query reads must have a
 * matcher that rejects the empty string, and `sort`/`sort_desc` may not group. The walk visits
 * operands left to right, so the first error reported is the one Loki reports.
 */
import type { Expr, SampleExpr } from '../ast.js';
import { ParseError } from '../errors.js';
import { validateSelector } from './selector.js';

export function validateExpr(e: Expr): void {
  if (e.kind === 'LogSelector') validateSelector(e.matchers);
  else validateSample(e);
}

function validateSample(e: SampleExpr): void {
  switch (e.kind) {
    case 'BinOp':
      validateSample(e.left);
      validateSample(e.right);
      return;
    case 'Literal':
    case 'Vector':
      return;
    case 'VectorAggregation':
      if ((e.op === 'sort' || e.op === 'sort_desc') && (e.grouping?.labels.length ?? 0) > 0) {
        throw new ParseError("sort and sort_desc doesn't allow grouping by ", 0, 0);
      }
      validateSample(e.expr);
      return;
    case 'LabelReplace':
      // Loki accepts label_replace(vector(0), …): only the wrapped expression's selectors count.
      validateSample(e.expr);
      return;
    case 'RangeAggregation':
      validateSelector(e.range.selector.matchers);
  }
}
