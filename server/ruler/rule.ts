/** What alerting and recording rules share: their input samples, health and evaluation status. */

/** One sample of a rule's query result at the evaluation time (a scalar has no labels). */
export interface RuleSample {
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** A series of a range evaluation of a rule's query: points at each step where the query had a value. */
export interface RuleSeries {
  readonly labels: Record<string, string>;
  /** Ascending by `t` (ms). */
  readonly points: ReadonlyArray<{ readonly t: number; readonly v: number }>;
}

/** Prometheus's rule health strings (rules/rule.go). */
export type RuleHealth = 'unknown' | 'ok' | 'err';

export interface RuleStatus {
  health: RuleHealth;
  lastError: string;
  /** Milliseconds since the epoch of the last evaluation; 0 = never. */
  lastEvaluation: number;
  evaluationSeconds: number;
}

/** A rule's evaluation failed: its health becomes `err` and nothing is sent for it that cycle. */
export class RuleEvaluationError extends Error {
  override readonly name = 'RuleEvaluationError';
}

/** A label set as remote write takes it: sorted by name, without empty values (Prometheus's "no such label"). */
export function sortedLabelPairs(labels: Record<string, string>): [string, string][] {
  return Object.keys(labels)
    .sort()
    .filter((name) => labels[name] !== '')
    .map((name) => [name, labels[name]!]);
}
