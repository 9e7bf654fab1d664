/**
 * GET|POST /loki/api/v1/index/volume and /index/volume_range: bytes per series (or per label
 * name) of the streams matching `query`, from the index, as a Prometheus vector or matrix
 * (Loki pkg/querier/queryrange/volume.go, pkg/storage/stores/index/seriesvolume):
 *
 * - `metric` holds, per stream, only the labels named by the selector's matchers (`{}`: all
 *   labels); with `targetLabels=a,b` only those, and only streams that have all of them.
 *   Streams with the same such labels add up. `aggregateBy=labels` sums per label name
 *   instead, as `{"<name>":""}`.
 * - Each time bucket keeps its `limit` largest series. Series are sorted by their first
 *   sample, descending, then by name. The result is a matrix only when some series has more
 *   than one sample (Loki's toPrometheusData), else a vector.
 * - volume_range buckets are aligned to multiples of `step`; a bucket's timestamp is its end
 *   (the next boundary − 1 ms, or `end` for the last), as Loki's ForInterval makes them.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ParseError, parse, type LabelMatcher } from '../../logql/index.js';
import { formatLabelString } from '../../proto/index.js';
import type { Store } from '../store/store.js';
import type { MemStream } from '../store/stream.js';
import type { ServerContext } from './context.js';
import { badRequest } from './errors.js';
import { parseBounds, requestParams } from './params.js';
import { parseInstantQuery, parseRangeQuery } from './query-params.js';
import { selectorParam } from './selector.js';

export interface StreamStats {
  chunks: number;
  entries: number;
  bytes: number;
}

/**
 * One stream's statistics in [start, end) from the index: whole chunks that overlap the range
 * (Loki's index answers at chunk granularity too), plus its head and blocks not yet written.
 * Entries still in memory count as one chunk when no stored chunk overlaps, as Loki's
 * ingesters count their open chunks.
 */
export function streamStats(store: Store, stream: MemStream, start: bigint, end: bigint): StreamStats {
  const stats = store.chunkStats(stream, start, end);
  if (stats.chunks === 0 && stats.entries > 0) stats.chunks = 1;
  return stats;
}

const DEFAULT_LIMIT = 100;
const NS_PER_MS = 1_000_000n;

type AggregateBy = 'series' | 'labels';

interface VolumeRequest {
  matchers: LabelMatcher[];
  /** The label names kept in `metric`; undefined = all (the selector was `{}`). */
  keep: Set<string> | undefined;
  start: bigint;
  end: bigint;
  stepNs: bigint;
  limit: number;
  aggregateBy: AggregateBy;
}

/** Loki's volumeLimit: absent or 0 → 100, negative → error, else as given. */
function volumeLimit(params: URLSearchParams): number {
  const text = params.get('limit');
  if (text === null || text === '') return DEFAULT_LIMIT;
  if (!/^[+-]?\d+$/.test(text)) throw badRequest(`strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`);
  const limit = Number(text);
  if (limit === 0) return DEFAULT_LIMIT;
  if (limit < 0) throw badRequest('limit must be a positive value');
  return limit;
}

function aggregateByParam(params: URLSearchParams): AggregateBy {
  const text = params.get('aggregateBy');
  if (text === null || text === '') return 'series';
  if (text === 'series' || text === 'labels') return text;
  throw badRequest('invalid aggregation option');
}

/** `targetLabels=a,b`: the names, or undefined when absent or empty. */
function targetLabelsParam(params: URLSearchParams): string[] | undefined {
  const text = params.get('targetLabels');
  if (text === null || text === '') return undefined;
  return text.split(',');
}

/**
 * The selector's matchers. `{}` selects every stream; a selector followed by a pipeline
 * (`{app="a"} | json`) is accepted and its pipeline ignored: volumes come from the index.
 */
function volumeMatchers(query: string): LabelMatcher[] | 'all' {
  if (query.replace(/\s+/g, '') === '{}') return 'all';
  try {
    return selectorParam(query);
  } catch (err) {
    try {
      const expr = parse(query);
      if (expr.kind === 'LogSelector') return expr.matchers;
    } catch (inner) {
      if (!(inner instanceof ParseError)) throw inner;
    }
    throw err;
  }
}

