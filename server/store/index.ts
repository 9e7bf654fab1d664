/**
 * The label index in SQLite: one row per stream (tenant + sorted label set) and one
 * posting per (label name, value) → stream, which selectors are resolved against.
 */
import type { Db } from './schema.js';

export type LabelPairs = ReadonlyArray<readonly [string, string]>;

export interface StreamRow {
  id: number;
  tenant: string;
  labels: string;
  flushedWalSeq: number;
}

/** FNV-1a over the canonical label string: Loki's fingerprint plays the same role. */
export function fingerprint(labels: string): bigint {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < labels.length; i++) {
    hash ^= BigInt(labels.charCodeAt(i));
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return BigInt.asIntN(64, hash);
}

export class LabelIndex {
  private readonly insertStream;
  private readonly insertPosting;
  private readonly selectAll;
  private readonly selectByPosting;
  private readonly selectValues;
  private readonly updateFlushed;
  private readonly deleteStreamRow;
  private readonly deletePostings;

  constructor(private readonly db: Db) {
    this.insertStream = db.prepare('INSERT INTO streams (tenant, fingerprint, labels) VALUES (?, ?, ?)');
    this.insertPosting = db.prepare('INSERT OR IGNORE INTO postings (tenant, name, value, stream_id) VALUES (?, ?, ?, ?)');
    this.selectAll = db.prepare('SELECT id, tenant, labels, flushed_wal_seq AS flushedWalSeq FROM streams');
    this.selectByPosting = db.prepare('SELECT stream_id FROM postings WHERE tenant = ? AND name = ? AND value = ?').pluck();
    this.selectValues = db.prepare('SELECT DISTINCT value FROM postings WHERE tenant = ? AND name = ?').pluck();
    this.updateFlushed = db.prepare('UPDATE streams SET flushed_wal_seq = ? WHERE id = ?');
    this.deleteStreamRow = db.prepare('DELETE FROM streams WHERE id = ?');
    this.deletePostings = db.prepare('DELETE FROM postings WHERE stream_id = ?');
  }

  createStream(tenant: string, labels: string, pairs: LabelPairs): number {
    const create = this.db.transaction(() => {
      const id = Number(this.insertStream.run(tenant, fingerprint(labels), labels).lastInsertRowid);
      for (const [name, value] of pairs) this.insertPosting.run(tenant, name, value, id);
      return id;
    });
    return create();
  }

  allStreams(): StreamRow[] {
    return this.selectAll.all() as StreamRow[];
  }

  streamsWith(tenant: string, name: string, value: string): number[] {
    return this.selectByPosting.all(tenant, name, value) as number[];
  }

  labelValues(tenant: string, name: string): string[] {
    return this.selectValues.all(tenant, name) as string[];
  }

  /** Records that every WAL record up to `seq` is in blocks for this stream. */
  setFlushedWalSeq(streamId: number, seq: number): void {
    this.updateFlushed.run(seq, streamId);
  }

  deleteStream(streamId: number): void {
    this.deletePostings.run(streamId);
    this.deleteStreamRow.run(streamId);
  }
}
