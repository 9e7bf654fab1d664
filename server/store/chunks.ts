/**
 * Chunks and their blocks in SQLite. A chunk groups a stream's consecutive blocks until
 * it is full, idle or old; each block is written as soon as it is cut (so the head is
 * the only unpersisted part of a stream) and carries its own time range, so a query
 * picks blocks by time before reading or decompressing any of them.
 */
import { crc32 } from 'node:zlib';
import { snappyUncompress } from '../../proto/index.js';
import { filterMayContain } from './filter.js';
import type { Db } from './schema.js';

/** A block as the compressor hands it over: the snappy data and its trigram filter (filter.ts). */
export interface CompressedBlock {
  data: Uint8Array;
  filter: Uint8Array;
}

export interface BlockRef {
  id: number;
  minTs: bigint;
  maxTs: bigint;
  entries: number;
  rawBytes: number;
}

export interface ChunkRow {
  id: number;
  streamId: number;
  minTs: bigint;
  maxTs: bigint;
  entries: number;
  rawBytes: number;
  storedBytes: number;
  blocks: number;
  openedAt: number;
}

export interface StoredBlock {
  chunkId: number;
  streamId: number;
  minTs: bigint;
  maxTs: bigint;
  entries: number;
  rawBytes: number;
  storedBytes: number;
}

export class ChunkCorruptError extends Error {
  override readonly name = 'ChunkCorruptError';
}

export class ChunkStore {
  private readonly insertChunk;
  private readonly growChunk;
  private readonly markClosed;
  private readonly insertBlock;
  private readonly selectBlocks;
  private readonly selectBlockData;
  private readonly selectBlockFilter;
  private readonly selectOpenChunks;
  private readonly selectChunksInRange;
  private readonly selectExpired;
  private readonly selectStreamsInRange;
  private readonly deleteChunkRows;
  private readonly deleteChunkBlocks;
  private readonly countStreamChunks;

