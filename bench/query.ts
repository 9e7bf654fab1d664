/**
 * Query benchmark: LogQL queries over ≥ 1 GB of ingested Kubernetes logs, against a real
 * `skald server` process reading its stored blocks.
 *
 *   node dist/bench/query.js [--gigabytes 1.0] [--runs 5] [--data-dir bench/out/query-store]
 *     [--skip-ingest] [--only REGEX] [--streams 500] [--clients 4] [--line-bytes 80-400]
 *     [--hours 3] [--needle-every 100000] [--port N]
 *
 * --data-dir is the bench's own directory: data/ (the server's data directory), config.yaml,
 * manifest.json and the two server logs. Without --skip-ingest it is emptied first, and the bench
 * refuses to do that if it holds anything else.
 *
 * Phase ingest (skipped with --skip-ingest, which re-uses the store a previous run left in
 * --data-dir): pre-generates the batches (bench/query-data.ts), starts a server on a fresh data
 * directory with limits that do not throttle, pushes everything, checks the server's counters and
 * stops it with SIGTERM, which cuts every head into stored chunks. What was sent, and the counts
 * every query must find, go to manifest.json beside the data.
 *
 * Phase query: restarts the server on that directory, so queries read stored blocks rather than
 * in-memory heads, and runs each query once to warm up and then --runs times, timing each HTTP
 * request, reading `data.stats.summary`, sampling the server's RSS every 50 ms and checking the
 * answer against the manifest's counts. Prints a markdown table and writes a JSON summary to
 * bench/out/. Exits 1 if any query failed or answered wrong.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runPushLoad } from './ingest-client.js';
import { queryCases, type LokiQueryResponse, type LokiStatsSummary, type QueryCase } from './query-cases.js';
import { generateData, type DataCounts, type DataPlan } from './query-data.js';
import {
  machineBusySeconds, procCpuSeconds, procStatusKb, resetPeakRss, sampleRssKb, startServer, stopServer, sumSamples,
  summarizeLog, treeBytes, UNTHROTTLED_LIMITS, writeServerConfig, type LogSummary, type ServerProcess,
} from './server-process.js';

const BENCH_OUT = fileURLToPath(new URL('../../bench/out/', import.meta.url));
const MANIFEST = 'manifest.json';
/** What a bench directory holds; anything else in it and the bench refuses to wipe it. */
const BENCH_DIR_ENTRIES = new Set(['data', 'config.yaml', MANIFEST, 'server-ingest.log', 'server-query.log']);
const RSS_SAMPLE_MS = 50;
const QUERY_TIMEOUT_MS = 15 * 60_000;
const MIB = 1024 * 1024;
/** /proc counts CPU time in 10 ms ticks: below this much wall time a CPU share is mostly rounding. */
const MIN_CPU_SECONDS = 0.5;

interface BenchOptions {
  gigabytes: number;
  runs: number;
  dataDir: string;
  skipIngest: boolean;
  only: RegExp | undefined;
  streams: number;
  clients: number;
  minLineBytes: number;
  maxLineBytes: number;
  hours: number;
  needleEvery: number;
  port: number | undefined;
}

interface IngestSummary {
  startedAt: string;
  lines: number;
  lineBytes: number;
  compressedBytes: number;
  batches: number;
  streams: number;
  generateSeconds: number;
  loadSeconds: number;
  linesPerSecond: number;
  megabytesPerSecond: number;
  pushP50Ms: number;
  pushP99Ms: number;
  failedPushes: number;
  serverCpuCores: number;
  otherCpuCores: number;
  peakRssMiB: number;
  shutdownSeconds: number;
  diskBytes: number;
  indexBytes: number;
  walBytes: number;
  serverLog: LogSummary;
}

/** Bumped when the manifest's contents change, so --skip-ingest never reads counts it lacks. */
const MANIFEST_VERSION = 2;

/** Written after a complete ingest; --skip-ingest reads it back. */
interface Manifest {
  version: number;
  plan: DataPlan;
  counts: DataCounts;
  /** The namespace of the single-namespace queries: the largest with at least one needle line. */
  namespace: string;
  ingest: IngestSummary;
}

// ---- Ingest phase ----------------------------------------------------------------------

function serverConfigLines(): string[] {
  // The defaults allow 4 MB/s per tenant and 5000 streams, and stop a query after 1 minute; the
  // bench measures the server, not its limits. Entries are at most a few hours old, well inside
  // reject_old_samples_max_age (7 days by default).
  return [...UNTHROTTLED_LIMITS, '  query_timeout: 15m'];
}

