/**
 * `skald instant-query '<logql>'`: a metric query at one instant (`--now`, default now), printed
 * as a table (`-o raw`: tab-separated rows, `-o jsonl`: one object per sample), as logcli's
 * `instant-query`.
 */
import { targetFrom, type TargetOptions } from './target.js';
import { parseCount, parseRfc3339, queryData } from './paging.js';
import { exitOnEpipe, isUtc, outputMode, printResult, printStats, type LogPrintOptions } from './query.js';
import { getJson } from './target.js';

export interface InstantQueryOptions extends TargetOptions, LogPrintOptions {
  now?: string;
  limit?: string;
  forward?: boolean;
}

export async function runInstantQuery(query: string, options: InstantQueryOptions): Promise<void> {
  exitOnEpipe();
  const target = targetFrom(options);
  const limit = parseCount(options.limit ?? '30', '--limit');
  outputMode(options.output);
  isUtc(options.timezone);
  const params = new URLSearchParams({ query, limit: String(limit), direction: options.forward ? 'forward' : 'backward' });
  if (options.now !== undefined) params.set('time', parseRfc3339(options.now, '--now').toString());
  const data = queryData(await getJson(target, '/loki/api/v1/query', params));
  if (data.stats !== undefined) printStats(data.stats, options);
  printResult(data, options, options.forward === true);
}
