import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import {
  PushBatchBuilder, PushDecodeError, decodePushRequest, decodeSnappyPushRequest, encodePushRequest, encodeSnappyPushRequest,
  entryLine, entryLineBytes, entryMetadata, type PushBatch, type PushStreamInput,
} from '../../proto/index.js';
import { expectConsistentBatch } from './batch-invariants.js';
import { seededRandom } from '../helpers/random.js';
import { bytesField, tag, toBuffer, varint, varintField } from './protobuf-writer.js';

const pushRequestType = protobuf
  .loadSync(fileURLToPath(new URL('../../proto/push.proto', import.meta.url)))
  .lookupType('logproto.PushRequest');

/** The batch back as plain values, for deep equality against the encoder's input. */
function toStreams(batch: PushBatch): PushStreamInput[] {
  return batch.streams.map((stream) => {
    const entries = [];
    for (let entry = stream.firstEntry; entry < stream.firstEntry + stream.entryCount; entry++) {
      const metadata = entryMetadata(batch, entry);
      entries.push({
        seconds: batch.seconds[entry],
        nanos: batch.nanos[entry],
        line: entryLine(batch, entry),
        ...(metadata.length > 0 ? { metadata } : {}),
      });
    }
    return { labels: stream.labels, entries };
  });
}

const sample: PushStreamInput[] = [
  {
    labels: '{app="api", namespace="prod"}',
    entries: [
      { seconds: 1_764_230_000, nanos: 123_456_789, line: 'level=info msg="hello"' },
      { seconds: 1_764_230_000, nanos: 999_999_999, line: '', metadata: [['trace_id', 'abc'], ['span_id', '']] },
      { seconds: 1_764_230_001, nanos: 1, line: 'ünïcödé ✓ 😀 日本語', metadata: [['ключ', 'значение 😀']] },
    ],
  },
  { labels: '{app="empty"}', entries: [] },
  {
    labels: '{app="old"}',
    entries: [
      { seconds: -1, nanos: 0, line: 'one second before the epoch' },
      { seconds: -62_135_596_800, nanos: 5, line: 'year 1' },
      { seconds: 0, nanos: 0, line: 'the epoch' },
      { seconds: 253_402_300_799, nanos: 999_999_999, line: 'x'.repeat(70_000) },
    ],
  },
];

describe('encodePushRequest → decodePushRequest', () => {
  it('round-trips streams, metadata, unicode, empty lines, ns precision and negative seconds', () => {
    const batch = decodePushRequest(encodePushRequest(sample));
    expectConsistentBatch(batch);
    expect(batch.entryCount).toBe(7);
    expect(toStreams(batch)).toEqual(sample);
  });

  it('round-trips through snappy', () => {
    const batch = decodeSnappyPushRequest(encodeSnappyPushRequest(sample));
    expect(toStreams(batch)).toEqual(sample);
  });

  it('keeps line bytes as bytes: binary lines come back unchanged', () => {
    const line = Uint8Array.from([0, 255, 128, 10, 13, 0xc3]);
    const batch = decodePushRequest(encodePushRequest([{ labels: '{a="b"}', entries: [{ seconds: 1, nanos: 2, line }] }]));
    expect([...entryLineBytes(batch, 0)]).toEqual([...line]);
  });

  it('decodes an empty request', () => {
    const batch = decodePushRequest(Buffer.alloc(0));
    expect(batch.streams).toEqual([]);
    expect(batch.entryCount).toBe(0);
  });

  it('grows its columns past the initial guess (many tiny entries)', () => {
    const entries = Array.from({ length: 5000 }, (_, index) => ({
      seconds: index, nanos: index, line: '', metadata: [['k', String(index)]] as Array<[string, string]>,
    }));
    const batch = decodePushRequest(encodePushRequest([{ labels: '{a="b"}', entries }]));
    expectConsistentBatch(batch);
    expect(toStreams(batch)[0].entries).toEqual(entries);
  });

  it('matches the PushBatchBuilder for the same input', () => {
    const builder = new PushBatchBuilder();
    for (const stream of sample) {
      builder.startStream(stream.labels);
      for (const entry of stream.entries) builder.addEntry(entry.seconds, entry.nanos, entry.line, entry.metadata);
    }
    const built = builder.finish();
    expectConsistentBatch(built);
    expect(toStreams(built)).toEqual(sample);
  });
});

