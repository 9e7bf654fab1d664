/**
 * GET|POST /loki/api/v1/patterns (Grafana Logs Drilldown's Patterns tab): the log patterns of a log
 * query's lines in [start, end], mined at query time (Loki mines them at ingest in its pattern
 * ingester; see server/query/patterns.ts), with lines counted per `step`:
 * `{"status":"success","data":[{"pattern","level"?,"samples":[[<unix s>,<count>],…]}]}`.
 *
 * Choices: at most the newest MAX_LINES lines are mined; `step` defaults as for query_range and is
 * at least 10s (Loki's pattern sample resolution); buckets are step multiples since the epoch;
 * lines are grouped by level (structured metadata `detected_level`, else the stream label
 * `detected_level`/`level`/`lvl`/`loglevel`), and `level` is left out when there is none.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PatternMiner } from '../query/patterns.js';
import type { ServerContext } from './context.js';
import { logQueryParam, sampleEntries, type SampledEntry } from './detected-fields.js';
import { HttpError, badRequest } from './errors.js';
import { parseBounds, requestParams } from './params.js';
import { parseDurationParam } from './query-params.js';

/** Newest lines mined per request. */
export const MAX_LINES = 50_000;
/** Clusters per level. */
const MAX_CLUSTERS = 1000;
const MIN_STEP_NS = 10_000_000_000n;
const LEVEL_LABELS = ['detected_level', 'level', 'lvl', 'loglevel'];

function levelOf(e: SampledEntry): string {
  for (const l of e.structuredMetadata) if (l.name === 'detected_level') return l.value;
  for (const name of LEVEL_LABELS) {
    for (const l of e.streamLabels) if (l.name === name) return l.value;
  }
  return '';
}

/** query_range's default step: max(floor((end − start) / 250 s), 1) seconds. */
function defaultStepNs(start: bigint, end: bigint): bigint {
  return BigInt(Math.max(Math.floor(Number(end - start) / 1e9 / 250), 1)) * 1_000_000_000n;
}

export interface PatternSeries {
  pattern: string;
  level?: string;
  samples: Array<[number, number]>;
}

/** Lines mined between two turns given to the event loop (about 20-30 ms of work). */
const LINES_PER_TURN = 2000;

/**
 * Mines `entries` (newest first) per level; buckets of `stepNs` since the epoch, in unix seconds.
 * Gives the event loop a turn every LINES_PER_TURN lines; `cancelled` is asked then.
 */
export async function minePatterns(
  entries: readonly SampledEntry[],
  stepNs: bigint,
  cancelled: () => boolean = () => false,
): Promise<PatternSeries[]> {
  const miners = new Map<string, PatternMiner>();
  // Oldest first, so that a cluster's first line is its oldest.
  for (let i = entries.length - 1; i >= 0; i--) {
    if ((entries.length - 1 - i) % LINES_PER_TURN === LINES_PER_TURN - 1) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (cancelled()) throw new HttpError(499, 'the request was cancelled by the client');
    }
    const e = entries[i]!;
    const level = levelOf(e);
    let miner = miners.get(level);
    if (miner === undefined) miners.set(level, (miner = new PatternMiner({ maxClusters: MAX_CLUSTERS })));
    const bucketNs = e.ts - (((e.ts % stepNs) + stepNs) % stepNs);
    miner.add(e.line, Number(bucketNs) / 1e9);
  }
  const all: Array<PatternSeries & { total: number }> = [];
  for (const [level, miner] of miners) {
    for (const p of miner.patterns()) {
      all.push({ pattern: p.pattern, ...(level === '' ? {} : { level }), samples: p.samples, total: p.total });
    }
  }
  all.sort((a, b) => b.total - a.total || (a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0));
  return all.map(({ total: _total, ...p }) => p);
}

export function patternRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const patterns = async (request: FastifyRequest) => {
    const params = requestParams(request);
    const expr = logQueryParam(params.get('query') ?? '');
    const { start, end } = parseBounds(params);
    const stepText = params.get('step');
    let stepNs = stepText ? parseDurationParam(stepText) : defaultStepNs(start, end);
    if (stepNs <= 0n) throw badRequest('zero or negative query resolution step widths are not accepted. Try a positive integer');
    if (stepNs < MIN_STEP_NS) stepNs = MIN_STEP_NS;
    const entries = await sampleEntries(ctx, request, expr, start, end + 1n, MAX_LINES);
    return { status: 'success', data: await minePatterns(entries, stepNs, () => request.socket.destroyed) };
  };
  app.get('/loki/api/v1/patterns', patterns);
  app.post('/loki/api/v1/patterns', patterns);
}