/** Empties `dir` for a fresh ingest, refusing if it holds anything a previous run did not write. */
function prepareBenchDir(dir: string): void {
  if (existsSync(dir)) {
    const strangers = readdirSync(dir).filter((name) => !BENCH_DIR_ENTRIES.has(name));
    if (strangers.length > 0) throw new Error(`${dir} holds files this bench did not write (${strangers.slice(0, 5).join(', ')}); pick another --data-dir`);
    for (const name of BENCH_DIR_ENTRIES) rmSync(join(dir, name), { recursive: true, force: true });
  }
  mkdirSync(join(dir, 'data'), { recursive: true });
}

function percentile(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}

function pickNamespace(counts: DataCounts): string {
  const candidates = Object.entries(counts.byNamespace).filter(([, one]) => one.needleLines > 0);
  if (candidates.length === 0) throw new Error('no namespace received a needle line; raise --gigabytes or lower --needle-every');
  candidates.sort((a, b) => b[1].lineBytes - a[1].lineBytes || (a[0] < b[0] ? -1 : 1));
  return candidates[0]![0];
}

async function ingest(options: BenchOptions, log: (message: string) => void): Promise<Manifest> {
  prepareBenchDir(options.dataDir);
  const startedAt = new Date();
  // Whole minutes, ending 10 minutes ago: every entry is accepted and the range is a clean grid.
  const rangeEndSec = Math.floor(startedAt.getTime() / 60_000) * 60 - 10 * 60;
  const rangeStartSec = rangeEndSec - Math.round(options.hours * 3600);
  const plan: DataPlan = {
    targetLineBytes: options.gigabytes * 1e9,
    clients: options.clients,
    streamsPerClient: Math.max(1, Math.round(options.streams / options.clients)),
    batchBytes: MIB,
    minLineBytes: options.minLineBytes,
    maxLineBytes: options.maxLineBytes,
    // Letters outside [0-9a-f] and no word the generator uses, so only needle lines contain it.
    needleWord: 'quokkazephyr',
    needleFraction: 1 / options.needleEvery,
    // From one of generate.ts's messages ('retrying after transient error').
    commonWord: 'retrying',
    rangeStartSec,
    rangeEndSec,
    instantWindowStartSec: rangeEndSec - 3600,
    rateWindowStartSec: rangeEndSec - 3660,
  };

  const generateStarted = Date.now();
  const { batches, counts } = await generateData(plan);
  const generateSeconds = (Date.now() - generateStarted) / 1000;
  const allBatches = batches.flat();
  const compressedBytes = allBatches.reduce((sum, batch) => sum + batch.body.length, 0);
  log(`generated ${allBatches.length} batches: ${fmtInt(counts.lines)} lines, ${fmtInt(counts.lineBytes)} line bytes ` +
    `(${(counts.lineBytes / counts.lines).toFixed(0)} B/line), ${counts.streams} streams, ${(compressedBytes / 1e6).toFixed(0)} MB snappy, ` +
    `in ${generateSeconds.toFixed(1)} s`);

  const configFile = join(options.dataDir, 'config.yaml');
  writeServerConfig(configFile, serverConfigLines());
  const server = await startServer({
    dataDir: join(options.dataDir, 'data'),
    configFile,
    logFile: join(options.dataDir, 'server-ingest.log'),
    port: options.port,
  });
  log(`ingest server pid ${server.pid} on ${server.baseUrl}; pushing with ${options.clients} clients`);
  let shutdownSeconds: number;
  let summary: Omit<IngestSummary, 'shutdownSeconds' | 'diskBytes' | 'indexBytes' | 'walBytes' | 'serverLog'>;
  try {
    let peakSampledKb = 0;
    const sampler = setInterval(() => {
      peakSampledKb = Math.max(peakSampledKb, sampleRssKb(server.pid));
    }, 250);
    const serverCpuBefore = procCpuSeconds(server.pid);
    const clientCpuBefore = process.cpuUsage();
    const machineBefore = machineBusySeconds();
    let lastReport = { at: Date.now(), lines: 0 };
    const load = await runPushLoad({
      host: '127.0.0.1',
      port: Number(new URL(server.baseUrl).port),
      batchesPerClient: batches,
      onProgress: (linesDone) => {
        const now = Date.now();
        if (now - lastReport.at < 10_000) return;
        log(`  ${fmtInt(linesDone)} lines, ${fmtInt(((linesDone - lastReport.lines) * 1000) / (now - lastReport.at))} lines/s, ` +
          `server RSS ${(sampleRssKb(server.pid) / 1024).toFixed(0)} MiB`);
        lastReport = { at: now, lines: linesDone };
      },
    });
    clearInterval(sampler);
    const serverCpu = procCpuSeconds(server.pid) - serverCpuBefore;
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const otherCpu = Math.max(0, machineBusySeconds() - machineBefore - serverCpu - (clientCpu.user + clientCpu.system) / 1e6);
    if (load.failureCount > 0) {
      const first = load.firstFailure!;
      throw new Error(`${load.failureCount} pushes failed; first: status ${first.status || 'none'}: ${first.message.slice(0, 1000)}`);
    }
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    const received = sumSamples(metrics, 'loki_distributor_lines_received_total', 'tenant="fake"');
    const discarded = sumSamples(metrics, 'loki_discarded_samples_total');
    if (received !== counts.lines || discarded !== 0) {
      throw new Error(`server counted ${received} lines received and ${discarded} discarded; ${counts.lines} were sent`);
    }
    const latencies = Float64Array.from(load.latenciesMs).sort();
    summary = {
      startedAt: startedAt.toISOString(),
      lines: counts.lines,
      lineBytes: counts.lineBytes,
      compressedBytes,
      batches: allBatches.length,
      streams: counts.streams,
      generateSeconds,
      loadSeconds: load.elapsedSeconds,
      linesPerSecond: counts.lines / load.elapsedSeconds,
      megabytesPerSecond: counts.lineBytes / 1e6 / load.elapsedSeconds,
      pushP50Ms: percentile(latencies, 0.5),
      pushP99Ms: percentile(latencies, 0.99),
      failedPushes: load.failureCount,
      serverCpuCores: serverCpu / load.elapsedSeconds,
      otherCpuCores: otherCpu / load.elapsedSeconds,
      peakRssMiB: Math.max(peakSampledKb, procStatusKb(server.pid, 'VmHWM')) / 1024,
    };
    log(`pushed in ${load.elapsedSeconds.toFixed(1)} s; stopping the server (SIGTERM flushes every head to stored chunks)`);
    shutdownSeconds = await stopServer(server);
  } finally {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  }
  const dataDir = join(options.dataDir, 'data');
  const ingestSummary: IngestSummary = {
    ...summary,
    shutdownSeconds,
    diskBytes: treeBytes(dataDir),
    indexBytes: ['index.db', 'index.db-wal', 'index.db-shm'].reduce((sum, name) => sum + treeBytes(join(dataDir, name)), 0),
    walBytes: treeBytes(join(dataDir, 'wal')),
    serverLog: summarizeLog(server.logFile),
  };
  const manifest: Manifest = { version: MANIFEST_VERSION, plan, counts, namespace: pickNamespace(counts), ingest: ingestSummary };
  writeFileSync(join(options.dataDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function printIngest(manifest: Manifest, dataDir: string): void {
  const i = manifest.ingest;
  const { plan, counts } = manifest;
  console.log('## Ingest');
  console.log('');
  console.log(`- data: ${fmtInt(i.lines)} lines, ${fmtInt(i.lineBytes)} bytes of lines (${(i.lineBytes / 1e9).toFixed(3)} GB, ` +
    `${(i.lineBytes / i.lines).toFixed(0)} B/line), ${i.streams} streams in ${Object.keys(counts.byNamespace).length} namespaces, ` +
    `${i.batches} pushes of ≤ 1 MiB (${(i.compressedBytes / 1e6).toFixed(0)} MB snappy)`);
  console.log(`- time range: ${new Date(plan.rangeStartSec * 1000).toISOString()} – ${new Date(plan.rangeEndSec * 1000).toISOString()} ` +
    `(${((plan.rangeEndSec - plan.rangeStartSec) / 3600).toFixed(1)} h, ingested at ${i.startedAt})`);
  console.log(`- needle ${JSON.stringify(plan.needleWord)}: ${sumNeedles(counts)} lines in all, ${counts.byNamespace[manifest.namespace]!.needleLines} ` +
    `in namespace ${manifest.namespace} (${fmtInt(counts.byNamespace[manifest.namespace]!.lines)} lines, ` +
    `${(counts.byNamespace[manifest.namespace]!.lineBytes / 1e6).toFixed(0)} MB)`);
  console.log(`- ingest: ${i.loadSeconds.toFixed(1)} s, ${fmtInt(i.linesPerSecond)} lines/s, ${i.megabytesPerSecond.toFixed(1)} MB/s of line bytes; ` +
    `push p50 ${i.pushP50Ms.toFixed(0)} ms, p99 ${i.pushP99Ms.toFixed(0)} ms; server ${i.serverCpuCores.toFixed(2)} cores, ` +
    `other processes ${i.otherCpuCores.toFixed(2)} cores; peak RSS ${i.peakRssMiB.toFixed(0)} MiB`);
  console.log(`- after SIGTERM (${i.shutdownSeconds.toFixed(1)} s): ${dataDir}/data is ${(i.diskBytes / 1e6).toFixed(1)} MB ` +
    `(${(i.diskBytes / i.lineBytes).toFixed(3)} per line byte; index.db* ${(i.indexBytes / 1e6).toFixed(1)} MB, wal/ ${(i.walBytes / 1e6).toFixed(1)} MB); ` +
    `server log: ${i.serverLog.errors} errors, ${i.serverLog.warnings} warnings, ${i.serverLog.other} other lines`);
  console.log('');
}

function sumNeedles(counts: DataCounts): number {
  return Object.values(counts.byNamespace).reduce((sum, one) => sum + one.needleLines, 0);
}

// ---- Query phase -----------------------------------------------------------------------

interface RunMeasurement {
  wallMs: number;
  status: number;
  /** 'ok', or what was wrong with the answer (HTTP error, check failure). */
  outcome: string;
  result: string;
  stats: Partial<LokiStatsSummary> | undefined;
  serverCpuSeconds: number;
  otherCpuSeconds: number;
  maxSampledRssKb: number;
  /** VmHWM after the run, reset before it; undefined where the kernel does not allow the reset. */
  peakRssKb: number | undefined;
}

async function runOnce(server: ServerProcess, queryCase: QueryCase): Promise<RunMeasurement> {
  const url = new URL(`/loki/api/v1/${queryCase.endpoint}`, server.baseUrl);
  url.searchParams.set('query', queryCase.query);
  for (const [key, value] of Object.entries(queryCase.params)) url.searchParams.set(key, value);

  const hwmReset = resetPeakRss(server.pid);
  let maxSampledRssKb = sampleRssKb(server.pid);
  const sampler = setInterval(() => {
    maxSampledRssKb = Math.max(maxSampledRssKb, sampleRssKb(server.pid));
  }, RSS_SAMPLE_MS);
  const cpuBefore = procCpuSeconds(server.pid);
  const benchCpuBefore = process.cpuUsage();
  const machineBefore = machineBusySeconds();
  const started = performance.now();
  let status = 0;
  let body: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(QUERY_TIMEOUT_MS) });
    status = response.status;
    body = await response.text();
  } catch (err) {
    body = `request failed: ${(err as Error).message}`;
  } finally {
    clearInterval(sampler);
  }
  const wallMs = performance.now() - started;
  const serverCpuSeconds = procCpuSeconds(server.pid) - cpuBefore;
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const otherCpuSeconds = Math.max(0, machineBusySeconds() - machineBefore - serverCpuSeconds - (benchCpu.user + benchCpu.system) / 1e6);
  maxSampledRssKb = Math.max(maxSampledRssKb, sampleRssKb(server.pid));
  const peakRssKb = hwmReset ? procStatusKb(server.pid, 'VmHWM') : undefined;

  const measurement: RunMeasurement = {
    wallMs, status, outcome: 'ok', result: '', stats: undefined, serverCpuSeconds, otherCpuSeconds, maxSampledRssKb, peakRssKb,
  };
  if (status !== 200) {
    measurement.outcome = `HTTP ${status || 'error'}: ${body.slice(0, 300).trim()}`;
    return measurement;
  }
  try {
    const parsed = JSON.parse(body) as LokiQueryResponse;
    measurement.stats = parsed.data?.stats?.summary;
    measurement.result = queryCase.describe(parsed);
    measurement.outcome = queryCase.check(parsed);
  } catch (err) {
    measurement.outcome = `bad answer: ${(err as Error).message}`;
  }
  return measurement;
}

