/**
 * The evaluation times of a metric query: `start + k·step` for k ≥ 0 while ≤ end (end inclusive),
 * as Loki's range vector iterator steps (`current += step; if current > end stop`). An instant
 * query has one step at its time (Loki forces a step of 1 ns when the step is 0).
 */

export interface MetricQueryParams {
  /** Nanoseconds since the epoch. For an instant query, start = end = the query time. */
  start: bigint;
  end: bigint;
  /** Nanoseconds; 0 for an instant query. */
  stepNs: bigint;
  instant: boolean;
}

export class StepGrid {
  /** Number of evaluation times (≥ 1 when start ≤ end). */
  readonly count: number;
  readonly start: bigint;
  readonly end: bigint;
  /** The step in ns, at least 1. */
  readonly step: bigint;
  private readonly tsMs: Float64Array;

  constructor(params: MetricQueryParams) {
    this.start = params.start;
    this.end = params.end;
    this.step = params.instant || params.stepNs <= 0n ? 1n : params.stepNs;
    if (params.instant) {
      this.count = 1;
    } else {
      this.count = params.end < params.start ? 0 : Number((params.end - params.start) / this.step) + 1;
    }
    this.tsMs = new Float64Array(this.count);
    for (let k = 0; k < this.count; k++) this.tsMs[k] = Number(this.timeNs(k) / 1_000_000n);
  }

  /** Evaluation time k in ns. */
  timeNs(k: number): bigint {
    return this.start + BigInt(k) * this.step;
  }

  /** Evaluation time k in ms (what results carry, Loki's model.Time). */
  timeMs(k: number): number {
    return this.tsMs[k]!;
  }
}
