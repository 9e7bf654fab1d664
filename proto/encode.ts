/**
 * Encoding of Loki push requests (the agent, the bench's batch generator, tests). Sizes are
 * computed first so the whole request is written into one exactly-sized Buffer.
 */
import type { MetadataPairs } from './batch.js';
import { snappyCompress } from './snappy.js';
import { fieldSize, int64Size, writeInt64, writeVarint } from './wire-write.js';

export interface PushEntryInput {
  /** Whole seconds since the epoch; may be negative. */
  seconds: number;
  /** 0 .. 999_999_999. */
  nanos: number;
  line: string | Uint8Array;
  metadata?: MetadataPairs;
}

export interface PushStreamInput {
  labels: string;
  entries: ReadonlyArray<PushEntryInput>;
}

function byteLength(value: string | Uint8Array): number {
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
}

function timestampSize(entry: PushEntryInput): number {
  return (entry.seconds !== 0 ? 1 + int64Size(entry.seconds) : 0) + (entry.nanos !== 0 ? 1 + int64Size(entry.nanos) : 0);
}

function pairSize(name: string, value: string): number {
  return fieldSize(Buffer.byteLength(name, 'utf8')) + fieldSize(Buffer.byteLength(value, 'utf8'));
}

function entrySize(entry: PushEntryInput, lineLength: number): number {
  let size = fieldSize(timestampSize(entry));
  if (lineLength > 0) size += fieldSize(lineLength);
  if (entry.metadata !== undefined) {
    for (const [name, value] of entry.metadata) size += fieldSize(pairSize(name, value));
  }
  return size;
}

class PushWriter {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  varint(value: number): void {
    this.pos = writeVarint(this.buf, this.pos, value);
  }

  int64(value: number): void {
    this.pos = writeInt64(this.buf, this.pos, value);
  }

  bytesField(tag: number, value: string | Uint8Array, length: number): void {
    this.buf[this.pos++] = tag;
    this.varint(length);
    if (typeof value === 'string') {
      this.buf.write(value, this.pos, length, 'utf8');
    } else {
      this.buf.set(value, this.pos);
    }
    this.pos += length;
  }
}

export function encodePushRequest(streams: ReadonlyArray<PushStreamInput>): Buffer {
  // First pass: every line's byte length and every entry's and stream's size, kept for the second.
  let entryTotal = 0;
  for (const stream of streams) entryTotal += stream.entries.length;
  const lineLengths = new Uint32Array(entryTotal);
  const entrySizes = new Uint32Array(entryTotal);
  const streamSizes = new Uint32Array(streams.length);
  const labelLengths = new Uint32Array(streams.length);
  let total = 0;
  let entryIndex = 0;
  for (let streamIndex = 0; streamIndex < streams.length; streamIndex++) {
    const stream = streams[streamIndex];
    labelLengths[streamIndex] = Buffer.byteLength(stream.labels, 'utf8');
    let streamSize = fieldSize(labelLengths[streamIndex]);
    for (const entry of stream.entries) {
      if (!Number.isSafeInteger(entry.seconds) || !Number.isInteger(entry.nanos)) {
        throw new RangeError(`timestamp must be whole seconds and nanoseconds, got ${entry.seconds}s ${entry.nanos}ns`);
      }
      const lineLength = byteLength(entry.line);
      const size = entrySize(entry, lineLength);
      lineLengths[entryIndex] = lineLength;
      entrySizes[entryIndex++] = size;
      streamSize += fieldSize(size);
    }
    streamSizes[streamIndex] = streamSize;
    total += fieldSize(streamSize);
  }

  const writer = new PushWriter(Buffer.allocUnsafe(total));
  const buf = writer.buf;
  entryIndex = 0;
  for (let streamIndex = 0; streamIndex < streams.length; streamIndex++) {
    const stream = streams[streamIndex];
    buf[writer.pos++] = (1 << 3) | 2;
    writer.varint(streamSizes[streamIndex]);
    writer.bytesField((1 << 3) | 2, stream.labels, labelLengths[streamIndex]);
    for (const entry of stream.entries) {
      buf[writer.pos++] = (2 << 3) | 2;
      writer.varint(entrySizes[entryIndex]);
      buf[writer.pos++] = (1 << 3) | 2;
      writer.varint(timestampSize(entry));
      if (entry.seconds !== 0) {
        buf[writer.pos++] = (1 << 3) | 0;
        writer.int64(entry.seconds);
      }
      if (entry.nanos !== 0) {
        buf[writer.pos++] = (2 << 3) | 0;
        writer.int64(entry.nanos);
      }
      const lineLength = lineLengths[entryIndex++];
      if (lineLength > 0) writer.bytesField((2 << 3) | 2, entry.line, lineLength);
      if (entry.metadata !== undefined) {
        for (const [name, value] of entry.metadata) {
          const nameLength = Buffer.byteLength(name, 'utf8');
          const valueLength = Buffer.byteLength(value, 'utf8');
          buf[writer.pos++] = (3 << 3) | 2;
          writer.varint(fieldSize(nameLength) + fieldSize(valueLength));
          writer.bytesField((1 << 3) | 2, name, nameLength);
          writer.bytesField((2 << 3) | 2, value, valueLength);
        }
      }
    }
  }
  return buf;
}

/** The request as Promtail sends it: snappy block format, not framed. */
export function encodeSnappyPushRequest(streams: ReadonlyArray<PushStreamInput>): Buffer {
  return snappyCompress(encodePushRequest(streams));
}
