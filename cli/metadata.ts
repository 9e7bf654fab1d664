/**
 * logcli's metadata commands over HTTP:
 * - `skald labels` (label names) and `skald labels <name>` (its values), one per line;
 * - `skald series '<selector>'`: the matching streams' label sets, one per line, or with
 *   `--analyze-labels` a table of label cardinalities;
 * - `skald stats '<selector>'`: streams, chunks, bytes and entries from the index;
 * - `skald volume '<selector>'`: bytes per series, as a table.
 * Each takes `--since` (default 1h) or `--from`/`--to`.
 */
import { CliError, getJson, targetFrom, type TargetOptions } from './target.js';
import { ANSI, formatLabels, humanizeBytes, paint, renderTable, useColor, type Labels } from './output.js';
import { parseCount, queryData, resolveRange, type TimeRangeOptions } from './paging.js';
import { exitOnEpipe, isUtc, outputMode, printResult, writeErr, writeOut, type LogPrintOptions } from './query.js';

export interface MetadataOptions extends TargetOptions, TimeRangeOptions {
  quiet?: boolean;
  color?: boolean;
}

function rangeParams(options: TimeRangeOptions): URLSearchParams {
  const { start, end } = resolveRange(options);
  return new URLSearchParams({ start: start.toString(), end: end.toString() });
}

function stringList(body: unknown, what: string): string[] {
  const data = (body as { data?: unknown } | null)?.data;
  if (data === undefined || data === null) return [];
  if (!Array.isArray(data)) throw new CliError(`unexpected answer for ${what}: data is not a list`);
  return data.map(String);
}

export interface LabelsOptions extends MetadataOptions {
  query?: string;
}

export async function runLabels(name: string | undefined, options: LabelsOptions): Promise<void> {
  exitOnEpipe();
  const target = targetFrom(options);
  const params = rangeParams(options);
  if (options.query !== undefined) params.set('query', options.query);
  const path = name === undefined ? '/loki/api/v1/labels' : `/loki/api/v1/label/${encodeURIComponent(name)}/values`;
  const values = stringList(await getJson(target, path, params), name === undefined ? 'labels' : `label ${name}`);
  writeOut(values.map((v) => `${v}\n`).join(''));
}

export interface SeriesOptions extends MetadataOptions {
  analyzeLabels?: boolean;
}

export async function runSeries(selector: string, options: SeriesOptions): Promise<void> {
  exitOnEpipe();
  const target = targetFrom(options);
  const params = rangeParams(options);
  params.append('match[]', selector);
  const body = (await getJson(target, '/loki/api/v1/series', params)) as { data?: Labels[] | null };
  const series = body.data ?? [];
  if (!options.analyzeLabels) {
    writeOut(series.map((s) => `${formatLabels(s)}\n`).join(''));
    return;
  }
  // logcli's --analyze-labels: per label name, its distinct values and the streams that have it.
  const stats = new Map<string, { values: Set<string>; streams: number }>();
  for (const s of series) {
    for (const [k, v] of Object.entries(s)) {
      const entry = stats.get(k) ?? { values: new Set<string>(), streams: 0 };
      entry.values.add(v);
      entry.streams++;
      stats.set(k, entry);
    }
  }
  const rows = [...stats.entries()]
    .sort((a, b) => b[1].values.size - a[1].values.size || a[0].localeCompare(b[0]))
    .map(([k, s]) => [k, String(s.values.size), String(s.streams)]);
  writeOut(`Total Streams:  ${series.length}\nUnique Labels:  ${stats.size}\n\n`);
  writeOut(renderTable(['Label Name', 'Unique Values', 'Found In Streams'], rows, useColor(process.stdout, options.color === false)));
}

export async function runStats(selector: string, options: MetadataOptions): Promise<void> {
  exitOnEpipe();
  const target = targetFrom(options);
  const params = rangeParams(options);
  params.set('query', selector);
  const body = (await getJson(target, '/loki/api/v1/index/stats', params)) as Partial<Record<'streams' | 'chunks' | 'bytes' | 'entries', number>>;
  const color = useColor(process.stdout, options.color === false);
  const key = (k: string) => paint(k, ANSI.blue, color);
  // logcli prints the index stats this way (IndexStatsResponse.LoggingKeyValues).
  writeOut(
    `{\n  ${key('bytes')}: ${humanizeBytes(body.bytes ?? 0).replace(' ', '')}\n  ${key('chunks')}: ${body.chunks ?? 0}\n` +
      `  ${key('streams')}: ${body.streams ?? 0}\n  ${key('entries')}: ${body.entries ?? 0}\n}\n`,
  );
}

export interface VolumeOptions extends MetadataOptions, LogPrintOptions {
  limit?: string;
  targetLabels?: string[];
  aggregateBy?: string;
}

export async function runVolume(selector: string, options: VolumeOptions): Promise<void> {
  exitOnEpipe();
  const target = targetFrom(options);
  outputMode(options.output);
  isUtc(options.timezone);
  const params = rangeParams(options);
  params.set('query', selector);
  params.set('limit', String(parseCount(options.limit ?? '100', '--limit')));
  if ((options.targetLabels ?? []).length > 0) params.set('targetLabels', options.targetLabels!.join(','));
  if (options.aggregateBy !== undefined) {
    if (options.aggregateBy !== 'series' && options.aggregateBy !== 'labels') throw new CliError(`--aggregate-by: expected series or labels, got ${JSON.stringify(options.aggregateBy)}`);
    params.set('aggregateBy', options.aggregateBy);
  }
  const data = queryData(await getJson(target, '/loki/api/v1/index/volume', params));
  if (!options.quiet && Array.isArray(data.result) && data.result.length === 0) writeErr('no volume for this selector in the time range\n');
  printResult(data, options, false);
}
