/**
 * The CLI's subcommands (logcli's habits), registered on the `skald` program by bin/skald.ts.
 * Definitions only: each action imports its command module when it runs, so `skald server`
 * and `skald agent` do not load the CLI's code.
 */
import type { Command } from 'commander';
import { CliError, targetFrom, withTargetOptions, type TargetOptions } from './target.js';

type Opts = Record<string, unknown>;

/** A command's action; a CliError becomes `skald <cmd>: <message>` on stderr and its exit code. */
async function runCliCommand(name: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`skald ${name}: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    throw err;
  }
}

/** The action of a read command: commander passes the arguments, then the options and the command. */
function readCommand(name: string, run: (args: string[], options: Opts) => Promise<void>) {
  return async (...args: unknown[]): Promise<void> => {
    const options = args[args.length - 2] as Opts;
    const positional = args.slice(0, -2) as string[];
    await runCliCommand(name, () => run(positional, options));
  };
}

/** A repeatable flag that also takes comma-separated values. */
function repeatable(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').filter((v) => v !== '')];
}

function withRange(command: Command): Command {
  return command
    .option('--since <duration>', 'how far back to look, e.g. 5m, 1h, 3d (default 1h)')
    .option('--from <time>', 'start of the range, RFC3339 (overrides --since)')
    .option('--to <time>', 'end of the range, RFC3339 (default now)');
}

function withPrint(command: Command): Command {
  return command
    .option('-o, --output <mode>', 'default, raw or jsonl (default "default")')
    .option('-z, --timezone <zone>', 'Local or UTC, for printed times (default Local)')
    .option('--no-color', 'no colours (also when NO_COLOR is set or stdout is not a terminal)')
    .option('-q, --quiet', 'print nothing but the results (no common labels, no progress)')
    .option('--stats', 'print the query statistics on stderr');
}

export function registerCliCommands(program: Command): void {
  // query / instant-query / labels / series / stats / volume (logcli's read commands)

  withTargetOptions(
    withPrint(
      withRange(
        program
          .command('query')
          .description('run a LogQL range query (logs, or a metric table and chart)')
          .argument('<query>', 'LogQL query, e.g. \'{app="api"} |= "error"\' or \'sum(rate({app="api"}[1m]))\'')
          .option('--limit <n>', 'entries to print in all, 0 for no limit (default 30)')
          .option('--batch <n>', 'entries per request, to page past the server\'s maximum (default 1000)')
          .option('--forward', 'oldest entries first (default: newest first)')
          .option('--step <duration>', 'metric queries: resolution step, e.g. 30s (default: the server\'s)')
          .option('--interval <duration>', 'log queries: return one entry per interval')
          .option('--no-labels', 'do not print labels')
          .option('--include-label <name>', 'print only this label (repeatable, or comma-separated)', repeatable)
          .option('--exclude-label <name>', 'do not print this label (repeatable, or comma-separated)', repeatable)
          .option('--include-common-labels', 'print the labels common to all streams on each line too')
          .option('-t, --tail', 'follow the query live over the WebSocket tail')
          .option('--delay-for <seconds>', 'with --tail: let the server wait this long to send entries in order'),
      ),
    ),
  ).action(
    readCommand('query', async ([query], options) => {
      const { runQuery } = await import('./query.js');
      await runQuery(query!, options);
      if (options['tail']) process.exit(0);
    }),
  );

  withTargetOptions(
    withPrint(
      program
        .command('instant-query')
        .description('run a LogQL metric query at one instant and print a table')
        .argument('<query>', 'LogQL metric query, e.g. \'count_over_time({app="api"}[5m])\'')
        .option('--now <time>', 'the instant, RFC3339 (default now)')
        .option('--limit <n>', 'entries for log queries (default 30)')
        .option('--forward', 'oldest entries first'),
    ),
  ).action(
    readCommand('instant-query', async ([query], options) => {
      const { runInstantQuery } = await import('./instant-query.js');
      await runInstantQuery(query!, options);
    }),
  );

  withTargetOptions(
    withRange(
      program
        .command('labels')
        .description('list label names, or the values of one label')
        .argument('[name]', 'label whose values to list')
        .option('--query <selector>', 'only labels of the streams matching this selector')
        .option('-q, --quiet', 'print nothing but the results'),
    ),
  ).action(
    readCommand('labels', async ([name], options) => {
      const { runLabels } = await import('./metadata.js');
      await runLabels(name, options);
    }),
  );

  withTargetOptions(
    withRange(
      program
        .command('series')
        .description('list the label sets of the streams matching a selector')
        .argument('<selector>', 'stream selector, e.g. \'{app="api"}\' or \'{}\'')
        .option('--analyze-labels', 'print a table of label names, their distinct values and streams')
        .option('--no-color', 'no colours')
        .option('-q, --quiet', 'print nothing but the results'),
    ),
  ).action(
    readCommand('series', async ([selector], options) => {
      const { runSeries } = await import('./metadata.js');
      await runSeries(selector!, options);
    }),
  );

  withTargetOptions(
    withRange(
      program
        .command('stats')
        .description('streams, chunks, bytes and entries a selector matches, from the index')
        .argument('<selector>', 'stream selector, e.g. \'{app="api"}\'')
        .option('--no-color', 'no colours')
        .option('-q, --quiet', 'print nothing but the results'),
    ),
  ).action(
    readCommand('stats', async ([selector], options) => {
      const { runStats } = await import('./metadata.js');
      await runStats(selector!, options);
    }),
  );

  withTargetOptions(
    withPrint(
      withRange(
        program
          .command('volume')
          .description('bytes per series (or per label) a selector matches, from the index')
          .argument('<selector>', 'stream selector, e.g. \'{app="api"}\'')
          .option('--limit <n>', 'series to print (default 100)')
          .option('--target-labels <names>', 'aggregate by these labels (repeatable, or comma-separated)', repeatable)
          .option('--aggregate-by <kind>', 'series or labels'),
      ),
    ),
  ).action(
    readCommand('volume', async ([selector], options) => {
      const { runVolume } = await import('./metadata.js');
      await runVolume(selector!, options);
    }),
  );

  // push / tail

  withTargetOptions(
    program
      .command('push')
      .description('push the lines of a file (or stdin) as one stream, each line timestamped when read')
      .argument('[file]', 'file to read; "-" or nothing reads stdin')
      .requiredOption('--labels <set>', 'the stream\'s labels, e.g. \'{job="local", host="x"}\'')
      .option('-q, --quiet', 'do not print the summary on stderr'),
  ).action(async (file: string | undefined, options: { labels: string; quiet?: boolean } & TargetOptions) => {
    await runCliCommand('push', async () => {
      const { runPush } = await import('./push.js');
      await runPush(targetFrom(options), options, file);
    });
  });

  withTargetOptions(
    program
      .command('tail')
      .description('follow a LogQL log query live (WebSocket /loki/api/v1/tail), as logcli query --tail')
      .argument('<query>', 'LogQL log query, e.g. \'{job="x"} |= "error"\'')
      .option('--limit <n>', 'entries from before now to print first', '30')
      .option('--delay-for <seconds>', 'let the server wait this long (0-5 s) to send entries in order')
      .option('--since <duration>', 'how far back the first entries may go', '1h')
      .option('-o, --output <mode>', 'default, raw or jsonl', 'default')
      .option('--no-labels', 'do not print labels')
      .option('--include-label <name>', 'print only this label (repeatable, or comma-separated)', repeatable, [])
      .option('--exclude-label <name>', 'do not print this label (repeatable, or comma-separated)', repeatable, [])
      .option('--timezone <zone>', 'Local or UTC, for printed times', 'Local')
      .option('--no-color', 'no colours (also when NO_COLOR is set or stdout is not a terminal)'),
  ).action(async (query: string, options: import('../cli/tail.js').TailCommandOptions & Record<string, unknown>) => {
    await runCliCommand('tail', async () => {
      const { runTail } = await import('./tail.js');
      await runTail(targetFrom(options as TargetOptions), query, options);
    });
    process.exit(0);
  });
}
