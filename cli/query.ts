/**
 * `skald query '<logql>'`: a range query, as logcli's `query` does it. Log queries print one
 * line per entry (`-o default|raw|jsonl`), paging `--batch` entries at a time up to `--limit`;
 * metric queries print a table and, on a terminal, a chart per series. `-t` follows the query
 * over the WebSocket tail instead (cli/tail.ts).
 */
import { CliError, parseDurationMs, targetFrom, type TargetOptions } from './target.js';
import {
  ANSI,
  OUTPUT_MODES,
  commonLabels,
  formatEntry,
  formatLabels,
  formatQueryStats,
  formatSeries,
  matchLabels,
  paint,
  subtractLabels,
  useColor,
  type Labels,
  type LogFormatOptions,
  type OutputMode,
  type Series,
} from './output.js';
import { DEFAULT_BATCH, DEFAULT_LIMIT, DEFAULT_SINCE, parseCount, parseRfc3339, resolveRange, runRangeQuery, streamEntries, type LogEntry, type QueryData } from './paging.js';

export interface LogPrintOptions {
  output?: string;
  /** false with `--no-labels`. */
  labels?: boolean;
  includeLabel?: string[];
  excludeLabel?: string[];
  includeCommonLabels?: boolean;
  quiet?: boolean;
  /** false with `--no-color`. */
  color?: boolean;
  timezone?: string;
  stats?: boolean;
}

export interface QueryOptions extends TargetOptions, LogPrintOptions {
  since?: string;
  from?: string;
  to?: string;
  limit?: string;
  batch?: string;
  forward?: boolean;
  step?: string;
  interval?: string;
  tail?: boolean;
  delayFor?: string;
}

/** Collects a repeatable flag's values (commander's argParser). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').filter((v) => v !== '')];
}

export function outputMode(text: string | undefined): OutputMode {
  const mode = (text ?? 'default') as OutputMode;
  if (!OUTPUT_MODES.includes(mode)) throw new CliError(`-o/--output: unknown mode ${JSON.stringify(text)}; use one of ${OUTPUT_MODES.join(', ')}`);
  return mode;
}

/** `--timezone`/`-z`: Local (default) or UTC, as logcli. */
export function isUtc(text: string | undefined): boolean {
  if (text === undefined) return false;
  const lower = text.toLowerCase();
  if (lower === 'utc') return true;
  if (lower === 'local') return false;
  throw new CliError(`-z/--timezone: expected Local or UTC, got ${JSON.stringify(text)}`);
}

export function writeOut(text: string): void {
  if (text !== '') process.stdout.write(text);
}

export function writeErr(text: string): void {
  if (text !== '') process.stderr.write(text);
}

/** Exit quietly when the reader of stdout goes away (`skald query … | head`). */
export function exitOnEpipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

/**
 * Prints log entries page by page, as logcli's printStream: the labels common to all streams
 * (of the first page, so the columns stay the same across pages) are printed once on stderr
 * and left out of each line; `--include-label` keeps only the named labels, `--exclude-label`
 * drops them.
 */
export class StreamPrinter {
  readonly format: LogFormatOptions;
  private common: Labels | undefined;
  private maxLabelsLen = 0;
  private readonly errColor: boolean;

  constructor(private readonly options: LogPrintOptions) {
    this.format = {
      mode: outputMode(options.output),
      color: useColor(process.stdout, options.color === false),
      noLabels: options.labels === false,
      utc: isUtc(options.timezone),
    };
    this.errColor = useColor(process.stderr, options.color === false);
  }

  private shown(labels: Labels): Labels {
    let out = this.options.includeCommonLabels ? labels : subtractLabels(labels, this.common ?? {});
    if ((this.options.includeLabel ?? []).length > 0) out = matchLabels(true, out, this.options.includeLabel!);
    if ((this.options.excludeLabel ?? []).length > 0) out = matchLabels(false, out, this.options.excludeLabel!);
    return out;
  }

  print(entries: LogEntry[], streams: Labels[]): void {
    if (this.common === undefined) {
      let common = commonLabels(streams);
      if ((this.options.includeLabel ?? []).length > 0) common = matchLabels(false, common, this.options.includeLabel!);
      this.common = common;
      if (!this.options.quiet) {
        if (Object.keys(common).length > 0 && !this.options.includeCommonLabels) writeErr(`Common labels: ${paint(formatLabels(common), ANSI.red, this.errColor)}\n`);
        if ((this.options.excludeLabel ?? []).length > 0) writeErr(`Ignoring labels key: ${paint(this.options.excludeLabel!.join(','), ANSI.red, this.errColor)}\n`);
        if ((this.options.includeLabel ?? []).length > 0) writeErr(`Print only labels key: ${paint(this.options.includeLabel!.join(','), ANSI.red, this.errColor)}\n`);
      }
    }
    const shownByStream = new Map<Labels, Labels>();
    for (const s of streams) {
      const shown = this.shown(s);
      shownByStream.set(s, shown);
      this.maxLabelsLen = Math.max(this.maxLabelsLen, formatLabels(shown).length);
    }
    let out = '';
    for (const e of entries) {
      const labels = shownByStream.get(e.labels) ?? this.shown(e.labels);
      out += formatEntry(this.format, e.ts, labels, this.maxLabelsLen, e.line) + '\n';
    }
    writeOut(out);
  }
}

