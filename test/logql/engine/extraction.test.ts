/** Sample extraction: unwrap conversions, SampleExtractionErr, pipeline errors, metadata, stats. */
import { describe, expect, it } from 'vitest';
import { QueryError, unboundedContext, type QueryContext } from '../../../logql/engine/context.js';
import { evaluateSample } from '../../../logql/engine/metric-query.js';
import { MemorySource, sec } from '../../helpers/memory-source.js';
import { instant, instantRaw, range, sampleExpr, stream } from './helpers.js';

describe('unwrap conversions', () => {
  it('duration and duration_seconds are Go durations in seconds', async () => {
    const D = [stream({ app: 'd' }, [[10, 'd=250ms'], [20, 'd=1.5s'], [30, 'd=1m30s']])];
    // 0.25 + 1.5 + 90
    expect(await instant('sum_over_time({app="d"} | logfmt | unwrap duration(d) [1m])', D, 30)).toEqual([['{app="d"}', 91.75]]);
    expect(await instant('sum_over_time({app="d"} | logfmt | unwrap duration_seconds(d) [1m])', D, 30)).toEqual([['{app="d"}', 91.75]]);
  });
  it('bytes uses humanize units (KiB = 1024, KB = 1000)', async () => {
    const B = [stream({ app: 'b' }, [[10, 'b=1KiB'], [20, 'b=2KB'], [30, 'b=7']])];
    expect(await instant('sum_over_time({app="b"} | logfmt | unwrap bytes(b) [1m])', B, 30)).toEqual([['{app="b"}', 1024 + 2000 + 7]]);
  });
  it('a plain unwrap parses Go floats', async () => {
    const F = [stream({ app: 'f' }, [[10, 'f=1e3'], [20, 'f=-0.5'], [30, 'f=0x1p4']])];
    // 1000 − 0.5 + 16 (hex float syntax is valid for strconv.ParseFloat)
    expect(await instant('sum_over_time({app="f"} | logfmt | unwrap f [1m])', F, 30)).toEqual([['{app="f"}', 1015.5]]);
  });
  it('skips lines without the label or with an empty value', async () => {
    const M = [stream({ app: 'm' }, [[10, 'v=1'], [20, 'x=2'], [30, 'v=']])];
    expect(await instant('sum_over_time({app="m"} | logfmt | unwrap v [1m])', M, 30)).toEqual([['{app="m"}', 1]]);
    // The label is removed from the series, the other parsed labels stay.
    expect(await instant('sum_over_time({app="m"} | logfmt | unwrap x [1m])', M, 30)).toEqual([['{app="m"}', 2]]);
  });
  it('keeps parsed labels other than the unwrapped one', async () => {
    const K = [stream({ app: 'k' }, [[10, 'v=1 path=/a'], [20, 'v=2 path=/b'], [30, 'v=3 path=/a']])];
    expect(await instant('sum_over_time({app="k"} | logfmt | unwrap v [1m])', K, 30)).toEqual([
      ['{app="k", path="/a"}', 4],
      ['{app="k", path="/b"}', 2],
    ]);
  });
});

describe('errors', () => {
  const BAD = [stream({ app: 'bad' }, [[10, 'v=abc'], [20, 'v=3']])];
  it('a failed conversion fails the query with Loki’s pipeline error', async () => {
    const err = await instantRaw('sum_over_time({app="bad"} | logfmt | unwrap v [1m])', BAD, 30).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryError);
    const msg = (err as Error).message;
    expect(msg).toBe(
      `pipeline error: 'SampleExtractionErr' for series: '{__error__="SampleExtractionErr", ` +
        `__error_details__="strconv.ParseFloat: parsing \\"abc\\": invalid syntax", app="bad", v="abc"}'.\n` +
        `Use a label filter to intentionally skip this error. (e.g | __error__!="SampleExtractionErr").\n` +
        `To skip all potential errors you can match empty errors.(e.g __error__="")\n` +
        `The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__="" )\n`,
    );
  });
  it('| __error__="" after unwrap drops the failed samples', async () => {
    expect(await instant('sum_over_time({app="bad"} | logfmt | unwrap v | __error__="" [1m])', BAD, 30)).toEqual([['{app="bad"}', 3]]);
  });
  it('a parser error fails count_over_time unless filtered', async () => {
    const J = [stream({ app: 'j' }, [[10, '{"a":"1"}'], [20, 'not json']])];
    await expect(instantRaw('count_over_time({app="j"} | json [1m])', J, 30)).rejects.toThrow(/^pipeline error: 'JSONParserErr' for series: '\{__error__="JSONParserErr"/);
    expect(await instant('count_over_time({app="j"} | json | __error__="" [1m])', J, 30)).toEqual([['{a="1", app="j"}', 1]]);
  });
  it('an error outside every window does not fail the query', async () => {
    // The bad line is at 10 s; windows (40,50] and (50,60] never contain it.
    const L = [stream({ app: 'late' }, [[10, 'v=x'], [55, 'v=2']])];
    expect(await range('sum_over_time({app="late"} | logfmt | unwrap v [10s])', L, { start: 50, end: 60, step: 10 })).toEqual({
      '{app="late"}': [[60, 2]],
    });
  });
});