interface CaseSummary {
  name: string;
  query: string;
  endpoint: string;
  params: Record<string, string>;
  scope: string;
  selectedBytes: number;
  runs: RunMeasurement[];
  warmUp: RunMeasurement;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  linesProcessed: number | undefined;
  bytesProcessed: number | undefined;
  /** Medians over the runs; undefined when the server reports no stats. */
  megabytesPerSecondExec: number | undefined;
  megabytesPerSecondWall: number | undefined;
  linesPerSecondExec: number | undefined;
  /** CPU time is counted in 10 ms ticks, so these are undefined for runs too short to say. */
  serverCores: number | undefined;
  megabytesPerCpuSecond: number | undefined;
  otherCores: number | undefined;
  maxSampledRssMiB: number;
  peakRssMiB: number | undefined;
  outcome: string;
}

function median(values: number[]): number | undefined {
  const finite = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  return finite.length === 0 ? undefined : percentile(finite, 0.5);
}

function summarizeCase(queryCase: QueryCase, warmUp: RunMeasurement, runs: RunMeasurement[]): CaseSummary {
  const wall = runs.map((run) => run.wallMs).sort((a, b) => a - b);
  const bytes = (run: RunMeasurement): number => run.stats?.totalBytesProcessed ?? NaN;
  const lines = (run: RunMeasurement): number => run.stats?.totalLinesProcessed ?? NaN;
  const exec = (run: RunMeasurement): number => run.stats?.execTime ?? NaN;
  const failed = [warmUp, ...runs].find((run) => run.outcome !== 'ok');
  const wallSeconds = runs.reduce((sum, run) => sum + run.wallMs / 1000, 0);
  return {
    name: queryCase.name,
    query: queryCase.query,
    endpoint: queryCase.endpoint,
    params: queryCase.params,
    scope: queryCase.scope,
    selectedBytes: queryCase.selectedBytes,
    runs,
    warmUp,
    p50Ms: percentile(wall, 0.5),
    p95Ms: percentile(wall, 0.95),
    maxMs: wall[wall.length - 1]!,
    linesProcessed: median(runs.map(lines)),
    bytesProcessed: median(runs.map(bytes)),
    megabytesPerSecondExec: median(runs.map((run) => bytes(run) / 1e6 / exec(run))),
    megabytesPerSecondWall: median(runs.map((run) => bytes(run) / 1e6 / (run.wallMs / 1000))),
    linesPerSecondExec: median(runs.map((run) => lines(run) / exec(run))),
    serverCores: wallSeconds < MIN_CPU_SECONDS ? undefined : runs.reduce((sum, run) => sum + run.serverCpuSeconds, 0) / wallSeconds,
    megabytesPerCpuSecond: median(runs.map((run) => (run.wallMs < MIN_CPU_SECONDS * 1000 ? NaN : bytes(run) / 1e6 / run.serverCpuSeconds))),
    otherCores: wallSeconds < MIN_CPU_SECONDS ? undefined : runs.reduce((sum, run) => sum + run.otherCpuSeconds, 0) / wallSeconds,
    maxSampledRssMiB: Math.max(...[warmUp, ...runs].map((run) => run.maxSampledRssKb)) / 1024,
    peakRssMiB: runs.some((run) => run.peakRssKb === undefined) ? undefined : Math.max(...[warmUp, ...runs].map((run) => run.peakRssKb ?? 0)) / 1024,
    outcome: failed === undefined ? 'ok' : failed.outcome,
  };
}

