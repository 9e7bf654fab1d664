/**
 * Range aggregations (Loki's pkg/logql/range_vector.go): at each evaluation time t, every series
 * that has samples in the window `(t − offset − range, t − offset]` (left-open, right-closed: Loki's
 * `load` skips `ts <= start` and stops at `ts > end`) gives one sample computed from them.
 *
 * The samples come from `extractSamples` (each stream read once, forward). Windows slide with two
 * indexes per series, so a step costs O(samples entering and leaving) for count/bytes-like ops
 * (prefix sums) and O(samples in the window) for the others, which iterate the window exactly as
 * Loki's aggregators do (same summation order).
 *
 * A sample whose series still carries `__error__` fails the query with Loki's pipeline error at the
 * first step where it is in a window.
 */
import type { LabelMatcher, RangeAggregationExpr, RangeOp } from '../ast.js';
import type { Label } from '../pipeline/labels.js';
import type { QueryContext } from './context.js';
import { pipelineError } from './metric-errors.js';
import { extractSamples, type ExtractionSpec, type SampleSeries, type SampleValueKind } from './samples.js';
import { makeRef, sortLabels, type SeriesRef, type StepEvaluator, type StepVector } from './series.js';
import type { LogSource } from './source.js';
import type { StepGrid } from './steps.js';

/** What each log entry contributes for `op` (Loki's `extractor`). */
export function sampleKind(expr: RangeAggregationExpr): SampleValueKind {
  if (expr.range.unwrap) return 'unwrap';
  return expr.op === 'bytes_over_time' || expr.op === 'bytes_rate' ? 'bytes' : 'count';
}

/**
 * absent_over_time's labels (Loki's `absentLabels`, as Prometheus' `createLabelsForAbsentFunction`):
 * the selector's equality matchers; a name that also has another matcher, or a second equality
 * matcher, is left out.
 */
export function absentLabels(matchers: readonly LabelMatcher[]): Label[] {
  const out = new Map<string, string>();
  const drop = new Set<string>();
  for (const m of matchers) {
    if (m.name === '__name__') continue;
    if (m.type === '=' && !out.has(m.name)) out.set(m.name, m.value);
    else drop.add(m.name);
  }
  for (const n of drop) out.delete(n);
  return sortLabels([...out].map(([name, value]) => ({ name, value })));
}

/** Prometheus' `quantile` as Loki's `Quantile` (linear interpolation between closest ranks). */
export function quantile(q: number, sorted: Float64Array, n: number): number {
  if (n === 0) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return sorted[lower]! * (1 - weight) + sorted[upper]! * weight;
}

/**
 * rate_counter: Prometheus' `extrapolatedRate` (counter, per second) over the window. Loki ported it
 * with nanosecond/millisecond confusion (#23670), fixed in #23684 to use the query window's bounds
 * and nanosecond durations "matching Prometheus' rate/increase extrapolation"; this follows current
 * Prometheus (half-interval caps, then the counter zero-point cap). Fewer than two samples give 0,
 * as Loki's implementation returns.
 */
