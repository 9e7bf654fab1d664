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
import { SnappyBlockWriter } from './snappy.js';
import { fieldSize, int64Size, varintSize, writeInt64, writeVarint } from './wire-write.js';

interface RequestLayout {
  /** Per stream: its labels (as sent), their UTF-8 length, and the StreamAdapter's size. */
  labels: string[];
  labelBytes: Uint32Array;
  streamSize: Uint32Array;
  /** Bytes of the whole request. */
  total: number;
}

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
  /** A stream's header (field tags, sizes, labels), written before it is handed on. */
  private header = Buffer.allocUnsafe(256);

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
    let metadataBytes = 0;
    if (metadata !== undefined) {
      for (const [name, value] of metadata) metadataBytes += fieldSize(fieldSize(Buffer.byteLength(name, 'utf8')) + fieldSize(Buffer.byteLength(value, 'utf8')));
    }
    let pos = this.beginEntry(labels, seconds, nanos, lineBytes, metadataBytes);
    const buf = this.data;
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

  /**
   * As `add` without metadata, for a line that is UTF-8 bytes already: `source[start, end)` is
   * copied as it is, sparing the caller a string it would only encode back (the agent's hot path).
   */
  addBytes(labels: string, seconds: number, nanos: number, source: Buffer, start: number, end: number): void {
    const lineBytes = end - start;
    let pos = this.beginEntry(labels, seconds, nanos, lineBytes, 0);
    if (lineBytes > 0) {
      const buf = this.data;
      buf[pos++] = (2 << 3) | 2;
      pos = writeVarint(buf, pos, lineBytes);
      pos += source.copy(buf, pos, start, end);
    }
    this.used = pos;
  }

  /**
   * Forgets every entry and stream but keeps the buffers, so a writer can serve batch after
   * batch without allocating (a batch's megabyte, allocated anew each time, lived until the next
   * full collection and inflated the RSS).
   */
  reset(): void {
    this.used = 0;
    this.count = 0;
    this.streamIndex.clear();
    this.streamLabels.length = 0;
    this.streamBytes.length = 0;
    this.streamFirst.length = 0;
    this.streamLast.length = 0;
  }

  /**
   * Registers an entry of `lineBytes` and `metadataBytes` (its encoded metadata fields) in its
   * stream, reserves room and writes its EntryAdapter header and timestamp; returns where the
   * line field goes.
   */
  private beginEntry(labels: string, seconds: number, nanos: number, lineBytes: number, metadataBytes: number): number {
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
    const entrySize = fieldSize(timestampSize) + (lineBytes > 0 ? fieldSize(lineBytes) : 0) + metadataBytes;
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
    return pos;
  }

  /** The PushRequest bytes, streams in order of first appearance; `mapLabels` rewrites label strings. */
  finish(mapLabels: (labels: string) => string = (labels) => labels): Buffer {
    const layout = this.layout(mapLabels);
    const out = Buffer.allocUnsafe(layout.total);
    let pos = 0;
    this.forEachPiece(layout, (source, start, end) => {
      pos += source.copy(out, pos, start, end);
    });
    return out;
  }

  /** Bytes of the PushRequest `finish` would return. */
  requestLength(mapLabels: (labels: string) => string = (labels) => labels): number {
    return this.layout(mapLabels).total;
  }

  /**
   * The PushRequest compressed into a snappy block, the bytes `snappyCompress(finish(mapLabels))`
   * returns, without assembling the request first; into `into` when it has room for
   * `snappyMaxCompressedLength(requestLength(mapLabels))` bytes.
   */
  finishSnappy(mapLabels: (labels: string) => string = (labels) => labels, into?: Buffer): Buffer {
    const layout = this.layout(mapLabels);
    const block = new SnappyBlockWriter(layout.total, into);
    this.forEachPiece(layout, (source, start, end) => block.write(source, start, end));
    return block.finish();
  }

  private layout(mapLabels: (labels: string) => string): RequestLayout {
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
    return { labels, labelBytes, streamSize, total };
  }

  /** Hands over the request's bytes in order: each stream's header, then its entries (adjacent ones as one piece). */
  private forEachPiece(layout: RequestLayout, piece: (source: Buffer, start: number, end: number) => void): void {
    for (let s = 0; s < layout.labels.length; s++) {
      const headerBytes = 2 + varintSize(layout.streamSize[s]!) + varintSize(layout.labelBytes[s]!) + layout.labelBytes[s]!;
      if (this.header.length < headerBytes) this.header = Buffer.allocUnsafe(Math.max(headerBytes, 2 * this.header.length));
      const header = this.header;
      let pos = 0;
      header[pos++] = (1 << 3) | 2;
      pos = writeVarint(header, pos, layout.streamSize[s]!);
      header[pos++] = (1 << 3) | 2;
      pos = writeVarint(header, pos, layout.labelBytes[s]!);
      pos += header.write(layout.labels[s]!, pos, layout.labelBytes[s]!, 'utf8');
      piece(header, 0, pos);
      const last = this.streamLast[s]!;
      let runStart = -1;
      let runEnd = -1;
      for (let e = this.streamFirst[s]!; ; e = this.nextInStream[e]!) {
        const start = this.entryStart[e]!;
        const end = e + 1 < this.count ? this.entryStart[e + 1]! : this.used;
        if (start === runEnd) {
          runEnd = end;
        } else {
          if (runStart >= 0) piece(this.data, runStart, runEnd);
          runStart = start;
          runEnd = end;
        }
        if (e === last) break;
      }
      piece(this.data, runStart, runEnd);
    }
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
