/**
 * The WAL record of one push: the body as the client sent it (after Content-Encoding,
 * so a protobuf push stays snappy-compressed and costs no re-encoding) plus the indexes
 * of the entries that validation rejected, so replay stores exactly what was accepted.
 *
 *   version:u8  format:u8  tenantLen:u16le  tenant  rejected:u32le  index:u32le*  body
 */
import { PushBatchBuilder, decodeSnappyPushRequest, quoteGoString, type PushBatch } from '../../proto/index.js';

export type PushFormat = 'protobuf' | 'json';

const VERSION = 1;
const FORMAT_CODES: Record<PushFormat, number> = { protobuf: 1, json: 2 };

export interface PushRecord {
  tenant: string;
  format: PushFormat;
  rejected: Uint32Array;
  body: Buffer;
}

export function encodePushRecordHeader(tenant: string, format: PushFormat, rejected: readonly number[]): Buffer {
  const tenantBytes = Buffer.from(tenant, 'utf8');
  const header = Buffer.allocUnsafe(8 + tenantBytes.length + 4 * rejected.length);
  header.writeUInt8(VERSION, 0);
  header.writeUInt8(FORMAT_CODES[format], 1);
  header.writeUInt16LE(tenantBytes.length, 2);
  tenantBytes.copy(header, 4);
  let pos = 4 + tenantBytes.length;
  header.writeUInt32LE(rejected.length, pos);
  pos += 4;
  for (const index of rejected) {
    header.writeUInt32LE(index, pos);
    pos += 4;
  }
  return header;
}

export function decodePushRecord(payload: Buffer): PushRecord {
  if (payload.readUInt8(0) !== VERSION) throw new Error(`unknown WAL record version ${payload.readUInt8(0)}`);
  const formatCode = payload.readUInt8(1);
  const format: PushFormat = formatCode === FORMAT_CODES.json ? 'json' : 'protobuf';
  const tenantLen = payload.readUInt16LE(2);
  const tenant = payload.toString('utf8', 4, 4 + tenantLen);
  let pos = 4 + tenantLen;
  const count = payload.readUInt32LE(pos);
  pos += 4;
  const rejected = new Uint32Array(count);
  for (let i = 0; i < count; i++, pos += 4) rejected[i] = payload.readUInt32LE(pos);
  return { tenant, format, rejected, body: payload.subarray(pos) };
}

/** Decodes a push body of either format into the columnar batch. Throws on malformed input. */
export function decodePushBody(format: PushFormat, body: Buffer, maxBytes: number): PushBatch {
  return format === 'json' ? decodeJsonPush(body) : decodeSnappyPushRequest(body, { maxDecompressedBytes: maxBytes });
}

export class JsonPushError extends Error {}

/**
 * Loki's JSON push body: `{"streams":[{"stream":{…},"values":[["<ns>","line",{sm}]]}]}`.
 * The timestamp must be a string of nanoseconds, as Loki's decoder requires.
 */
export function decodeJsonPush(body: Buffer): PushBatch {
  let document: unknown;
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new JsonPushError(`malformed JSON push body: ${(err as Error).message}`);
  }
  if (!isObject(document) || !Array.isArray(document['streams'])) {
    throw new JsonPushError('malformed JSON push body: expected an object with a "streams" array');
  }
  const builder = new PushBatchBuilder();
  document['streams'].forEach((stream: unknown, s: number) => {
    if (!isObject(stream) || !isObject(stream['stream']) || !Array.isArray(stream['values'])) {
      throw new JsonPushError(`streams[${s}]: expected {"stream": {…}, "values": […]}`);
    }
    const labelPairs = Object.entries(stream['stream']).map(([name, value]) => {
      if (typeof value !== 'string') throw new JsonPushError(`streams[${s}].stream.${name}: label values must be strings`);
      return `${name}=${quoteGoString(value)}`;
    });
    builder.startStream(`{${labelPairs.join(', ')}}`);
    stream['values'].forEach((value: unknown, v: number) => {
      const where = `streams[${s}].values[${v}]`;
      if (!Array.isArray(value) || value.length < 2 || value.length > 3) {
        throw new JsonPushError(`${where}: expected ["<unix ns>", "<line>"] or ["<unix ns>", "<line>", {structured metadata}]`);
      }
      const [ts, line, metadata] = value as [unknown, unknown, unknown];
      if (typeof ts !== 'string' || !/^-?\d{1,19}$/.test(ts)) {
        throw new JsonPushError(`${where}: timestamp must be a string of Unix nanoseconds, got ${JSON.stringify(ts)}`);
      }
      if (typeof line !== 'string') throw new JsonPushError(`${where}: line must be a string`);
      const ns = BigInt(ts);
      const seconds = ns / 1_000_000_000n;
      let nanos = Number(ns % 1_000_000_000n);
      let secondsNumber = Number(seconds);
      if (nanos < 0) {
        nanos += 1e9;
        secondsNumber -= 1;
      }
      let pairs: Array<[string, string]> | undefined;
      if (metadata !== undefined) {
        if (!isObject(metadata)) throw new JsonPushError(`${where}: structured metadata must be an object`);
        pairs = Object.entries(metadata).map(([name, val]) => {
          if (typeof val !== 'string') throw new JsonPushError(`${where}: structured metadata values must be strings`);
          return [name, val];
        });
      }
      builder.addEntry(secondsNumber, nanos, line, pairs);
    });
  });
  return builder.finish();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
