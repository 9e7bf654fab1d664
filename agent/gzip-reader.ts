/**
 * Reads a rotated log that kubelet has already compressed (`N.log.<ts>.gz`) as the tailer reads
 * plain files — `read(buffer, position)` — by decompressing it as a stream. Positions only move
 * forward (a rotated file is read once, from a saved offset to its end); bytes before the asked
 * position are decompressed and skipped. Memory stays at a few zlib chunks.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

export class GzipReader {
  private readonly chunks: AsyncIterator<Buffer>;
  private readonly stream: NodeJS.ReadableStream & { destroy(): void };
  /** Decompressed bytes already handed out or skipped. */
  private position = 0;
  /** The decompressed chunk being consumed, from `leftoverAt`. */
  private leftover: Buffer | undefined;
  private leftoverAt = 0;
  private ended = false;

  constructor(readonly path: string) {
    const gunzip = createGunzip();
    createReadStream(path).on('error', (err) => gunzip.destroy(err)).pipe(gunzip);
    this.stream = gunzip;
    this.chunks = gunzip[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** Fills `buffer` from decompressed offset `at` (≥ every earlier one); 0 at the end. Throws for corrupt data. */
  async read(buffer: Buffer, at: number): Promise<number> {
    if (at < this.position) throw new RangeError(`${this.path}: cannot read backwards (at ${at}, already at ${this.position})`);
    let filled = 0;
    while (filled < buffer.length) {
      if (this.leftover === undefined || this.leftoverAt >= this.leftover.length) {
        if (this.ended) break;
        const next = await this.chunks.next();
        if (next.done === true) {
          this.ended = true;
          break;
        }
        this.leftover = next.value;
        this.leftoverAt = 0;
      }
      const available = this.leftover.length - this.leftoverAt;
      const skip = Math.min(at - this.position, available);
      if (skip > 0) {
        this.leftoverAt += skip;
        this.position += skip;
        continue;
      }
      const n = Math.min(available, buffer.length - filled);
      this.leftover.copy(buffer, filled, this.leftoverAt, this.leftoverAt + n);
      this.leftoverAt += n;
      this.position += n;
      filled += n;
    }
    return filled;
  }

  close(): void {
    this.stream.destroy();
  }
}

/** SHA-1 of the first `length` decompressed bytes, and how many there were; undefined if unreadable. */
export async function gzipHead(path: string, length: number): Promise<{ headLength: number; headSha1: string } | undefined> {
  const reader = new GzipReader(path);
  try {
    const head = Buffer.alloc(length);
    const n = await reader.read(head, 0);
    return { headLength: n, headSha1: createHash('sha1').update(head.subarray(0, n)).digest('hex') };
  } catch {
    return undefined;
  } finally {
    reader.close();
  }
}
