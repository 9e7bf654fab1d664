/**
 * The decoded form of a push request. Columnar on purpose: a 1 MiB Promtail batch holds
 * thousands of entries, and one JS object plus one string per entry is most of the cost of
 * a naive decoder. Lines and metadata stay bytes in `data`; whoever needs a string makes it.
 */

export interface PushStream {
  /** The Prometheus label string exactly as received, e.g. `{a="b", c="d"}`. */
  labels: string;
  firstEntry: number;
  entryCount: number;
}

export interface PushBatch {
  /** All offsets below index into this buffer. */
  data: Buffer;
  /** In request order; the entries of stream s are firstEntry .. firstEntry + entryCount - 1. */
  streams: PushStream[];
  entryCount: number;
  /** Per-entry columns; they may be longer than entryCount. Seconds may be negative. */
  seconds: Float64Array;
  nanos: Int32Array;
  lineStart: Uint32Array;
  lineEnd: Uint32Array;
  /** Per entry: index of its first structured-metadata pair and the number of pairs. */
  metadataFirst: Uint32Array;
  metadataCount: Uint32Array;
  metadataPairCount: number;
  /** Four per pair: nameStart, nameEnd, valueStart, valueEnd. */
  metadataOffsets: Uint32Array;
}

export type MetadataPairs = ReadonlyArray<readonly [string, string]>;

/**
 * Growable per-entry and per-pair columns, shared by the protobuf decoder and the builder so
 * both grow the same way. Doubling keeps the amortised cost per entry constant.
 */
export class BatchColumns {
  entryCount = 0;
  seconds: Float64Array;
  nanos: Int32Array;
  lineStart: Uint32Array;
  lineEnd: Uint32Array;
  metadataFirst: Uint32Array;
  metadataCount: Uint32Array;
  metadataPairCount = 0;
  metadataOffsets: Uint32Array;

  constructor(entryCapacity: number, pairCapacity: number) {
    const entries = Math.max(16, entryCapacity);
    this.seconds = new Float64Array(entries);
    this.nanos = new Int32Array(entries);
    this.lineStart = new Uint32Array(entries);
    this.lineEnd = new Uint32Array(entries);
    this.metadataFirst = new Uint32Array(entries);
    this.metadataCount = new Uint32Array(entries);
    this.metadataOffsets = new Uint32Array(4 * Math.max(4, pairCapacity));
  }

  /** Index for a new entry, all of whose columns are zero. */
  addEntry(): number {
    const index = this.entryCount;
    if (index === this.seconds.length) this.growEntries();
    this.entryCount = index + 1;
    return index;
  }

  /** Index for a new metadata pair; its four offsets are zero. */
  addPair(): number {
    const index = this.metadataPairCount;
    if (4 * index === this.metadataOffsets.length) {
      this.metadataOffsets = grown(this.metadataOffsets, 2 * this.metadataOffsets.length);
    }
    this.metadataPairCount = index + 1;
    return index;
  }

  toBatch(data: Buffer, streams: PushStream[]): PushBatch {
    return {
      data,
      streams,
      entryCount: this.entryCount,
      seconds: this.seconds,
      nanos: this.nanos,
      lineStart: this.lineStart,
      lineEnd: this.lineEnd,
      metadataFirst: this.metadataFirst,
      metadataCount: this.metadataCount,
      metadataPairCount: this.metadataPairCount,
      metadataOffsets: this.metadataOffsets,
    };
  }

  private growEntries(): void {
    const size = 2 * this.seconds.length;
    this.seconds = grown(this.seconds, size);
    this.nanos = grown(this.nanos, size);
    this.lineStart = grown(this.lineStart, size);
    this.lineEnd = grown(this.lineEnd, size);
    this.metadataFirst = grown(this.metadataFirst, size);
    this.metadataCount = grown(this.metadataCount, size);
  }
}

type Column = Float64Array | Int32Array | Uint32Array;