const fmtInt = (value: number): string => Math.round(value).toLocaleString('en-US');
const fmtOptional = (value: number | undefined, digits: number): string =>
  value === undefined ? 'n/a' : digits === 0 ? fmtInt(value) : value.toFixed(digits);

function printQueryTable(summaries: CaseSummary[], runs: number): void {
  console.log(`## Queries (runs per query: ${runs}, after 1 warm-up; MB = 10^6 bytes of uncompressed lines as the server counts them)`);
  console.log('');
  console.log('| query | scope | result | p50 ms | p95 ms | max ms | MB selected | MB selected / s (p50) | lines processed | MB processed | MB/s (execTime) | MB/s (wall) | ' +
    'lines/s (execTime) | server CPU (cores) | MB per server CPU s | other CPU (cores) | peak RSS MiB (VmHWM / max sampled) | check |');
  console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const s of summaries) {
    const lastRun = s.runs[s.runs.length - 1]!;
    console.log(`| \`${s.query.replaceAll('|', '\\|')}\` (${s.endpoint}) | ${s.scope} | ${lastRun.result || '—'} | ${s.p50Ms.toFixed(0)} | ` +
      `${s.p95Ms.toFixed(0)} | ${s.maxMs.toFixed(0)} | ${(s.selectedBytes / 1e6).toFixed(1)} | ` +
      `${s.outcome === 'ok' ? (s.selectedBytes / 1e6 / (s.p50Ms / 1000)).toFixed(1) : 'n/a'} | ` +
      `${fmtOptional(s.linesProcessed, 0)} | ` +
      `${fmtOptional(s.bytesProcessed === undefined ? undefined : s.bytesProcessed / 1e6, 1)} | ${fmtOptional(s.megabytesPerSecondExec, 1)} | ` +
      `${fmtOptional(s.megabytesPerSecondWall, 1)} | ${fmtOptional(s.linesPerSecondExec, 0)} | ${fmtOptional(s.serverCores, 2)} | ` +
      `${fmtOptional(s.megabytesPerCpuSecond, 1)} | ${fmtOptional(s.otherCores, 2)} | ` +
      `${fmtOptional(s.peakRssMiB, 0)} / ${s.maxSampledRssMiB.toFixed(0)} | ${s.outcome.slice(0, 160).replaceAll('|', '\\|')} |`);
  }
  console.log('');
}

