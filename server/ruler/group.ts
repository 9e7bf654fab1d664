/**
 * One rule group of one tenant, evaluated every `interval` as Prometheus's rules/group.go does:
 * rules in order at one timestamp, each with its own health; an evaluation that overruns its
 * interval skips the ticks it missed. Alerts go to the notifier; recorded series and the
 * `ALERTS`/`ALERTS_FOR_STATE` series go to remote write when it is on.
 */
import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Expr } from '../../logql/ast.js';
import { parse } from '../../logql/index.js';
import type { RemoteWriteSeries } from '../../proto/remote-write.js';
import { AlertingRule, type TemplateContext } from './alerting-rule.js';
import { RecordingRule } from './recording-rule.js';
import { sortedLabelPairs, type RuleSample, type RuleSeries } from './rule.js';
import type { RuleGroupDesc } from './types.js';

export type Rule = AlertingRule | RecordingRule;

/** What a group needs from the ruler around it. */
export interface GroupEnvironment {
  /** Runs an instant metric query for the tenant at `ts` (ms). */
  query(tenant: string, expr: Expr, ts: number): Promise<RuleSample[]>;
  /** Runs a range metric query for the tenant over [start, end] (ms) every `stepMs`. */
  queryRange(tenant: string, expr: Expr, start: number, end: number, stepMs: number): Promise<RuleSeries[]>;
  sendAlerts(tenant: string, rule: AlertingRule, ts: number, intervalMs: number): void;
  /** Undefined when remote write is off. */
  remoteWrite: ((tenant: string, series: RemoteWriteSeries[]) => Promise<void>) | undefined;
  observeEvaluation(tenant: string, groupKey: string, seconds: number, failed: boolean): void;
  observeGroup(tenant: string, groupKey: string, seconds: number): void;
  templates: TemplateContext;
  log: FastifyBaseLogger;
}

export class RuleGroup {
  readonly rules: Rule[];
  readonly intervalMs: number;
  /** Prometheus's GroupKey: `<file>;<group>`, the `rule_group` label of the metrics. */
  readonly key: string;
  lastEvaluation = 0;
  evaluationSeconds = 0;
  private readonly exprs: (Expr | Error)[];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Whether alerts' `for` state is known: carried over from a reload, or rebuilt at the first evaluation. */
  private restored = false;

  constructor(
    readonly tenant: string,
    readonly namespace: string,
    readonly desc: RuleGroupDesc,
    defaultIntervalMs: number,
    private readonly env: GroupEnvironment,
  ) {
    this.intervalMs = desc.intervalMs > 0 ? desc.intervalMs : defaultIntervalMs;
    this.key = `${namespace};${desc.name}`;
    this.rules = desc.rules.map((r) => (r.alert !== undefined ? new AlertingRule(r) : new RecordingRule(r)));
    // Files were validated at load; a parse failure here would still only fail its rule.
    this.exprs = desc.rules.map((r) => {
      try {
        return parse(r.expr);
      } catch (err) {
        return err as Error;
      }
    });
  }

  /** Takes over alert state and status from the previous version of this group after a reload. */
  copyStateFrom(previous: RuleGroup): void {
    const byIdentity = new Map<string, Rule>();
    for (const rule of previous.rules) byIdentity.set(ruleIdentity(rule), rule);
    for (const rule of this.rules) {
      const old = byIdentity.get(ruleIdentity(rule));
      if (old instanceof AlertingRule && rule instanceof AlertingRule) rule.copyStateFrom(old);
      else if (old instanceof RecordingRule && rule instanceof RecordingRule) rule.copyStateFrom(old);
    }
    this.lastEvaluation = previous.lastEvaluation;
    this.evaluationSeconds = previous.evaluationSeconds;
    this.restored = previous.restored;
  }

  start(): void {
    this.schedule();
  }

