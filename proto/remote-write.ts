/**
 * Encoding of Prometheus remote-write requests (the ruler ships recording-rule samples with
 * them). Sizes are computed first so the request is written into one exactly-sized Buffer.
 *
 * Layout (prometheus/prompb): WriteRequest { repeated TimeSeries timeseries = 1 }, TimeSeries
 * { repeated Label labels = 1; repeated Sample samples = 2 }, Label { string name = 1; string
 * value = 2 }, Sample { double value = 1; int64 timestamp = 2 } with the timestamp in ms.
 */
import { snappyCompress } from './snappy.js';
import { fieldSize, int64Size, writeInt64, writeVarint } from './wire-write.js';

export interface RemoteWriteSample {
  /** Milliseconds since the epoch; fractions are floored. */
  t: number;
  v: number;
}

export interface RemoteWriteSeries {
  /** Includes `__name__`; any order (the request carries them sorted by name). */
  labels: ReadonlyArray<readonly [string, string]>;
  samples: ReadonlyArray<RemoteWriteSample>;
}

/** Tag bytes: field number << 3 | wire type (2 = length-delimited, 1 = 64-bit, 0 = varint). */
const TAG_TIMESERIES = (1 << 3) | 2;
const TAG_LABEL = (1 << 3) | 2;
const TAG_SAMPLE = (2 << 3) | 2;
const TAG_NAME = (1 << 3) | 2;
const TAG_VALUE = (2 << 3) | 2;
const TAG_SAMPLE_VALUE = (1 << 3) | 1;
const TAG_SAMPLE_TIMESTAMP = (2 << 3) | 0;

interface PreparedSeries {
  labels: Array<readonly [string, string]>;
  nameBytes: number[];
  valueBytes: number[];
  timestamps: number[];
  size: number;
}

function byName(a: readonly [string, string], b: readonly [string, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

function prepare(series: RemoteWriteSeries): PreparedSeries {
  // Prometheus requires labels sorted by name, and an empty value means "no such label" there,
  // so sending one would only make receivers that validate strictly reject the series.
  const labels = series.labels.filter((label) => label[1] !== '').sort(byName);
  const nameBytes: number[] = [];
  const valueBytes: number[] = [];
  let size = 0;
  for (const [name, value] of labels) {
    const nameLength = Buffer.byteLength(name, 'utf8');
    const valueLength = Buffer.byteLength(value, 'utf8');
    nameBytes.push(nameLength);
    valueBytes.push(valueLength);
    size += fieldSize(fieldSize(nameLength) + fieldSize(valueLength));
  }
  const timestamps: number[] = [];
  for (const sample of series.samples) {
    // A non-finite timestamp would never leave the varint loops.
    if (!Number.isFinite(sample.t)) throw new RangeError(`remote-write sample timestamp must be finite, got ${sample.t}`);
    const t = Math.floor(sample.t);
    timestamps.push(t);
    size += fieldSize(9 + 1 + int64Size(t));
  }
  return { labels, nameBytes, valueBytes, timestamps, size };
}

/** The WriteRequest protobuf bytes, uncompressed. Throws RangeError on a non-finite timestamp. */
export function encodeWriteRequest(series: ReadonlyArray<RemoteWriteSeries>): Buffer {
  const prepared = series.map(prepare);
  let total = 0;
  for (const entry of prepared) total += fieldSize(entry.size);
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let s = 0; s < prepared.length; s++) {
    const entry = prepared[s]!;
    buf[pos++] = TAG_TIMESERIES;
    pos = writeVarint(buf, pos, entry.size);
    for (let l = 0; l < entry.labels.length; l++) {
      const [name, value] = entry.labels[l]!;
      const nameLength = entry.nameBytes[l]!;
      const valueLength = entry.valueBytes[l]!;
      buf[pos++] = TAG_LABEL;
      pos = writeVarint(buf, pos, fieldSize(nameLength) + fieldSize(valueLength));
      buf[pos++] = TAG_NAME;
      pos = writeVarint(buf, pos, nameLength);
      pos += buf.write(name, pos, nameLength, 'utf8');
      buf[pos++] = TAG_VALUE;
      pos = writeVarint(buf, pos, valueLength);
      pos += buf.write(value, pos, valueLength, 'utf8');
    }
    const samples = series[s]!.samples;
    for (let i = 0; i < samples.length; i++) {
      const t = entry.timestamps[i]!;
      // Both fields are always written: omitting a zero value (proto3 default) would turn -0 into 0.
      buf[pos++] = TAG_SAMPLE;
      pos = writeVarint(buf, pos, 9 + 1 + int64Size(t));
      buf[pos++] = TAG_SAMPLE_VALUE;
      pos = buf.writeDoubleLE(samples[i]!.v, pos);
      buf[pos++] = TAG_SAMPLE_TIMESTAMP;
      pos = writeInt64(buf, pos, t);
    }
  }
  return buf;
}

/** The request body remote-write receivers expect: the WriteRequest in one snappy block. */
export function encodeSnappyWriteRequest(series: ReadonlyArray<RemoteWriteSeries>): Buffer {
  return snappyCompress(encodeWriteRequest(series));
}
