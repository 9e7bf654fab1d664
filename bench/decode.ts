/**
 * Push decoding benchmark: which protobuf decoder is fastest on realistic Kubernetes batches,
 * and what is the decode-only ceiling (snappy + protobuf) of one core.
 * Run: npx tsc -p tsconfig.json && node dist/bench/decode.js
 *
 * The losing decoder variants live here only, to keep the comparison reproducible.
 */
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import protobuf from 'protobufjs';
import { uncompress as snappyjsUncompress } from 'snappyjs';
import {
  PushBatchBuilder, PushDecodeError, decodePushRequest, entryLine, entryMetadata, encodePushRequest, encodeSnappyPushRequest, snappyUncompress,
  type PushBatch, type PushStream,
} from '../proto/index.js';
import { BatchColumns } from '../proto/batch.js';
import { decodePushRequestInto } from '../proto/decode.js';
import { WireReader } from '../proto/wire.js';
import { generateKubernetesBatch } from './generate.js';

const BATCH_COUNT = 8;
const WARMUP_ROUNDS = 20;
const MEASURED_ROUNDS = 60;

// ---- Variant (a): protobufjs's Reader driven by hand, straight into the columns. ----

function decodeWithProtobufjsReader(buf: Buffer): PushBatch {
  const reader = protobuf.Reader.create(buf);
  const columns = new BatchColumns(Math.ceil(buf.length / 128), 16);
  const streams: PushStream[] = [];
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === 0x0a) {
      const end = nestedEnd(reader);
      const stream: PushStream = { labels: '', firstEntry: columns.entryCount, entryCount: 0 };
      while (reader.pos < end) {
        const streamTag = reader.uint32();
        if (streamTag === 0x12) {
          readerEntry(reader, nestedEnd(reader), columns);
          stream.entryCount++;
        } else if (streamTag === 0x0a) {
          stream.labels = reader.string();
        } else {
          readerSkip(reader, streamTag, 3);
        }
      }
      streams.push(stream);
    } else {
      readerSkip(reader, tag, 1);
    }
  }
  return columns.toBatch(buf, streams);
}

/** protobufjs returns int64 as a Long (long.js is installed); its halves are 32-bit signed ints. */
function longToNumber(value: number | protobuf.Long): number {
  return typeof value === 'number' ? value : value.high * 4294967296 + (value.low >>> 0);
}

function nestedEnd(reader: protobuf.Reader): number {
  const end = reader.uint32() + reader.pos;
  if (end > reader.len) throw new PushDecodeError(`malformed protobuf: length runs past the end before offset ${reader.pos}`);
  return end;
}

function readerSkip(reader: protobuf.Reader, tag: number, knownFields: number): void {
  if (tag >>> 3 <= knownFields && (tag & 7) !== 2) throw new PushDecodeError(`malformed protobuf: wrong wire type for field ${tag >>> 3}`);
  reader.skipType(tag & 7);
}

function readerEntry(reader: protobuf.Reader, end: number, columns: BatchColumns): void {
  const entry = columns.addEntry();
  columns.metadataFirst[entry] = columns.metadataPairCount;
  let metadataCount = 0;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 0x12) {
      const length = reader.uint32();
      columns.lineStart[entry] = reader.pos;
      reader.skip(length);
      columns.lineEnd[entry] = reader.pos;
    } else if (tag === 0x0a) {
      const timestampEnd = nestedEnd(reader);
      while (reader.pos < timestampEnd) {
        const timestampTag = reader.uint32();
        if (timestampTag === 0x08) {
          const seconds = reader.int64() as number | protobuf.Long;
          columns.seconds[entry] = longToNumber(seconds);
        } else if (timestampTag === 0x10) {
          columns.nanos[entry] = reader.int32();
        } else {
          reader.skipType(timestampTag & 7);
        }
      }
    } else if (tag === 0x1a) {
      const pairEnd = nestedEnd(reader);
      const at = 4 * columns.addPair();
      while (reader.pos < pairEnd) {
        const pairTag = reader.uint32();
        if (pairTag === 0x0a || pairTag === 0x12) {
          const length = reader.uint32();
          const slot = pairTag === 0x0a ? at : at + 2;
          columns.metadataOffsets[slot] = reader.pos;
          reader.skip(length);
          columns.metadataOffsets[slot + 1] = reader.pos;
        } else {
          reader.skipType(pairTag & 7);
        }
      }
      metadataCount++;
    } else {
      readerSkip(reader, tag, 1);
    }
  }
  columns.metadataCount[entry] = metadataCount;
}

