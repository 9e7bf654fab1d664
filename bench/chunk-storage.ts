/**
 * Where should compressed blocks live: SQLite blobs beside the index, or files with only
 * their metadata in SQLite? Writes the same snappy-compressed blocks each way, one
 * transaction (or one write + fsync-free append) per block as the ingester does, then
 * reads a random sample back.
 *
 *   node dist/bench/chunk-storage.js [blocks=2000]     (PAGE_SIZE=N sets SQLite's page size)
 */
import Database from 'better-sqlite3';
import { mkdirSync, openSync, readSync, rmSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import snappy from 'snappyjs';

const BLOCK_RAW = 256 * 1024;
const STREAMS = 100;

function makeBlock(seed: number): Uint8Array {
  const lines: string[] = [];
  let size = 0;
  let n = seed;
  while (size < BLOCK_RAW) {
    n = (n * 1103515245 + 12345) & 0x7fffffff;
    const line = `ts=2026-11-27T09:${String(n % 60).padStart(2, '0')}:00Z level=${['info', 'warn', 'error'][n % 3]} msg="request served" path=/api/v1/items/${n % 10000} status=${200 + (n % 5)} duration=${n % 997}ms`;
    lines.push(line);
    size += line.length + 4;
  }
  return snappy.compress(Buffer.from(lines.join('\n')));
}

function timeIt(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function dirSize(dir: string, files: string[]): number {
  return files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

function main(): void {
  const count = Number(process.argv[2] ?? 2000);
  const blocks = Array.from({ length: 32 }, (_, i) => makeBlock(i + 1));
  const compressedBytes = blocks.reduce((s, b) => s + b.byteLength, 0) / blocks.length;
  const root = join(tmpdir(), `skald-chunk-bench-${process.pid}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });

  // (a) blobs in SQLite
  const blobDb = new Database(join(root, 'blobs.db'));
  blobDb.pragma(`page_size = ${Number(process.env.PAGE_SIZE ?? 4096)}`);
  blobDb.pragma('journal_mode = WAL');
  blobDb.pragma('synchronous = NORMAL');
  blobDb.exec('CREATE TABLE blocks (id INTEGER PRIMARY KEY, stream_id INTEGER, min_ts INTEGER, max_ts INTEGER, data BLOB)');
  const insertBlob = blobDb.prepare('INSERT INTO blocks (stream_id, min_ts, max_ts, data) VALUES (?, ?, ?, ?)');
  const writeBlob = timeIt(() => {
    for (let i = 0; i < count; i++) blobDb.transaction(() => insertBlob.run(i % STREAMS, i, i + 1, blocks[i % blocks.length]))();
  });
  const readBlob = blobDb.prepare('SELECT data FROM blocks WHERE id = ?').pluck();
  const readBlobs = timeIt(() => {
    for (let i = 0; i < 500; i++) snappy.uncompress(readBlob.get(1 + ((i * 7919) % count)) as Buffer);
  });
  blobDb.pragma('wal_checkpoint(TRUNCATE)');
  blobDb.close();
  const blobSize = dirSize(root, ['blobs.db']);

  // (b) one append-only file per stream, offsets in SQLite
  const fileDir = join(root, 'files');
  mkdirSync(fileDir);
  const metaDb = new Database(join(root, 'meta.db'));
  metaDb.pragma('journal_mode = WAL');
  metaDb.pragma('synchronous = NORMAL');
  metaDb.exec('CREATE TABLE blocks (id INTEGER PRIMARY KEY, stream_id INTEGER, min_ts INTEGER, max_ts INTEGER, offset INTEGER, length INTEGER)');
  const insertMeta = metaDb.prepare('INSERT INTO blocks (stream_id, min_ts, max_ts, offset, length) VALUES (?, ?, ?, ?, ?)');
  const fds = Array.from({ length: STREAMS }, (_, s) => openSync(join(fileDir, `${s}.chunk`), 'a+'));
  const offsets = new Array<number>(STREAMS).fill(0);
  const writeFiles = timeIt(() => {
    for (let i = 0; i < count; i++) {
      const s = i % STREAMS;
      const block = blocks[i % blocks.length]!;
      writeSync(fds[s]!, block);
      metaDb.transaction(() => insertMeta.run(s, i, i + 1, offsets[s], block.byteLength))();
      offsets[s]! += block.byteLength;
    }
  });
  const selectMeta = metaDb.prepare('SELECT stream_id AS s, offset AS o, length AS l FROM blocks WHERE id = ?');
  const readFiles = timeIt(() => {
    for (let i = 0; i < 500; i++) {
      const row = selectMeta.get(1 + ((i * 7919) % count)) as { s: number; o: number; l: number };
      const buf = Buffer.allocUnsafe(row.l);
      readSync(fds[row.s]!, buf, 0, row.l, row.o);
      snappy.uncompress(buf);
    }
  });
  for (const fd of fds) closeSync(fd);
  metaDb.pragma('wal_checkpoint(TRUNCATE)');
  metaDb.close();
  const fileSize = dirSize(root, ['meta.db']) + offsets.reduce((a, b) => a + b, 0);

  const mb = (count * compressedBytes) / 1e6;
  const row = (name: string, write: number, read: number, size: number) =>
    `| ${name} | ${(count / write).toFixed(0)} | ${(mb / write).toFixed(1)} | ${((read / 500) * 1e3).toFixed(3)} | ${(size / 1e6).toFixed(1)} |`;
  console.log(`${count} blocks of ${(BLOCK_RAW / 1024).toFixed(0)} KiB raw, ${(compressedBytes / 1024).toFixed(1)} KiB snappy-compressed, ${STREAMS} streams`);
  console.log('| layout | blocks/s written | compressed MB/s written | ms per random block read+decompress | bytes on disk (MB) |');
  console.log('|---|---|---|---|---|');
  console.log(row('SQLite blob per block', writeBlob, readBlobs, blobSize));
  console.log(row('file per stream + SQLite offsets', writeFiles, readFiles, fileSize));
  rmSync(root, { recursive: true, force: true });
}

main();
