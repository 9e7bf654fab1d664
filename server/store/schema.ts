/**
 * The SQLite database: the label index (streams, postings) and the chunks with their
 * blocks. WAL journal mode lets reads proceed during writes; `synchronous=NORMAL` is
 * enough because Skald's own WAL holds every acknowledged write until its block is
 * here, and the database is checkpointed (fsynced) before that WAL is truncated.
 */
import Database from 'better-sqlite3';

export type Db = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS streams (
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL,
  fingerprint INTEGER NOT NULL,
  labels TEXT NOT NULL,
  flushed_wal_seq INTEGER NOT NULL DEFAULT 0,
  UNIQUE (tenant, labels)
);
CREATE TABLE IF NOT EXISTS postings (
  tenant TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  stream_id INTEGER NOT NULL,
  PRIMARY KEY (tenant, name, value, stream_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS postings_by_stream ON postings (stream_id);
CREATE TABLE IF NOT EXISTS chunks (
  id INTEGER PRIMARY KEY,
  stream_id INTEGER NOT NULL,
  min_ts INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  entries INTEGER NOT NULL,
  raw_bytes INTEGER NOT NULL,
  stored_bytes INTEGER NOT NULL,
  blocks INTEGER NOT NULL,
  opened_at INTEGER NOT NULL,
  closed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_by_stream ON chunks (stream_id, max_ts);
CREATE INDEX IF NOT EXISTS chunks_by_end ON chunks (max_ts);
CREATE TABLE IF NOT EXISTS blocks (
  id INTEGER PRIMARY KEY,
  chunk_id INTEGER NOT NULL,
  stream_id INTEGER NOT NULL,
  min_ts INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  entries INTEGER NOT NULL,
  raw_bytes INTEGER NOT NULL,
  crc INTEGER NOT NULL,
  data BLOB NOT NULL,
  filter BLOB
);
CREATE INDEX IF NOT EXISTS blocks_by_stream ON blocks (stream_id, min_ts);
`;

export function openDatabase(file: string): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = OFF');
  db.exec(SCHEMA);
  // Stores made before blocks had trigram filters: their blocks keep a NULL filter (always read).
  const blockColumns = db.prepare('PRAGMA table_info(blocks)').all() as Array<{ name: string }>;
  if (!blockColumns.some((c) => c.name === 'filter')) db.exec('ALTER TABLE blocks ADD COLUMN filter BLOB');
  return db;
}
