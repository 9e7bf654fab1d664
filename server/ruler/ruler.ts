/**
 * The ruler: loads every tenant's rule files from the local rule store, runs their groups,
 * sends alerts to Alertmanager and recorded series to remote write. Rule files are re-read every
 * `poll_interval`, and at once when the rules API changed them; a group whose definition did not
 * change keeps running untouched, a changed one takes over its predecessor's alert state.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Expr } from '../../logql/ast.js';
import type { QueryParams } from '../../logql/engine/index.js';
import type { Labels } from '../../logql/index.js';
import type { RemoteWriteSeries } from '../../proto/remote-write.js';
import type { LimitsConfig, RulerConfig } from '../config.js';
import type { ServerMetrics } from '../metrics.js';
import { runQuery } from '../query/run.js';
import type { Store } from '../store/store.js';
import type { WorkerPool } from '../workers/pool.js';
import type { AlertingRule } from './alerting-rule.js';
import { RuleGroup, type GroupEnvironment } from './group.js';
import { Notifier } from './notifier.js';
import { RemoteWriter } from './remote-write.js';
import { RuleEvaluationError, type RuleSample, type RuleSeries } from './rule.js';
import { LocalRuleStore } from './rule-store.js';
import type { RuleLoadError } from './types.js';

export interface RulerDependencies {
  config: RulerConfig;
  /** The rules directory, resolved against the data directory. */
  directory: string;
  store: Store;
  queryWorkers: WorkerPool;
  limits: LimitsConfig;
  metrics: ServerMetrics;
}

