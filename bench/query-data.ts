/**
 * The data set of the query benchmark: `bench/generate.ts` Kubernetes batches spread evenly over
 * a past time range, pre-built (encoded and snappy-compressed) in worker threads, plus the exact
 * counts a query over them must find — lines per namespace, logfmt levels, JSON statuses, needle
 * and common-word lines, lines inside the windows of the instant and rate queries — so the benchmark can check
 * every answer it times.
 *
 * Every entry's timestamp is 500 ns past a whole microsecond, so no entry ever sits on a range or
 * window boundary (those are whole seconds) and the expected counts do not depend on whether a
 * boundary is open or closed.
 */
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { encodeSnappyPushRequest } from '../proto/index.js';
import { generateKubernetesBatch, type KubernetesBatchOptions } from './generate.js';
import { runGeneratorWorkers, type GeneratedBatches, type PreparedBatch } from './ingest-client.js';

/** Roughly what services log: mostly info, some debug and warn, a few errors (weights out of 20). */
export const REALISTIC_LEVELS: readonly string[] = [
  'debug', 'debug', 'warn', 'warn', 'error',
  ...Array.from({ length: 15 }, () => 'info'),
];

export interface DataPlan {
  targetLineBytes: number;
  clients: number;
  streamsPerClient: number;
  batchBytes: number;
  minLineBytes: number;
  maxLineBytes: number;
  needleWord: string;
  needleFraction: number;
  /**
   * A word in about one line in 11, so in most blocks: the server's per-block trigram filters
   * skip little (~30% of the lines in the 1 GB run at 11:47 UTC), and a line filter on it
   * measures scan speed where the needle query mostly measures the filters.
   */
  commonWord: string;
  /** Whole seconds: every entry lies strictly inside (rangeStartSec, rangeEndSec). */
  rangeStartSec: number;
  rangeEndSec: number;
  /** Entries after these whole seconds are counted separately (instant query's and rate query's windows). */
  instantWindowStartSec: number;
  rateWindowStartSec: number;
}

export interface NamespaceCounts {
  lines: number;
  lineBytes: number;
  needleLines: number;
  commonWordLines: number;
  /** `level` of logfmt lines (the only lines `| logfmt` gives a level). */
  logfmtLevels: Record<string, number>;
  linesInInstantWindow: number;
  lineBytesInInstantWindow: number;
  linesInRateWindow: number;
  lineBytesInRateWindow: number;
  logfmtLevelsInRateWindow: Record<string, number>;
}

export interface DataCounts {
  lines: number;
  lineBytes: number;
  streams: number;
  byNamespace: Record<string, NamespaceCounts>;
  /** Lines of the JSON streams (containers server and consumer). */
  jsonLines: number;
  jsonLineBytes: number;
  /** `status` of those lines; '' for lines without one (short lines). */
  jsonStatuses: Record<string, number>;
  /** Oldest and newest entry, nanoseconds since the epoch as decimal strings. */
  firstEntryNs: string;
  lastEntryNs: string;
}

interface ClientJob {
  plan: DataPlan;
  client: number;
  intervalNanos: number;
}

interface GeneratedClient extends GeneratedBatches {
  counts: DataCounts;
}

type LineFormat = 'logfmt' | 'json' | 'nginx';

interface StreamInfo {
  namespace: string;
  format: LineFormat;
}

/** generate.ts gives each format its own containers, so the container label names the format. */
const FORMAT_OF_CONTAINER: Record<string, LineFormat> = {
  app: 'logfmt', worker: 'logfmt', sidecar: 'logfmt',
  server: 'json', consumer: 'json',
  nginx: 'nginx', controller: 'nginx',
};

function streamInfo(labels: string): StreamInfo {
  const namespace = /namespace="([^"]*)"/.exec(labels)?.[1];
  const container = /container="([^"]*)"/.exec(labels)?.[1];
  const format = container === undefined ? undefined : FORMAT_OF_CONTAINER[container];
  if (namespace === undefined || format === undefined) throw new Error(`unexpected generated stream labels ${labels}`);
  return { namespace, format };
}

function emptyCounts(): DataCounts {
  return { lines: 0, lineBytes: 0, streams: 0, byNamespace: {}, jsonLines: 0, jsonLineBytes: 0, jsonStatuses: {}, firstEntryNs: '', lastEntryNs: '' };
}

function emptyNamespace(): NamespaceCounts {
  return { lines: 0, lineBytes: 0, needleLines: 0, commonWordLines: 0, logfmtLevels: {}, linesInInstantWindow: 0, lineBytesInInstantWindow: 0, linesInRateWindow: 0, lineBytesInRateWindow: 0,
    logfmtLevelsInRateWindow: {} };
}

function increment(record: Record<string, number>, key: string, by = 1): void {
  record[key] = (record[key] ?? 0) + by;
}

