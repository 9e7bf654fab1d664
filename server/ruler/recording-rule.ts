/**
 * A recording rule (Prometheus's rules/recording.go): its result's samples, renamed to the
 * rule's `record` name and given its labels, become series for remote write.
 */
import type { RemoteWriteSeries } from '../../proto/remote-write.js';
import { RuleEvaluationError, sortedLabelPairs, type RuleSample, type RuleStatus } from './rule.js';
import type { RuleDesc } from './types.js';

export class RecordingRule {
  readonly kind = 'recording';
  readonly name: string;
  readonly status: RuleStatus = { health: 'unknown', lastError: '', lastEvaluation: 0, evaluationSeconds: 0 };

  constructor(readonly desc: RuleDesc) {
    this.name = desc.record ?? '';
  }

  /** The series to write for one evaluation at `ts` (ms); throws RuleEvaluationError on duplicates or an exceeded `limit`. */
  evaluate(ts: number, samples: readonly RuleSample[], limit: number): RemoteWriteSeries[] {
    const series: RemoteWriteSeries[] = [];
    const seen = new Set<string>();
    for (const sample of samples) {
      const labels: Record<string, string> = { ...sample.labels, ...this.desc.labels, __name__: this.name };
      const pairs = sortedLabelPairs(labels);
      const key = JSON.stringify(pairs);
      if (seen.has(key)) throw new RuleEvaluationError('vector contains metrics with the same labelset after applying rule labels');
      seen.add(key);
      series.push({ labels: pairs, samples: [{ t: ts, v: sample.value }] });
    }
    if (limit > 0 && series.length > limit) throw new RuleEvaluationError(`exceeded limit of ${limit} with ${series.length} series`);
    return series;
  }

  copyStateFrom(previous: RecordingRule): void {
    Object.assign(this.status, previous.status);
  }
}