// ---- Variant (b): protobufjs generated code (runtime codegen from push.proto) → objects → batch. ----

interface GeneratedPushRequest {
  streams: Array<{
    labels: string;
    entries: Array<{
      timestamp?: { seconds: number | protobuf.Long; nanos: number } | null;
      line: string;
      structuredMetadata: Array<{ name: string; value: string }>;
    }>;
  }>;
}

const pushRequestType = protobuf
  .loadSync(fileURLToPath(new URL('../../proto/push.proto', import.meta.url)))
  .lookupType('logproto.PushRequest');

function decodeWithGeneratedCode(buf: Buffer): PushBatch {
  const request = pushRequestType.decode(buf) as unknown as GeneratedPushRequest;
  const builder = new PushBatchBuilder();
  for (const stream of request.streams) {
    builder.startStream(stream.labels);
    for (const entry of stream.entries) {
      const seconds = entry.timestamp?.seconds ?? 0;
      builder.addEntry(
        longToNumber(seconds),
        entry.timestamp?.nanos ?? 0,
        entry.line,
        entry.structuredMetadata.map((pair) => [pair.name, pair.value] as const),
      );
    }
  }
  return builder.finish();
}

// ---- Column sizing for the kept decoder: exact (counting pass first) vs. growing from a small start. ----

/** First pass of a two-pass decode: counts entries without looking inside them. */
function countEntries(buf: Buffer): number {
  const reader = new WireReader(buf);
  let entries = 0;
  while (reader.pos < buf.length) {
    const tag = reader.tag(buf.length);
    if (tag !== 0x0a) {
      reader.skip(tag, buf.length);
      continue;
    }
    const length = reader.length(buf.length);
    const end = reader.pos + length;
    while (reader.pos < end) {
      const streamTag = reader.tag(end);
      if (streamTag === 0x12) entries++;
      reader.skip(streamTag, end);
    }
  }
  return entries;
}

function decodeTwoPass(buf: Buffer): PushBatch {
  return decodePushRequestInto(buf, new BatchColumns(countEntries(buf), 16));
}

function decodeGrowingFromSmall(buf: Buffer): PushBatch {
  return decodePushRequestInto(buf, new BatchColumns(16, 16));
}

// ---- Measurement ----

function batchContents(batch: PushBatch): unknown[] {
  return batch.streams.map((stream) => {
    const entries: unknown[] = [];
    for (let entry = stream.firstEntry; entry < stream.firstEntry + stream.entryCount; entry++) {
      entries.push([batch.seconds[entry], batch.nanos[entry], entryLine(batch, entry), entryMetadata(batch, entry)]);
    }
    return [stream.labels, entries];
  });
}

interface Measurement {
  name: string;
  secondsPerRound: number;
}

interface Contender {
  name: string;
  inputs: readonly Buffer[];
  run: (input: Buffer) => number;
}

/**
 * Median wall time of one pass over all batches, after warm-up. Rounds interleave the
 * contenders so background load (this is a shared 2-core machine) hits them all alike.
 */
