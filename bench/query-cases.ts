/**
 * The queries the query benchmark times, each with its HTTP parameters and a check of its
 * answer against the counts the generator kept (bench/query-data.ts). A query that answers
 * fast but wrong is not a result, so every run is checked.
 */
import type { DataCounts, NamespaceCounts } from './query-data.js';

/** Loki's JSON answer to /query and /query_range (pkg/loghttp/query.go), as far as the bench reads it. */
export interface LokiQueryResponse {
  status: string;
  data?: {
    resultType: 'streams' | 'matrix' | 'vector' | 'scalar';
    result: unknown;
    stats?: { summary?: Partial<LokiStatsSummary> };
  };
}

/** `data.stats.summary`: execTime is in seconds, the totals are counts and bytes. */
export interface LokiStatsSummary {
  bytesProcessedPerSecond: number;
  linesProcessedPerSecond: number;
  totalBytesProcessed: number;
  totalLinesProcessed: number;
  execTime: number;
  totalEntriesReturned: number;
}

interface LokiStream {
  stream: Record<string, string>;
  values: [string, string][];
}

interface LokiSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

interface LokiSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface QueryCase {
  /** Short id used by --only and in the table. */
  name: string;
  /** The LogQL text as sent. */
  query: string;
  endpoint: 'query_range' | 'query';
  /** Everything but `query`: start/end/step/limit or time. */
  params: Record<string, string>;
  /** How much of the data set the query covers, for the reader of the table. */
  scope: string;
  /**
   * Bytes of the lines its selector and time range cover: what the query reads unless it can stop
   * early (a log query with a limit) — a yardstick for the server's own totalBytesProcessed.
   */
  selectedBytes: number;
  /** 'ok' or what differs from the generator's counts. */
  check(response: LokiQueryResponse): string;
  /** Result size for the table: entries of a log query, series/samples of a metric query. */
  describe(response: LokiQueryResponse): string;
}

export interface CaseInputs {
  counts: DataCounts;
  namespace: string;
  needleWord: string;
  commonWord: string;
  rangeStartSec: number;
  rangeEndSec: number;
  instantWindowStartSec: number;
  rateWindowStartSec: number;
}

const LOG_LIMIT = 100;
const NS = 1_000_000_000n;

const nanos = (seconds: number): string => (BigInt(seconds) * NS).toString();

function streams(response: LokiQueryResponse): LokiStream[] {
  if (response.data?.resultType !== 'streams') throw new Error(`expected a streams result, got ${response.data?.resultType ?? 'no data'}`);
  return response.data.result as LokiStream[];
}

function matrix(response: LokiQueryResponse): LokiSeries[] {
  if (response.data?.resultType !== 'matrix') throw new Error(`expected a matrix result, got ${response.data?.resultType ?? 'no data'}`);
  return response.data.result as LokiSeries[];
}

function vector(response: LokiQueryResponse): LokiSample[] {
  if (response.data?.resultType !== 'vector') throw new Error(`expected a vector result, got ${response.data?.resultType ?? 'no data'}`);
  return response.data.result as LokiSample[];
}

function entryCount(result: LokiStream[]): number {
  return result.reduce((sum, stream) => sum + stream.values.length, 0);
}

/** Sum of every point of every series, each point multiplied by `scale`, per value of `label` ('' = absent). */
function totalsBy(series: ReadonlyArray<{ metric: Record<string, string>; values: ReadonlyArray<readonly [number, string]> }>, label: string | undefined, scale = 1): Map<string, number> {
  const totals = new Map<string, number>();
  for (const one of series) {
    const key = label === undefined ? '' : one.metric[label] ?? '';
    const sum = one.values.reduce((acc, [, value]) => acc + Number(value) * scale, 0);
    totals.set(key, (totals.get(key) ?? 0) + sum);
  }
  return totals;
}

/**
 * Compares per-group totals with the expected counts. Rates come back as floats, so values within
 * 1e-6 relative count as equal.
 */