export class Ruler {
  readonly store: LocalRuleStore;
  /** Per tenant, groups by `<namespace>\0<group>`. */
  private readonly tenants = new Map<string, Map<string, RuleGroup>>();
  /** The load errors last logged per tenant, so that a bad file is logged when it changes, not at every poll. */
  private readonly loggedErrors = new Map<string, string>();
  private environment: GroupEnvironment | undefined;
  private notifier: Notifier | undefined;
  private writer: RemoteWriter | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly deps: RulerDependencies) {
    this.store = new LocalRuleStore(deps.directory);
  }

  /** Starts evaluating; called once the WAL has been replayed, so that the first evaluations see all data. */
  start(log: FastifyBaseLogger): void {
    const { config, metrics } = this.deps;
    const notifier = new Notifier(config.alertmanager_url, config.notification_timeout, metrics.notifierObserver(), log);
    this.notifier = notifier;
    void notifier.checkAlertmanagers();
    const writer = config.remote_write.enabled ? new RemoteWriter(config.remote_write, metrics.remoteWriteObserver(), (msg, fields) => log.warn(fields, msg)) : undefined;
    this.writer = writer;
    this.environment = {
      query: (tenant, expr, ts) => this.query(tenant, expr, ts),
      queryRange: (tenant, expr, start, end, stepMs) => this.queryRange(tenant, expr, start, end, stepMs),
      sendAlerts: (tenant, rule, ts, intervalMs) => this.sendAlerts(tenant, rule, ts, intervalMs),
      remoteWrite: writer === undefined ? undefined : (tenant: string, series: RemoteWriteSeries[]) => writer.write(tenant, series),
      observeEvaluation: (tenant, group, seconds, failed) => metrics.observeRuleEvaluation(tenant, group, seconds, failed),
      observeGroup: (tenant, group, seconds) => metrics.ruleGroupLastDuration.set({ user: tenant, rule_group: group }, seconds),
      templates: { externalLabels: {}, externalURL: config.external_url },
      log,
    };
    this.syncAll();
    const poll = () => {
      this.pollTimer = setTimeout(() => {
        this.syncAll();
        poll();
      }, config.poll_interval);
    };
    poll();
  }

  /** Re-reads a tenant's rule files now, after the API changed them. */
  reload(tenant: string): void {
    if (this.environment === undefined || this.closed) return;
    const env = this.environment;
    let loaded: ReturnType<LocalRuleStore['load']>;
    try {
      loaded = this.store.load(tenant);
    } catch (err) {
      env.log.error({ tenant, err: (err as Error).message }, 'cannot read rule files');
      return;
    }
    this.reportLoadErrors(tenant, loaded.errors);
    const previous = this.tenants.get(tenant) ?? new Map<string, RuleGroup>();
    const next = new Map<string, RuleGroup>();
    for (const ns of loaded.namespaces) {
      for (const desc of ns.groups) {
        const id = `${ns.namespace}\u0000${desc.name}`;
        const old = previous.get(id);
        if (old !== undefined && JSON.stringify(old.desc) === JSON.stringify(desc)) {
          next.set(id, old);
          previous.delete(id);
          continue;
        }
        const group = new RuleGroup(tenant, ns.namespace, desc, this.deps.config.evaluation_interval, env);
        if (old !== undefined) {
          group.copyStateFrom(old);
          previous.delete(id);
          void old.stop();
        }
        next.set(id, group);
        group.start();
      }
    }
    for (const gone of previous.values()) void gone.stop();
    if (next.size === 0) this.tenants.delete(tenant);
    else this.tenants.set(tenant, next);
  }

  private syncAll(): void {
    let onDisk: string[] = [];
    try {
      onDisk = this.store.tenants();
    } catch (err) {
      this.environment?.log.error({ err: (err as Error).message }, 'cannot list rule tenants');
    }
    for (const tenant of new Set([...onDisk, ...this.tenants.keys()])) this.reload(tenant);
  }

  /** A tenant's groups, sorted by namespace then name, for the rules API. */
  groups(tenant: string): RuleGroup[] {
    const groups = [...(this.tenants.get(tenant)?.values() ?? [])];
    return groups.sort((a, b) => (a.namespace === b.namespace ? cmp(a.desc.name, b.desc.name) : cmp(a.namespace, b.namespace)));
  }

  private reportLoadErrors(tenant: string, errors: readonly RuleLoadError[]): void {
    this.deps.metrics.rulerConfigReloadSuccessful.set({ user: tenant }, errors.length === 0 ? 1 : 0);
    const signature = JSON.stringify(errors);
    if (this.loggedErrors.get(tenant) === signature) return;
    this.loggedErrors.set(tenant, signature);
    for (const e of errors) this.environment?.log.warn({ tenant, file: e.file, group: e.group, reason: e.reason }, 'rule group not loaded');
  }

  private run(tenant: string, expr: Expr, params: QueryParams) {
    return runQuery(expr, params, {
      store: this.deps.store,
      workers: this.deps.queryWorkers,
      tenant,
      timeoutMs: this.deps.limits.query_timeout,
      limits: { maxQuerySeries: this.deps.limits.max_query_series },
      cancelled: () => this.closed,
    });
  }

  private async query(tenant: string, expr: Expr, ts: number): Promise<RuleSample[]> {
    const tsNs = BigInt(ts) * 1_000_000n;
    const { result } = await this.run(tenant, expr, { ...EVALUATION, start: tsNs, end: tsNs, stepNs: 0n, instant: true });
    if (result.type === 'scalar') return [{ labels: {}, value: result.v }];
    // Loki's ruler queryFunc: anything but a vector or scalar is an evaluation error.
    if (result.type !== 'vector') throw new RuleEvaluationError('rule result is not a vector or scalar');
    return result.samples.map((s) => ({ labels: labelRecord(s.labels), value: s.v }));
  }

  private async queryRange(tenant: string, expr: Expr, start: number, end: number, stepMs: number): Promise<RuleSeries[]> {
    const { result } = await this.run(tenant, expr, {
      ...EVALUATION,
      start: BigInt(start) * 1_000_000n,
      end: BigInt(end) * 1_000_000n,
      stepNs: BigInt(stepMs) * 1_000_000n,
      instant: false,
    });
    if (result.type !== 'matrix') throw new RuleEvaluationError('rule result is not a vector or scalar');
    return result.series.map((s) => ({ labels: labelRecord(s.labels), points: s.points }));
  }

  private sendAlerts(tenant: string, rule: AlertingRule, ts: number, intervalMs: number): void {
    const notifier = this.notifier;
    if (notifier === undefined || !notifier.enabled) return;
    const due = rule.alertsToSend(ts, this.deps.config.resend_delay, intervalMs);
    notifier.send(tenant, due, generatorURL(this.deps.config.external_url, rule.desc.expr));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.pollTimer);
    const stopping: Promise<void>[] = [];
    for (const groups of this.tenants.values()) for (const g of groups.values()) stopping.push(g.stop());
    await Promise.all(stopping);
    this.tenants.clear();
    await this.notifier?.drain();
    this.writer?.close();
  }
}

/** The query parameters of a rule evaluation besides its times. */
const EVALUATION = { limit: 0, direction: 'backward', intervalNs: 0n, categorizeLabels: false } as const;

function labelRecord(labels: Labels): Record<string, string> {
  const record: Record<string, string> = {};
  for (const l of labels) record[l.name] = l.value;
  return record;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Loki's generatorURL: Grafana Explore (`ruler.external_url` is the Grafana base URL) showing the rule's query. */
function generatorURL(externalUrl: string, expr: string): string {
  if (externalUrl === '') return '';
  const left = JSON.stringify({ queries: [{ expr, queryType: 'range', datasource: { type: 'loki' } }] });
  return `${externalUrl.replace(/\/+$/, '')}/explore?left=${encodeURIComponent(left)}`;
}
