/** Loki's run-time errors of metric queries, word for word (pkg/logqlmodel/error.go). */
import { ERROR_LABEL, labelsKey, type Labels } from '../pipeline/labels.js';
import { QueryError } from './context.js';
import { getLabel } from './series.js';

/**
 * `logqlmodel.PipelineError`: a sample that still carries `__error__` after the range aggregation.
 * The series is printed as Prometheus' `Labels.String()` (`{a="b", c="d"}`).
 */
export function pipelineError(labels: Labels): QueryError {
  const errorType = getLabel(labels, ERROR_LABEL) ?? '';
  return new QueryError(
    `pipeline error: '${errorType}' for series: '${labelsKey(labels)}'.\n` +
      `Use a label filter to intentionally skip this error. (e.g | __error__!="${errorType}").\n` +
      `To skip all potential errors you can match empty errors.(e.g __error__="")\n` +
      `The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__="" )\n`,
  );
}

/** `logqlmodel.NewSeriesLimitError` (Loki 3.x text). */
export function seriesLimitError(limit: number): QueryError {
  return new QueryError(
    `maximum number of series (${limit}) reached for a single query; consider reducing query cardinality by ` +
      `adding more specific stream selectors, reducing the time range, or aggregating results with functions ` +
      `like sum(), count() or topk()`,
  );
}
