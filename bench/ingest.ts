/**
 * Ingest benchmark: Promtail-like load against a real `skald server` process.
 *
 *   node dist/bench/ingest.js [--lines 8000000] [--streams 1000] [--clients 4]
 *     [--batch-bytes 1048576] [--line-bytes 40-220] [--sync interval|batch] [--port N] [--keep]
 *
 * 1. Pre-generates every batch (Kubernetes-like logfmt / JSON / nginx lines, encoded and
 *    snappy-compressed) in worker threads, so the timed phase spends no client CPU on it:
 *    the machine has two cores and the client competes with the server for them.
 * 2. Measures the decode-only ceiling (snappy + protobuf decode of those batches, one core).
 * 3. Starts the server as its own process with limits that do not throttle, pushes all
 *    batches from `--clients` keep-alive connections, one request in flight each, and
 *    samples the server's RSS every 250 ms.
 * 4. Checks the server's counters against what was sent, stops it with SIGTERM (which
 *    cuts every head into chunks and truncates the WAL) and measures the data directory,
 *    reporting what is left in wal/ separately.
 *
 * Each client owns a disjoint set of streams, as one Promtail per node does, so every
 * stream's entries reach the server in time order. Exits 1 on any failed push or mismatch.
 */
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { decodeSnappyPushRequest, encodeSnappyPushRequest, type PushEntryInput, type PushStreamInput } from '../proto/index.js';
import { generateKubernetesBatch } from './generate.js';
import { runGeneratorWorkers, runPushLoad, type GeneratedBatches, type LoadResult, type PreparedBatch } from './ingest-client.js';
import {
  exitFailure, freePort, isRunning, logTail, machineBusySeconds, procCpuSeconds, procStatusKb, sampleRssKb, startServer, sumSamples,
  summarizeLog, terminateServer, treeBytes, UNTHROTTLED_LIMITS, writeServerConfig, type ServerProcess,
} from './server-process.js';

type SyncMode = 'interval' | 'batch';

interface BenchOptions {
  lines: number;
  streams: number;
  clients: number;
  batchBytes: number;
  minLineBytes: number;
  maxLineBytes: number;
  sync: SyncMode;
  keep: boolean;
  port: number | undefined;
}

// ---- Batch generation (worker threads) ---------------------------------------------

interface ClientJob {
  client: number;
  streams: number;
  targetLines: number;
  batchBytes: number;
  minLineBytes: number;
  maxLineBytes: number;
  startSeconds: number;
  intervalNanos: number;
}

interface GeneratedClient extends GeneratedBatches {
  streamCount: number;
}

type LineFormat = 'logfmt' | 'json' | 'nginx';

/** generate.ts does not expose a stream's format, but its lines give it away. */
function formatOf(line: string | Uint8Array): LineFormat {
  const text = typeof line === 'string' ? line.slice(0, 6) : Buffer.from(line.subarray(0, 6)).toString('latin1');
  if (text.startsWith('{')) return 'json';
  if (text.startsWith('ts=') || text.startsWith('level=')) return 'logfmt';
  return 'nginx';
}

function lineLength(line: string | Uint8Array): number {
  return typeof line === 'string' ? Buffer.byteLength(line, 'utf8') : line.length;
}

/**
 * generate.ts draws a batch's stream labels from its seed, but every batch needs a fresh
 * seed or its lines would repeat (and compress unrealistically well). So each client
 * gets one fixed set of streams, and every generated stream is relabelled onto a fixed
 * stream of the same format, rotating so all of them receive entries.
 */
class StreamRelabeller {
  private readonly pools = new Map<LineFormat, string[]>();
  private readonly everyStream: string[] = [];
  private readonly cursors = new Map<LineFormat, number>();