describe('structured metadata and stats', () => {
  const S = [stream({ app: 's' }, [[10, 'abc', { trace: 't1' }], [20, 'de']])];
  it('metadata become series labels', async () => {
    expect(await instant('count_over_time({app="s"}[1m])', S, 30)).toEqual([
      ['{app="s"}', 1],
      ['{app="s", trace="t1"}', 1],
    ]);
    expect(await instant('sum_over_time({app="s"} | unwrap trace [1m])', [stream({ app: 's' }, [[10, 'x', { trace: '2.5' }]])], 30)).toEqual([['{app="s"}', 2.5]]);
  });
  it('counts lines and bytes (line + metadata names and values)', async () => {
    const ctx = unboundedContext();
    await instantRaw('count_over_time({app="s"} |= "d" [1m])', S, 30, ctx);
    expect(ctx.stats.linesProcessed).toBe(2);
    expect(ctx.stats.bytesProcessed).toBe(3 + 'trace'.length + 't1'.length + 2);
    expect(ctx.stats.structuredMetadataBytesProcessed).toBe(7);
    expect(ctx.stats.postFilterLines).toBe(1);
  });
});

describe('reading', () => {
  const many = [stream({ app: 'r' }, Array.from({ length: 50 }, (_, i) => [i + 1, `l${i}`] as [number, string]))];
  it('gives the same result whatever the batch size', async () => {
    const q = sampleExpr('count_over_time({app="r"} |= "l" [7s])');
    const params = { start: sec(7), end: sec(50), stepNs: sec(3), instant: false };
    const a = await evaluateSample(q, new MemorySource(many, 1), params, unboundedContext());
    const b = await evaluateSample(q, new MemorySource(many, 1000), params, unboundedContext());
    expect(a).toEqual(b);
    // Every window of 7 s over one line per second holds 7 lines.
    if (a.type !== 'matrix') throw new Error();
    expect(a.series[0]!.points.every((p) => p.v === 7)).toBe(true);
    expect(a.series[0]!.points.length).toBe(15); // 7, 10, …, 49
  });
  it('reads each stream once, forward, over (start − range − offset, end − offset]', async () => {
    const src = new MemorySource(many);
    await evaluateSample(sampleExpr('count_over_time({app="r"}[5s] offset 2s)'), src, { start: sec(20), end: sec(30), stepNs: sec(5), instant: false }, unboundedContext());
    expect(src.reads).toEqual([{ start: sec(13), end: sec(28) + 1n, direction: 'forward' }]);
  });
  it('calls checkpoint and stops when it throws', async () => {
    let calls = 0;
    const ctx: QueryContext = { ...unboundedContext(), checkpoint: () => { calls++; return undefined; } };
    await evaluateSample(sampleExpr('count_over_time({app="r"}[5s])'), new MemorySource(many), { start: sec(50), end: sec(50), stepNs: 0n, instant: true }, ctx);
    expect(calls).toBeGreaterThan(0);
    const stop: QueryContext = { ...unboundedContext(), checkpoint: () => { throw new Error('stopped'); } };
    await expect(evaluateSample(sampleExpr('count_over_time({app="r"}[5s])'), new MemorySource(many), { start: sec(50), end: sec(50), stepNs: 0n, instant: true }, stop)).rejects.toThrow('stopped');
  });
  it('awaits the promise a checkpoint returns', async () => {
    let resolved = 0;
    const ctx: QueryContext = {
      ...unboundedContext(),
      checkpoint: () => new Promise<void>((r) => setTimeout(() => { resolved++; r(); }, 0)),
    };
    const r = await evaluateSample(sampleExpr('count_over_time({app="r"}[5s])'), new MemorySource(many), { start: sec(50), end: sec(50), stepNs: 0n, instant: true }, ctx);
    expect(resolved).toBeGreaterThan(0);
    expect(r).toEqual({ type: 'vector', samples: [{ labels: [{ name: 'app', value: 'r' }], t: 50000, v: 5 }] });
  });
});

describe('pipeline details', () => {
  const J = [stream({ app: 'j' }, [[10, '{"a":"1"}'], [20, 'not json']])];
  it('a parser error still fails the query when a parent sum groups at extraction', async () => {
    await expect(instantRaw('sum by (app) (count_over_time({app="j"} | json [1m]))', J, 30)).rejects.toThrow(/^pipeline error: 'JSONParserErr'/);
    expect(await instant('sum by (app) (count_over_time({app="j"} | json | __error__="" [1m]))', J, 30)).toEqual([['{app="j"}', 1]]);
  });
  it('removes a line_format nothing reads (Loki’s removeLineformat)', async () => {
    // line_format is followed only by a label filter: the counts do not depend on it.
    expect(await instant('count_over_time({app="j"} | line_format "{{.a}}" | app="j" [1m])', J, 30)).toEqual([['{app="j"}', 2]]);
  });
});
