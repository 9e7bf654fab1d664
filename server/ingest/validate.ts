/**
 * Loki's push validation: stream labels and per-entry checks, with Loki's discard
 * reasons (the `reason` label of loki_discarded_samples_total) and error texts.
 */
import { LabelStringError, formatLabelString, parseLabelString } from '../../proto/index.js';
import type { LimitsConfig } from '../config.js';

export type DiscardReason =
  | 'missing_labels'
  | 'invalid_labels'
  | 'max_label_names_per_series'
  | 'label_name_too_long'
  | 'label_value_too_long'
  | 'duplicate_label_names'
  | 'line_too_long'
  | 'greater_than_max_sample_age'
  | 'too_far_in_future'
  | 'too_far_behind'
  | 'rate_limited'
  | 'per_stream_rate_limit'
  | 'stream_limit';

export class ValidationError extends Error {
  constructor(readonly reason: DiscardReason, message: string) {
    super(message);
  }
}

export interface ValidStreamLabels {
  /** Canonical form: names sorted, values quoted as Go does. */
  labels: string;
  pairs: Array<[string, string]>;
}

/** Parses and checks a stream's label string; throws ValidationError. */
export function validateStreamLabels(raw: string, limits: LimitsConfig): ValidStreamLabels {
  let pairs: Array<[string, string]>;
  try {
    pairs = parseLabelString(raw);
  } catch (err) {
    const detail = err instanceof LabelStringError ? err.message : String(err);
    throw new ValidationError('invalid_labels', `error parsing labels '${raw}' with error: ${detail}`);
  }
  if (pairs.length === 0) throw new ValidationError('missing_labels', 'error at least one label pair is required per stream');
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const labels = formatLabelString(pairs);
  if (pairs.length > limits.max_label_names_per_series) {
    throw new ValidationError(
      'max_label_names_per_series',
      `entry for stream '${labels}' has ${pairs.length} label names; limit ${limits.max_label_names_per_series}`,
    );
  }
  for (let i = 0; i < pairs.length; i++) {
    const [name, value] = pairs[i]!;
    if (name.length > limits.max_label_name_length) {
      throw new ValidationError('label_name_too_long', `stream '${labels}' has label name too long: '${name}'`);
    }
    if (value.length > limits.max_label_value_length) {
      throw new ValidationError('label_value_too_long', `stream '${labels}' has label value too long: '${value}'`);
    }
    if (i > 0 && pairs[i - 1]![0] === name) {
      throw new ValidationError('duplicate_label_names', `stream '${labels}' has duplicate label name: '${name}'`);
    }
  }
  return { labels, pairs };
}

/** RFC3339 with nanoseconds, as Go prints time.Time in Loki's messages. */
export function formatTimestamp(seconds: number, nanos: number): string {
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return `${seconds}s`;
  const iso = date.toISOString().slice(0, 19);
  if (nanos === 0) return `${iso}Z`;
  return `${iso}.${String(nanos).padStart(9, '0').replace(/0+$/, '')}Z`;
}

export function formatMs(ms: number): string {
  return formatTimestamp(Math.floor(ms / 1000), (ms % 1000) * 1e6);
}
