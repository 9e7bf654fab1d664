/**
 * Metric (sample) queries: builds the step evaluators of a `SampleExpr` and joins their steps into
 * Loki's result types (pkg/logql/engine.go `evalSample`, `JoinSampleVector`, `evalLiteral`,
 * `evalVector`).
 *
 * - A literal alone: instant → scalar; range → a matrix of one label-less series with the value at
 *   every step (`PopulateMatrixFromScalar`).
 * - `vector(s)` alone: instant → one label-less sample; range → the same matrix.
 * - Anything else: instant → vector sorted by labels unless the query uses `sort`/`sort_desc`
 *   anywhere (Loki's `Sortable`), in which case the evaluator's order is kept; range → matrix
 *   sorted by labels.
 * - `max_query_series`: more samples than the limit in the first step (or in the instant vector), or
 *   more distinct series than the limit over the steps so far, fails with Loki's series-limit error.
 */
import type { Grouping, SampleExpr } from '../ast.js';
import type { Labels } from '../pipeline/labels.js';
import { QueryError, type QueryContext } from './context.js';
import { binaryOperation } from './binary-operation.js';
import { labelReplace, vectorLiteral } from './label-replace.js';
import { seriesLimitError } from './metric-errors.js';
import { rangeAggregation } from './range-aggregation.js';
import type { MatrixResult, Point, ScalarResult, Series, VectorResult, VectorSample } from './result.js';
import { compareLabels, type StepEvaluator } from './series.js';
import type { LogSource } from './source.js';
import { StepGrid, type MetricQueryParams } from './steps.js';
import { vectorAggregation } from './vector-aggregation.js';

export type { MetricQueryParams } from './steps.js';

/** How many steps the join runs between two `checkpoint()` calls. */
const CHECKPOINT_STEPS = 64;

/** Range ops whose samples a parent `sum` may group at extraction (Loki's `canInjectVectorGrouping`). */
const PUSHDOWN_OPS = new Set(['bytes_over_time', 'bytes_rate', 'sum_over_time', 'rate', 'count_over_time']);

interface Env {
  source: LogSource;
  grid: StepGrid;
  ctx: QueryContext;
}

/** Whether the expression contains sort or sort_desc (Loki's `Sortable`). */
export function isSortable(expr: SampleExpr): boolean {
  switch (expr.kind) {
    case 'VectorAggregation':
      return expr.op === 'sort' || expr.op === 'sort_desc' || isSortable(expr.expr);
    case 'BinOp':
      return isSortable(expr.left) || isSortable(expr.right);
    case 'LabelReplace':
      return isSortable(expr.expr);
    default:
      return false;
  }
}

async function build(expr: SampleExpr, env: Env): Promise<StepEvaluator | number> {
  switch (expr.kind) {
    case 'Literal':
      return expr.value;
    case 'Vector':
      return vectorLiteral(expr.value, env.grid);
    case 'RangeAggregation':
      return rangeAggregation(expr, env.source, env.grid, env.ctx);
    case 'VectorAggregation': {
      if (expr.op === 'approx_topk') throw new QueryError('approx_topk is not supported');
      const child = expr.expr;
      let inner: StepEvaluator;
      if (expr.op === 'sum' && child.kind === 'RangeAggregation' && !child.grouping && PUSHDOWN_OPS.has(child.op)) {
        const g: Grouping | undefined = expr.grouping;
        const noLabels = g === undefined || (!g.without && g.labels.length === 0);
        inner = await rangeAggregation(child, env.source, env.grid, env.ctx, noLabels ? { noLabels } : { grouping: g!, noLabels });
      } else {
        inner = asEvaluator(await build(child, env));
      }
      return vectorAggregation(expr, inner);
    }
    case 'BinOp': {
      const left = await build(expr.left, env);
      const right = await build(expr.right, env);
      return binaryOperation(expr, left, right);
    }
    case 'LabelReplace':
      return labelReplace(expr, asEvaluator(await build(expr.expr, env)));
  }
}

function asEvaluator(e: StepEvaluator | number): StepEvaluator {
  if (typeof e === 'number') throw new QueryError('unexpected literal in a vector expression');
  return e;
}

function scalarMatrix(value: number, grid: StepGrid): MatrixResult {
  const points: Point[] = [];
  for (let k = 0; k < grid.count; k++) points.push({ t: grid.timeMs(k), v: value });
  return { type: 'matrix', series: [{ labels: [], points }] };
}

/**
 * Evaluates a metric query over `source`. Instant queries (`params.instant`, start = end = time)
 * return a vector (a scalar for a literal); range queries a matrix. Throws QueryError (bad query at
 * run time, pipeline error, series limit) or whatever `ctx.checkpoint()` throws.
 */
export async function evaluateSample(
  expr: SampleExpr,
  source: LogSource,
  params: MetricQueryParams,
  ctx: QueryContext,
): Promise<MatrixResult | VectorResult | ScalarResult> {
  const grid = new StepGrid(params);
  if (expr.kind === 'Literal') {
    if (params.instant) return { type: 'scalar', t: grid.timeMs(0), v: expr.value };
    return scalarMatrix(expr.value, grid);
  }
  if (expr.kind === 'Vector') {
    if (params.instant) return { type: 'vector', samples: [{ labels: [], t: grid.timeMs(0), v: expr.value }] };
    return scalarMatrix(expr.value, grid);
  }
  const evaluator = asEvaluator(await build(expr, { source, grid, ctx }));
  const max = ctx.limits.maxQuerySeries;

  if (params.instant) {
    const vec = evaluator.next();
    const samples: VectorSample[] = [];
    if (vec !== null) {
      if (max > 0 && vec.refs.length > max) throw seriesLimitError(max);
      const t = grid.timeMs(0);
      for (let i = 0; i < vec.refs.length; i++) samples.push({ labels: vec.refs[i]!.labels, t, v: vec.values[i]! });
      if (!isSortable(expr)) samples.sort((a, b) => compareLabels(a.labels, b.labels));
    }
    return { type: 'vector', samples };
  }

  const byKey = new Map<string, { labels: Labels; points: Point[] }>();
  for (let k = 0; ; k++) {
    if (k % CHECKPOINT_STEPS === CHECKPOINT_STEPS - 1) {
      const p = ctx.checkpoint();
      if (p) await p;
    }
    const vec = evaluator.next();
    if (vec === null) break;
    if (k === 0 && max > 0 && vec.refs.length > max) throw seriesLimitError(max);
    const t = grid.timeMs(k);
    for (let i = 0; i < vec.refs.length; i++) {
      const ref = vec.refs[i]!;
      let s = byKey.get(ref.key);
      if (s === undefined) {
        s = { labels: ref.labels, points: [] };
        byKey.set(ref.key, s);
      }
      s.points.push({ t, v: vec.values[i]! });
    }
    if (max > 0 && byKey.size > max) throw seriesLimitError(max);
  }
  const series: Series[] = [...byKey.values()];
  series.sort((a, b) => compareLabels(a.labels, b.labels));
  return { type: 'matrix', series };
}
