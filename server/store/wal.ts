/**
 * The write-ahead log: every accepted push is appended here before the server answers,
 * so an acknowledged write survives `kill -9` (the bytes are in the kernel once
 * `writev` returns) and, with `sync: batch`, power loss (fsync before the answer,
 * shared by the requests that arrive while one fsync runs).
 *
 * Segment files are named after the sequence number of their first record. A record is
 *   length:uint32le  crc32:uint32le  seq:uint64le  payload
 * with the CRC over seq and payload, so a torn tail from a crash is detected and cut off.
 */
import { closeSync, fsync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readSync, unlinkSync, writevSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { WalSyncMode } from '../config.js';

const HEADER_BYTES = 16;
const SEGMENT_NAME = /^(\d{20})\.wal$/;

export interface WalOptions {
  sync: WalSyncMode;
  syncPeriodMs: number;
  segmentSize: number;
}

export interface ReplaySummary {
  records: number;
  /** Segments that ended in a torn or corrupt record; the rest of such a segment is skipped. */
  corruptSegments: string[];
}

interface Segment {
  firstSeq: number;
  file: string;
}

export class Wal {
  private segments: Segment[] = [];
  private fd = -1;
  private segmentBytes = 0;
  private nextSeqValue = 1;
  private written = 0;
  private synced = 0;
  private inflightSync: Promise<void> | null = null;
  private syncTimer: NodeJS.Timeout | null = null;

  constructor(private readonly dir: string, private readonly options: WalOptions) {
    mkdirSync(dir, { recursive: true });
    this.segments = readdirSync(dir)
      .map((name) => SEGMENT_NAME.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ firstSeq: Number(m[1]), file: join(dir, m[0]) }))
      .sort((a, b) => a.firstSeq - b.firstSeq);
  }

  /** The sequence number the next record will get. */
  get nextSeq(): number {
    return this.nextSeqValue;
  }

  /**
   * Reads every record in order, yielding to the event loop now and then. Call once,
   * before the first append: it also finds the
   * sequence number to continue from and cuts a torn tail off the last segment.
   */
  async replay(visit: (seq: number, payload: Buffer) => void): Promise<ReplaySummary> {
    const summary: ReplaySummary = { records: 0, corruptSegments: [] };
    const header = Buffer.alloc(HEADER_BYTES);
    for (let s = 0; s < this.segments.length; s++) {
      const segment = this.segments[s]!;
      const fd = openSync(segment.file, 'r+');
      try {
        const size = fstatSync(fd).size;
        let pos = 0;
        while (pos < size) {
          const ok = readSync(fd, header, 0, HEADER_BYTES, pos) === HEADER_BYTES;
          const length = header.readUInt32LE(0);
          const seq = Number(header.readBigUInt64LE(8));
          let payload: Buffer | null = null;
          if (ok && pos + HEADER_BYTES + length <= size) {
            payload = Buffer.allocUnsafe(length);
            readSync(fd, payload, 0, length, pos + HEADER_BYTES);
            if (crc32(payload, crc32(header.subarray(8, 16))) !== header.readUInt32LE(4)) payload = null;
          }
          if (payload === null) {
            summary.corruptSegments.push(segment.file);
            // Only the newest segment can end in a write that was never acknowledged.
            if (s === this.segments.length - 1) ftruncateSync(fd, pos);
            break;
          }
          visit(seq, payload);
          summary.records++;
          // Let /ready and /metrics answer while a long WAL replays.
          if (summary.records % 64 === 0) await yieldToEventLoop();
          this.nextSeqValue = Math.max(this.nextSeqValue, seq + 1);
          pos += HEADER_BYTES + length;
        }
      } finally {
        closeSync(fd);
      }
    }
    const last = this.segments.at(-1);
    if (last !== undefined) this.nextSeqValue = Math.max(this.nextSeqValue, last.firstSeq);
    return summary;
  }

  /** Starts appending (after replay); a new segment is begun so old ones stay read-only. */
  start(): void {
    this.openSegment();
    if (this.options.sync === 'interval' && this.options.syncPeriodMs > 0) {
      this.syncTimer = setInterval(() => void this.sync(), this.options.syncPeriodMs);
      this.syncTimer.unref();
    }
  }

  /** Appends one record and returns its sequence number. The bytes are in the kernel on return. */
  append(payload: Uint8Array | Uint8Array[]): number {
    const parts = Array.isArray(payload) ? payload : [payload];
    let length = 0;
    for (const part of parts) length += part.byteLength;
    const seq = this.nextSeqValue++;
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header.writeUInt32LE(length, 0);
    header.writeBigUInt64LE(BigInt(seq), 8);
    let crc = crc32(header.subarray(8, 16));
    for (const part of parts) crc = crc32(part, crc);
    header.writeUInt32LE(crc, 4);
    const buffers = [header, ...parts];
    let remaining = HEADER_BYTES + length;
    // writev may write less than asked (large records); finish the rest.
    while (remaining > 0) {
      const written = writevSync(this.fd, buffers);
      remaining -= written;
      if (remaining > 0) dropWritten(buffers, written);
    }
    this.segmentBytes += HEADER_BYTES + length;
    this.written++;
    if (this.segmentBytes >= this.options.segmentSize) this.rotate();
    return seq;
  }

  /**
   * Resolves once every record appended so far is fsynced. In `batch` mode the push
   * handler awaits it before answering; concurrent callers share one fsync.
   */
  async sync(): Promise<void> {
    const target = this.written;
    while (this.synced < target) {
      if (this.inflightSync === null) {
        const covers = this.written;
        const fd = this.fd;
        this.inflightSync = new Promise<void>((resolve, reject) => {
          fsync(fd, (err) => {
            this.inflightSync = null;
            // A rotated segment was fsynced synchronously when it was closed.
            if (err && fd === this.fd) reject(err);
            else {
              this.synced = Math.max(this.synced, covers);
              resolve();
            }
          });
        });
      }
      await this.inflightSync;
    }
  }

  get syncPerBatch(): boolean {
    return this.options.sync === 'batch';
  }

  /** Whether some segment holds only records below `seq`. */
  hasSegmentsBefore(seq: number): boolean {
    return this.segments.length > 1 && this.segments[1]!.firstSeq <= seq;
  }

  /** Deletes the segments whose records all have sequence numbers below `seq`. */
  truncateBefore(seq: number): number {
    let removed = 0;
    while (this.segments.length > 1 && this.segments[1]!.firstSeq <= seq) {
      unlinkSync(this.segments.shift()!.file);
      removed++;
    }
    return removed;
  }

  /**
   * Drops every record (all are in blocks, after a clean shutdown). A new empty segment
   * keeps the sequence going: replay skips records at or below a stream's flushed
   * sequence, so numbers must never be reused.
   */
  discardAll(): void {
    this.rotate();
    this.truncateBefore(this.nextSeqValue);
  }

  close(): void {
    if (this.syncTimer !== null) clearInterval(this.syncTimer);
    if (this.fd >= 0) {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  private rotate(): void {
    fsyncSync(this.fd);
    this.synced = this.written;
    closeSync(this.fd);
    this.openSegment();
  }

  private openSegment(): void {
    const firstSeq = this.nextSeqValue;
    const file = join(this.dir, `${String(firstSeq).padStart(20, '0')}.wal`);
    if (this.segments.at(-1)?.firstSeq === firstSeq) {
      // An empty segment left by a restart: append to it.
      this.fd = openSync(file, 'a');
    } else {
      this.fd = openSync(file, 'a');
      this.segments.push({ firstSeq, file });
      // The new file's directory entry must survive power loss too.
      const dirFd = openSync(this.dir, 'r');
      fsyncSync(dirFd);
      closeSync(dirFd);
    }
    this.segmentBytes = 0;
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function dropWritten(buffers: Uint8Array[], written: number): void {
  while (written > 0 && buffers.length > 0) {
    const first = buffers[0]!;
    if (first.byteLength <= written) {
      written -= first.byteLength;
      buffers.shift();
    } else {
      buffers[0] = first.subarray(written);
      written = 0;
    }
  }
}