describe('decodePushRequest against protobufjs', () => {
  it('decodes what protobufjs reflection encodes (independent encoder)', () => {
    const message = pushRequestType.fromObject({
      format: 'json',
      streams: [
        {
          labels: '{job="x"}',
          hash: 12345,
          entries: [
            { timestamp: { seconds: 1_700_000_000, nanos: 42 }, line: 'hello', structuredMetadata: [{ name: 'a', value: 'b' }], parsed: [{ name: 'p', value: 'q' }] },
            { line: 'no timestamp' },
            { timestamp: { seconds: -5, nanos: -1 }, line: 'negative' },
          ],
        },
        { labels: '{job="y"}', entries: [{ timestamp: { seconds: 3 }, line: '' }] },
      ],
    });
    const batch = decodePushRequest(Buffer.from(pushRequestType.encode(message).finish()));
    expectConsistentBatch(batch);
    expect(toStreams(batch)).toEqual([
      {
        labels: '{job="x"}',
        entries: [
          { seconds: 1_700_000_000, nanos: 42, line: 'hello', metadata: [['a', 'b']] },
          { seconds: 0, nanos: 0, line: 'no timestamp' },
          { seconds: -5, nanos: -1, line: 'negative' },
        ],
      },
      { labels: '{job="y"}', entries: [{ seconds: 3, nanos: 0, line: '' }] },
    ]);
  });

  it('produces bytes protobufjs decodes to the same values', () => {
    const decoded = pushRequestType.toObject(pushRequestType.decode(encodePushRequest(sample)), { longs: Number, defaults: true });
    const streams = decoded.streams as Array<{ labels: string; entries: Array<{ timestamp: { seconds: number; nanos: number }; line: string; structuredMetadata: Array<{ name: string; value: string }> }> }>;
    expect(streams.map((stream) => ({
      labels: stream.labels,
      entries: stream.entries.map((entry) => ({
        seconds: entry.timestamp.seconds,
        nanos: entry.timestamp.nanos,
        line: entry.line,
        ...(entry.structuredMetadata.length > 0 ? { metadata: entry.structuredMetadata.map((pair) => [pair.name, pair.value]) } : {}),
      })),
    }))).toEqual(sample);
  });
});

describe('forward compatibility', () => {
  it('accepts fields in any order and skips unknown fields of every wire type', () => {
    const unknownFields = [
      ...varintField(15, 123456789012345n),
      ...tag(16, 1), 1, 2, 3, 4, 5, 6, 7, 8,
      ...bytesField(17, 'future'),
      ...tag(18, 5), 1, 2, 3, 4,
      ...tag(19, 3), ...varintField(1, 7), ...tag(2, 3), ...tag(2, 4), ...tag(19, 4),
    ];
    const pair = [...unknownFields, ...bytesField(2, 'v'), ...bytesField(1, 'n')];
    const timestamp = [...varintField(2, 7), ...unknownFields, ...varintField(1, 99)];
    const entry = [
      ...bytesField(3, pair),
      ...bytesField(2, 'line'),
      ...unknownFields,
      ...bytesField(4, [...bytesField(1, 'parsed'), ...bytesField(2, 'ignored')]),
      ...bytesField(1, timestamp),
    ];
    const stream = [...bytesField(2, entry), ...varintField(3, 2n ** 64n - 1n), ...unknownFields, ...bytesField(1, '{a="b"}')];
    const request = [...unknownFields, ...bytesField(2, 'format'), ...bytesField(1, stream), ...unknownFields];
    const batch = decodePushRequest(toBuffer(request));
    expect(toStreams(batch)).toEqual([{ labels: '{a="b"}', entries: [{ seconds: 99, nanos: 7, line: 'line', metadata: [['n', 'v']] }] }]);
  });

  it('lets the last occurrence of a singular field win and merges repeated timestamps', () => {
    const entry = [
      ...bytesField(2, 'first'),
      ...bytesField(1, [...varintField(1, 10), ...varintField(2, 20)]),
      ...bytesField(2, 'second'),
      ...bytesField(1, varintField(1, 11)),
    ];
    const batch = decodePushRequest(toBuffer(bytesField(1, bytesField(2, entry))));
    expect(toStreams(batch)[0].entries).toEqual([{ seconds: 11, nanos: 20, line: 'second' }]);
  });

  it('decodes non-minimal (padded) varints and 10-byte negative int64 seconds', () => {
    const paddedLength = [0x85, 0x80, 0x80, 0x00]; // 5, in four bytes
    const entry = [...tag(2, 2), ...paddedLength, ...Buffer.from('hello'), ...bytesField(1, varintField(1, -1234567890123n))];
    const batch = decodePushRequest(toBuffer(bytesField(1, bytesField(2, entry))));
    expect(toStreams(batch)[0].entries).toEqual([{ seconds: -1234567890123, nanos: 0, line: 'hello' }]);
  });
});