function compareTotals(what: string, got: Map<string, number>, expected: Record<string, number>): string {
  const problems: string[] = [];
  const keys = new Set([...got.keys(), ...Object.keys(expected)]);
  for (const key of [...keys].sort()) {
    const want = expected[key] ?? 0;
    const have = got.get(key) ?? 0;
    if (Math.abs(have - want) > Math.max(1e-6 * want, 1e-6)) problems.push(`${key === '' ? '(none)' : key}: expected ${want}, got ${Number(have.toFixed(6))}`);
  }
  return problems.length === 0 ? 'ok' : `${what} differ: ${problems.slice(0, 6).join('; ')}${problems.length > 6 ? ` … (${problems.length} groups)` : ''}`;
}

function checkEntries(result: LokiStream[], expectedMatches: number, mustContain: string): string {
  const want = Math.min(LOG_LIMIT, expectedMatches);
  const got = entryCount(result);
  if (got !== want) return `expected ${want} entries (${expectedMatches} match, limit ${LOG_LIMIT}), got ${got}`;
  for (const stream of result) {
    for (const [, line] of stream.values) if (!line.includes(mustContain)) return `returned a line without ${JSON.stringify(mustContain)}: ${line.slice(0, 200)}`;
  }
  return 'ok';
}

/** What `| logfmt` gives each line of a namespace as `level`: logfmt lines their level, the others none. */
function logfmtLevelExpectation(levels: Record<string, number>, lines: number): Record<string, number> {
  const expected: Record<string, number> = { ...levels };
  const withLevel = Object.values(levels).reduce((sum, count) => sum + count, 0);
  if (lines > withLevel) expected[''] = lines - withLevel;
  return expected;
}

function sumNamespaces(counts: DataCounts, pick: (namespace: NamespaceCounts) => number): number {
  return Object.values(counts.byNamespace).reduce((sum, namespace) => sum + pick(namespace), 0);
}

const describeStreams = (response: LokiQueryResponse): string => {
  const result = streams(response);
  return `${entryCount(result)} entries / ${result.length} streams`;
};
const describeMatrix = (response: LokiQueryResponse): string => {
  const result = matrix(response);
  return `${result.length} series × ${result.reduce((max, series) => Math.max(max, series.values.length), 0)} points`;
};
const describeVector = (response: LokiQueryResponse): string => `${vector(response).length} samples`;

