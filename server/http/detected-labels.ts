/**
 * Grafana Logs Drilldown's metadata calls that need no log lines:
 *
 * - GET|POST /loki/api/v1/detected_labels: the stream labels of the streams in [start, end]
 *   (optionally only those matching `query`; an empty `query` means all), each with its number of
 *   distinct values. As Loki's querier does (`DetectedLabels`, `shouldRejectLabel`), a label is left
 *   out when all its values look like ids (every value a number or a UUID, except a label whose one
 *   or two values are all `0`/`1`), unless it is one of the static labels `cluster`, `namespace`,
 *   `instance`, `pod`. Cardinality is exact (Loki: a HyperLogLog estimate). Sorted by name.
 * - GET|POST /loki/api/v1/drilldown-limits: `{limits, pattern_ingester_enabled, version}` (Loki's
 *   `DrilldownConfigResponse`), limits from this server's `limits_config`.
 * - GET|POST /loki/api/v1/label/__stream_shard__/values: always no values, since streams are not
 *   sharded here; Grafana then runs its queries unsplit. (A static route: it wins over the
 *   `label/:name/values` route whatever the registration order.)
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerContext } from './context.js';
import { streamsForRequest } from './labels.js';
import { requestParams } from './params.js';

const STATIC_LABELS = new Set(['cluster', 'namespace', 'instance', 'pod']);
const UUID = /^(?:urn:uuid:)?\{?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\}?$/;
const GO_FLOAT = /^[+-]?(?:(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan|0[xX][\da-fA-F_.]+(?:[pP][+-]?\d+)?)$/i;

function isIdLike(value: string): boolean {
  return GO_FLOAT.test(value) || UUID.test(value);
}

/** Loki's shouldRejectLabel: no values, or only ids (a 0/1 label of at most two values is kept). */
export function shouldRejectLabel(values: readonly string[]): boolean {
  if (values.length === 0) return true;
  if (values.length <= 2 && values.every((v) => v === '0' || v === '1')) return false;
  return values.every(isIdLike);
}

/** Our package.json version, found from here whether running from sources or from dist/. */
function packageVersion(): string {
  try {
    let dir = dirname(fileURLToPath(import.meta.url));
    while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** A duration in milliseconds as Loki prints model.Duration (`721h`, `1m`, `1m30s`, `0s`). */
export function formatModelDuration(ms: number): string {
  if (ms === 0) return '0s';
  const units: Array<[string, number]> = [
    ['y', 365 * 86_400_000],
    ['w', 7 * 86_400_000],
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ];
  let rest = ms;
  let out = '';
  for (const [unit, size] of units) {
    if (unit === 'w' && rest % size !== 0) continue;
    if (unit === 'y' && rest % size !== 0) continue;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

export function detectedLabelRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const detected = async (request: FastifyRequest) => {
    const values = new Map<string, Set<string>>();
    for (const stream of streamsForRequest(ctx, request, requestParams(request))) {
      for (const [name, value] of stream.pairs) {
        let set = values.get(name);
        if (set === undefined) values.set(name, (set = new Set()));
        set.add(value);
      }
    }
    const detectedLabels = [...values.entries()]
      .filter(([name, set]) => (STATIC_LABELS.has(name) && set.size > 0) || !shouldRejectLabel([...set]))
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([label, set]) => ({ label, cardinality: set.size }));
    return { detectedLabels };
  };
  app.get('/loki/api/v1/detected_labels', detected);
  app.post('/loki/api/v1/detected_labels', detected);

  const version = packageVersion();
  const drilldownLimits = async () => {
    const l = ctx.config.limits_config;
    return {
      limits: {
        discover_log_levels: l.discover_log_levels,
        discover_service_name: l.discover_service_name,
        max_entries_limit_per_query: l.max_entries_limit_per_query,
        max_line_size: l.max_line_size,
        max_line_size_truncate: l.max_line_size_truncate,
        max_query_length: formatModelDuration(l.max_query_length),
        max_query_series: l.max_query_series,
        query_timeout: formatModelDuration(l.query_timeout),
        retention_period: formatModelDuration(l.retention_period),
        pattern_persistence_enabled: false,
        metric_aggregation_enabled: false,
        // True once some route serves index/volume (Drilldown's service list needs it).
        volume_enabled: app.hasRoute({ method: 'GET', url: '/loki/api/v1/index/volume' }),
      },
      pattern_ingester_enabled: true,
      version,
    };
  };
  app.get('/loki/api/v1/drilldown-limits', drilldownLimits);
  app.post('/loki/api/v1/drilldown-limits', drilldownLimits);

  // No stream sharding: Loki omits `data` when there is nothing to return.
  const shards = async () => ({ status: 'success' });
  for (const path of ['/loki/api/v1/label/__stream_shard__/values', '/api/prom/label/__stream_shard__/values']) {
    app.get(path, shards);
    app.post(path, shards);
  }
}
