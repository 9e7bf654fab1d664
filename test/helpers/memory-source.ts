/**
 * An in-memory LogSource for engine tests: streams of `{ts, line, metadata}` arrays, served in
 * batches of `batchSize` entries so that tests cross batch boundaries. `entries` honours
 * `start ≤ ts < end` and the direction (batches in direction order, each ascending).
 */
import type { LabelMatcher } from '../../logql/ast.js';
import { compileMatcher } from '../../logql/matcher.js';
import type { BatchRef, Direction, EntryBatch, LogSource, SourceStream } from '../../logql/engine/source.js';
import type { Label, Labels } from '../../logql/pipeline/labels.js';

export interface MemoryEntry {
  /** Nanoseconds. */
  ts: bigint;
  line: string;
  metadata?: Record<string, string>;
}

export interface MemoryStreamInput {
  labels: Record<string, string>;
  entries: MemoryEntry[];
}

interface Stored extends SourceStream {
  readonly ts: bigint[];
  readonly lines: Uint8Array[];
  readonly metadata: Labels[];
}

const toLabels = (o: Record<string, string>): Label[] =>
  Object.entries(o)
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

export class MemorySource implements LogSource {
  private readonly streams: Stored[];
  /** Every `entries` call, for tests that check what was read. */
  readonly reads: { start: bigint; end: bigint; direction: Direction }[] = [];

  constructor(input: MemoryStreamInput[], private readonly batchSize = 3) {
    const enc = new TextEncoder();
    this.streams = input.map((s) => {
      const sorted = [...s.entries].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
      return {
        labels: toLabels(s.labels),
        ts: sorted.map((e) => e.ts),
        lines: sorted.map((e) => enc.encode(e.line)),
        metadata: sorted.map((e) => toLabels(e.metadata ?? {})),
      };
    });
  }

  selectStreams(matchers: readonly LabelMatcher[], start: bigint, end: bigint): readonly SourceStream[] {
    const fns = matchers.map((m) => ({ name: m.name, fn: compileMatcher(m) }));
    return this.streams.filter(
      (s) =>
        fns.every(({ name, fn }) => fn(s.labels.find((l) => l.name === name)?.value ?? '')) &&
        s.ts.some((t) => t >= start && t < end),
    );
  }

  *entries(stream: SourceStream, start: bigint, end: bigint, direction: Direction): Iterable<EntryBatch> {
    const s = stream as Stored;
    this.reads.push({ start, end, direction });
    const idx: number[] = [];
    for (let i = 0; i < s.ts.length; i++) if (s.ts[i]! >= start && s.ts[i]! < end) idx.push(i);
    const chunks: number[][] = [];
    for (let i = 0; i < idx.length; i += this.batchSize) chunks.push(idx.slice(i, i + this.batchSize));
    if (direction === 'backward') chunks.reverse();
    for (const chunk of chunks) {
      const base = s.ts[chunk[0]!]!;
      // Put the batch's entries after some padding so that `from` is exercised too.
      const pad = 1;
      const offsets = new Float64Array(chunk.length + pad);
      chunk.forEach((i, j) => (offsets[j + pad] = Number(s.ts[i]! - base)));
      yield {
        base,
        offsets,
        from: pad,
        to: pad + chunk.length,
        line: (i: number) => s.lines[chunk[i - pad]!]!,
        metadata: (i: number) => s.metadata[chunk[i - pad]!]!,
      };
    }
  }
}

/** Seconds → nanoseconds. */
export const sec = (s: number): bigint => BigInt(Math.round(s * 1000)) * 1_000_000n;

/**
 * A MemorySource with an index: `batches()` tells each batch's time range and entry count without
 * loading it, as the server's store does, and counts the batches actually loaded.
 */
export class IndexedMemorySource extends MemorySource {
  offered = 0;
  loads = 0;

  batches(stream: SourceStream, start: bigint, end: bigint, direction: Direction): BatchRef[] {
    const batches = [...this.entries(stream, start, end, direction)];
    this.offered += batches.length;
    return batches.map((batch) => ({
      minTs: batch.base + BigInt(batch.offsets[batch.from]!),
      maxTs: batch.base + BigInt(batch.offsets[batch.to - 1]!),
      entries: batch.to - batch.from,
      load: () => {
        this.loads++;
        return batch;
      },
    }));
  }
}
