/**
 * Binary operations, per step (Loki's `BinOpStepEvaluator`, `LiteralStepEvaluator` and
 * `syntax.MergeBinOp`, pkg/logql/evaluator.go + syntax/ast.go).
 *
 * Arithmetic: `+ - * / % ^`; Loki (unlike Prometheus) gives NaN for `x / 0` and `x % 0`.
 * Comparisons filter by default, keeping the vector side's value (for vector/vector the left
 * side's); with `bool` they return 0/1 for every matched pair.
 *
 * Vector matching: every vector/vector operation is one-to-one unless `group_left`/`group_right`
 * (Loki's parser always sets a `VectorMatching{Card: CardOneToOne}`). The matching signature is the
 * whole label set, or the `on (…)` labels, or all but the `ignoring (…)` labels. Errors, as Loki:
 * - two right samples with one signature: `found duplicate series on the right hand-side;many-to-many
 *   matching not allowed: matching labels must be unique on one side` (`left` for group_right);
 * - two left samples matching one right sample one-to-one: `multiple matches for labels: many-to-one
 *   matching must be explicit (group_left/group_right)`;
 * - grouped matching producing one label set twice: `multiple matches for labels: grouping labels
 *   must ensure unique matches`.
 * Result labels: one-to-one keeps the left labels, reduced to the `on` labels or without the
 * `ignoring` labels; grouped matching keeps the "many" side's labels plus the `group_x (…)` labels
 * taken from the "one" side (removed when empty there). There is no `__name__` to drop in LogQL.
 *
 * `and`/`or`/`unless` match on the same signatures and keep samples unchanged.
 */
import type { BinOpExpr, BinaryOp } from '../ast.js';
import { compareAsNumber } from '../syntax/metric.js';
import { QueryError } from './context.js';
import {
  dropLabels,
  getLabel,
  keepLabels,
  RefTable,
  setLabel,
  type SeriesRef,
  type StepEvaluator,
  type StepVector,
} from './series.js';

/** Go's `math.Pow` where it differs from `**`. */
function goPow(x: number, y: number): number {
  if (x === 1 || y === 0) return 1;
  if ((x === -1) && (y === Infinity || y === -Infinity)) return 1;
  return x ** y;
}

function isComparison(op: BinaryOp): boolean {
  return op === '==' || op === '!=' || op === '>' || op === '>=' || op === '<' || op === '<=';
}

/** The arithmetic result, or for comparisons 1/0. */
function apply(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return r === 0 ? NaN : l / r;
    case '%':
      return r === 0 ? NaN : l % r;
    case '^':
      return goPow(l, r);
    case '==':
    case '!=':
    case '>':
    case '>=':
    case '<':
    case '<=':
      return compareAsNumber(op, l, r);
    default:
      throw new QueryError(`should never happen: unexpected operation: (${op})`);
  }
}

/** A vector and a literal (the literal on the left when `literalLeft`). */
class LiteralBinOpEvaluator implements StepEvaluator {
  private readonly cmp: boolean;
  constructor(
    private readonly op: BinaryOp,
    private readonly literal: number,
    private readonly literalLeft: boolean,
    private readonly returnBool: boolean,
    private readonly inner: StepEvaluator,
  ) {
    this.cmp = isComparison(op);
  }

  next(): StepVector | null {
    const input = this.inner.next();
    if (input === null) return null;
    const refs: SeriesRef[] = [];
    const values: number[] = [];
    for (let i = 0; i < input.refs.length; i++) {
      const v = input.values[i]!;
      const res = this.literalLeft ? apply(this.op, this.literal, v) : apply(this.op, v, this.literal);
      if (this.cmp && !this.returnBool) {
        if (res === 0) continue;
        refs.push(input.refs[i]!);
        values.push(v);
        continue;
      }
      refs.push(input.refs[i]!);
      values.push(res);
    }
    return { refs, values };
  }
}

class VectorBinOpEvaluator implements StepEvaluator {
  private readonly sigs = new Map<SeriesRef, string>();
  private readonly names: ReadonlySet<string>;
  private readonly on: boolean;
  private readonly hasMatching: boolean;
  private readonly card: 'one-to-one' | 'many-to-one' | 'one-to-many';
  private readonly include: string[];
  private readonly table = new RefTable();
  private readonly resultCache = new Map<SeriesRef, Map<SeriesRef, SeriesRef>>();

  constructor(
    private readonly expr: BinOpExpr,
    private readonly left: StepEvaluator,
    private readonly right: StepEvaluator,
  ) {
    const m = expr.matching;
    this.hasMatching = m !== undefined;
    this.on = m?.on ?? false;
    this.names = new Set(m?.labels ?? []);
    this.card = m?.group === undefined ? 'one-to-one' : m.group.side === 'left' ? 'many-to-one' : 'one-to-many';
    this.include = m?.group?.labels ?? [];
  }

  private sig(ref: SeriesRef): string {
    let s = this.sigs.get(ref);
    if (s === undefined) {
      if (!this.hasMatching) s = ref.key;
      else if (this.on) s = this.table.intern(keepLabels(ref.labels, this.names)).key;
      else s = this.table.intern(dropLabels(ref.labels, this.names)).key;
      this.sigs.set(ref, s);
    }
    return s;
  }