  constructor(client: number, streams: number) {
    // ~16 entries per stream make an empty (hence format-less) stream vanishingly rare.
    const sample = generateKubernetesBatch({ seed: 0x5eed0000 + client, streamCount: streams, targetBytes: streams * 4096, startSeconds: 0 });
    for (const stream of sample) {
      const format = formatOf(stream.entries[0]!.line);
      const pool = this.pools.get(format) ?? [];
      pool.push(stream.labels);
      this.pools.set(format, pool);
      this.everyStream.push(stream.labels);
    }
  }

  get streamCount(): number {
    return this.everyStream.length;
  }

  relabel(generated: PushStreamInput[]): PushStreamInput[] {
    const merged = new Map<string, PushEntryInput[]>();
    let needsSort = false;
    for (const stream of generated) {
      const format = formatOf(stream.entries[0]!.line);
      const pool = this.pools.get(format) ?? this.everyStream;
      const cursor = this.cursors.get(format) ?? 0;
      this.cursors.set(format, cursor + 1);
      const labels = pool[cursor % pool.length]!;
      const entries = merged.get(labels);
      if (entries === undefined) {
        merged.set(labels, [...stream.entries]);
      } else {
        entries.push(...stream.entries);
        needsSort = true;
      }
    }
    // Two generated streams landed on one fixed stream: restore time order (timestamps in a batch are unique).
    if (needsSort) {
      for (const entries of merged.values()) entries.sort((a, b) => a.seconds - b.seconds || a.nanos - b.nanos);
    }
    return [...merged].map(([labels, entries]) => ({ labels, entries }));
  }
}

function generateClient(job: ClientJob): { result: GeneratedClient; transfer: ArrayBuffer[] } {
  const relabeller = new StreamRelabeller(job.client, job.streams);
  const result: GeneratedClient = { client: job.client, streamCount: relabeller.streamCount, bodies: [], lines: [], lineBytes: [] };
  let seconds = job.startSeconds;
  let nanos = 0;
  let linesSoFar = 0;
  for (let index = 0; linesSoFar < job.targetLines; index++) {
    const generated = generateKubernetesBatch({
      seed: job.client * 1_000_003 + index + 1,
      streamCount: job.streams,
      targetBytes: job.batchBytes,
      minLineBytes: job.minLineBytes,
      maxLineBytes: job.maxLineBytes,
      startSeconds: seconds,
      startNanos: nanos,
      entryIntervalNanos: job.intervalNanos,
    });
    let lines = 0;
    let lineBytes = 0;
    for (const stream of generated) {
      lines += stream.entries.length;
      for (const entry of stream.entries) lineBytes += lineLength(entry.line);
    }
    const compressed = encodeSnappyPushRequest(relabeller.relabel(generated));
    // The compressed Buffer views a larger scratch allocation; copy so only its bytes cross threads.
    const exact = new Uint8Array(compressed.length);
    exact.set(compressed);
    result.bodies.push(exact.buffer);
    result.lines.push(lines);
    result.lineBytes.push(lineBytes);
    linesSoFar += lines;
    // The next batch continues the clock where this one stopped, so streams only move forward.
    const advanced = nanos + lines * job.intervalNanos;
    seconds += Math.floor(advanced / 1e9);
    nanos = advanced % 1e9;
  }
  return { result, transfer: result.bodies };
}

if (!isMainThread) {
  for (const job of workerData as ClientJob[]) {
    const { result, transfer } = generateClient(job);
    parentPort!.postMessage(result, transfer);
  }
}

