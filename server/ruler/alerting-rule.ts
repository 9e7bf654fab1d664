/**
 * An alerting rule's state machine, as Prometheus's rules/alerting.go: each sample of the
 * rule's result is an alert instance, pending until its condition held for `for`, then firing;
 * an instance missing from a result resolves (after `keep_firing_for`), and resolved instances
 * are kept for 15 minutes so that Alertmanager keeps hearing that they ended.
 */
import { expandAlertTemplate, type AlertTemplateData } from './template.js';
import type { RuleDesc } from './types.js';
import { RuleEvaluationError, type RuleSample, type RuleSeries, type RuleStatus } from './rule.js';

export type AlertState = 'pending' | 'firing' | 'inactive';

/** Prometheus's resolvedRetention: resolved alerts are kept and re-sent for this long. */
export const RESOLVED_RETENTION_MS = 15 * 60_000;

export interface Alert {
  /** Sorted by name: the sample's labels without `__name__`, the rule's labels, `alertname`. */
  readonly labels: Record<string, string>;
  annotations: Record<string, string>;
  state: AlertState;
  value: number;
  /** Milliseconds since the epoch; 0 = not yet. */
  activeAt: number;
  firedAt: number;
  resolvedAt: number;
  lastSentAt: number;
  validUntil: number;
  keepFiringSince: number;
}

/** What the ruler hands the notifier: Prometheus's NotifyFunc fields. */
export interface AlertNotification {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: number;
  endsAt: number;
}

export interface TemplateContext {
  externalLabels: Record<string, string>;
  externalURL: string;
}

export class AlertingRule {
  readonly kind = 'alerting';
  readonly name: string;
  /** Alerts by label-set fingerprint. */
  private active = new Map<string, Alert>();
  readonly status: RuleStatus = { health: 'unknown', lastError: '', lastEvaluation: 0, evaluationSeconds: 0 };

  constructor(readonly desc: RuleDesc) {
    this.name = desc.alert ?? '';
  }

  /** Unresolved alerts (pending and firing), sorted by labels for stable output. */
  activeAlerts(): Alert[] {
    return [...this.active.values()].filter((a) => a.state !== 'inactive').sort((a, b) => compareLabels(a.labels, b.labels));
  }

  /** The rule's state: its most advanced alert's; `inactive` with none. */
  state(): AlertState {
    let state: AlertState = 'inactive';
    for (const alert of this.active.values()) {
      if (alert.state === 'firing') return 'firing';
      if (alert.state === 'pending') state = 'pending';
    }
    return state;
  }

  /**
   * Takes one evaluation's samples at `ts` (ms). Throws RuleEvaluationError for a duplicate label
   * set or an exceeded `limit`, in which case, as in Prometheus, every alert is cleared.
   */
  evaluate(ts: number, samples: readonly RuleSample[], limit: number, templates: TemplateContext): void {
    const seen = new Set<string>();
    for (const sample of samples) {
      const { labels: sorted, annotations } = this.instance(sample, templates, ts);
      const key = fingerprint(sorted);
      if (seen.has(key)) {
        this.active.clear();
        throw new RuleEvaluationError('vector contains metrics with the same labelset after applying alert labels');
      }
      seen.add(key);
      const existing = this.active.get(key);
      if (existing !== undefined && existing.state !== 'inactive') {
        existing.value = sample.value;
        existing.annotations = annotations;
        continue;
      }
      this.active.set(key, { ...newAlert(sorted, annotations, sample.value), activeAt: ts });
    }

    let unresolved = 0;
    for (const [key, alert] of this.active) {
      if (!seen.has(key)) {
        if (this.keepsFiring(alert, ts)) {
          unresolved++;
          continue;
        }
        if (alert.state === 'pending' || (alert.resolvedAt !== 0 && ts - alert.resolvedAt > RESOLVED_RETENTION_MS)) {
          this.active.delete(key);
          continue;
        }
        if (alert.state !== 'inactive') {
          alert.state = 'inactive';
          alert.resolvedAt = ts;
        }
        continue;
      }
      alert.keepFiringSince = 0;
      if (alert.state === 'pending' && ts - alert.activeAt >= this.desc.forMs) {
        alert.state = 'firing';
        alert.firedAt = ts;
      }
      unresolved++;
    }
    if (limit > 0 && unresolved > limit) {
      this.active.clear();
      throw new RuleEvaluationError(`exceeded limit of ${limit} with ${unresolved} alerts`);
    }
  }