async function queryPhase(options: BenchOptions, manifest: Manifest, log: (message: string) => void): Promise<{
  summaries: CaseSummary[]; replaySeconds: number; idleRssMiB: number; serverLog: LogSummary; shutdownSeconds: number;
}> {
  const cases = queryCases({
    counts: manifest.counts,
    namespace: manifest.namespace,
    needleWord: manifest.plan.needleWord,
    commonWord: manifest.plan.commonWord,
    rangeStartSec: manifest.plan.rangeStartSec,
    rangeEndSec: manifest.plan.rangeEndSec,
    instantWindowStartSec: manifest.plan.instantWindowStartSec,
    rateWindowStartSec: manifest.plan.rateWindowStartSec,
  }).filter((queryCase) => options.only === undefined || options.only.test(queryCase.name));
  if (cases.length === 0) throw new Error(`--only ${String(options.only)} matches no query`);

  const starting = Date.now();
  const server = await startServer({
    dataDir: join(options.dataDir, 'data'),
    configFile: join(options.dataDir, 'config.yaml'),
    logFile: join(options.dataDir, 'server-query.log'),
    port: options.port,
  });
  const replaySeconds = (Date.now() - starting) / 1000;
  const idleRssMiB = procStatusKb(server.pid, 'VmRSS') / 1024;
  log(`query server pid ${server.pid} on ${server.baseUrl}, ready after ${replaySeconds.toFixed(1)} s, RSS ${idleRssMiB.toFixed(0)} MiB`);
  const summaries: CaseSummary[] = [];
  let shutdownSeconds: number;
  try {
    for (const queryCase of cases) {
      log(`${queryCase.name}: ${queryCase.query}`);
      const warmUp = await runOnce(server, queryCase);
      log(`  warm-up ${warmUp.wallMs.toFixed(0)} ms, ${warmUp.outcome}`);
      const runs: RunMeasurement[] = [];
      for (let run = 0; run < options.runs; run++) {
        const measurement = await runOnce(server, queryCase);
        runs.push(measurement);
        log(`  run ${run + 1}: ${measurement.wallMs.toFixed(0)} ms, ${measurement.result || '—'}, ` +
          `${measurement.stats?.totalBytesProcessed === undefined ? 'no stats' : `${(measurement.stats.totalBytesProcessed / 1e6).toFixed(1)} MB processed`}, ` +
          `RSS max ${(measurement.maxSampledRssKb / 1024).toFixed(0)} MiB, ${measurement.outcome}`);
      }
      summaries.push(summarizeCase(queryCase, warmUp, runs));
    }
  } finally {
    shutdownSeconds = await stopServer(server).catch((err: unknown) => {
      log(`stopping the query server: ${(err as Error).message}`);
      return NaN;
    });
  }
  return { summaries, replaySeconds, idleRssMiB, serverLog: summarizeLog(server.logFile), shutdownSeconds };
}

