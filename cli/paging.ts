/**
 * Time ranges and batched range queries, as logcli does them: `--since`/`--from`/`--to`, and
 * `--limit` entries fetched `--batch` at a time so a query can go past the server's
 * `max_entries_limit_per_query`. Each next request starts (forward) or ends (backward) at the
 * last timestamp seen, and the entries at that boundary timestamp, which the next answer
 * repeats, are dropped once each (by labels and line, so identical lines of different
 * streams and repeated lines of one stream are both kept).
 */
import { CliError, getJson, parseDurationMs, type Target } from './target.js';
import { formatLabels, type Labels } from './output.js';

export const DEFAULT_SINCE = '1h';
export const DEFAULT_LIMIT = 30;
export const DEFAULT_BATCH = 1000;

const RFC3339 = /^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/** An RFC3339 (nanosecond precision) time → Unix nanoseconds. */
export function parseRfc3339(text: string, flag: string): bigint {
  const match = RFC3339.exec(text.trim());
  const ms = match === null ? NaN : Date.parse(`${match[1]!.replace(/[t ]/, 'T')}${match[3]!.toUpperCase()}`);
  if (match === null || Number.isNaN(ms)) throw new CliError(`${flag}: invalid time ${JSON.stringify(text)}: expected RFC3339, e.g. 2024-01-02T15:04:05Z`);
  const frac = match[2] === undefined ? 0n : BigInt(match[2].padEnd(9, '0'));
  return BigInt(ms) * 1_000_000n + frac;
}

export interface TimeRangeOptions {
  since?: string;
  from?: string;
  to?: string;
}

/** `--to` (default now) and `--from` (default `--to` − `--since`), in nanoseconds. */
export function resolveRange(options: TimeRangeOptions, nowMs = Date.now()): { start: bigint; end: bigint } {
  const end = options.to === undefined ? BigInt(nowMs) * 1_000_000n : parseRfc3339(options.to, '--to');
  const sinceMs = parseDurationMs(options.since ?? DEFAULT_SINCE, '--since');
  const start = options.from === undefined ? end - BigInt(Math.round(sinceMs)) * 1_000_000n : parseRfc3339(options.from, '--from');
  if (start > end) throw new CliError('--from must not be after --to');
  return { start, end };
}

/** A positive (or, with `allowZero`, zero) integer flag value. */
export function parseCount(text: string, flag: string, allowZero = false): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || (n === 0 && !allowZero)) {
    throw new CliError(`${flag}: expected a ${allowZero ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(text)}`);
  }
  return n;
}

export interface LogEntry {
  ts: bigint;
  labels: Labels;
  line: string;
}

export interface QueryData {
  resultType: string;
  result: unknown;
  stats?: unknown;
}

interface StreamJson {
  stream?: Labels;
  values?: Array<[string, string, unknown?]>;
}

/** The `data` of a query answer, checked for shape. */
export function queryData(body: unknown): QueryData {
  const data = (body as { data?: QueryData } | null)?.data;
  if (data === undefined || data === null || typeof data.resultType !== 'string') throw new CliError('unexpected answer: no data.resultType');
  return data;
}

/** Entries of a `streams` result, sorted by time (stable: ties keep the answer's order). */
export function streamEntries(result: unknown, forward: boolean): { entries: LogEntry[]; streams: Labels[] } {
  const streams: Labels[] = [];
  const entries: LogEntry[] = [];
  for (const s of (result ?? []) as StreamJson[]) {
    const labels = s.stream ?? {};
    streams.push(labels);
    for (const v of s.values ?? []) entries.push({ ts: BigInt(v[0]), labels, line: v[1] });
  }
  entries.sort((a, b) => (a.ts === b.ts ? 0 : (a.ts < b.ts) === forward ? -1 : 1));
  return { entries, streams };
}

export interface RangeRequest {
  query: string;
  start: bigint;
  end: bigint;
  /** Entries wanted in all; 0: no limit. */
  limit: number;
  /** Entries per request. */
  batch: number;
  forward: boolean;
  step?: string;
  interval?: string;
}

export interface PagingHandlers {
  /** New entries of one answer (already de-duplicated), with the label sets of the answer's streams. */
  onEntries(entries: LogEntry[], streams: Labels[]): void;
  /** A result that is not log streams (a metric query): paging stops after it. */
  onResult(data: QueryData): void;
  onStats?(stats: unknown): void;
  /** After each answer of a log query: entries so far and requests made. */
  onProgress?(entries: number, requests: number): void;
}

function entryKey(e: LogEntry): string {
  return `${formatLabels(e.labels)}\u0000${e.line}`;
}

/** Runs a range query, paging through log results; resolves with the number of entries delivered. */
export async function runRangeQuery(target: Target, req: RangeRequest, handlers: PagingHandlers): Promise<number> {
  const unlimited = req.limit === 0;
  const batch = !unlimited && req.limit < req.batch ? req.limit : req.batch;
  let start = req.start;
  let end = req.end;
  let total = 0;
  let requests = 0;
  let boundaryTs: bigint | undefined;
  let boundary = new Map<string, number>();
  let boundaryCount = 0;
  while (unlimited || total < req.limit) {
    const size = !unlimited && req.limit - total < batch ? req.limit - total + boundaryCount : batch;
    const params = new URLSearchParams({
      query: req.query,
      start: start.toString(),
      end: end.toString(),
      limit: String(size),
      direction: req.forward ? 'forward' : 'backward',
    });
    if (req.step !== undefined) params.set('step', req.step);
    if (req.interval !== undefined) params.set('interval', req.interval);
    const data = queryData(await getJson(target, '/loki/api/v1/query_range', params));
    requests++;
    if (data.stats !== undefined) handlers.onStats?.(data.stats);
    if (data.resultType !== 'streams') {
      handlers.onResult(data);
      return 0;
    }
    const { entries, streams } = streamEntries(data.result, req.forward);
    if (entries.length === 0) break;
    const fresh: LogEntry[] = [];
    for (const e of entries) {
      if (e.ts === boundaryTs) {
        const key = entryKey(e);
        const seen = boundary.get(key) ?? 0;
        if (seen > 0) {
          boundary.set(key, seen - 1);
          continue;
        }
      }
      fresh.push(e);
    }
    // Never more than asked for, even if the server answered more than `limit`.
    if (!unlimited && total + fresh.length > req.limit) fresh.length = req.limit - total;
    handlers.onEntries(fresh, streams);
    total += fresh.length;
    handlers.onProgress?.(total, requests);
    if (fresh.length === 0 || entries.length < size || (!unlimited && total >= req.limit)) break;
    const lastTs = entries[entries.length - 1]!.ts;
    boundary = new Map();
    boundaryCount = 0;
    for (const e of entries) {
      if (e.ts !== lastTs) continue;
      const key = entryKey(e);
      boundary.set(key, (boundary.get(key) ?? 0) + 1);
      boundaryCount++;
    }
    boundaryTs = lastTs;
    if (boundaryCount >= batch) {
      throw new CliError(
        `invalid batch size ${batch}: ${boundaryCount} entries share the timestamp ${lastTs} at the end of a batch; use --batch ${boundaryCount + 1} or more`,
      );
    }
    if (req.forward) start = lastTs;
    else end = lastTs + 1n;
  }
  return total;
}