  /** An alert's labels (the sample's without `__name__`, the rule's templated, `alertname`) and templated annotations. */
  private instance(sample: RuleSample, templates: TemplateContext, ts: number): { labels: Record<string, string>; annotations: Record<string, string> } {
    const data: AlertTemplateData = { labels: sample.labels, value: sample.value, ...templates };
    const labels: Record<string, string> = {};
    for (const [name, value] of Object.entries(sample.labels)) if (name !== '__name__') labels[name] = value;
    for (const [name, text] of Object.entries(this.desc.labels)) labels[name] = expandAlertTemplate(`__alert_${this.name}`, text, data, ts);
    labels.alertname = this.name;
    const sorted = sortLabels(labels);
    // Prometheus drops labels whose templated value came out empty.
    for (const name of Object.keys(sorted)) if (sorted[name] === '') delete sorted[name];
    const annotations: Record<string, string> = {};
    for (const [name, text] of Object.entries(this.desc.annotations)) annotations[name] = expandAlertTemplate(`__alert_${this.name}`, text, data, ts);
    return { labels: sorted, annotations };
  }

  /**
   * Rebuilds pending alerts from a range evaluation over the past ending at `end` (ms, the last
   * step before the first evaluation): a series with a point at every `step` back from `end`
   * was active since the first point of that unbroken run.
   */
  restore(end: number, step: number, series: readonly RuleSeries[], templates: TemplateContext): void {
    for (const s of series) {
      const points = s.points;
      let i = points.length - 1;
      if (i < 0 || points[i]!.t !== end) continue;
      while (i > 0 && points[i]!.t - points[i - 1]!.t <= step) i--;
      const activeAt = points[i]!.t;
      const { labels } = this.instance({ labels: s.labels, value: points[points.length - 1]!.v }, templates, end);
      const key = fingerprint(labels);
      if (this.active.has(key)) continue;
      this.active.set(key, { ...newAlert(labels, {}, points[points.length - 1]!.v), activeAt });
    }
  }

  /** A firing alert whose condition cleared stays firing for `keep_firing_for`. */
  private keepsFiring(alert: Alert, ts: number): boolean {
    if (this.desc.keepFiringForMs <= 0 || alert.state !== 'firing') return false;
    if (alert.keepFiringSince === 0) alert.keepFiringSince = ts;
    return ts - alert.keepFiringSince < this.desc.keepFiringForMs;
  }

  /**
   * The alerts due to Alertmanager at `ts`: firing ones not sent for `resendDelayMs`, and resolved
   * ones not sent since they resolved (then re-sent while kept). Marks them sent.
   */
  alertsToSend(ts: number, resendDelayMs: number, intervalMs: number): AlertNotification[] {
    const due: AlertNotification[] = [];
    for (const alert of this.active.values()) {
      if (alert.state === 'pending') continue;
      const resolvedSinceSent = alert.resolvedAt !== 0 && alert.resolvedAt > alert.lastSentAt;
      if (!resolvedSinceSent && !(alert.lastSentAt + resendDelayMs < ts)) continue;
      alert.lastSentAt = ts;
      alert.validUntil = ts + 4 * Math.max(intervalMs, resendDelayMs);
      due.push({
        labels: alert.labels,
        annotations: alert.annotations,
        startsAt: alert.firedAt,
        endsAt: alert.state === 'inactive' ? alert.resolvedAt : alert.validUntil,
      });
    }
    return due;
  }

  /** Carries alerts over from the same rule of a group that was just reloaded (Prometheus's CopyState). */
  copyStateFrom(previous: AlertingRule): void {
    this.active = previous.active;
    Object.assign(this.status, previous.status);
  }
}

function newAlert(labels: Record<string, string>, annotations: Record<string, string>, value: number): Alert {
  return { labels, annotations, state: 'pending', value, activeAt: 0, firedAt: 0, resolvedAt: 0, lastSentAt: 0, validUntil: 0, keepFiringSince: 0 };
}

function sortLabels(labels: Record<string, string>): Record<string, string> {
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(labels).sort()) sorted[name] = labels[name]!;
  return sorted;
}

function fingerprint(sorted: Record<string, string>): string {
  return JSON.stringify(sorted);
}

function compareLabels(a: Record<string, string>, b: Record<string, string>): number {
  const x = fingerprint(a);
  const y = fingerprint(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
