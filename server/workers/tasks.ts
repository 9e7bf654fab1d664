/**
 * The CPU-heavy steps of ingestion that run on worker threads, as plain functions so the
 * pool can also run them inline (worker_threads: 0) and tests can call them directly.
 */
import { snappyCompress, snappyUncompress, type PushBatch } from '../../proto/index.js';
import { decodePushBody, type PushFormat } from '../ingest/record.js';
import { crc32 } from 'node:zlib';
import { emptyStats } from '../../logql/engine/context.js';
import { SampleExtractor, type ExtractionJob, type ExtractionPart } from '../../logql/engine/samples.js';
import type { Labels } from '../../logql/pipeline/labels.js';
import { StoreBatch } from '../query/store-batch.js';
import { decodeBlock } from '../store/block.js';
import { ChunkCorruptError, type CompressedBlock } from '../store/chunks.js';
import { buildTrigramFilter } from '../store/filter.js';

export interface DecodeTask {
  kind: 'decode';
  format: PushFormat;
  body: Uint8Array;
  maxBytes: number;
}

export interface CompressTask {
  kind: 'compress';
  bytes: Uint8Array;
}

/** One stored block of a metric query: checked, decompressed, decoded and its samples extracted. */
export interface ExtractTask {
  kind: 'extract';
  job: ExtractionJob;
  streamLabels: Labels;
  bytes: Uint8Array;
  /** The CRC-32 stored with the block. */
  crc: number;
  /** The query's read range, [start, end). */
  start: bigint;
  end: bigint;
}

/** What a worker sends back for an ExtractTask. */
export interface ExtractResult {
  part: ExtractionPart;
  decodedBytes: number;
  decodedLines: number;
}

export type Task = DecodeTask | CompressTask | ExtractTask;

export function runDecode(task: DecodeTask): PushBatch {
  const body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength);
  return decodePushBody(task.format, body, task.maxBytes);
}

/** Extractors by job: a query's blocks reuse its compiled pipeline; a few recent jobs are kept. */
const extractors = new Map<string, SampleExtractor>();
const KEPT_EXTRACTORS = 8;

export function runExtract(task: ExtractTask): ExtractResult {
  if (crc32(task.bytes) !== task.crc) throw new ChunkCorruptError('block fails its checksum');
  const block = decodeBlock(snappyUncompress(task.bytes));
  block.clip(task.start, task.end);
  let extractor = extractors.get(task.job.id);
  if (extractor === undefined) {
    extractor = new SampleExtractor(task.job.spec, task.job.base);
    extractors.set(task.job.id, extractor);
    if (extractors.size > KEPT_EXTRACTORS) extractors.delete(extractors.keys().next().value!);
  }
  const stats = emptyStats();
  if (block.size > 0) extractor.run(task.streamLabels, new StoreBatch(block), stats);
  return { part: { series: extractor.takeParts(), stats }, decodedBytes: block.data.byteLength, decodedLines: block.count };
}

export function runCompress(task: CompressTask): CompressedBlock {
  return { data: snappyCompress(task.bytes), filter: buildTrigramFilter(task.bytes) };
}