async function pregenerate(options: BenchOptions): Promise<{ batches: PreparedBatch[][]; streamCount: number }> {
  const nowSeconds = Math.floor(Date.now() / 1000);
  const linesPerClient = Math.ceil(options.lines / options.clients);
  // Entries span ~45 minutes ending ~5 minutes ago: inside every age limit the server checks,
  // and no entry is more than an hour behind its stream's newest.
  const intervalNanos = Math.max(1, Math.floor((45 * 60 * 1e9) / (linesPerClient * 1.05)));
  const jobs: ClientJob[] = Array.from({ length: options.clients }, (_, client) => ({
    client,
    streams: Math.max(1, Math.round(options.streams / options.clients)),
    targetLines: linesPerClient,
    batchBytes: options.batchBytes,
    minLineBytes: options.minLineBytes,
    maxLineBytes: options.maxLineBytes,
    startSeconds: nowSeconds - 50 * 60,
    intervalNanos,
  }));
  let streamCount = 0;
  const batches = await runGeneratorWorkers<GeneratedClient>(new URL(import.meta.url), jobs, (generated) => {
    streamCount += generated.streamCount;
  });
  return { batches, streamCount };
}

// ---- Decode-only ceiling -------------------------------------------------------------

const CEILING_SAMPLE_BATCHES = 256;
const CEILING_PASSES = 5;

/** snappy + protobuf decode, one core, median of a few passes over up to 256 batches (after one warm-up pass). */
function decodeCeiling(batches: PreparedBatch[][]): number {
  const sample: PreparedBatch[] = [];
  for (let index = 0; sample.length < CEILING_SAMPLE_BATCHES; index++) {
    const before = sample.length;
    for (const client of batches) if (index < client.length && sample.length < CEILING_SAMPLE_BATCHES) sample.push(client[index]!);
    if (sample.length === before) break;
  }
  const lines = sample.reduce((sum, batch) => sum + batch.lines, 0);
  const pass = (): number => {
    const started = process.hrtime.bigint();
    let decoded = 0;
    for (const batch of sample) decoded += decodeSnappyPushRequest(batch.body).entryCount;
    if (decoded !== lines) throw new Error(`decode ceiling: decoded ${decoded} entries, expected ${lines}`);
    return Number(process.hrtime.bigint() - started) / 1e9;
  };
  pass();
  const times = Array.from({ length: CEILING_PASSES }, pass).sort((a, b) => a - b);
  return lines / times[times.length >> 1]!;
}

// ---- The server process --------------------------------------------------------------

/** The server's config lines: limits that do not throttle, and the WAL's sync mode. */
function serverConfigLines(sync: SyncMode): string[] {
  return [...UNTHROTTLED_LIMITS, 'ingester:', '  wal:', `    sync: ${sync}`];
}

interface ServerCounters {
  linesReceived: number;
  discarded: number;
  duplicates: number;
  /** Main thread's V8 heap and ArrayBuffer/Buffer memory (prom-client's default metrics), to explain the RSS. */
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
}

async function readCounters(baseUrl: string): Promise<ServerCounters> {
  const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
  return {
    linesReceived: sumSamples(metrics, 'loki_distributor_lines_received_total', 'tenant="fake"'),
    discarded: sumSamples(metrics, 'loki_discarded_samples_total'),
    duplicates: sumSamples(metrics, 'skald_ingester_duplicate_entries_total'),
    heapUsedBytes: sumSamples(metrics, 'nodejs_heap_size_used_bytes'),
    heapTotalBytes: sumSamples(metrics, 'nodejs_heap_size_total_bytes'),
    externalBytes: sumSamples(metrics, 'nodejs_external_memory_bytes'),
  };
}

// ---- Report ----------------------------------------------------------------------------

function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

const MIB = 1024 * 1024;
const fmtInt = (value: number): string => Math.round(value).toLocaleString('en-US');

