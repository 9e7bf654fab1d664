/**
 * The CPU-heavy steps of ingestion that run on worker threads, as plain functions so the
 * pool can also run them inline (worker_threads: 0) and tests can call them directly.
 */
import { snappyCompress, snappyUncompress, type PushBatch } from '../../proto/index.js';
import { decodePushBody, type PushFormat } from '../ingest/record.js';
import type { CompressedBlock } from '../store/chunks.js';
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

/** A stored block to decompress for a query. */
export interface DecompressTask {
  kind: 'decompress';
  bytes: Uint8Array;
}

export type Task = DecodeTask | CompressTask | DecompressTask;

export function runDecode(task: DecodeTask): PushBatch {
  const body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength);
  return decodePushBody(task.format, body, task.maxBytes);
}

export function runDecompress(task: DecompressTask): Uint8Array {
  return snappyUncompress(task.bytes);
}

export function runCompress(task: CompressTask): CompressedBlock {
  return { data: snappyCompress(task.bytes), filter: buildTrigramFilter(task.bytes) };
}
