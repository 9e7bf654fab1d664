/**
 * Log pipeline throughput: lines of the benchmark generator run through compiled LogQL pipelines
 * in memory (no store, no HTTP), to measure parsers and filters by themselves and compare parser
 * hints (only the labels a metric query groups by) with full extraction.
 *
 *   node dist/bench/pipeline.js [--lines 200000] [--runs 5]
 *
 * Every case runs in a fresh child process (this script again, with `--case NAME`), which builds
 * its corpus, times the best of --runs passes and prints one JSON line; the parent prints the
 * table. In one process the JIT and GC state an earlier case leaves behind (inline caches, heap
 * size, code compiled for other input shapes) made later cases swing by tens of percent.
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse, type LogSelectorExpr } from '../logql/index.js';
import { compilePipeline, type Labels, type PipelineOptions } from '../logql/pipeline/index.js';
import { generateKubernetesBatch } from './generate.js';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '200000' },
    runs: { type: 'string', default: '5' },
    /** Internal: run only this case, in this process, and print its result as one JSON line. */
    case: { type: 'string' },
  },
  strict: true,
});
const lineCount = Number(values.lines);
const runs = Number(values.runs);

interface Corpus {
  lines: Uint8Array[];
  bytes: number;
}

/** Lines of one format (logfmt or json streams of the generator), as stored bytes. */
function corpus(format: 'logfmt' | 'json'): Corpus {
  const lines: Uint8Array[] = [];
  let bytes = 0;
  for (let seed = 1; lines.length < lineCount; seed++) {
    for (const stream of generateKubernetesBatch({ seed, streamSeed: 7, startSeconds: 1_700_000_000, targetBytes: 4 << 20 })) {
      for (const entry of stream.entries) {
        const line = typeof entry.line === 'string' ? Buffer.from(entry.line) : entry.line;
        // `{` starts a json line, a digit an nginx line (neither format is wanted here).
        const isJson = line[0] === 0x7b;
        if ((format === 'json') !== isJson || (line[0]! >= 0x30 && line[0]! <= 0x39)) continue;
        lines.push(line);
        bytes += line.length;
        if (lines.length >= lineCount) break;
      }
      if (lines.length >= lineCount) break;
    }
  }
  return { lines, bytes };
}

const STREAM: Labels = [
  { name: 'container', value: 'app' },
  { name: 'namespace', value: 'payments' },
];
const NO_METADATA: Labels = [];

interface Case {
  name: string;
  query: string;
  format: 'logfmt' | 'json';
  options?: PipelineOptions;
}

const cases: Case[] = [
  { name: 'substring filter', query: '{namespace="payments"} |= "connection pool"', format: 'logfmt' },
  { name: 'regex filter', query: '{namespace="payments"} |~ "status=5.."', format: 'logfmt' },
  { name: 'logfmt, all labels', query: '{namespace="payments"} | logfmt', format: 'logfmt' },
  { name: 'logfmt, hints {level}', query: '{namespace="payments"} | logfmt', format: 'logfmt', options: { requiredLabels: new Set(['level']) } },
  { name: 'logfmt | level="error"', query: '{namespace="payments"} | logfmt | level="error"', format: 'logfmt' },
  { name: 'json, all labels', query: '{namespace="payments"} | json', format: 'json' },
  { name: 'json, hints {status}', query: '{namespace="payments"} | json', format: 'json', options: { requiredLabels: new Set(['status']) } },
];

/** What a child prints for its case, as one JSON line on stdout. */
interface CaseResult {
  name: string;
  format: 'logfmt' | 'json';
  lines: number;
  corpusBytes: number;
  bestMs: number;
  /** Every pass in order, to see how much they spread. */
  runsMs: number[];
  kept: number;
}

/** Best of `runs` passes of one case over its corpus, in this process. */
function runCase(c: Case): CaseResult {
  const expr = parse(c.query) as LogSelectorExpr;
  const { lines, bytes } = corpus(c.format);
  const runsMs: number[] = [];
  let kept = 0;
  for (let run = 0; run < runs; run++) {
    const pipeline = compilePipeline(expr.stages, c.options);
    kept = 0;
    const started = performance.now();
    for (let i = 0; i < lines.length; i++) {
      // Reading the output key is part of the cost: the engine groups lines by it.
      const out = pipeline.process(0n, lines[i]!, STREAM, NO_METADATA);
      if (out !== null && out.key.length > 0) kept++;
    }
    runsMs.push(performance.now() - started);
  }
  return { name: c.name, format: c.format, lines: lines.length, corpusBytes: bytes, bestMs: Math.min(...runsMs), runsMs, kept };
}

/** Runs one case in a fresh `node` process (same flags as this one) and reads back its result. */
function runCaseInChild(c: Case): CaseResult {
  const script = fileURLToPath(import.meta.url);
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, script, '--case', c.name, '--lines', String(lineCount), '--runs', String(runs)],
    { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (child.error !== undefined) throw child.error;
  if (child.status !== 0) throw new Error(`case ${JSON.stringify(c.name)}: child exited with ${child.status ?? child.signal}`);
  const last = child.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as CaseResult;
  } catch {
    throw new Error(`case ${JSON.stringify(c.name)}: child printed no result: ${JSON.stringify(child.stdout.slice(-500))}`);
  }
}

if (values.case !== undefined) {
  const c = cases.find((one) => one.name === values.case);
  if (c === undefined) throw new Error(`--case ${JSON.stringify(values.case)} is not one of: ${cases.map((one) => one.name).join('; ')}`);
  console.log(JSON.stringify(runCase(c)));
} else {
  const results: CaseResult[] = [];
  for (const c of cases) {
    const result = runCaseInChild(c);
    // The passes of each case, to stderr: how far they spread says how far to trust the best.
    process.stderr.write(`${c.name}: passes ${result.runsMs.map((ms) => ms.toFixed(0)).join(' ')} ms\n`);
    results.push(result);
  }
  const corpusMiB = (format: 'logfmt' | 'json'): string =>
    ((results.find((r) => r.format === format)?.corpusBytes ?? NaN) / 2 ** 20).toFixed(1);
  console.log(`# Pipeline throughput: ${lineCount} lines per corpus, best of ${runs} runs, each case in a fresh process`);
  console.log(`logfmt corpus ${corpusMiB('logfmt')} MiB, json corpus ${corpusMiB('json')} MiB\n`);
  console.log('| case | lines/s | MB/s | kept |');
  console.log('|---|---:|---:|---:|');
  for (const r of results) {
    const seconds = r.bestMs / 1000;
    console.log(`| ${r.name} | ${Math.round(r.lines / seconds).toLocaleString('en')} | ${(r.corpusBytes / 1e6 / seconds).toFixed(0)} | ${r.kept} |`);
  }
}
