/**
 * GET /prometheus/api/v1/rules and /prometheus/api/v1/alerts (also under the legacy
 * /api/prom/api/v1/): the ruler's state in the JSON shapes of Loki's ruler API
 * (pkg/ruler/base/api.go), which Grafana's alerting pages read.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AlertingRule, type Alert } from '../ruler/alerting-rule.js';
import type { RuleGroup } from '../ruler/group.js';
import type { ServerContext } from './context.js';
import { requestParams } from './params.js';

interface AlertJson {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
  activeAt: string;
  value: string;
}

/** Go's time.Time JSON form for a zero time, which Loki prints for rules never evaluated. */
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';

function timeJson(ms: number): string {
  return ms === 0 ? GO_ZERO_TIME : new Date(ms).toISOString();
}

/** Go's strconv.FormatFloat(v, 'e', -1, 64): shortest digits, exponent of at least two digits. */
export function formatGoExponent(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const [mantissa, exponent] = v.toExponential().split('e') as [string, string];
  const sign = exponent.startsWith('-') ? '-' : '+';
  const digits = exponent.replace(/^[+-]/, '').padStart(2, '0');
  return `${Object.is(v, -0) ? '-' : ''}${mantissa}e${sign}${digits}`;
}

function alertJson(alert: Alert): AlertJson {
  return {
    labels: alert.labels,
    annotations: alert.annotations,
    state: alert.state,
    activeAt: timeJson(alert.activeAt),
    value: formatGoExponent(alert.value),
  };
}

function success(reply: FastifyReply, data: unknown): FastifyReply {
  return reply.type('application/json').send(JSON.stringify({ status: 'success', data, errorType: '', error: '' }));
}

function badData(reply: FastifyReply, error: string): FastifyReply {
  return reply.code(400).type('application/json').send(JSON.stringify({ status: 'error', data: null, errorType: 'bad_data', error }));
}

function ruleJson(rule: RuleGroup['rules'][number]): Record<string, unknown> {
  const common = {
    name: rule.name,
    query: rule.desc.expr,
    labels: rule.desc.labels,
    health: rule.status.health,
    lastError: rule.status.lastError,
    lastEvaluation: timeJson(rule.status.lastEvaluation),
    evaluationTime: rule.status.evaluationSeconds,
  };
  if (!(rule instanceof AlertingRule)) return { ...common, type: 'recording' };
  return {
    state: rule.status.lastEvaluation === 0 ? 'unknown' : rule.state(),
    ...common,
    duration: rule.desc.forMs / 1000,
    keepFiringFor: rule.desc.keepFiringForMs / 1000,
    annotations: rule.desc.annotations,
    alerts: rule.activeAlerts().map(alertJson),
    type: 'alerting',
  };
}

export function prometheusRuleRoutes(app: FastifyInstance, ctx: ServerContext): void {
  // Loki serves these only with `ruler.enable_api`, like the rules configuration API.
  if (!ctx.config.ruler.enable_api) return;
  const rules = async (request: FastifyRequest, reply: FastifyReply) => {
    const params = requestParams(request);
    const type = params.get('type');
    if (type !== null && type !== '' && type !== 'alert' && type !== 'record') {
      return badData(reply, `unsupported rule type ${JSON.stringify(type)}, must be "alert" or "record"`);
    }
    const names = new Set(params.getAll('rule_name[]').concat(params.getAll('rule_name')));
    const groupNames = new Set(params.getAll('rule_group[]').concat(params.getAll('rule_group')));
    const files = new Set(params.getAll('file[]').concat(params.getAll('file')));
    const groups = [];
    for (const group of ctx.ruler.groups(request.tenant)) {
      if (files.size > 0 && !files.has(group.namespace)) continue;
      if (groupNames.size > 0 && !groupNames.has(group.desc.name)) continue;
      const selected = group.rules.filter(
        (r) => (names.size === 0 || names.has(r.name)) && (type === null || type === '' || (type === 'alert') === (r instanceof AlertingRule)),
      );
      // Loki leaves out groups whose rules were all filtered away (as Prometheus does).
      if (selected.length === 0 && (names.size > 0 || (type !== null && type !== ''))) continue;
      groups.push({
        name: group.desc.name,
        file: group.namespace,
        rules: selected.map(ruleJson),
        interval: group.intervalMs / 1000,
        limit: group.desc.limit,
        lastEvaluation: timeJson(group.lastEvaluation),
        evaluationTime: group.evaluationSeconds,
      });
    }
    return success(reply, { groups });
  };

  const alerts = async (request: FastifyRequest, reply: FastifyReply) => {
    const list: AlertJson[] = [];
    for (const group of ctx.ruler.groups(request.tenant)) {
      for (const rule of group.rules) if (rule instanceof AlertingRule) for (const alert of rule.activeAlerts()) list.push(alertJson(alert));
    }
    return success(reply, { alerts: list });
  };

  for (const prefix of ['/prometheus/api/v1', '/api/prom/api/v1']) {
    app.get(`${prefix}/rules`, rules);
    app.get(`${prefix}/alerts`, alerts);
  }
}