function mergeRecord(into: Record<string, number>, from: Record<string, number>): void {
  for (const [key, value] of Object.entries(from)) increment(into, key, value);
}

function valueAfter(line: string, marker: string, end: string): string | undefined {
  const at = line.indexOf(marker);
  if (at < 0) return undefined;
  const from = at + marker.length;
  const to = line.indexOf(end, from);
  return line.slice(from, to < 0 ? line.length : to);
}

const nanosString = (seconds: number, nanos: number): string => (BigInt(seconds) * 1_000_000_000n + BigInt(nanos)).toString();

function generateClient(job: ClientJob): { result: GeneratedClient; transfer: ArrayBuffer[] } {
  const { plan, client } = job;
  const counts = emptyCounts();
  const result: GeneratedClient = { client, bodies: [], lines: [], lineBytes: [], counts };
  const infoByLabels = new Map<string, StreamInfo>();
  const targetBytes = plan.targetLineBytes / plan.clients;
  // 500 ns past the range start, and a whole number of microseconds apart: never on a whole second.
  let seconds = plan.rangeStartSec;
  let nanos = 500;
  let firstEntry: [number, number] | undefined;
  let lastEntry: [number, number] = [0, 0];
  for (let index = 0; counts.lineBytes < targetBytes; index++) {
    const options: KubernetesBatchOptions = {
      seed: 0x51ed0000 + client * 1_000_003 + index,
      // One fixed set of pods per client, as one agent per node keeps sending the same pods.
      streamSeed: 0x5eed0000 + client,
      streamCount: plan.streamsPerClient,
      targetBytes: plan.batchBytes,
      minLineBytes: plan.minLineBytes,
      maxLineBytes: plan.maxLineBytes,
      levels: REALISTIC_LEVELS,
      needleWord: plan.needleWord,
      needleFraction: plan.needleFraction,
      startSeconds: seconds,
      startNanos: nanos,
      entryIntervalNanos: job.intervalNanos,
    };
    const generated = generateKubernetesBatch(options);
    let batchLines = 0;
    let batchBytes = 0;
    for (const stream of generated) {
      let info = infoByLabels.get(stream.labels);
      if (info === undefined) {
        info = streamInfo(stream.labels);
        infoByLabels.set(stream.labels, info);
      }
      const namespace = (counts.byNamespace[info.namespace] ??= emptyNamespace());
      for (const entry of stream.entries) {
        const line = entry.line as string;
        const bytes = Buffer.byteLength(line, 'utf8');
        // Boundaries are whole seconds and entries never sit on one: "after S" is "seconds ≥ S".
        const inInstantWindow = entry.seconds >= plan.instantWindowStartSec;
        const inRateWindow = entry.seconds >= plan.rateWindowStartSec;
        batchLines++;
        batchBytes += bytes;
        namespace.lines++;
        namespace.lineBytes += bytes;
        if (inInstantWindow) {
          namespace.linesInInstantWindow++;
          namespace.lineBytesInInstantWindow += bytes;
        }
        if (inRateWindow) {
          namespace.linesInRateWindow++;
          namespace.lineBytesInRateWindow += bytes;
        }
        if (line.includes(plan.needleWord)) namespace.needleLines++;
        if (line.includes(plan.commonWord)) namespace.commonWordLines++;
        if (info.format === 'logfmt') {
          const level = valueAfter(line, 'level=', ' ');
          if (level !== undefined) {
            increment(namespace.logfmtLevels, level);
            if (inRateWindow) increment(namespace.logfmtLevelsInRateWindow, level);
          }
        } else if (info.format === 'json') {
          counts.jsonLines++;
          counts.jsonLineBytes += bytes;
          increment(counts.jsonStatuses, valueAfter(line, '"status":', ',') ?? '');
        }
      }
      const first = stream.entries[0]!;
      const last = stream.entries[stream.entries.length - 1]!;
      if (firstEntry === undefined || first.seconds < firstEntry[0] || (first.seconds === firstEntry[0] && first.nanos < firstEntry[1])) {
        firstEntry = [first.seconds, first.nanos];
      }
      if (last.seconds > lastEntry[0] || (last.seconds === lastEntry[0] && last.nanos > lastEntry[1])) lastEntry = [last.seconds, last.nanos];
    }
    counts.lines += batchLines;
    counts.lineBytes += batchBytes;
    const compressed = encodeSnappyPushRequest(generated);
    // The compressed Buffer views a larger scratch allocation; copy so only its bytes cross threads.
    const exact = new Uint8Array(compressed.length);
    exact.set(compressed);
    result.bodies.push(exact.buffer);
    result.lines.push(batchLines);
    result.lineBytes.push(batchBytes);
    // The next batch continues the clock where this one stopped, so every stream only moves forward.
    const advanced = nanos + batchLines * job.intervalNanos;
    seconds += Math.floor(advanced / 1e9);
    nanos = advanced % 1e9;
  }
  counts.streams = infoByLabels.size;
  counts.firstEntryNs = firstEntry === undefined ? '' : nanosString(firstEntry[0], firstEntry[1]);
  counts.lastEntryNs = nanosString(lastEntry[0], lastEntry[1]);
  return { result, transfer: result.bodies };
}