// ---- Main ------------------------------------------------------------------------------

function parseOptions(): BenchOptions {
  const { values } = parseArgs({
    options: {
      gigabytes: { type: 'string', default: '1.0' },
      runs: { type: 'string', default: '5' },
      'data-dir': { type: 'string', default: join(BENCH_OUT, 'query-store') },
      'skip-ingest': { type: 'boolean', default: false },
      only: { type: 'string' },
      streams: { type: 'string', default: '500' },
      clients: { type: 'string', default: '4' },
      'line-bytes': { type: 'string', default: '80-400' },
      hours: { type: 'string', default: '3' },
      'needle-every': { type: 'string', default: '100000' },
      port: { type: 'string' },
    },
    strict: true,
  });
  const positive = (name: string, text: string, integer: boolean): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isSafeInteger(value))) {
      throw new Error(`--${name} must be a ${integer ? 'whole ' : ''}number > 0, got ${JSON.stringify(text)}`);
    }
    return value;
  };
  const lineRange = /^(\d+)-(\d+)$/.exec(values['line-bytes']);
  if (lineRange === null || Number(lineRange[1]) > Number(lineRange[2])) {
    throw new Error(`--line-bytes must be MIN-MAX, e.g. 80-400, got ${JSON.stringify(values['line-bytes'])}`);
  }
  const hours = positive('hours', values.hours, false);
  // The rate and instant queries look at the last hour; [1h] windows need whole hours to tile the range.
  if (!Number.isInteger(hours)) throw new Error('--hours must be a whole number of hours');
  return {
    gigabytes: positive('gigabytes', values.gigabytes, false),
    runs: positive('runs', values.runs, true),
    dataDir: resolve(values['data-dir']),
    skipIngest: values['skip-ingest'],
    only: values.only === undefined ? undefined : new RegExp(values.only),
    streams: positive('streams', values.streams, true),
    clients: positive('clients', values.clients, true),
    minLineBytes: Number(lineRange[1]),
    maxLineBytes: Number(lineRange[2]),
    hours,
    needleEvery: positive('needle-every', values['needle-every'], true),
    port: values.port === undefined ? undefined : positive('port', values.port, true),
  };
}

