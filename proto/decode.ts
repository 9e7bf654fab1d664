/**
 * Decoding of Loki push requests straight into the columnar PushBatch: one pass over the
 * bytes with a hand-written varint reader, no per-entry objects or strings. Faster than
 * both protobufjs's Reader and its generated decoders on realistic batches; the comparison
 * is bench/decode.ts, the numbers bench/RESULTS.md.
 */
import { BatchColumns, type PushBatch, type PushStream } from './batch.js';
import { PushDecodeError } from './errors.js';
import { malformed, WireReader } from './wire.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES, snappyUncompress } from './snappy.js';

export { PushDecodeError };

export interface DecodeOptions {
  /** Bodies whose snappy preamble declares more than this are rejected before any allocation. */
  maxDecompressedBytes?: number;
}

// Tags are (field number << 3) | wire type; 2 = length-delimited, 0 = varint.
const PUSH_STREAMS = (1 << 3) | 2;
const PUSH_FORMAT = (2 << 3) | 2;
const STREAM_LABELS = (1 << 3) | 2;
const STREAM_ENTRIES = (2 << 3) | 2;
const STREAM_HASH = (3 << 3) | 0;
const ENTRY_TIMESTAMP = (1 << 3) | 2;
const ENTRY_LINE = (2 << 3) | 2;
const ENTRY_STRUCTURED_METADATA = (3 << 3) | 2;
const ENTRY_PARSED = (4 << 3) | 2;
const TIMESTAMP_SECONDS = (1 << 3) | 0;
const TIMESTAMP_NANOS = (2 << 3) | 0;
const PAIR_NAME = (1 << 3) | 2;
const PAIR_VALUE = (2 << 3) | 2;

/** First guess at entries per body byte; a Promtail line plus framing is rarely under 64 bytes. */
const BYTES_PER_ENTRY_GUESS = 128;

export function decodeSnappyPushRequest(body: Buffer, options: DecodeOptions = {}): PushBatch {
  return decodePushRequest(snappyUncompress(body, options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES));
}

/** Decodes an uncompressed PushRequest. The batch's `data` is `buf` itself; offsets index into it. */
export function decodePushRequest(buf: Buffer): PushBatch {
  return decodePushRequestInto(buf, new BatchColumns(Math.ceil(buf.length / BYTES_PER_ENTRY_GUESS), 16));
}

/** The decoder proper, with the caller choosing the initial column sizes (bench/decode.ts compares strategies). */
export function decodePushRequestInto(buf: Buffer, columns: BatchColumns): PushBatch {
  const reader = new WireReader(buf);
  const streams: PushStream[] = [];
  const end = buf.length;
  while (reader.pos < end) {
    const tag = reader.tag(end);
    if (tag === PUSH_STREAMS) {
      const length = reader.length(end);
      streams.push(decodeStream(reader, reader.pos + length, columns, buf));
    } else if (tag === PUSH_FORMAT) {
      reader.skipLengthDelimited(end);
    } else {
      skipUnknown(reader, tag, end, 2, 'PushRequest');
    }
  }
  return columns.toBatch(buf, streams);
}

function decodeStream(reader: WireReader, end: number, columns: BatchColumns, buf: Buffer): PushStream {
  const stream: PushStream = { labels: '', firstEntry: columns.entryCount, entryCount: 0 };
  while (reader.pos < end) {
    const tag = reader.tag(end);
    if (tag === STREAM_ENTRIES) {
      const length = reader.length(end);
      decodeEntry(reader, reader.pos + length, columns);
      stream.entryCount++;
    } else if (tag === STREAM_LABELS) {
      const length = reader.length(end);
      stream.labels = buf.toString('utf8', reader.pos, reader.pos + length);
      reader.pos += length;
    } else if (tag === STREAM_HASH) {
      reader.uint32(end);
    } else {
      skipUnknown(reader, tag, end, 3, 'StreamAdapter');
    }
  }
  return stream;
}

function decodeEntry(reader: WireReader, end: number, columns: BatchColumns): void {
  const entry = columns.addEntry();
  columns.metadataFirst[entry] = columns.metadataPairCount;
  let metadataCount = 0;
  while (reader.pos < end) {
    const tag = reader.tag(end);
    if (tag === ENTRY_LINE) {
      const length = reader.length(end);
      columns.lineStart[entry] = reader.pos;
      reader.pos += length;
      columns.lineEnd[entry] = reader.pos;
    } else if (tag === ENTRY_TIMESTAMP) {
      const length = reader.length(end);
      decodeTimestamp(reader, reader.pos + length, columns, entry);
    } else if (tag === ENTRY_STRUCTURED_METADATA) {
      const length = reader.length(end);
      decodePair(reader, reader.pos + length, columns);
      metadataCount++;
    } else if (tag === ENTRY_PARSED) {
      reader.skipLengthDelimited(end);
    } else {
      skipUnknown(reader, tag, end, 4, 'EntryAdapter');
    }
  }
  columns.metadataCount[entry] = metadataCount;
}

// Repeated occurrences merge field by field (protobuf semantics), so only fields present overwrite.
function decodeTimestamp(reader: WireReader, end: number, columns: BatchColumns, entry: number): void {
  while (reader.pos < end) {
    const tag = reader.tag(end);
    if (tag === TIMESTAMP_SECONDS) {
      columns.seconds[entry] = reader.int64(end);
    } else if (tag === TIMESTAMP_NANOS) {
      columns.nanos[entry] = reader.uint32(end) | 0;
    } else {
      skipUnknown(reader, tag, end, 2, 'Timestamp');
    }
  }
}

function decodePair(reader: WireReader, end: number, columns: BatchColumns): void {
  const at = 4 * columns.addPair();
  const offsets = columns.metadataOffsets;
  offsets[at] = offsets[at + 1] = offsets[at + 2] = offsets[at + 3] = reader.pos;
  while (reader.pos < end) {
    const tag = reader.tag(end);
    if (tag === PAIR_NAME || tag === PAIR_VALUE) {
      const length = reader.length(end);
      const slot = tag === PAIR_NAME ? at : at + 2;
      offsets[slot] = reader.pos;
      reader.pos += length;
      offsets[slot + 1] = reader.pos;
    } else {
      skipUnknown(reader, tag, end, 2, 'LabelPairAdapter');
    }
  }
}

/**
 * Unknown fields are skipped for forward compatibility; a known field number with a wire
 * type other than the one handled by the caller is an error, as in Loki's gogo decoder.
 */
function skipUnknown(reader: WireReader, tag: number, end: number, knownFields: number, message: string): void {
  if (tag >>> 3 <= knownFields) throw wrongWireType(tag, message, reader.pos);
  reader.skip(tag, end);
}

function wrongWireType(tag: number, message: string, before: number): PushDecodeError {
  return malformed(`wrong wire type ${tag & 7} for ${message} field ${tag >>> 3} before offset ${before}`);
}