if (!isMainThread) {
  for (const job of workerData as ClientJob[]) {
    const { result, transfer } = generateClient(job);
    parentPort!.postMessage(result, transfer);
  }
}

export function mergeCounts(parts: readonly DataCounts[]): DataCounts {
  const total = emptyCounts();
  let first: bigint | undefined;
  let last: bigint | undefined;
  for (const part of parts) {
    total.lines += part.lines;
    total.lineBytes += part.lineBytes;
    total.streams += part.streams;
    total.jsonLines += part.jsonLines;
    total.jsonLineBytes += part.jsonLineBytes;
    mergeRecord(total.jsonStatuses, part.jsonStatuses);
    for (const [name, counts] of Object.entries(part.byNamespace)) {
      const into = (total.byNamespace[name] ??= emptyNamespace());
      into.lines += counts.lines;
      into.lineBytes += counts.lineBytes;
      into.needleLines += counts.needleLines;
      into.commonWordLines += counts.commonWordLines;
      into.linesInInstantWindow += counts.linesInInstantWindow;
      into.lineBytesInInstantWindow += counts.lineBytesInInstantWindow;
      into.linesInRateWindow += counts.linesInRateWindow;
      into.lineBytesInRateWindow += counts.lineBytesInRateWindow;
      mergeRecord(into.logfmtLevels, counts.logfmtLevels);
      mergeRecord(into.logfmtLevelsInRateWindow, counts.logfmtLevelsInRateWindow);
    }
    if (part.firstEntryNs !== '') {
      const partFirst = BigInt(part.firstEntryNs);
      const partLast = BigInt(part.lastEntryNs);
      if (first === undefined || partFirst < first) first = partFirst;
      if (last === undefined || partLast > last) last = partLast;
    }
  }
  total.firstEntryNs = first?.toString() ?? '';
  total.lastEntryNs = last?.toString() ?? '';
  return total;
}

/**
 * Lines per client go in evenly over the range, so the entry interval follows from the average
 * line length, which one sample batch gives to well under 1% for these generators.
 */
function entryIntervalNanos(plan: DataPlan): number {
  const sample = generateKubernetesBatch({
    seed: 0x5a3b1e,
    streamSeed: 0x5eed0000,
    streamCount: plan.streamsPerClient,
    targetBytes: Math.max(plan.batchBytes, 4 * 1024 * 1024),
    minLineBytes: plan.minLineBytes,
    maxLineBytes: plan.maxLineBytes,
    levels: REALISTIC_LEVELS,
    startSeconds: plan.rangeStartSec,
  });
  let lines = 0;
  let bytes = 0;
  for (const stream of sample) {
    for (const entry of stream.entries) {
      lines++;
      bytes += Buffer.byteLength(entry.line as string, 'utf8');
    }
  }
  const bytesPerClient = plan.targetLineBytes / plan.clients;
  const linesPerClient = bytesPerClient / (bytes / lines);
  // Slack so that the last entry stays inside the range: 1% for the estimate, plus the last batch,
  // which may overshoot the byte target by up to a whole batch. Whole microseconds (file comment).
  const slack = 1.01 + plan.batchBytes / bytesPerClient;
  const rangeNanos = (plan.rangeEndSec - plan.rangeStartSec) * 1e9;
  const interval = Math.floor(rangeNanos / (linesPerClient * slack) / 1000) * 1000;
  if (interval < 1000) throw new Error(`too many lines for the time range: ${linesPerClient.toFixed(0)} lines per client`);
  return interval;
}

export interface GeneratedData {
  /** One list per client, in time order. */
  batches: PreparedBatch[][];
  counts: DataCounts;
  intervalNanos: number;
}

export async function generateData(plan: DataPlan): Promise<GeneratedData> {
  const intervalNanos = entryIntervalNanos(plan);
  const jobs: ClientJob[] = Array.from({ length: plan.clients }, (_, client) => ({ plan, client, intervalNanos }));
  const parts: DataCounts[] = [];
  const batches = await runGeneratorWorkers<GeneratedClient>(fileURLToPath(import.meta.url), jobs, (generated) => parts.push(generated.counts));
  const counts = mergeCounts(parts);
  if (BigInt(counts.lastEntryNs) >= BigInt(plan.rangeEndSec) * 1_000_000_000n) {
    throw new Error(`generated entries run past the range end (${counts.lastEntryNs} ns ≥ ${plan.rangeEndSec} s); the interval estimate was off`);
  }
  return { batches, counts, intervalNanos };
}
