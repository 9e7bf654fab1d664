/**
 * A small pool of worker threads for the CPU-heavy parts of ingestion, so a push uses
 * both cores: decoding (snappy + protobuf or JSON) and block compression each go to the
 * least busy worker. Blocks may come back out of order; the store applies each
 * stream's writes in cut order regardless. With size 0 everything runs inline.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PushDecodeError, type PushBatch } from '../../proto/index.js';
import type { PushFormat } from '../ingest/record.js';
import type { CompressedBlock } from '../store/chunks.js';
import type { ExtractionJob } from '../../logql/engine/samples.js';
import type { Labels } from '../../logql/pipeline/labels.js';
import { runCompress, runDecode, runExtract, type ExtractResult, type Task } from './tasks.js';
import type { TaskRequest, TaskResponse } from './worker.js';

interface Pending {
  resolve(value: TaskResponse): void;
  reject(error: Error): void;
}

interface PoolWorker {
  worker: Worker;
  pending: Map<number, Pending>;
}

/** The compiled worker script; tests run from sources, so they use the build in dist/. */
function workerScript(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'worker.js');
  let dir = dirname(here);
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return resolve(dir, 'dist/server/workers/worker.js');
}

export class WorkerPool {
  private readonly workers: PoolWorker[] = [];
  private nextId = 1;
  private closed = false;

  constructor(size: number) {
    for (let i = 0; i < size; i++) this.workers.push(this.spawn());
  }

  /**
   * Decodes a push body. The body is moved to the worker and back rather than copied
   * when it owns its memory, so the caller must use the returned `body`, not its own.
   */
  async decode(format: PushFormat, body: Buffer, maxBytes: number): Promise<{ batch: PushBatch; body: Buffer }> {
    if (this.workers.length === 0) return { batch: runDecode({ kind: 'decode', format, body, maxBytes }), body };
    const target = this.workers.reduce((best, w) => (w.pending.size < best.pending.size ? w : best));
    const movable = body.byteOffset === 0 && body.buffer.byteLength === body.byteLength;
    const response = await this.send(target, { kind: 'decode', format, body, maxBytes }, movable ? [body.buffer as ArrayBuffer] : []);
    if (!response.ok) {
      if (response.invalidInput) throw new PushDecodeError(response.message);
      throw new Error(`decode worker failed: ${response.message}`);
    }
    if (!('batch' in response)) throw new Error('decode worker answered with the wrong result');
    const batch = response.batch;
    // Structured clone turns Buffers into Uint8Arrays; give them their Buffer methods back.
    return {
      batch: { ...batch, data: Buffer.from(batch.data.buffer, batch.data.byteOffset, batch.data.byteLength) },
      body: Buffer.from(response.body.buffer, response.body.byteOffset, response.body.byteLength),
    };
  }

  compressSync(bytes: Uint8Array): CompressedBlock {
    return runCompress({ kind: 'compress', bytes });
  }

  async compress(bytes: Uint8Array): Promise<CompressedBlock> {
    if (this.workers.length === 0) return this.compressSync(bytes);
    const target = this.workers.reduce((best, w) => (w.pending.size < best.pending.size ? w : best));
    const response = await this.send(target, { kind: 'compress', bytes });
    if (!response.ok || !('compressed' in response)) throw new Error(`compression worker failed: ${response.ok ? 'wrong result' : response.message}`);
    return response.compressed;
  }

  /** Whether tasks run on worker threads (false: inline, worker_threads: 0). */
  get threaded(): boolean {
    return this.workers.length > 0;
  }

  /**
   * Extracts a metric query's samples from one stored block on the least busy worker (checks,
   * decompresses and decodes it there too).
   */
  async extract(job: ExtractionJob, streamLabels: Labels, stored: { crc: number; data: Uint8Array }, start: bigint, end: bigint): Promise<ExtractResult> {
    const task = { kind: 'extract' as const, job, streamLabels, bytes: stored.data, crc: stored.crc, start, end };
    if (this.workers.length === 0) return runExtract(task);
    const target = this.workers.reduce((best, w) => (w.pending.size < best.pending.size ? w : best));
    // Posting a view clones its whole ArrayBuffer: send an exact copy, moved rather than cloned.
    const bytes = stored.data;
    const own = bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength ? bytes : Uint8Array.prototype.slice.call(bytes);
    const response = await this.send(target, { ...task, bytes: own }, [own.buffer as ArrayBuffer]);
    if (!response.ok || !('extracted' in response)) throw new Error(`extraction worker failed: ${response.ok ? 'wrong result' : response.message}`);
    return response.extracted;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private send(target: PoolWorker, task: Task, transfer: ArrayBuffer[] = []): Promise<TaskResponse> {
    const id = this.nextId++;
    return new Promise<TaskResponse>((resolvePromise, reject) => {
      target.pending.set(id, { resolve: resolvePromise, reject });
      target.worker.postMessage({ id, task } satisfies TaskRequest, transfer);
    });
  }

  private spawn(): PoolWorker {
    const entry: PoolWorker = { worker: new Worker(workerScript()), pending: new Map() };
    entry.worker.unref();
    entry.worker.on('message', (response: TaskResponse) => {
      const pending = entry.pending.get(response.id);
      entry.pending.delete(response.id);
      pending?.resolve(response);
    });
    const fail = (error: Error) => {
      for (const pending of entry.pending.values()) pending.reject(error);
      entry.pending.clear();
      if (this.closed) return;
      // Replace a dead worker so one crash does not take ingestion down with it.
      const index = this.workers.indexOf(entry);
      if (index >= 0) this.workers[index] = this.spawn();
    };
    entry.worker.on('error', fail);
    entry.worker.on('exit', (code) => {
      if (!this.closed) fail(new Error(`worker thread exited with code ${code}`));
    });
    return entry;
  }
}