function measureAll(contenders: readonly Contender[]): Measurement[] {
  const times = contenders.map((): number[] => []);
  let sink = 0;
  for (let round = 0; round < WARMUP_ROUNDS + MEASURED_ROUNDS; round++) {
    contenders.forEach((contender, index) => {
      const start = process.hrtime.bigint();
      for (const input of contender.inputs) sink += contender.run(input);
      if (round >= WARMUP_ROUNDS) times[index].push(Number(process.hrtime.bigint() - start) / 1e9);
    });
  }
  if (sink === -1) console.log('unreachable');
  return contenders.map((contender, index) => {
    const sorted = times[index].sort((left, right) => left - right);
    return { name: contender.name, secondsPerRound: sorted[sorted.length >> 1] };
  });
}

function main(): void {
  const startSeconds = 1_764_230_000;
  const batches = Array.from({ length: BATCH_COUNT }, (_, index) =>
    generateKubernetesBatch({ seed: index + 1, startSeconds: startSeconds + index * 10 }));
  const raw = batches.map((streams) => encodePushRequest(streams));
  const compressed = batches.map((streams) => encodeSnappyPushRequest(streams));
  const lines = batches.reduce((sum, streams) => sum + streams.reduce((count, stream) => count + stream.entries.length, 0), 0);
  const rawBytes = raw.reduce((sum, buf) => sum + buf.length, 0);
  const compressedBytes = compressed.reduce((sum, buf) => sum + buf.length, 0);

  // All variants must agree, value for value, before any of them is timed.
  for (const buf of raw) {
    const reference = JSON.stringify(batchContents(decodePushRequest(buf)));
    for (const variant of [decodeWithProtobufjsReader, decodeWithGeneratedCode, decodeTwoPass, decodeGrowingFromSmall]) {
      if (JSON.stringify(batchContents(variant(buf))) !== reference) throw new Error(`${variant.name} disagrees with decodePushRequest`);
    }
  }

  const results = measureAll([
    { name: 'snappyjs uncompress (not used: unsafe on malformed input)', inputs: compressed, run: (input) => snappyjsUncompress(input).length },
    { name: 'snappyUncompress (proto/snappy.ts, kept)', inputs: compressed, run: (input) => snappyUncompress(input).length },
    { name: '(a) protobufjs Reader → columns', inputs: raw, run: (input) => decodeWithProtobufjsReader(input).entryCount },
    { name: '(b) protobufjs generated code → objects → batch', inputs: raw, run: (input) => decodeWithGeneratedCode(input).entryCount },
    { name: '(c) own varint loop → columns, growable (kept: decodePushRequest)', inputs: raw, run: (input) => decodePushRequest(input).entryCount },
    { name: '(c) two passes: count entries, then exact-size columns', inputs: raw, run: (input) => decodeTwoPass(input).entryCount },
    { name: '(c) growable from 16 entries (no size guess)', inputs: raw, run: (input) => decodeGrowingFromSmall(input).entryCount },
    { name: 'decode-only ceiling: snappyUncompress + decodePushRequest', inputs: compressed, run: (input) => decodePushRequest(snappyUncompress(input)).entryCount },
  ]);

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`${BATCH_COUNT} batches, ${lines} lines, ${(rawBytes / BATCH_COUNT / 1048576).toFixed(2)} MiB protobuf / ` +
    `${(compressedBytes / BATCH_COUNT / 1048576).toFixed(2)} MiB snappy per batch; ${cpu}, node ${process.version}; ` +
    `median of ${MEASURED_ROUNDS} rounds after ${WARMUP_ROUNDS} warm-up rounds`);
  console.log('');
  console.log('| step | ms / batch | lines/s | MB/s (uncompressed) |');
  console.log('|---|---:|---:|---:|');
  for (const result of results) {
    const msPerBatch = (result.secondsPerRound / BATCH_COUNT) * 1000;
    const linesPerSecond = lines / result.secondsPerRound;
    const megabytesPerSecond = rawBytes / result.secondsPerRound / 1e6;
    console.log(`| ${result.name} | ${msPerBatch.toFixed(2)} | ${Math.round(linesPerSecond).toLocaleString('en-US')} | ${megabytesPerSecond.toFixed(0)} |`);
  }
}

main();