describe('malformed input', () => {
  const cases: Array<[string, number[], RegExp]> = [
    ['truncated varint tag', [0x8a], /truncated varint at offset 0/],
    ['truncated length', [0x0a, 0x80], /truncated varint at offset 1/],
    ['length past the end', [0x0a, 0x05, 0x01], /length 5 at offset 1 runs past the end \(1 bytes left\)/],
    ['giant declared length', [0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], /length 4294967295 at offset 1 runs past the end/],
    ['length past the end of the parent', [0x0a, 0x02, 0x12, 0x05, 0x00, 0x00], /length 5 at offset 3 runs past the end \(0 bytes left\)/],
    ['field number 0', [0x02, 0x00], /invalid field number 0/],
    ['wrong wire type for streams', [0x08, 0x01], /wrong wire type 0 for PushRequest field 1/],
    ['wrong wire type for a line', bytesField(1, bytesField(2, varintField(2, 1))), /wrong wire type 0 for EntryAdapter field 2/],
    ['wrong wire type for seconds', bytesField(1, bytesField(2, bytesField(1, bytesField(1, 'x')))), /wrong wire type 2 for Timestamp field 1/],
    ['invalid wire type 7', [...tag(20, 7)], /invalid wire type 7 for field 20/],
    ['unexpected end group', [...tag(20, 4)], /unexpected end-group tag for field 20/],
    ['unclosed group', [...tag(20, 3), ...varintField(1, 1)], /group for field 20 is not closed/],
    ['mismatched end group', [...tag(20, 3), ...tag(21, 4)], /end-group tag for field 21 closes group 20/],
    ['varint longer than 10 bytes', [...tag(20, 0), ...Array(10).fill(0xff), 0x01], /overflows 64 bits|longer than 10 bytes/],
    ['truncated fixed64', [...tag(20, 1), 1, 2, 3], /fixed-size field at offset 2 runs past the end \(3 bytes left\)/],
    ['truncated fixed32', [...tag(20, 5), 1], /fixed-size field/],
    ['truncated timestamp varint', bytesField(1, bytesField(2, bytesField(1, [0x08, 0x80]))), /truncated varint/],
  ];
  for (const [name, bytes, message] of cases) {
    it(`rejects ${name}`, () => {
      expect(() => decodePushRequest(toBuffer(bytes))).toThrow(PushDecodeError);
      expect(() => decodePushRequest(toBuffer(bytes))).toThrow(message);
    });
  }

  it('rejects deeply nested groups without overflowing the stack', () => {
    const bytes: number[] = [];
    for (let depth = 0; depth < 10_000; depth++) bytes.push(...tag(20, 3));
    expect(() => decodePushRequest(toBuffer(bytes))).toThrow(/groups nested deeper than/);
  });

  it('rejects a snappy body declaring 4 GB before allocating anything', () => {
    const body = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    expect(() => decodeSnappyPushRequest(body)).toThrow(PushDecodeError);
    expect(() => decodeSnappyPushRequest(body)).toThrow(/declared length 4294967295 exceeds the limit of 104857600 bytes/);
  });

  it('honours maxDecompressedBytes', () => {
    const body = encodeSnappyPushRequest(sample);
    expect(() => decodeSnappyPushRequest(body, { maxDecompressedBytes: 100 })).toThrow(/exceeds the limit of 100 bytes/);
  });

  it('rejects an uncompressed body sent as snappy', () => {
    expect(() => decodeSnappyPushRequest(encodePushRequest(sample))).toThrow(PushDecodeError);
  });
});


function expectDecodesOrRejects(decode: () => PushBatch): void {
  let batch: PushBatch;
  try {
    batch = decode();
  } catch (error) {
    expect(error).toBeInstanceOf(PushDecodeError);
    return;
  }
  expectConsistentBatch(batch);
}

describe('fuzz: truncations and byte flips never throw anything but PushDecodeError', () => {
  const raw = encodePushRequest(sample.map((stream) => ({
    ...stream,
    entries: stream.entries.map((entry) => ({ ...entry, line: typeof entry.line === 'string' ? entry.line.slice(0, 200) : entry.line })),
  })));
  const compressed = encodeSnappyPushRequest(sample);

  it('every truncation of a valid protobuf and snappy body', () => {
    for (let length = 0; length < raw.length; length++) expectDecodesOrRejects(() => decodePushRequest(raw.subarray(0, length)));
    for (let length = 0; length < compressed.length; length += 7) {
      expectDecodesOrRejects(() => decodeSnappyPushRequest(compressed.subarray(0, length)));
    }
  });

  it('random byte flips', () => {
    const random = seededRandom(42);
    const started = Date.now();
    for (let round = 0; round < 3000; round++) {
      const source = round % 2 === 0 ? raw : compressed;
      const mutated = Buffer.from(source);
      const flips = 1 + Math.floor(random() * 4);
      for (let flip = 0; flip < flips; flip++) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
      expectDecodesOrRejects(() => (source === raw ? decodePushRequest(mutated) : decodeSnappyPushRequest(mutated)));
    }
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('random garbage', () => {
    const random = seededRandom(7);
    for (let round = 0; round < 2000; round++) {
      const garbage = Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)));
      expectDecodesOrRejects(() => decodePushRequest(garbage));
      expectDecodesOrRejects(() => decodeSnappyPushRequest(garbage));
    }
  });

  it('a varint length prefix of 10 bytes claiming 2^63 is rejected, not allocated', () => {
    expect(() => decodePushRequest(toBuffer([0x0a, ...varint(2n ** 63n)]))).toThrow(/runs past the end/);
  });
});
