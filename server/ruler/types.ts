/**
 * Rule groups as the ruler holds them: Prometheus's rule-file model (model/rulefmt) with
 * durations in milliseconds. Shared by the loader, the store, the API and the evaluator.
 */

export interface RuleDesc {
  /** Exactly one of `alert` and `record` is set. */
  alert?: string;
  record?: string;
  /** LogQL metric query. */
  expr: string;
  /** Alerting rules: how long a condition must hold before it fires; 0 = at once. */
  forMs: number;
  /** Alerting rules: how long an alert keeps firing after its condition cleared. */
  keepFiringForMs: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RuleGroupDesc {
  name: string;
  /** 0 = the ruler's `evaluation_interval`. */
  intervalMs: number;
  /** Most alerts (pending and firing) a rule may have; 0 = no limit. */
  limit: number;
  rules: RuleDesc[];
}

/** One rule file: its namespace (the file's name) and its groups, in file order. */
export interface RuleNamespace {
  namespace: string;
  groups: RuleGroupDesc[];
}

/** A group or file that could not be loaded; the other groups still run. */
export interface RuleLoadError {
  tenant: string;
  /** The file's path on disk. */
  file: string;
  /** Empty when the whole file could not be read. */
  group: string;
  reason: string;
}
