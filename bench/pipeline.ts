/**
 * Log pipeline throughput: lines of the benchmark generator run through compiled LogQL pipelines
 * in memory (no store, no HTTP), to measure parsers and filters by themselves and compare parser
 * hints (only the labels a metric query groups by) with full extraction.
 *
 *   node dist/bench/pipeline.js [--lines 200000] [--runs 5]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parse, type LogSelectorExpr } from '../logql/index.js';
import { compilePipeline, type Labels, type PipelineOptions } from '../logql/pipeline/index.js';
import { generateKubernetesBatch } from './generate.js';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '200000' },
    runs: { type: 'string', default: '5' },
  },
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

const corpora = { logfmt: corpus('logfmt'), json: corpus('json') };
console.log(`# Pipeline throughput: ${lineCount} lines per corpus, best of ${runs} runs`);
console.log(`logfmt corpus ${(corpora.logfmt.bytes / 2 ** 20).toFixed(1)} MiB, json corpus ${(corpora.json.bytes / 2 ** 20).toFixed(1)} MiB\n`);
console.log('| case | lines/s | MB/s | kept |');
console.log('|---|---:|---:|---:|');
for (const c of cases) {
  const expr = parse(c.query) as LogSelectorExpr;
  const { lines, bytes } = corpora[c.format];
  let best = Infinity;
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
    best = Math.min(best, performance.now() - started);
  }
  const seconds = best / 1000;
  console.log(`| ${c.name} | ${Math.round(lines.length / seconds).toLocaleString('en')} | ${(bytes / 1e6 / seconds).toFixed(0)} | ${kept} |`);
}
