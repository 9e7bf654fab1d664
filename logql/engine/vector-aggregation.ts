/**
 * Vector aggregations, per step (Loki's `VectorAggEvaluator`, pkg/logql/evaluator.go):
 * sum avg min max count stddev stdvar topk bottomk sort sort_desc, with `by`/`without`.
 *
 * - No grouping is `by ()`: one group without labels (Loki's `Grouping{Groups: nil}`).
 * - `by (l…)` keeps those labels, `without (l…)` drops them (and `__name__`).
 * - sum: running sum; avg: `mean += (v − mean)/n`; max/min: first value, replaced by a greater
 *   (smaller) one or when the current is NaN; count; stddev/stdvar: Welford from the first value.
 * - topk/bottomk: per group a bounded heap with Go `container/heap` semantics and Loki's Less
 *   (`NaN` is always "less"); a new sample replaces the heap top only when strictly better (or the
 *   top is NaN), so among ties the first seen wins. Input order is the label order of the series.
 * - sort/sort_desc, topk/bottomk output each group's samples by value (desc for topk/sort_desc,
 *   asc for bottomk/sort), NaN last; ties by labels. Groups come in order of first appearance.
 */
import type { VectorAggregationExpr } from '../ast.js';
import { compareLabels, dropLabels, keepLabels, RefTable, type SeriesRef, type StepEvaluator, type StepVector } from './series.js';

interface Acc {
  ref: SeriesRef;
  value: number;
  mean: number;
  count: number;
  heap: { ref: SeriesRef; v: number }[];
}

type Item = { ref: SeriesRef; v: number };
type Less = (a: Item, b: Item) => boolean;

// Loki's vectorByValueHeap / vectorByReverseValueHeap.
const lessByValue: Less = (a, b) => Number.isNaN(a.v) || a.v < b.v;
const lessByReverseValue: Less = (a, b) => Number.isNaN(a.v) || a.v > b.v;

function heapUp(h: Item[], j: number, less: Less): void {
  for (;;) {
    const i = (j - 1) >> 1;
    if (i === j || j <= 0 || !less(h[j]!, h[i]!)) break;
    const t = h[i]!;
    h[i] = h[j]!;
    h[j] = t;
    j = i;
  }
}

function heapDown(h: Item[], i0: number, n: number, less: Less): void {
  let i = i0;
  for (;;) {
    const j1 = 2 * i + 1;
    if (j1 >= n || j1 < 0) break;
    let j = j1;
    const j2 = j1 + 1;
    if (j2 < n && less(h[j2]!, h[j1]!)) j = j2;
    if (!less(h[j]!, h[i]!)) break;
    const t = h[i]!;
    h[i] = h[j]!;
    h[j] = t;
    i = j;
  }
}

function heapPush(h: Item[], x: Item, less: Less): void {
  h.push(x);
  heapUp(h, h.length - 1, less);
}

function heapPop(h: Item[], less: Less): void {
  const n = h.length - 1;
  const t = h[0]!;
  h[0] = h[n]!;
  h[n] = t;
  heapDown(h, 0, n, less);
  h.pop();
}

function byValueDesc(a: Item, b: Item): number {
  const an = Number.isNaN(a.v);
  const bn = Number.isNaN(b.v);
  if (an || bn) return an && bn ? compareLabels(a.ref.labels, b.ref.labels) : an ? 1 : -1;
  return b.v - a.v || compareLabels(a.ref.labels, b.ref.labels);
}

function byValueAsc(a: Item, b: Item): number {
  const an = Number.isNaN(a.v);
  const bn = Number.isNaN(b.v);
  if (an || bn) return an && bn ? compareLabels(a.ref.labels, b.ref.labels) : an ? 1 : -1;
  return a.v - b.v || compareLabels(a.ref.labels, b.ref.labels);
}

class VectorAggregationEvaluator implements StepEvaluator {
  private readonly groupOf = new Map<SeriesRef, SeriesRef>();
  private readonly table = new RefTable();
  private readonly names: ReadonlySet<string>;
  private readonly without: boolean;