export function queryCases(inputs: CaseInputs): QueryCase[] {
  const { counts, namespace, needleWord, commonWord } = inputs;
  const ns = counts.byNamespace[namespace];
  if (ns === undefined) throw new Error(`namespace ${namespace} has no data`);
  const whole = { start: nanos(inputs.rangeStartSec), end: nanos(inputs.rangeEndSec) };
  // Points every hour from one hour after the start: their [1h] windows tile (start, end] exactly once.
  const hourly = { start: nanos(inputs.rangeStartSec + 3600), end: nanos(inputs.rangeEndSec), step: '3600' };
  const hours = (inputs.rangeEndSec - inputs.rangeStartSec) / 3600;
  const allLevelsInRateWindow: Record<string, number> = {};
  for (const one of Object.values(counts.byNamespace)) {
    for (const [level, count] of Object.entries(one.logfmtLevelsInRateWindow)) allLevelsInRateWindow[level] = (allLevelsInRateWindow[level] ?? 0) + count;
  }
  const linesInRateWindow = sumNamespaces(counts, (one) => one.linesInRateWindow);
  const linesPerNamespaceInInstantWindow = Object.fromEntries(
    Object.entries(counts.byNamespace).map(([name, one]) => [name, one.linesInInstantWindow]),
  );
  const jsonStatuses: Record<string, number> = { ...counts.jsonStatuses };

  return [
    {
      name: 'needle',
      query: `{namespace="${namespace}"} |= "${needleWord}"`,
      endpoint: 'query_range',
      params: { ...whole, limit: String(LOG_LIMIT) },
      scope: `1 namespace, ${hours} h; ${ns.needleLines} matching lines`,
      selectedBytes: ns.lineBytes,
      check: (response) => checkEntries(streams(response), ns.needleLines, needleWord),
      describe: describeStreams,
    },
    {
      name: 'filter-scan',
      query: `sum(count_over_time({namespace="${namespace}"} |= "${commonWord}" [1h]))`,
      endpoint: 'query_range',
      params: hourly,
      scope: `1 namespace, ${hours} h, step 1h; ${ns.commonWordLines} matching lines (~1 in 11; block filters can skip only blocks without it)`,
      selectedBytes: ns.lineBytes,
      check: (response) => compareTotals('line totals', totalsBy(matrix(response), undefined), { '': ns.commonWordLines }),
      describe: describeMatrix,
    },
    {
      name: 'logfmt-error',
      query: `{namespace="${namespace}"} | logfmt | level="error"`,
      endpoint: 'query_range',
      params: { ...whole, limit: String(LOG_LIMIT) },
      scope: `1 namespace, ${hours} h; ${ns.logfmtLevels['error'] ?? 0} matching lines (newest ${LOG_LIMIT} returned)`,
      selectedBytes: ns.lineBytes,
      check: (response) => checkEntries(streams(response), ns.logfmtLevels['error'] ?? 0, 'level=error'),
      describe: describeStreams,
    },
    {
      name: 'count-by-level-1m',
      query: `sum by (level) (count_over_time({namespace="${namespace}"} | logfmt [1m]))`,
      endpoint: 'query_range',
      // [1m] windows at 60 s steps from the start tile (start − 1m, end]: every line counted once.
      params: { ...whole, step: '60' },
      scope: `1 namespace, ${hours} h, step 60s`,
      selectedBytes: ns.lineBytes,
      check: (response) => compareTotals('line counts by level', totalsBy(matrix(response), 'level'), logfmtLevelExpectation(ns.logfmtLevels, ns.lines)),
      describe: describeMatrix,
    },
    {
      name: 'loki-count-all-1h',
      query: 'sum(count_over_time({job=~".+"}[1h]))',
      endpoint: 'query_range',
      params: hourly,
      scope: `all streams, ${hours} h, step 1h`,
      selectedBytes: counts.lineBytes,
      check: (response) => compareTotals('line totals', totalsBy(matrix(response), undefined), { '': counts.lines }),
      describe: describeMatrix,
    },
    {
      name: 'loki-json-by-status-1h',
      query: 'sum by (status) (count_over_time({container=~"server|consumer"} | json [1h]))',
      endpoint: 'query_range',
      params: hourly,
      scope: `JSON streams (${counts.jsonLines.toLocaleString('en-US')} lines), ${hours} h, step 1h`,
      selectedBytes: counts.jsonLineBytes,
      check: (response) => compareTotals('line counts by status', totalsBy(matrix(response), 'status'), jsonStatuses),
      describe: describeMatrix,
    },
    {
      name: 'loki-rate-by-level-1m',
      query: 'sum by (level) (rate({namespace=~".+"} | logfmt [1m]))',
      endpoint: 'query_range',
      // rate × 60 s is the count of each [1m] window, and those windows tile (start − 1m, end].
      params: { start: nanos(inputs.rateWindowStartSec + 60), end: nanos(inputs.rangeEndSec), step: '60' },
      scope: 'all streams, last 1 h, step 60s',
      selectedBytes: sumNamespaces(counts, (one) => one.lineBytesInRateWindow),
      check: (response) =>
        compareTotals('line counts by level', totalsBy(matrix(response), 'level', 60), logfmtLevelExpectation(allLevelsInRateWindow, linesInRateWindow)),
      describe: describeMatrix,
    },
    {
      name: 'instant-count-by-ns-1h',
      query: 'sum by (namespace) (count_over_time({job=~".+"}[1h]))',
      endpoint: 'query',
      params: { time: nanos(inputs.rangeEndSec) },
      scope: 'all streams, last 1 h (instant)',
      selectedBytes: sumNamespaces(counts, (one) => one.lineBytesInInstantWindow),
      check: (response) =>
        compareTotals('line counts by namespace', totalsBy(vector(response).map((sample) => ({ metric: sample.metric, values: [sample.value] })), 'namespace'),
          linesPerNamespaceInInstantWindow),
      describe: describeVector,
    },
  ];
}
