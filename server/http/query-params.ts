/**
 * The parameters of `/query` and `/query_range` as Loki reads them (pkg/loghttp/query.go,
 * params.go): defaults, validation order and error texts.
 */
import { badRequest } from './errors.js';
import { parseBounds, parseTimestamp } from './params.js';

export type QueryDirection = 'forward' | 'backward';

const DEFAULT_LIMIT = 100;
/** Loki bounds range queries to this many points per series. */
const MAX_POINTS = 11_000;
const NS_PER_SECOND = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;

export interface RangeQueryParams {
  query: string;
  start: bigint;
  end: bigint;
  limit: number;
  direction: QueryDirection;
  stepNs: bigint;
  /** `interval`: for log queries, at most one entry per interval of each stream (0 = all). */
  intervalNs: bigint;
}

export interface InstantQueryParams {
  query: string;
  time: bigint;
  limit: number;
  direction: QueryDirection;
}

export function parseRangeQuery(params: URLSearchParams, nowMs = Date.now()): RangeQueryParams {
  const query = params.get('query') ?? '';
  const { start, end } = parseBounds(params, nowMs, 3_600_000, 'end timestamp must not be before or equal to start time');
  const limit = parseLimit(params.get('limit'));
  const direction = parseDirection(params.get('direction'));
  const stepNs = parseStep(params.get('step'), start, end);
  if (stepNs <= 0n) throw badRequest('zero or negative query resolution step widths are not accepted. Try a positive integer');
  if ((end - start) / stepNs > BigInt(MAX_POINTS)) {
    throw badRequest('exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter');
  }
  const intervalText = params.get('interval');
  const intervalNs = intervalText ? parseDurationParam(intervalText) : 0n;
  if (intervalNs < 0n) throw badRequest('interval must be >= 0');
  return { query, start, end, limit, direction, stepNs, intervalNs };
}

export function parseInstantQuery(params: URLSearchParams, nowMs = Date.now()): InstantQueryParams {
  const query = params.get('query') ?? '';
  const limit = parseLimit(params.get('limit'));
  const timeText = params.get('time');
  const time = timeText ? parseTimestamp(timeText, 'time') : BigInt(nowMs) * NS_PER_MS;
  const direction = parseDirection(params.get('direction'));
  return { query, time, limit, direction };
}

/** Loki's `limit` parameter: default 100, a positive integer. */
export function parseLimit(text: string | null): number {
  if (text === null || text === '') return DEFAULT_LIMIT;
  if (!/^[+-]?\d+$/.test(text)) throw badRequest(`strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`);
  const limit = Number(text);
  if (limit <= 0) throw badRequest('limit must be a positive value');
  return limit;
}

function parseDirection(text: string | null): QueryDirection {
  if (text === null || text === '') return 'backward';
  const upper = text.toUpperCase();
  if (upper === 'FORWARD') return 'forward';
  if (upper === 'BACKWARD') return 'backward';
  throw badRequest(`invalid direction '${text}'`);
}

/** Loki's default step: max(floor((end − start) / 250 s), 1) seconds. */
function defaultStepNs(start: bigint, end: bigint): bigint {
  const seconds = Math.max(Math.floor(Number(end - start) / 1e9 / 250), 1);
  return BigInt(seconds) * NS_PER_SECOND;
}

function parseStep(text: string | null, start: bigint, end: bigint): bigint {
  if (text === null || text === '') return defaultStepNs(start, end);
  return parseDurationParam(text);
}

// Prometheus model.ParseDuration: units in this order, each at most once.
const PROM_DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const PROM_UNITS_NS = [
  365n * 86_400n * NS_PER_SECOND,
  7n * 86_400n * NS_PER_SECOND,
  86_400n * NS_PER_SECOND,
  3_600n * NS_PER_SECOND,
  60n * NS_PER_SECOND,
  NS_PER_SECOND,
  NS_PER_MS,
];

/** `step` and `interval`: float seconds first, then a Prometheus duration (`15000ms`, `1m30s`; not `1.5s`). */
export function parseDurationParam(text: string): bigint {
  const seconds = Number(text);
  if (text.trim() !== '' && !Number.isNaN(seconds)) {
    const ns = seconds * 1e9;
    if (!Number.isFinite(ns) || Math.abs(ns) > 9.2e18) throw badRequest(`cannot parse ${JSON.stringify(text)} to a valid duration. It overflows int64`);
    return BigInt(Math.trunc(ns));
  }
  const m = text === '0' ? [] : PROM_DURATION.exec(text);
  if (m === null || text === '') throw badRequest(`cannot parse ${JSON.stringify(text)} to a valid duration`);
  let ns = 0n;
  for (let i = 0; i < PROM_UNITS_NS.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) ns += BigInt(part) * PROM_UNITS_NS[i]!;
  }
  return ns;
}

/** Go's time.Duration.String() for whole milliseconds (`721h0m0s`, `1m30s`, `1.5s`, `0s`). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1000) return `${sign}${rest}ms`;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = (rest / 1000).toString();
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}