  constructor(db: Db) {
    this.insertChunk = db.prepare(
      'INSERT INTO chunks (stream_id, min_ts, max_ts, entries, raw_bytes, stored_bytes, blocks, opened_at) VALUES (?, ?, ?, 0, 0, 0, 0, ?)',
    );
    this.growChunk = db.prepare(
      `UPDATE chunks SET min_ts = min(min_ts, ?), max_ts = max(max_ts, ?), entries = entries + ?,
         raw_bytes = raw_bytes + ?, stored_bytes = stored_bytes + ?, blocks = blocks + 1 WHERE id = ?`,
    );
    this.markClosed = db.prepare('UPDATE chunks SET closed = 1 WHERE id = ?');
    this.insertBlock = db.prepare(
      'INSERT INTO blocks (chunk_id, stream_id, min_ts, max_ts, entries, raw_bytes, crc, data, filter) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.selectBlocks = db
      .prepare(
        `SELECT id, min_ts AS minTs, max_ts AS maxTs, entries, raw_bytes AS rawBytes FROM blocks
         WHERE stream_id = ? AND max_ts >= ? AND min_ts < ? ORDER BY min_ts, id`,
      )
      .safeIntegers(true);
    this.selectBlockData = db.prepare('SELECT crc, data FROM blocks WHERE id = ?');
    this.selectBlockFilter = db.prepare('SELECT filter FROM blocks WHERE id = ?').pluck();
    this.selectOpenChunks = db
      .prepare(
        `SELECT id, stream_id AS streamId, min_ts AS minTs, max_ts AS maxTs, entries, raw_bytes AS rawBytes,
           stored_bytes AS storedBytes, blocks, opened_at AS openedAt FROM chunks WHERE closed = 0`,
      )
      .safeIntegers(true);
    this.selectChunksInRange = db
      .prepare(
        `SELECT id, stream_id AS streamId, min_ts AS minTs, max_ts AS maxTs, entries, raw_bytes AS rawBytes,
           stored_bytes AS storedBytes, blocks, opened_at AS openedAt FROM chunks
         WHERE stream_id = ? AND max_ts >= ? AND min_ts < ?`,
      )
      .safeIntegers(true);
    this.selectStreamsInRange = db.prepare('SELECT DISTINCT stream_id FROM chunks WHERE max_ts >= ? AND min_ts < ?').pluck();
    this.selectExpired = db.prepare('SELECT id, stream_id AS streamId FROM chunks WHERE max_ts < ? AND closed = 1');
    this.deleteChunkRows = db.prepare('DELETE FROM chunks WHERE id = ?');
    // Found through blocks_by_stream: an index on chunk_id would cost every block insert for a rare delete.
    this.deleteChunkBlocks = db.prepare('DELETE FROM blocks WHERE stream_id = ? AND chunk_id = ?');
    this.countStreamChunks = db.prepare('SELECT count(*) FROM chunks WHERE stream_id = ?').pluck();
  }

  openChunk(streamId: number, minTs: bigint, openedAtMs: number): number {
    return Number(this.insertChunk.run(streamId, minTs, minTs, openedAtMs).lastInsertRowid);
  }

  /** Stores one snappy-compressed block of `rawBytes` uncompressed bytes; returns what was stored. */
  appendBlock(chunkId: number, streamId: number, block: CompressedBlock, rawBytes: number, minTs: bigint, maxTs: bigint, entries: number): StoredBlock {
    const { data, filter } = block;
    this.insertBlock.run(chunkId, streamId, minTs, maxTs, entries, rawBytes, crc32(data), data, filter);
    this.growChunk.run(minTs, maxTs, entries, rawBytes, data.byteLength, chunkId);
    return { chunkId, streamId, minTs, maxTs, entries, rawBytes, storedBytes: data.byteLength };
  }

  /** Whether the block may hold a line containing `needle`, from its trigram filter (read without the data). */
  blockMayContain(id: number, needle: Uint8Array): boolean {
    const filter = this.selectBlockFilter.get(id) as Uint8Array | null | undefined;
    return filter === null || filter === undefined || filterMayContain(filter, needle);
  }

  closeChunk(chunkId: number): void {
    this.markClosed.run(chunkId);
  }

  openChunks(): ChunkRow[] {
    return (this.selectOpenChunks.all() as Array<Record<string, bigint>>).map(toChunkRow);
  }

  /** Streams with a chunk overlapping [start, end). */
  streamIdsInRange(start: bigint, end: bigint): number[] {
    return this.selectStreamsInRange.all(start, end) as number[];
  }

  chunksInRange(streamId: number, start: bigint, end: bigint): ChunkRow[] {
    return (this.selectChunksInRange.all(streamId, start, end) as Array<Record<string, bigint>>).map(toChunkRow);
  }

  /** Blocks of a stream overlapping [start, end), in ascending order of their first entry. */
  blocksInRange(streamId: number, start: bigint, end: bigint): BlockRef[] {
    return (this.selectBlocks.all(streamId, start, end) as Array<Record<string, bigint>>).map((row) => ({
      id: Number(row['id']),
      minTs: row['minTs']!,
      maxTs: row['maxTs']!,
      entries: Number(row['entries']),
      rawBytes: Number(row['rawBytes']),
    }));
  }

  /** Reads, checks and decompresses one block. */
  readBlock(id: number): Uint8Array {
    return snappyUncompress(this.readCompressed(id));
  }

  /** Reads one block's compressed bytes and checks them against their checksum. */
  readCompressed(id: number): Uint8Array {
    const row = this.readStored(id);
    if (crc32(row.data) !== row.crc) throw new ChunkCorruptError(`block ${id} fails its checksum`);
    return row.data;
  }

  /** One block's compressed bytes and stored checksum, not yet checked (a worker checks them). */
  readStored(id: number): { crc: number; data: Uint8Array } {
    const row = this.selectBlockData.get(id) as { crc: number; data: Buffer } | undefined;
    if (row === undefined) throw new ChunkCorruptError(`block ${id} is missing`);
    return row;
  }

  /** Deletes closed chunks whose newest entry is before `cutoff`; returns the stream ids touched. */
  deleteChunksBefore(cutoff: bigint): { chunks: number; streams: Set<number> } {
    const expired = this.selectExpired.all(cutoff) as Array<{ id: number; streamId: number }>;
    const streams = new Set<number>();
    for (const { id, streamId } of expired) {
      this.deleteChunkBlocks.run(streamId, id);
      this.deleteChunkRows.run(id);
      streams.add(streamId);
    }
    return { chunks: expired.length, streams };
  }

  chunkCount(streamId: number): number {
    return this.countStreamChunks.get(streamId) as number;
  }
}

function toChunkRow(row: Record<string, bigint>): ChunkRow {
  return {
    id: Number(row['id']),
    streamId: Number(row['streamId']),
    minTs: row['minTs']!,
    maxTs: row['maxTs']!,
    entries: Number(row['entries']),
    rawBytes: Number(row['rawBytes']),
    storedBytes: Number(row['storedBytes']),
    blocks: Number(row['blocks']),
    openedAt: Number(row['openedAt']),
  };
}