  /** Stops the schedule and waits for a running evaluation. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /**
   * Ticks fall at a fixed offset within the interval, derived from the group's identity, so that
   * groups spread over the interval and a restart keeps the same phase (Prometheus's EvalTimestamp).
   */
  private schedule(): void {
    if (this.stopped) return;
    const now = Date.now();
    const offset = phaseOffset(`${this.tenant}/${this.key}`, this.intervalMs);
    let next = Math.floor((now - offset) / this.intervalMs) * this.intervalMs + offset;
    while (next <= now) next += this.intervalMs;
    this.timer = setTimeout(() => {
      this.running = this.evaluate(next).finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, next - now);
  }

  /** Evaluates every rule at `ts` (ms). */
  async evaluate(ts: number): Promise<void> {
    if (!this.restored) {
      this.restored = true;
      await this.restoreForState(ts);
    }
    const started = performance.now();
    const recorded: RemoteWriteSeries[] = [];
    for (let i = 0; i < this.rules.length; i++) {
      if (this.stopped) return;
      const rule = this.rules[i]!;
      const ruleStarted = performance.now();
      let failed = false;
      try {
        const expr = this.exprs[i]!;
        if (expr instanceof Error) throw expr;
        const samples = await this.env.query(this.tenant, expr, ts);
        if (rule instanceof AlertingRule) {
          rule.evaluate(ts, samples, this.desc.limit, this.env.templates);
          this.env.sendAlerts(this.tenant, rule, ts, this.intervalMs);
        } else {
          recorded.push(...rule.evaluate(ts, samples, this.desc.limit));
        }
        rule.status.health = 'ok';
        rule.status.lastError = '';
      } catch (err) {
        failed = true;
        rule.status.health = 'err';
        rule.status.lastError = (err as Error).message;
        this.env.log.warn({ tenant: this.tenant, group: this.key, rule: rule.name, err: (err as Error).message }, 'rule evaluation failed');
      }
      rule.status.lastEvaluation = ts;
      rule.status.evaluationSeconds = (performance.now() - ruleStarted) / 1000;
      this.env.observeEvaluation(this.tenant, this.key, rule.status.evaluationSeconds, failed);
    }
    this.lastEvaluation = ts;
    this.evaluationSeconds = (performance.now() - started) / 1000;
    this.env.observeGroup(this.tenant, this.key, this.evaluationSeconds);
    if (this.env.remoteWrite !== undefined) {
      recorded.push(...alertSeries(this.rules, ts));
      if (recorded.length > 0) await this.env.remoteWrite(this.tenant, recorded);
    }
  }

  /**
   * Loki keeps no series of past alerts, so after a start its ruler rebuilds how long each alert
   * has been pending by evaluating the rule over the past `for` (Loki's MemStore): an alert whose
   * condition held at every step up to now keeps its `for` progress and does not wait it out again.
   */
  private async restoreForState(ts: number): Promise<void> {
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      const expr = this.exprs[i]!;
      if (!(rule instanceof AlertingRule) || rule.desc.forMs <= 0 || expr instanceof Error || this.stopped) continue;
      const step = Math.max(this.intervalMs, Math.ceil(rule.desc.forMs / MAX_RESTORE_STEPS));
      const end = ts - step;
      const start = end - Math.floor(rule.desc.forMs / step) * step;
      try {
        const series = await this.env.queryRange(this.tenant, expr, start, end, step);
        rule.restore(end, step, series, this.env.templates);
      } catch (err) {
        this.env.log.warn({ tenant: this.tenant, group: this.key, rule: rule.name, err: (err as Error).message }, 'could not rebuild the alert state of a rule');
      }
    }
  }
}

/** At most this many steps per range query when rebuilding `for` state (Loki's max points per query is 11,000). */
const MAX_RESTORE_STEPS = 10_000;

function ruleIdentity(rule: Rule): string {
  return `${rule.kind}\u0000${rule.name}\u0000${JSON.stringify(rule.desc.labels)}`;
}

function phaseOffset(identity: string, intervalMs: number): number {
  return createHash('sha256').update(identity).digest().readUInt32BE(0) % intervalMs;
}

/** Prometheus's `ALERTS` (1 per pending or firing alert) and `ALERTS_FOR_STATE` (its activeAt in seconds). */
function alertSeries(rules: readonly Rule[], ts: number): RemoteWriteSeries[] {
  const series: RemoteWriteSeries[] = [];
  for (const rule of rules) {
    if (!(rule instanceof AlertingRule)) continue;
    for (const alert of rule.activeAlerts()) {
      const withState = { ...alert.labels, alertstate: alert.state };
      series.push({ labels: sortedLabelPairs({ ...withState, __name__: 'ALERTS' }), samples: [{ t: ts, v: 1 }] });
      series.push({ labels: sortedLabelPairs({ ...alert.labels, __name__: 'ALERTS_FOR_STATE' }), samples: [{ t: ts, v: alert.activeAt / 1000 }] });
    }
  }
  return series;
}