export function counterRate(
  ts: Float64Array,
  vs: Float64Array | null,
  i0: number,
  i1: number,
  rangeStart: number,
  rangeEnd: number,
  rangeSeconds: number,
): number {
  const n = i1 - i0;
  if (n < 2) return 0;
  const val = (i: number): number => (vs === null ? 1 : vs[i]!);
  const first = val(i0);
  const last = val(i1 - 1);
  let result = last - first;
  let prev = 0;
  for (let i = i0; i < i1; i++) {
    const v = val(i);
    if (v < prev) result += prev;
    prev = v;
  }
  const firstT = ts[i0]!;
  const lastT = ts[i1 - 1]!;
  let durationToStart = (firstT - rangeStart) / 1e9;
  let durationToEnd = (rangeEnd - lastT) / 1e9;
  const sampledInterval = (lastT - firstT) / 1e9;
  const avg = sampledInterval / (n - 1);
  const threshold = avg * 1.1;
  if (durationToStart >= threshold) durationToStart = avg / 2;
  if (result > 0 && first >= 0) {
    const durationToZero = sampledInterval * (first / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= threshold) durationToEnd = avg / 2;
  const factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval / rangeSeconds;
  return result * factor;
}

type WindowFn = (s: SampleSeries, i0: number, i1: number, lo: number, hi: number, prefix: Float64Array | null) => number;

function windowFunction(expr: RangeAggregationExpr, scratch: { buf: Float64Array }): WindowFn {
  const rangeSeconds = expr.range.rangeMs / 1000;
  const op: RangeOp = expr.op;
  const hasUnwrap = expr.range.unwrap !== undefined;
  const sum = (s: SampleSeries, i0: number, i1: number): number => {
    const vs = s.values;
    if (vs === null) return i1 - i0;
    let acc = 0;
    for (let i = i0; i < i1; i++) acc += vs[i]!;
    return acc;
  };
  const prefixSum = (s: SampleSeries, i0: number, i1: number, prefix: Float64Array | null): number =>
    s.values === null ? i1 - i0 : prefix !== null ? prefix[i1]! - prefix[i0]! : sum(s, i0, i1);
  switch (op) {
    // Count-like series have values only when blocks were counted from the index (weighted samples).
    case 'count_over_time':
      return (s, i0, i1, _lo, _hi, p) => prefixSum(s, i0, i1, p);
    case 'rate':
      return hasUnwrap ? (s, i0, i1) => sum(s, i0, i1) / rangeSeconds : (s, i0, i1, _lo, _hi, p) => prefixSum(s, i0, i1, p) / rangeSeconds;
    case 'bytes_over_time':
      return (s, i0, i1, _lo, _hi, p) => prefixSum(s, i0, i1, p);
    case 'bytes_rate':
      return (s, i0, i1, _lo, _hi, p) => prefixSum(s, i0, i1, p) / rangeSeconds;
    case 'sum_over_time':
      return (s, i0, i1) => sum(s, i0, i1);
    case 'avg_over_time':
      return (s, i0, i1) => {
        const vs = s.values!;
        let mean = 0;
        let count = 0;
        for (let i = i0; i < i1; i++) {
          const v = vs[i]!;
          count++;
          if (mean === Infinity || mean === -Infinity) {
            if ((v === Infinity || v === -Infinity) && mean > 0 === v > 0) continue;
            if (Number.isFinite(v)) continue;
          }
          mean += v / count - mean / count;
        }
        return mean;
      };
    case 'max_over_time':
      return (s, i0, i1) => {
        const vs = s.values!;
        let m = vs[i0]!;
        for (let i = i0; i < i1; i++) {
          const v = vs[i]!;
          if (v > m || Number.isNaN(m)) m = v;
        }
        return m;
      };
    case 'min_over_time':
      return (s, i0, i1) => {
        const vs = s.values!;
        let m = vs[i0]!;
        for (let i = i0; i < i1; i++) {
          const v = vs[i]!;
          if (v < m || Number.isNaN(m)) m = v;
        }
        return m;
      };
    case 'stdvar_over_time':
    case 'stddev_over_time': {
      const dev = op === 'stddev_over_time';
      return (s, i0, i1) => {
        const vs = s.values!;
        let aux = 0;
        let count = 0;
        let mean = 0;
        for (let i = i0; i < i1; i++) {
          const v = vs[i]!;
          count++;
          const delta = v - mean;
          mean += delta / count;
          aux += delta * (v - mean);
        }
        return dev ? Math.sqrt(aux / count) : aux / count;
      };
    }
    case 'quantile_over_time': {
      const q = expr.param ?? NaN;
      return (s, i0, i1) => {
        const n = i1 - i0;
        if (scratch.buf.length < n) scratch.buf = new Float64Array(Math.max(n, scratch.buf.length * 2));
        const view = scratch.buf.subarray(0, n);
        view.set(s.values!.subarray(i0, i1));
        view.sort();
        // Typed-array sort puts NaN last; Loki's HeapByMaxValue order (NaN is "less") puts it first.
        let nans = 0;
        while (nans < n && Number.isNaN(view[n - 1 - nans]!)) nans++;
        if (nans > 0) {
          view.copyWithin(nans, 0, n - nans);
          view.fill(NaN, 0, nans);
        }
        return quantile(q, view, n);
      };
    }
    case 'first_over_time':
      return (s, i0) => s.values![i0]!;
    case 'last_over_time':
      return (s, _i0, i1) => s.values![i1 - 1]!;
    case 'rate_counter':
      return (s, i0, i1, lo, hi) => counterRate(s.ts, s.values, i0, i1, lo, hi, rangeSeconds);
    case 'absent_over_time':
      return () => 1;
  }
}

/** Steps through the extracted samples of one range aggregation. */
class RangeAggregationEvaluator implements StepEvaluator {
  private k = 0;
  private readonly lo: Int32Array;
  private readonly hi: Int32Array;
  private readonly prefix: (Float64Array | null)[];
  private readonly fn: WindowFn;
  private readonly stepNs: number;
  private readonly rangeNs: number;
  private readonly absentRef: SeriesRef | null;

  constructor(
    expr: RangeAggregationExpr,
    private readonly series: SampleSeries[],
    private readonly grid: StepGrid,
  ) {
    this.lo = new Int32Array(series.length);
    this.hi = new Int32Array(series.length);
    this.fn = windowFunction(expr, { buf: new Float64Array(64) });
    this.stepNs = Number(grid.step);
    this.rangeNs = expr.range.rangeMs * 1e6;
    const usesPrefix =
      expr.op === 'bytes_over_time' || expr.op === 'bytes_rate' || expr.op === 'count_over_time' || (expr.op === 'rate' && !expr.range.unwrap);
    this.prefix = series.map((s) => {
      if (!usesPrefix || s.values === null) return null;
      const p = new Float64Array(s.length + 1);
      for (let i = 0; i < s.length; i++) p[i + 1] = p[i]! + s.values[i]!;
      return p;
    });
    this.absentRef = expr.op === 'absent_over_time' ? makeRef(absentLabels(expr.range.selector.matchers)) : null;
  }

  next(): StepVector | null {
    const k = this.k;
    if (k >= this.grid.count) return null;
    this.k++;
    // Relative to the read base (start − range − offset), the window of step k is (k·step, k·step + range].
    const lo = k * this.stepNs;
    const hi = lo + this.rangeNs;
    const refs: SeriesRef[] = [];
    const values: number[] = [];
    const series = this.series;
    for (let j = 0; j < series.length; j++) {
      const s = series[j]!;
      const ts = s.ts;
      const n = s.length;
      let a = this.lo[j]!;
      let b = this.hi[j]!;
      if (b < a) b = a;
      while (a < n && ts[a]! <= lo) a++;
      if (b < a) b = a;
      while (b < n && ts[b]! <= hi) b++;
      this.lo[j] = a;
      this.hi[j] = b;
      if (b === a) continue;
      if (s.hasError) throw pipelineError(s.ref.labels);
      if (this.absentRef !== null) continue;
      refs.push(s.ref);
      values.push(this.fn(s, a, b, lo, hi, this.prefix[j]!));
    }
    if (this.absentRef !== null) {
      // absent_over_time: one sample when no series has samples in the window, else nothing.
      for (let j = 0; j < series.length; j++) if (this.hi[j]! > this.lo[j]!) return { refs: [], values: [] };
      return { refs: [this.absentRef], values: [1] };
    }
    return { refs, values };
  }
}

/**
 * Whether every time in [min, max] (ns relative to the read start) lies in the same windows: the
 * windows of steps k are (k·step, k·step + range], so that holds when no window bound k·step or
 * k·step + range (k < count) falls in [min, max).
 */
export function sameWindows(min: number, max: number, step: number, range: number, count: number): boolean {
  const firstLow = Math.max(0, Math.ceil(min / step));
  if (firstLow < count && firstLow * step < max) return false;
  const firstHigh = Math.max(0, Math.ceil((min - range) / step));
  return !(firstHigh < count && firstHigh * step + range < max);
}

/**
 * Reads the samples of a range aggregation and returns its step evaluator. `pushdown` is a parent
 * `sum`'s grouping injected into the extraction (Loki does this for sum over
 * count/rate/bytes/bytes_rate/sum_over_time without their own grouping); `null` = `sum` without
 * grouping (no labels).
 */
export async function rangeAggregation(
  expr: RangeAggregationExpr,
  source: LogSource,
  grid: StepGrid,
  ctx: QueryContext,
  pushdown?: { grouping?: RangeAggregationExpr['grouping']; noLabels: boolean },
): Promise<StepEvaluator> {
  const rangeNs = BigInt(expr.range.rangeMs) * 1_000_000n;
  const offsetNs = BigInt(expr.range.offsetMs) * 1_000_000n;
  const spec: ExtractionSpec = { range: expr.range, kind: sampleKind(expr) };
  if (pushdown) {
    if (pushdown.grouping) spec.grouping = pushdown.grouping;
    spec.noLabels = pushdown.noLabels;
  } else if (expr.grouping) {
    spec.grouping = expr.grouping;
  }
  if (expr.op === 'absent_over_time') spec.noLabels = true;
  if (expr.op === 'count_over_time' || (expr.op === 'rate' && !expr.range.unwrap)) {
    spec.sameWindows = (min, max) => sameWindows(min, max, Number(grid.step), Number(rangeNs), grid.count);
  }
  // Loki selects [start − range − offset, end − offset + 1ns): windows are left-open, right-closed.
  const readStart = grid.start - rangeNs - offsetNs;
  const readEnd = grid.end - offsetNs + 1n;
  const { series } = await extractSamples(spec, source, readStart, readEnd, ctx);
  return new RangeAggregationEvaluator(expr, series, grid);
}