function parseOptions(): BenchOptions {
  const { values } = parseArgs({
    options: {
      lines: { type: 'string', default: '8000000' },
      streams: { type: 'string', default: '1000' },
      clients: { type: 'string', default: '4' },
      'batch-bytes': { type: 'string', default: String(MIB) },
      // 40–220 B averages ~150 B a line, close to the Loki anchor (32 MB/s at 250k lines/s ≈ 128 B).
      'line-bytes': { type: 'string', default: '40-220' },
      sync: { type: 'string', default: 'interval' },
      port: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const positive = (name: string, text: string): number => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} must be a whole number > 0, got ${JSON.stringify(text)}`);
    return value;
  };
  if (values.sync !== 'interval' && values.sync !== 'batch') throw new Error(`--sync must be interval or batch, got ${JSON.stringify(values.sync)}`);
  const lineRange = /^(\d+)-(\d+)$/.exec(values['line-bytes']);
  if (lineRange === null || Number(lineRange[1]) > Number(lineRange[2])) {
    throw new Error(`--line-bytes must be MIN-MAX, e.g. 80-400, got ${JSON.stringify(values['line-bytes'])}`);
  }
  return {
    lines: positive('lines', values.lines),
    streams: positive('streams', values.streams),
    clients: positive('clients', values.clients),
    batchBytes: positive('batch-bytes', values['batch-bytes']),
    minLineBytes: Number(lineRange[1]),
    maxLineBytes: Number(lineRange[2]),
    sync: values.sync,
    keep: values.keep,
    port: values.port === undefined ? undefined : positive('port', values.port),
  };
}

async function main(): Promise<number> {
  const options = parseOptions();
  const log = (message: string): void => void process.stderr.write(`${message}\n`);

  const started = Date.now();
  const { batches, streamCount } = await pregenerate(options);
  const allBatches = batches.flat();
  const lines = allBatches.reduce((sum, batch) => sum + batch.lines, 0);
  const lineBytes = allBatches.reduce((sum, batch) => sum + batch.lineBytes, 0);
  const compressedBytes = allBatches.reduce((sum, batch) => sum + batch.body.length, 0);
  log(`pre-generated ${allBatches.length} batches, ${fmtInt(lines)} lines, ${streamCount} streams, ` +
    `${(lineBytes / 1e6).toFixed(0)} MB of lines, ${(compressedBytes / 1e6).toFixed(0)} MB snappy, in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const ceiling = decodeCeiling(batches);
  log(`decode-only ceiling (snappy + protobuf, one core): ${fmtInt(ceiling)} lines/s`);

  const runDir = mkdtempSync(join(os.tmpdir(), 'skald-ingest-'));
  const dataDir = join(runDir, 'data');
  const configFile = join(runDir, 'config.yaml');
  const logFile = join(runDir, 'server.log');
  mkdirSync(dataDir);
  writeServerConfig(configFile, serverConfigLines(options.sync));
  const port = options.port ?? (await freePort());

  let server: ServerProcess | undefined;

  const failures: string[] = [];
  let result: LoadResult;
  let maxSampledRssKb = 0;
  let endRssKb: number;
  let endRssAnonKb: number;
  let serverCpuSeconds: number;
  let clientCpuSeconds: number;
  let otherCpuSeconds: number;
  let counters: ServerCounters;
  let peakRssKb: number;
  let shutdownSeconds: number;
  try {
    // The server logs every request; startServer() sends that to a file, off the bench process's CPU.
    server = await startServer({ dataDir, configFile, logFile, port, readyTimeoutMs: 30_000 });
    const { pid, baseUrl } = server;
    log(`server pid ${pid} ready on ${baseUrl} (sync: ${options.sync}); pushing with ${options.clients} clients`);

    const sampler = setInterval(() => {
      maxSampledRssKb = Math.max(maxSampledRssKb, sampleRssKb(pid));
    }, 250);
    let lastReport = { at: process.hrtime.bigint(), lines: 0 };
    const serverCpuBefore = procCpuSeconds(pid);
    const clientCpuBefore = process.cpuUsage();
    const machineBusyBefore = machineBusySeconds();
    result = await runPushLoad({
      host: '127.0.0.1',
      port,
      batchesPerClient: batches,
      onProgress: (linesDone) => {
        const now = process.hrtime.bigint();
        const seconds = Number(now - lastReport.at) / 1e9;
        if (seconds < 5) return;
        log(`  ${fmtInt(linesDone)} lines, ${fmtInt((linesDone - lastReport.lines) / seconds)} lines/s over the last ${seconds.toFixed(1)} s, ` +
          `server RSS ${(sampleRssKb(pid) / 1024).toFixed(0)} MiB`);
        lastReport = { at: now, lines: linesDone };
      },
    });
    clearInterval(sampler);
    if (!isRunning(server.child)) {
      throw new Error(`server exited during the load (${server.child.exitCode ?? server.child.signalCode}); ${result.failureCount} pushes failed, first: ` +
        `${result.firstFailure?.message ?? 'none'}; log tail:\n${logTail(logFile)}`);
    }
    serverCpuSeconds = procCpuSeconds(pid) - serverCpuBefore;
    const clientCpu = process.cpuUsage(clientCpuBefore);
    clientCpuSeconds = (clientCpu.user + clientCpu.system) / 1e6;
    // Anything else running on this small machine skews the numbers; report it so such runs can be discarded.
    otherCpuSeconds = Math.max(0, machineBusySeconds() - machineBusyBefore - serverCpuSeconds - clientCpuSeconds);
    endRssKb = procStatusKb(pid, 'VmRSS');
    endRssAnonKb = procStatusKb(pid, 'RssAnon');
    maxSampledRssKb = Math.max(maxSampledRssKb, endRssKb);

    counters = await readCounters(baseUrl);
    peakRssKb = procStatusKb(pid, 'VmHWM');
    const exit = await terminateServer(server, 300_000);
    shutdownSeconds = exit.seconds;
    const exitProblem = exitFailure(server, exit);
    if (exitProblem !== undefined) failures.push(exitProblem);
  } catch (err) {
    log(`run directory kept for inspection: ${runDir}`);
    throw err;
  } finally {
    if (server !== undefined && isRunning(server.child)) server.child.kill('SIGKILL');
  }

  if (result.failureCount > 0) {
    const first = result.firstFailure!;
    failures.push(`${result.failureCount} pushes failed; first: client ${first.client} batch ${first.batch}, ` +
      `status ${first.status || 'none'}: ${first.message.slice(0, 2000)}`);
  }
  if (counters.linesReceived !== lines) failures.push(`server counted ${counters.linesReceived} lines received, ${lines} were sent`);
  if (counters.discarded !== 0) failures.push(`server discarded ${counters.discarded} entries (loki_discarded_samples_total)`);
  if (counters.duplicates !== 0) failures.push(`server dropped ${counters.duplicates} entries as duplicates`);

  const diskBytes = treeBytes(dataDir);
  const walBytes = treeBytes(join(dataDir, 'wal'));
  const indexBytes = ['index.db', 'index.db-wal', 'index.db-shm'].reduce((sum, name) => sum + treeBytes(join(dataDir, name)), 0);
  const serverLog = summarizeLog(logFile);
  const latencies = Float64Array.from(result.latenciesMs).sort();
  const linesPerSecond = lines / result.elapsedSeconds;
  const megabytesPerSecond = lineBytes / 1e6 / result.elapsedSeconds;
  const p = (fraction: number): string => percentile(latencies, fraction).toFixed(1);
  const maxMs = latencies.length > 0 ? latencies[latencies.length - 1]!.toFixed(1) : 'n/a';

  console.log('');
  console.log(`lines sent:            ${fmtInt(lines)} in ${allBatches.length} batches (${(lineBytes / lines).toFixed(0)} B/line avg, ` +
    `${(compressedBytes / allBatches.length / 1024).toFixed(0)} KiB snappy per batch), ${streamCount} streams, ${options.clients} clients, sync ${options.sync}`);
  console.log(`load phase:            ${result.elapsedSeconds.toFixed(1)} s`);
  console.log(`throughput:            ${fmtInt(linesPerSecond)} lines/s, ${megabytesPerSecond.toFixed(1)} MB/s of line bytes`);
  console.log(`push latency (ms):     p50 ${p(0.5)}  p90 ${p(0.9)}  p99 ${p(0.99)}  max ${maxMs}`);
  console.log(`non-204 / failed:      ${result.failureCount}`);
  console.log(`server RSS:            peak (VmHWM) ${(peakRssKb / 1024).toFixed(0)} MiB, max sampled during load ${(maxSampledRssKb / 1024).toFixed(0)} MiB, ` +
    `at end of load ${(endRssKb / 1024).toFixed(0)} MiB (anonymous ${(endRssAnonKb / 1024).toFixed(0)} MiB; main thread: V8 heap ${(counters.heapUsedBytes / MIB).toFixed(0)} of ` +
    `${(counters.heapTotalBytes / MIB).toFixed(0)} MiB used, external ${(counters.externalBytes / MIB).toFixed(0)} MiB)`);
  console.log(`CPU during load:       server ${(serverCpuSeconds / result.elapsedSeconds).toFixed(2)} cores, ` +
    `bench client ${(clientCpuSeconds / result.elapsedSeconds).toFixed(2)} cores, ` +
    `other processes ${(otherCpuSeconds / result.elapsedSeconds).toFixed(2)} cores (of ${os.availableParallelism()})`);
  console.log(`shutdown (SIGTERM):    ${shutdownSeconds.toFixed(1)} s`);
  console.log(`on disk after stop:    ${(diskBytes / 1e6).toFixed(1)} MB = ${(diskBytes / lineBytes).toFixed(3)} bytes per raw line byte ` +
    `(index.db* ${(indexBytes / 1e6).toFixed(1)} MB, wal/ ${(walBytes / 1e6).toFixed(1)} MB)`);
  console.log(`decode-only ceiling:   ${fmtInt(ceiling)} lines/s (snappy + protobuf, one core); server reached ${((linesPerSecond / ceiling) * 100).toFixed(0)}%`);
  console.log(`server counters:       lines received ${fmtInt(counters.linesReceived)}, discarded ${counters.discarded}, duplicates ${counters.duplicates}`);
  console.log(`server log:            ${serverLog.errors} errors, ${serverLog.warnings} warnings, ${serverLog.other} non-JSON lines` +
    (serverLog.first === undefined ? '' : `; first: ${serverLog.first.slice(0, 500)}`));
  console.log('');
  console.log('| sync | clients | streams | lines | lines/s | MB/s | p50 ms | p90 ms | p99 ms | max ms | non-204 | server CPU (cores) | ' +
    'other CPU (cores) | peak RSS (VmHWM) | max sampled RSS | disk / raw byte | wal/ after stop | decode ceiling lines/s |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  console.log(`| ${options.sync} | ${options.clients} | ${streamCount} | ${fmtInt(lines)} | ${fmtInt(linesPerSecond)} | ${megabytesPerSecond.toFixed(1)} | ` +
    `${p(0.5)} | ${p(0.9)} | ${p(0.99)} | ${maxMs} | ${result.failureCount} | ${(serverCpuSeconds / result.elapsedSeconds).toFixed(2)} | ` +
    `${(otherCpuSeconds / result.elapsedSeconds).toFixed(2)} | ${(peakRssKb / 1024).toFixed(0)} MiB | ${(maxSampledRssKb / 1024).toFixed(0)} MiB | ` +
    `${(diskBytes / lineBytes).toFixed(3)} | ${(walBytes / 1e6).toFixed(1)} MB | ${fmtInt(ceiling)} |`);

  if (options.keep) log(`kept ${runDir} (data/, config.yaml, server.log)`);
  else rmSync(runDir, { recursive: true, force: true });
  for (const failure of failures) log(`FAIL: ${failure}`);
  return failures.length === 0 ? 0 : 1;
}

if (isMainThread) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`ingest bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
