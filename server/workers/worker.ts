/**
 * Entry point of an ingestion worker thread: decodes push bodies and compresses blocks,
 * handing results back without copying (their ArrayBuffers are transferred).
 */
import { parentPort } from 'node:worker_threads';
import { PushDecodeError, type PushBatch } from '../../proto/index.js';
import { JsonPushError } from '../ingest/record.js';
import type { CompressedBlock } from '../store/chunks.js';
import { runCompress, runDecode, runExtract, type ExtractResult, type Task } from './tasks.js';

export interface TaskRequest {
  id: number;
  task: Task;
}

export type TaskResponse =
  | { id: number; ok: true; batch: PushBatch; body: Uint8Array }
  | { id: number; ok: true; compressed: CompressedBlock }
  | { id: number; ok: true; extracted: ExtractResult }
  | { id: number; ok: false; invalidInput: boolean; message: string };

/**
 * A view into Node's shared pool of small Buffers must be copied before its memory can be
 * transferred; any other view is sent with its whole ArrayBuffer, offsets intact.
 */
function owned<T extends Uint8Array | Float64Array | Int32Array | Uint32Array>(view: T): T {
  // Through the typed-array slice: Buffer#slice would return a view of the same memory.
  return view.buffer.byteLength === Buffer.poolSize ? (Uint8Array.prototype.slice.call(view) as unknown as T) : view;
}

function respond(request: TaskRequest): void {
  const port = parentPort!;
  try {
    if (request.task.kind === 'decode') {
      const decoded = runDecode(request.task);
      const batch: PushBatch = {
        ...decoded,
        data: owned(decoded.data),
        seconds: owned(decoded.seconds),
        nanos: owned(decoded.nanos),
        lineStart: owned(decoded.lineStart),
        lineEnd: owned(decoded.lineEnd),
        metadataFirst: owned(decoded.metadataFirst),
        metadataCount: owned(decoded.metadataCount),
        metadataOffsets: owned(decoded.metadataOffsets),
      };
      // The body came over by transfer; it goes back the same way, for the WAL.
      const body = request.task.body;
      // A Set: postMessage refuses a transfer list that names one ArrayBuffer twice.
      const transfer = new Set(
        [batch.data, batch.seconds, batch.nanos, batch.lineStart, batch.lineEnd, batch.metadataFirst, batch.metadataCount, batch.metadataOffsets, body].map(
          (view) => view.buffer as ArrayBuffer,
        ),
      );
      port.postMessage({ id: request.id, ok: true, batch, body } satisfies TaskResponse, [...transfer]);
    } else if (request.task.kind === 'extract') {
      const extracted = runExtract(request.task);
      const transfer = new Set<ArrayBuffer>();
      for (const series of extracted.part.series) {
        transfer.add(series.ts.buffer as ArrayBuffer);
        if (series.values !== null) transfer.add(series.values.buffer as ArrayBuffer);
      }
      port.postMessage({ id: request.id, ok: true, extracted } satisfies TaskResponse, [...transfer]);
    } else {
      const block = runCompress(request.task);
      const compressed = { data: owned(block.data), filter: block.filter };
      // The block arrived as a copy; sending it back with the result frees it on the main
      // thread, whose frequent scavenges release it at once. Left here it would wait for
      // this thread's rare GCs and tens of MB would pile up.
      const input = owned(request.task.bytes);
      const transfer = [compressed.data.buffer as ArrayBuffer, compressed.filter.buffer as ArrayBuffer, input.buffer as ArrayBuffer];
      port.postMessage({ id: request.id, ok: true, compressed } satisfies TaskResponse, transfer);
    }
  } catch (err) {
    const invalidInput = err instanceof PushDecodeError || err instanceof JsonPushError;
    port.postMessage({ id: request.id, ok: false, invalidInput, message: (err as Error).message } satisfies TaskResponse);
  }
}

parentPort?.on('message', respond);