  /** Loki's `resultMetric(lhs, rhs, opts)` (lhs is the "many" side for grouped matching). */
  private resultRef(l: SeriesRef, r: SeriesRef): SeriesRef {
    let inner = this.resultCache.get(l);
    if (inner === undefined) {
      inner = new Map();
      this.resultCache.set(l, inner);
    }
    let out = inner.get(r);
    if (out === undefined) {
      let labels = l.labels;
      if (this.card === 'one-to-one') {
        if (this.on) labels = keepLabels(labels, this.names);
        else labels = dropLabels(labels, this.names);
      }
      for (const name of this.include) labels = setLabel(labels, name, getLabel(r.labels, name) ?? '');
      out = this.table.intern(labels);
      inner.set(r, out);
    }
    return out;
  }

  next(): StepVector | null {
    const rhs = this.right.next();
    if (rhs === null) return null;
    const lhs = this.left.next();
    if (lhs === null) return null;
    switch (this.expr.op) {
      case 'and':
        return this.and(lhs, rhs);
      case 'or':
        return this.or(lhs, rhs);
      case 'unless':
        return this.unless(lhs, rhs);
      default:
        return this.binop(lhs, rhs);
    }
  }

  private and(lhs: StepVector, rhs: StepVector): StepVector {
    if (lhs.refs.length === 0 || rhs.refs.length === 0) return { refs: [], values: [] };
    const right = new Set<string>();
    for (const r of rhs.refs) right.add(this.sig(r));
    const refs: SeriesRef[] = [];
    const values: number[] = [];
    for (let i = 0; i < lhs.refs.length; i++) {
      if (right.has(this.sig(lhs.refs[i]!))) {
        refs.push(lhs.refs[i]!);
        values.push(lhs.values[i]!);
      }
    }
    return { refs, values };
  }

  private or(lhs: StepVector, rhs: StepVector): StepVector {
    if (lhs.refs.length === 0) return rhs;
    if (rhs.refs.length === 0) return lhs;
    const left = new Set<string>();
    const refs: SeriesRef[] = [];
    const values: number[] = [];
    for (let i = 0; i < lhs.refs.length; i++) {
      left.add(this.sig(lhs.refs[i]!));
      refs.push(lhs.refs[i]!);
      values.push(lhs.values[i]!);
    }
    for (let i = 0; i < rhs.refs.length; i++) {
      if (!left.has(this.sig(rhs.refs[i]!))) {
        refs.push(rhs.refs[i]!);
        values.push(rhs.values[i]!);
      }
    }
    return { refs, values };
  }

  private unless(lhs: StepVector, rhs: StepVector): StepVector {
    if (lhs.refs.length === 0 || rhs.refs.length === 0) return lhs;
    const right = new Set<string>();
    for (const r of rhs.refs) right.add(this.sig(r));
    const refs: SeriesRef[] = [];
    const values: number[] = [];
    for (let i = 0; i < lhs.refs.length; i++) {
      if (!right.has(this.sig(lhs.refs[i]!))) {
        refs.push(lhs.refs[i]!);
        values.push(lhs.values[i]!);
      }
    }
    return { refs, values };
  }

  /** Loki's `vectorBinop`. */
  private binop(origL: StepVector, origR: StepVector): StepVector {
    const op = this.expr.op;
    const oneToMany = this.card === 'one-to-many';
    // For one-to-many, swap so that the "many" side is on the left, and swap back to compute.
    const lhs = oneToMany ? origR : origL;
    const rhs = oneToMany ? origL : origR;
    const rightBySig = new Map<string, number>();
    for (let i = 0; i < rhs.refs.length; i++) {
      const sig = this.sig(rhs.refs[i]!);
      if (rightBySig.has(sig)) {
        const side = oneToMany ? 'left' : 'right';
        throw new QueryError(
          `found duplicate series on the ${side} hand-side;many-to-many matching not allowed: matching labels must be unique on one side`,
        );
      }
      rightBySig.set(sig, i);
    }
    const matched = new Map<string, Set<SeriesRef> | null>();
    const cmp = isComparison(op);
    const filter = !this.expr.returnBool;
    const refs: SeriesRef[] = [];
    const values: number[] = [];
    for (let i = 0; i < lhs.refs.length; i++) {
      const lref = lhs.refs[i]!;
      const sig = this.sig(lref);
      const j = rightBySig.get(sig);
      if (j === undefined) continue;
      const rref = rhs.refs[j]!;
      const metric = this.resultRef(lref, rref);
      if (this.card === 'one-to-one') {
        if (matched.has(sig)) {
          throw new QueryError('multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)');
        }
        matched.set(sig, null);
      } else {
        let inserted = matched.get(sig);
        if (inserted === undefined || inserted === null) {
          inserted = new Set();
          matched.set(sig, inserted);
        } else if (inserted.has(metric)) {
          throw new QueryError('multiple matches for labels: grouping labels must ensure unique matches');
        }
        inserted.add(metric);
      }
      let lv = lhs.values[i]!;
      let rv = rhs.values[j]!;
      if (oneToMany) [lv, rv] = [rv, lv];
      const res = apply(op, lv, rv);
      if (cmp && filter) {
        if (res === 0) continue;
        refs.push(metric);
        values.push(lv);
        continue;
      }
      refs.push(metric);
      values.push(res);
    }
    return { refs, values };
  }
}

/** A binary operation between two evaluators, or between an evaluator and a literal. */
export function binaryOperation(
  expr: BinOpExpr,
  left: StepEvaluator | number,
  right: StepEvaluator | number,
): StepEvaluator {
  if (typeof left === 'number') {
    if (typeof right === 'number') throw new QueryError('unexpected literal for both legs of binary operation');
    return new LiteralBinOpEvaluator(expr.op, left, true, expr.returnBool, right);
  }
  if (typeof right === 'number') return new LiteralBinOpEvaluator(expr.op, right, false, expr.returnBool, left);
  return new VectorBinOpEvaluator(expr, left, right);
}