async function main(): Promise<number> {
  const options = parseOptions();
  const log = (message: string): void => void process.stderr.write(`${message}\n`);
  let manifest: Manifest;
  if (options.skipIngest) {
    const file = join(options.dataDir, MANIFEST);
    if (!existsSync(file)) throw new Error(`--skip-ingest: no ${MANIFEST} in ${options.dataDir}; run once without --skip-ingest first`);
    manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    if (manifest.version !== MANIFEST_VERSION) {
      throw new Error(`--skip-ingest: ${file} was written by another version of this bench; run once without --skip-ingest`);
    }
    log(`re-using the store in ${options.dataDir} (ingested ${manifest.ingest.startedAt})`);
  } else {
    manifest = await ingest(options, log);
  }

  const startedAt = new Date();
  const query = await queryPhase(options, manifest, log);
  console.log('');
  console.log(`# Query benchmark, ${startedAt.toISOString()} (${os.availableParallelism()} CPUs, Node ${process.version})`);
  console.log('');
  printIngest(manifest, options.dataDir);
  console.log(`Query server: ready ${query.replaySeconds.toFixed(1)} s after start (WAL replay), RSS ${query.idleRssMiB.toFixed(0)} MiB when idle; ` +
    `namespace of the single-namespace queries: ${manifest.namespace}; shutdown ${query.shutdownSeconds.toFixed(1)} s; server log: ` +
    `${query.serverLog.errors} errors, ${query.serverLog.warnings} warnings, ${query.serverLog.other} other lines` +
    (query.serverLog.first === undefined ? '' : ` (first: ${query.serverLog.first.slice(0, 300)})`));
  console.log('');
  printQueryTable(query.summaries, options.runs);

  mkdirSync(BENCH_OUT, { recursive: true });
  const jsonFile = join(BENCH_OUT, `query-${startedAt.toISOString().replaceAll(':', '-').slice(0, 19)}.json`);
  writeFileSync(jsonFile, `${JSON.stringify({ startedAt: startedAt.toISOString(), options: { ...options, only: options.only?.source }, manifest, ...query }, null, 2)}\n`);
  log(`summary written to ${jsonFile}`);
  const failures = query.summaries.filter((summary) => summary.outcome !== 'ok');
  for (const failure of failures) log(`FAIL ${failure.name}: ${failure.outcome}`);
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`query bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
