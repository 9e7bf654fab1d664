/**
 * The CPU-heavy steps of ingestion that run on worker threads, as plain functions so the
 * pool can also run them inline (worker_threads: 0) and tests can call them directly.
 */
import { snappyCompress, snappyUncompress, type PushBatch } from '../../proto/index.js';
import { decodePushBody, type PushFormat } from '../ingest/record.js';
import { crc32 } from 'node:zlib';
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

/** A stored block to check, decompress and decode for a query. */
export interface DecompressTask {
  kind: 'decompress';
  bytes: Uint8Array;
  /** The CRC-32 stored with the block. */
  crc: number;
}

/** A decoded block's parts, as they cross threads (the EntryBatch class does not). */
export interface DecodedBlock {
  base: bigint;
  offsets: Float64Array;
  data: Uint8Array;
  lineStart: Uint32Array;
  lineEnd: Uint32Array;
  metaEnd: Uint32Array;
  count: number;
}

export type Task = DecodeTask | CompressTask | DecompressTask;

export function runDecode(task: DecodeTask): PushBatch {
  const body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength);
  return decodePushBody(task.format, body, task.maxBytes);
}

export function runDecompress(task: DecompressTask): DecodedBlock {
  if (crc32(task.bytes) !== task.crc) throw new ChunkCorruptError('block fails its checksum');
  const { base, offsets, data, lineStart, lineEnd, metaEnd, count } = decodeBlock(snappyUncompress(task.bytes));
  return { base, offsets, data, lineStart, lineEnd, metaEnd, count };
}

export function runCompress(task: CompressTask): CompressedBlock {
  return { data: snappyCompress(task.bytes), filter: buildTrigramFilter(task.bytes) };
}