function parseVolumeRequest(params: URLSearchParams, range: boolean): VolumeRequest {
  const limit = volumeLimit(params);
  params.set('limit', String(limit));
  let start: bigint;
  let end: bigint;
  let stepNs = 0n;
  let query: string;
  if (range) {
    ({ query, start, end, stepNs } = parseRangeQuery(params));
  } else {
    query = parseInstantQuery(params).query;
    ({ start, end } = parseBounds(params, Date.now(), 3_600_000, 'end timestamp must not be before or equal to start time'));
  }
  const aggregateBy = aggregateByParam(params);
  const targets = targetLabelsParam(params);
  const parsed = volumeMatchers(query);
  const matchers = parsed === 'all' ? [] : [...parsed];
  let keep: Set<string> | undefined;
  if (targets !== undefined) {
    keep = new Set(targets);
    // Loki adds `name=~".+"` for each target label the selector does not name.
    for (const name of keep) {
      if (!matchers.some((m) => m.name === name)) matchers.push({ type: '=~', name, value: '.+' });
    }
  } else if (parsed !== 'all') {
    keep = new Set(matchers.map((m) => m.name));
  }
  return { matchers, keep, start, end, stepNs, limit, aggregateBy };
}

/** Loki's ForInterval(step, start, end, endTimeInclusive=true): [from, through] per bucket. */
function buckets(start: bigint, end: bigint, stepNs: bigint): Array<{ from: bigint; through: bigint }> {
  if (stepNs <= 0n) return [{ from: start, through: end }];
  const out: Array<{ from: bigint; through: bigint }> = [];
  const rem = ((start % stepNs) + stepNs) % stepNs;
  let first = true;
  for (let b = start - rem; b < end; b += stepNs) {
    let through = b + stepNs;
    if (through >= end) through = end;
    else through -= NS_PER_MS;
    out.push({ from: first ? start : b, through });
    first = false;
  }
  if (out.length === 0) out.push({ from: start, through: end });
  return out;
}

interface Sample {
  ms: bigint;
  bytes: number;
}

function volumes(ctx: ServerContext, tenant: string, req: VolumeRequest): unknown {
  const streams = ctx.store.selectStreams(tenant, req.matchers, req.start, req.end + 1n);
  // Each stream's kept labels, computed once.
  const kept = new Map<MemStream, Array<[string, string]>>();
  for (const stream of streams) {
    kept.set(stream, stream.pairs.filter(([name]) => req.keep === undefined || req.keep.has(name)).map(([n, v]) => [n, v] as [string, string]));
  }
  const series = new Map<string, { metric: Record<string, string>; samples: Sample[] }>();
  for (const bucket of buckets(req.start, req.end, req.stepNs)) {
    const totals = new Map<string, { metric: Record<string, string>; bytes: number }>();
    const add = (name: string, metric: () => Record<string, string>, bytes: number) => {
      const total = totals.get(name);
      if (total === undefined) totals.set(name, { metric: metric(), bytes });
      else total.bytes += bytes;
    };
    for (const stream of streams) {
      const stats = streamStats(ctx.store, stream, bucket.from, bucket.through + 1n);
      if (stats.entries === 0) continue;
      const pairs = kept.get(stream)!;
      if (req.aggregateBy === 'series') {
        add(formatLabelString(pairs), () => Object.fromEntries(pairs), stats.bytes);
      } else {
        for (const [name] of pairs) add(name, () => ({ [name]: '' }), stats.bytes);
      }
    }
    const top = [...totals].sort(([an, a], [bn, b]) => b.bytes - a.bytes || (an < bn ? -1 : an > bn ? 1 : 0)).slice(0, req.limit);
    const ms = bucket.through / NS_PER_MS;
    for (const [name, { metric, bytes }] of top) {
      let entry = series.get(name);
      if (entry === undefined) series.set(name, (entry = { metric, samples: [] }));
      entry.samples.push({ ms, bytes });
    }
  }
  const sorted = [...series].sort(([an, a], [bn, b]) => b.samples[0]!.bytes - a.samples[0]!.bytes || (an < bn ? -1 : an > bn ? 1 : 0));
  const matrix = sorted.some(([, s]) => s.samples.length > 1);
  const point = (s: Sample) => [Number(s.ms) / 1000, String(s.bytes)];
  return {
    status: 'success',
    data: matrix
      ? { resultType: 'matrix', result: sorted.map(([, s]) => ({ metric: s.metric, values: s.samples.map(point) })) }
      : { resultType: 'vector', result: sorted.map(([, s]) => ({ metric: s.metric, value: point(s.samples[0]!) })) },
  };
}

export function volumeRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const handler = (range: boolean) => async (request: FastifyRequest) =>
    volumes(ctx, request.tenant, parseVolumeRequest(requestParams(request), range));
  for (const [path, range] of [
    ['/loki/api/v1/index/volume', false],
    ['/loki/api/v1/index/volume_range', true],
  ] as const) {
    app.get(path, handler(range));
    app.post(path, handler(range));
  }
}
