/**
 * Writes a push request one entry at a time, straight into protobuf bytes: the agent's batches.
 * An entry is encoded when it is added, so nothing of it stays on the JS heap until the send
 * (a 1 MiB batch held as objects was thousands of strings and objects surviving into the old
 * generation), and the send only groups the encoded entries by stream and copies them.
 *
 * Layout (logproto): PushRequest { repeated StreamAdapter streams = 1 }, StreamAdapter { string
 * labels = 1; repeated EntryAdapter entries = 2 }, EntryAdapter { Timestamp timestamp = 1;
 * string line = 2; repeated LabelPairAdapter structuredMetadata = 3 }, Timestamp { int64
 * seconds = 1; int32 nanos = 2 }, LabelPairAdapter { string name = 1; string value = 2 }.
 */
import type { MetadataPairs } from './batch.js';
import { fieldSize, int64Size, writeInt64, writeVarint } from './wire-write.js';

export class PushRequestWriter {
  private data: Buffer;
  private used = 0;
  /** Per entry: where its EntryAdapter field starts in `data`, and the next entry of its stream. */
  private entryStart: Uint32Array;
  private nextInStream: Uint32Array;
  private count = 0;
  private readonly streamIndex = new Map<string, number>();
  private readonly streamLabels: string[] = [];
  /** Per stream: encoded entry bytes, first and last entry (for the per-stream chains). */
  private readonly streamBytes: number[] = [];
  private readonly streamFirst: number[] = [];
  private readonly streamLast: number[] = [];

  constructor(initialBytes = 64 * 1024) {
    this.data = Buffer.allocUnsafe(initialBytes);
    this.entryStart = new Uint32Array(256);
    this.nextInStream = new Uint32Array(256);
  }

  get entryCount(): number {
    return this.count;
  }

  get streamCount(): number {
    return this.streamLabels.length;
  }

  /**
   * Adds an entry to the stream `labels`. `lineBytes` is the UTF-8 length of `line` (callers
   * measure it anyway for batch sizes).
   */
  add(labels: string, seconds: number, nanos: number, line: string, lineBytes: number, metadata?: MetadataPairs): void {
    let stream = this.streamIndex.get(labels);
    if (stream === undefined) {
      stream = this.streamLabels.length;
      this.streamIndex.set(labels, stream);
      this.streamLabels.push(labels);
      this.streamBytes.push(0);
      this.streamFirst.push(this.count);
      this.streamLast.push(-1);
    }
    const timestampSize = (seconds !== 0 ? 1 + int64Size(seconds) : 0) + (nanos !== 0 ? 1 + int64Size(nanos) : 0);
    let entrySize = fieldSize(timestampSize) + (lineBytes > 0 ? fieldSize(lineBytes) : 0);
    if (metadata !== undefined) {
      for (const [name, value] of metadata) entrySize += fieldSize(fieldSize(Buffer.byteLength(name, 'utf8')) + fieldSize(Buffer.byteLength(value, 'utf8')));
    }
    const fieldBytes = fieldSize(entrySize);
    this.reserve(fieldBytes);
    const index = this.count++;
    if (index >= this.entryStart.length) this.growEntries();
    this.entryStart[index] = this.used;
    const last = this.streamLast[stream]!;
    if (last >= 0) this.nextInStream[last] = index;
    this.streamLast[stream] = index;
    this.streamBytes[stream] += fieldBytes;

    const buf = this.data;
    let pos = this.used;
    buf[pos++] = (2 << 3) | 2;
    pos = writeVarint(buf, pos, entrySize);
    buf[pos++] = (1 << 3) | 2;
    pos = writeVarint(buf, pos, timestampSize);
    if (seconds !== 0) {
      buf[pos++] = (1 << 3) | 0;
      pos = writeInt64(buf, pos, seconds);
    }
    if (nanos !== 0) {
      buf[pos++] = (2 << 3) | 0;
      pos = writeInt64(buf, pos, nanos);
    }
    if (lineBytes > 0) {
      buf[pos++] = (2 << 3) | 2;
      pos = writeVarint(buf, pos, lineBytes);
      pos += buf.write(line, pos, lineBytes, 'utf8');
    }
    if (metadata !== undefined) {
      for (const [name, value] of metadata) {
        const nameBytes = Buffer.byteLength(name, 'utf8');
        const valueBytes = Buffer.byteLength(value, 'utf8');
        buf[pos++] = (3 << 3) | 2;
        pos = writeVarint(buf, pos, fieldSize(nameBytes) + fieldSize(valueBytes));
        buf[pos++] = (1 << 3) | 2;
        pos = writeVarint(buf, pos, nameBytes);
        pos += buf.write(name, pos, nameBytes, 'utf8');
        buf[pos++] = (2 << 3) | 2;
        pos = writeVarint(buf, pos, valueBytes);
        pos += buf.write(value, pos, valueBytes, 'utf8');
      }
    }
    this.used = pos;
  }

  /** The PushRequest bytes, streams in order of first appearance; `mapLabels` rewrites label strings. */
  finish(mapLabels: (labels: string) => string = (labels) => labels): Buffer {
    const streams = this.streamLabels.length;
    const labels: string[] = new Array<string>(streams);
    const labelBytes = new Uint32Array(streams);
    const streamSize = new Uint32Array(streams);
    let total = 0;
    for (let s = 0; s < streams; s++) {
      labels[s] = mapLabels(this.streamLabels[s]!);
      labelBytes[s] = Buffer.byteLength(labels[s]!, 'utf8');
      streamSize[s] = fieldSize(labelBytes[s]!) + this.streamBytes[s]!;
      total += fieldSize(streamSize[s]!);
    }
    const out = Buffer.allocUnsafe(total);
    let pos = 0;
    for (let s = 0; s < streams; s++) {
      out[pos++] = (1 << 3) | 2;
      pos = writeVarint(out, pos, streamSize[s]!);
      out[pos++] = (1 << 3) | 2;
      pos = writeVarint(out, pos, labelBytes[s]!);
      pos += out.write(labels[s]!, pos, labelBytes[s]!, 'utf8');
      const last = this.streamLast[s]!;
      for (let e = this.streamFirst[s]!; ; e = this.nextInStream[e]!) {
        const start = this.entryStart[e]!;
        const end = e + 1 < this.count ? this.entryStart[e + 1]! : this.used;
        pos += this.data.copy(out, pos, start, end);
        if (e === last) break;
      }
    }
    return out;
  }

  private reserve(bytes: number): void {
    if (this.used + bytes <= this.data.length) return;
    let size = Math.max(this.data.length * 2, 1024);
    while (size < this.used + bytes) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.data.copy(grown, 0, 0, this.used);
    this.data = grown;
  }

  private growEntries(): void {
    const starts = new Uint32Array(this.entryStart.length * 2);
    starts.set(this.entryStart);
    this.entryStart = starts;
    const next = new Uint32Array(this.nextInStream.length * 2);
    next.set(this.nextInStream);
    this.nextInStream = next;
  }
}