/** Prints a metric (or scalar) result; `streams` results go through a StreamPrinter. */
export function printResult(data: QueryData, options: LogPrintOptions, forward: boolean): void {
  const mode = outputMode(options.output);
  const utc = isUtc(options.timezone);
  const color = useColor(process.stdout, options.color === false);
  const chart = mode === 'default' && process.stdout.isTTY === true;
  switch (data.resultType) {
    case 'streams': {
      const { entries, streams } = streamEntries(data.result, forward);
      new StreamPrinter(options).print(entries, streams);
      return;
    }
    case 'matrix': {
      const series = ((data.result ?? []) as Array<{ metric?: Labels; values?: Array<[number, string]> }>).map((s) => ({ metric: s.metric ?? {}, values: s.values ?? [] }));
      writeOut(formatSeries({ mode, color, utc, chart }, series));
      return;
    }
    case 'vector': {
      const series: Series[] = ((data.result ?? []) as Array<{ metric?: Labels; value?: [number, string] }>).map((s) => ({ metric: s.metric ?? {}, values: s.value ? [s.value] : [] }));
      writeOut(formatSeries({ mode, color, utc, chart: false }, series));
      return;
    }
    case 'scalar': {
      const value = data.result as [number, string];
      writeOut(formatSeries({ mode, color, utc, chart: false }, [{ metric: {}, values: [value] }]));
      return;
    }
    default:
      throw new CliError(`cannot print a result of type ${JSON.stringify(data.resultType)}`);
  }
}

export function printStats(stats: unknown, options: LogPrintOptions): void {
  if (options.stats) writeErr(formatQueryStats(stats, useColor(process.stderr, options.color === false)));
}

export async function runQuery(query: string, options: QueryOptions): Promise<void> {
  exitOnEpipe();
  const target = targetFrom(options);
  const limit = parseCount(options.limit ?? String(DEFAULT_LIMIT), '--limit', true);
  const batch = parseCount(options.batch ?? String(DEFAULT_BATCH), '--batch');
  outputMode(options.output);
  isUtc(options.timezone);
  if (options.tail) {
    // Following lives in cli/tail.ts (shared with `skald tail`), loaded only when asked for.
    const { followTail } = await import('./tail.js');
    const sinceMs = parseDurationMs(options.since ?? DEFAULT_SINCE, '--since');
    const start = options.from === undefined ? (BigInt(Date.now()) - BigInt(Math.round(sinceMs))) * 1_000_000n : parseRfc3339(options.from, '--from');
    const delayFor = options.delayFor === undefined ? undefined : parseCount(options.delayFor, '--delay-for', true);
    await followTail(target, query, {
      limit,
      ...(delayFor === undefined ? {} : { delayFor }),
      start,
      output: outputMode(options.output),
      noLabels: options.labels === false,
      includeLabels: options.includeLabel ?? [],
      excludeLabels: options.excludeLabel ?? [],
      color: useColor(process.stdout, options.color === false),
      timezone: isUtc(options.timezone) ? 'UTC' : 'Local',
    });
    return;
  }
  const { start, end } = resolveRange(options);
  const printer = new StreamPrinter(options);
  const progress = !options.quiet && process.stderr.isTTY === true;
  let progressShown = false;
  await runRangeQuery(
    target,
    { query, start, end, limit, batch, forward: options.forward === true, ...(options.step ? { step: options.step } : {}), ...(options.interval ? { interval: options.interval } : {}) },
    {
      onEntries: (entries, streams) => {
        if (progressShown) process.stderr.write('\r\u001b[2K');
        printer.print(entries, streams);
      },
      onResult: (data) => printResult(data, options, options.forward === true),
      onStats: (stats) => printStats(stats, options),
      onProgress: (entries, requests) => {
        if (!progress || (requests < 2 && limit !== 0 && entries >= limit)) return;
        process.stderr.write(`\r\u001b[2Kfetched ${entries}${limit === 0 ? '' : `/${limit}`} entries in ${requests} request${requests === 1 ? '' : 's'}…`);
        progressShown = true;
      },
    },
  );
  if (progressShown) process.stderr.write('\r\u001b[2K');
}
