import { parse } from '../../../logql/index.js';
import type { SampleExpr } from '../../../logql/ast.js';
import { unboundedContext, type QueryContext } from '../../../logql/engine/context.js';
import { evaluateSample } from '../../../logql/engine/metric-query.js';
import type { MatrixResult, ScalarResult, VectorResult } from '../../../logql/engine/result.js';
import { MemorySource, sec, type MemoryStreamInput } from '../../helpers/memory-source.js';

export { sec };

export function sampleExpr(q: string): SampleExpr {
  const e = parse(q);
  if (e.kind === 'LogSelector') throw new Error(`${q} is a log query`);
  return e;
}

export interface RangeOpts {
  start: number;
  end: number;
  step: number;
}

/** Runs a range query (times in seconds) and returns `{labelsKey: [[tSeconds, v], …]}`. */
export async function range(
  q: string,
  streams: MemoryStreamInput[],
  o: RangeOpts,
  ctx: QueryContext = unboundedContext(),
): Promise<Record<string, [number, number][]>> {
  const r = await rangeRaw(q, streams, o, ctx);
  if (r.type !== 'matrix') throw new Error(`expected a matrix, got ${r.type}`);
  return Object.fromEntries(r.series.map((s) => [key(s.labels), s.points.map((p) => [p.t / 1000, p.v] as [number, number])]));
}

export async function rangeRaw(
  q: string,
  streams: MemoryStreamInput[],
  o: RangeOpts,
  ctx: QueryContext = unboundedContext(),
): Promise<MatrixResult | VectorResult | ScalarResult> {
  return evaluateSample(sampleExpr(q), new MemorySource(streams), { start: sec(o.start), end: sec(o.end), stepNs: sec(o.step), instant: false }, ctx);
}

/** Runs an instant query at `time` seconds; returns the raw result. */
export async function instantRaw(
  q: string,
  streams: MemoryStreamInput[],
  time: number,
  ctx: QueryContext = unboundedContext(),
): Promise<MatrixResult | VectorResult | ScalarResult> {
  return evaluateSample(sampleExpr(q), new MemorySource(streams), { start: sec(time), end: sec(time), stepNs: 0n, instant: true }, ctx);
}

/** Instant query → `[[labelsKey, v], …]` in result order. */
export async function instant(q: string, streams: MemoryStreamInput[], time: number, ctx?: QueryContext): Promise<[string, number][]> {
  const r = await instantRaw(q, streams, time, ctx);
  if (r.type !== 'vector') throw new Error(`expected a vector, got ${r.type}`);
  for (const s of r.samples) if (s.t !== time * 1000) throw new Error(`sample at ${s.t}, expected ${time * 1000}`);
  return r.samples.map((s) => [key(s.labels), s.v]);
}

export function key(labels: readonly { name: string; value: string }[]): string {
  return '{' + labels.map((l) => `${l.name}="${l.value}"`).join(', ') + '}';
}

/** A stream from `[seconds, line]` pairs. */
export function stream(labels: Record<string, string>, entries: [number, string, Record<string, string>?][]): MemoryStreamInput {
  return { labels, entries: entries.map(([t, line, metadata]) => ({ ts: sec(t), line, ...(metadata ? { metadata } : {}) })) };
}