function grown<T extends Column>(column: T, size: number): T {
  const bigger = new (column.constructor as new (length: number) => T)(size);
  bigger.set(column);
  return bigger;
}

/**
 * Builds a batch from JS values: the server's JSON push path and the tests. Not the hot path,
 * but still columnar so everything downstream sees one shape. Reusable after finish().
 */
export class PushBatchBuilder {
  private columns = new BatchColumns(64, 16);
  private streams: PushStream[] = [];
  private data = Buffer.allocUnsafe(4096);
  private dataLength = 0;
  private current: PushStream | undefined;

  startStream(labels: string): void {
    this.current = { labels, firstEntry: this.columns.entryCount, entryCount: 0 };
    this.streams.push(this.current);
  }

  addEntry(seconds: number, nanos: number, line: string | Uint8Array, metadata?: MetadataPairs): void {
    const stream = this.current;
    if (stream === undefined) throw new Error('PushBatchBuilder.addEntry called before startStream');
    const columns = this.columns;
    const entry = columns.addEntry();
    columns.seconds[entry] = seconds;
    columns.nanos[entry] = nanos;
    columns.lineStart[entry] = this.dataLength;
    this.append(line);
    columns.lineEnd[entry] = this.dataLength;
    columns.metadataFirst[entry] = columns.metadataPairCount;
    if (metadata !== undefined) {
      for (const [name, value] of metadata) {
        const pair = 4 * columns.addPair();
        columns.metadataOffsets[pair] = this.dataLength;
        this.append(name);
        columns.metadataOffsets[pair + 1] = this.dataLength;
        columns.metadataOffsets[pair + 2] = this.dataLength;
        this.append(value);
        columns.metadataOffsets[pair + 3] = this.dataLength;
      }
      columns.metadataCount[entry] = metadata.length;
    }
    stream.entryCount++;
  }

  finish(): PushBatch {
    const batch = this.columns.toBatch(this.data.subarray(0, this.dataLength), this.streams);
    this.columns = new BatchColumns(64, 16);
    this.streams = [];
    this.data = Buffer.allocUnsafe(4096);
    this.dataLength = 0;
    this.current = undefined;
    return batch;
  }

  private append(bytes: string | Uint8Array): void {
    // A UTF-16 code unit never takes more than 3 UTF-8 bytes, so this bound is safe for strings.
    const maxLength = typeof bytes === 'string' ? 3 * bytes.length : bytes.length;
    if (this.dataLength + maxLength > this.data.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.data.length, this.dataLength + maxLength));
      this.data.copy(bigger, 0, 0, this.dataLength);
      this.data = bigger;
    }
    if (typeof bytes === 'string') {
      this.dataLength += this.data.write(bytes, this.dataLength, 'utf8');
    } else {
      this.data.set(bytes, this.dataLength);
      this.dataLength += bytes.length;
    }
  }
}

/** The line of an entry as a string (decodes UTF-8; invalid sequences become U+FFFD). */
export function entryLine(batch: PushBatch, entry: number): string {
  return batch.data.toString('utf8', batch.lineStart[entry], batch.lineEnd[entry]);
}

/** The line of an entry as bytes, a view into batch.data (no copy). */
export function entryLineBytes(batch: PushBatch, entry: number): Buffer {
  return batch.data.subarray(batch.lineStart[entry], batch.lineEnd[entry]);
}

/** The structured metadata of an entry as [name, value] pairs, in wire order. */
export function entryMetadata(batch: PushBatch, entry: number): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const first = batch.metadataFirst[entry];
  const end = first + batch.metadataCount[entry];
  const offsets = batch.metadataOffsets;
  for (let pair = first; pair < end; pair++) {
    const at = 4 * pair;
    pairs.push([
      batch.data.toString('utf8', offsets[at], offsets[at + 1]),
      batch.data.toString('utf8', offsets[at + 2], offsets[at + 3]),
    ]);
  }
  return pairs;
}
