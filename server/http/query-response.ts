/**
 * Query results as Loki writes them (pkg/util/marshal, pkg/logqlmodel/stats): key order
 * `status`, `data.resultType`, `data.encodingFlags`, `data.result`, `data.stats`; log timestamps as
 * strings of nanoseconds, sample timestamps as numbers of seconds, sample values as Go formats them.
 */
import type { QueryResult } from '../../logql/engine/index.js';
import type { Labels } from '../../logql/pipeline/labels.js';
import type { QueryRun } from '../query/run.js';

export const CATEGORIZE_LABELS = 'categorize-labels';

type LabelObject = Record<string, string>;

function labelObject(labels: Labels): LabelObject {
  const out: LabelObject = {};
  for (const l of labels) out[l.name] = l.value;
  return out;
}

/** Go's strconv.FormatFloat(v, 'f', -1, 64), as Prometheus writes sample values. */
export function formatSampleValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  // Expand JS's exponent form (1e+21, 1.5e-7) into plain digits.
  const negative = s[0] === '-';
  const mantissa = s.slice(negative ? 1 : 0, e);
  const exponent = Number(s.slice(e + 1));
  const point = mantissa.indexOf('.');
  const digits = mantissa.replace('.', '');
  const intLength = (point < 0 ? mantissa.length : point) + exponent;
  let out: string;
  if (intLength <= 0) out = '0.' + '0'.repeat(-intLength) + digits;
  else if (intLength >= digits.length) out = digits + '0'.repeat(intLength - digits.length);
  else out = digits.slice(0, intLength) + '.' + digits.slice(intLength);
  return (negative ? '-' : '') + out;
}

/** Prometheus model.Time in JSON: seconds with millisecond precision. */
function sampleTime(ms: number): number {
  return ms / 1000;
}

function encodeResult(result: QueryResult, categorize: boolean): unknown {
  switch (result.type) {
    case 'streams':
      return result.streams.map((stream) => ({
        stream: labelObject(categorize ? stream.streamLabels : stream.labels),
        values: stream.entries.map((e) => {
          if (!categorize) return [e.ts.toString(), e.line];
          const extra: { structuredMetadata?: LabelObject; parsed?: LabelObject } = {};
          if (e.structuredMetadata.length > 0) extra.structuredMetadata = labelObject(e.structuredMetadata);
          if (e.parsed.length > 0) extra.parsed = labelObject(e.parsed);
          return [e.ts.toString(), e.line, extra];
        }),
      }));
    case 'matrix':
      return result.series.map((series) => ({
        metric: labelObject(series.labels),
        values: series.points.map((p) => [sampleTime(p.t), formatSampleValue(p.v)]),
      }));
    case 'vector':
      return result.samples.map((sample) => ({
        metric: labelObject(sample.labels),
        value: [sampleTime(sample.t), formatSampleValue(sample.v)],
      }));
    case 'scalar':
      return [sampleTime(result.t), formatSampleValue(result.v)];
  }
}

function entriesReturned(result: QueryResult): number {
  switch (result.type) {
    case 'streams':
      return result.streams.reduce((n, s) => n + s.entries.length, 0);
    case 'matrix':
      return result.series.reduce((n, s) => n + s.points.length, 0);
    case 'vector':
      return result.samples.length;
    case 'scalar':
      return 1;
  }
}

function storeStats(run: QueryRun | undefined): object {
  return {
    totalChunksRef: run?.store.chunksReferenced ?? 0,
    totalChunksDownloaded: run?.store.chunksLoaded ?? 0,
    chunksDownloadTime: 0,
    queryReferencedStructuredMetadata: false,
    chunk: {
      headChunkBytes: 0,
      headChunkLines: 0,
      decompressedBytes: run?.store.decompressedBytes ?? 0,
      decompressedLines: run?.store.decompressedLines ?? 0,
      compressedBytes: 0,
      totalDuplicates: 0,
      postFilterLines: run?.stats.postFilterLines ?? 0,
      headChunkStructuredMetadataBytes: 0,
      decompressedStructuredMetadataBytes: run?.stats.structuredMetadataBytesProcessed ?? 0,
    },
    chunkRefsFetchTime: 0,
    congestionControlLatency: 0,
    pipelineWrapperFilteredLines: 0,
  };
}

function cacheStats(): object {
  const zero = () => ({
    entriesFound: 0,
    entriesRequested: 0,
    entriesStored: 0,
    bytesReceived: 0,
    bytesSent: 0,
    requests: 0,
    downloadTime: 0,
    queryLengthServed: 0,
  });
  return {
    chunk: zero(),
    index: zero(),
    result: zero(),
    statsResult: zero(),
    volumeResult: zero(),
    seriesResult: zero(),
    labelResult: zero(),
    instantMetricResult: zero(),
  };
}

/** Loki's `stats.Result`: the summary Grafana shows, then the per-component counters. */
export function encodeStats(run: QueryRun | undefined): object {
  const exec = run?.execSeconds ?? 0;
  const bytes = run?.stats.bytesProcessed ?? 0;
  const lines = run?.stats.linesProcessed ?? 0;
  return {
    summary: {
      bytesProcessedPerSecond: exec > 0 ? Math.trunc(bytes / exec) : 0,
      linesProcessedPerSecond: exec > 0 ? Math.trunc(lines / exec) : 0,
      totalBytesProcessed: bytes,
      totalLinesProcessed: lines,
      execTime: exec,
      queueTime: 0,
      subqueries: 0,
      totalEntriesReturned: run ? entriesReturned(run.result) : 0,
      splits: 0,
      shards: 0,
      totalPostFilterLines: run?.stats.postFilterLines ?? 0,
      totalStructuredMetadataBytesProcessed: run?.stats.structuredMetadataBytesProcessed ?? 0,
    },
    querier: { store: storeStats(run) },
    ingester: { totalReached: 0, totalChunksMatched: 0, totalBatches: 0, totalLinesSent: 0, store: storeStats(undefined) },
    cache: cacheStats(),
    index: { totalChunks: 0, postFilterChunks: 0, shardsDuration: 0, usedBloomFilters: false },
  };
}

/** The `/query` and `/query_range` response body. */
export function encodeQueryResponse(run: QueryRun, categorize: boolean): string {
  const data: Record<string, unknown> = { resultType: run.result.type };
  if (categorize) data['encodingFlags'] = [CATEGORIZE_LABELS];
  data['result'] = encodeResult(run.result, categorize);
  data['stats'] = encodeStats(run);
  return JSON.stringify({ status: 'success', data });
}

/** Whether the request asked for `categorize-labels` (`X-Loki-Response-Encoding-Flags`, comma-separated). */
export function wantsCategorizedLabels(header: string | string[] | undefined): boolean {
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  return values.some((v) => v.split(',').some((flag) => flag.trim() === CATEGORIZE_LABELS));
}