  constructor(
    private readonly expr: VectorAggregationExpr,
    private readonly inner: StepEvaluator,
  ) {
    const g = expr.grouping;
    this.without = g?.without ?? false;
    const names = new Set(g?.labels ?? []);
    if (this.without) names.add('__name__');
    this.names = names;
  }

  private group(ref: SeriesRef): SeriesRef {
    let g = this.groupOf.get(ref);
    if (g === undefined) {
      g = this.table.intern(this.without ? dropLabels(ref.labels, this.names) : keepLabels(ref.labels, this.names));
      this.groupOf.set(ref, g);
    }
    return g;
  }

  next(): StepVector | null {
    const input = this.inner.next();
    if (input === null) return null;
    const op = this.expr.op;
    const k = this.expr.param ?? 0;
    const groups = new Map<SeriesRef, Acc>();
    const { refs, values } = input;
    const heapLess = op === 'topk' || op === 'sort_desc' ? lessByValue : lessByReverseValue;
    for (let i = 0; i < refs.length; i++) {
      const ref = refs[i]!;
      const v = values[i]!;
      const gref = this.group(ref);
      const g = groups.get(gref);
      if (g === undefined) {
        const acc: Acc = { ref: gref, value: v, mean: v, count: 1, heap: [] };
        if (op === 'stddev' || op === 'stdvar') acc.value = 0;
        else if (op === 'topk' || op === 'bottomk' || op === 'sort' || op === 'sort_desc') heapPush(acc.heap, { ref, v }, heapLess);
        groups.set(gref, acc);
        continue;
      }
      switch (op) {
        case 'sum':
          g.value += v;
          break;
        case 'avg':
          g.count++;
          g.mean += (v - g.mean) / g.count;
          break;
        case 'max':
          if (g.value < v || Number.isNaN(g.value)) g.value = v;
          break;
        case 'min':
          if (g.value > v || Number.isNaN(g.value)) g.value = v;
          break;
        case 'count':
          g.count++;
          break;
        case 'stddev':
        case 'stdvar': {
          g.count++;
          const delta = v - g.mean;
          g.mean += delta / g.count;
          g.value += delta * (v - g.mean);
          break;
        }
        case 'topk':
        case 'bottomk': {
          const h = g.heap;
          const top = h[0]!.v;
          const better = op === 'topk' ? top < v : top > v;
          if (h.length < k || better || Number.isNaN(top)) {
            if (h.length === k) heapPop(h, heapLess);
            heapPush(h, { ref, v }, heapLess);
          }
          break;
        }
        case 'sort':
        case 'sort_desc':
          heapPush(g.heap, { ref, v }, heapLess);
          break;
        case 'approx_topk':
          throw new Error('approx_topk is not supported');
      }
    }
    const outRefs: SeriesRef[] = [];
    const outValues: number[] = [];
    for (const g of groups.values()) {
      switch (op) {
        case 'avg':
          g.value = g.mean;
          break;
        case 'count':
          g.value = g.count;
          break;
        case 'stddev':
          g.value = Math.sqrt(g.value / g.count);
          break;
        case 'stdvar':
          g.value = g.value / g.count;
          break;
        case 'topk':
        case 'sort_desc':
        case 'bottomk':
        case 'sort': {
          const sorted = g.heap.slice().sort(op === 'topk' || op === 'sort_desc' ? byValueDesc : byValueAsc);
          for (const it of sorted) {
            outRefs.push(it.ref);
            outValues.push(it.v);
          }
          continue;
        }
        default:
          break;
      }
      outRefs.push(g.ref);
      outValues.push(g.value);
    }
    return { refs: outRefs, values: outValues };
  }
}

export function vectorAggregation(expr: VectorAggregationExpr, inner: StepEvaluator): StepEvaluator {
  return new VectorAggregationEvaluator(expr, inner);
}
