/** Result types, literals, vector(), label_replace and the series limit. */
import { describe, expect, it } from 'vitest';
import { QueryError, unboundedContext } from '../../../logql/engine/context.js';
import { instant, instantRaw, range, rangeRaw, stream } from './helpers.js';

const A = [
  stream({ app: 'a', level: 'info' }, [[10, 'x'], [20, 'y'], [30, 'z'], [31, 'w'], [60, 'v']]),
  stream({ app: 'a', level: 'error' }, [[15, 'e'], [60, 'f']]),
];

describe('literals and vector()', () => {
  it('a literal is a scalar for instant queries', async () => {
    expect(await instantRaw('2', [], 100)).toEqual({ type: 'scalar', t: 100000, v: 2 });
    // Literal arithmetic is folded by the parser.
    expect(await instantRaw('1 + 2 * 3', [], 100)).toEqual({ type: 'scalar', t: 100000, v: 7 });
  });
  it('a literal is a label-less matrix series for range queries (Loki’s PopulateMatrixFromScalar)', async () => {
    expect(await rangeRaw('2', [], { start: 10, end: 30, step: 10 })).toEqual({
      type: 'matrix',
      series: [{ labels: [], points: [{ t: 10000, v: 2 }, { t: 20000, v: 2 }, { t: 30000, v: 2 }] }],
    });
  });
  it('vector(s) is one label-less sample per step', async () => {
    expect(await instantRaw('vector(3)', [], 100)).toEqual({ type: 'vector', samples: [{ labels: [], t: 100000, v: 3 }] });
    expect(await range('vector(3)', [], { start: 10, end: 20, step: 5 })).toEqual({ '{}': [[10, 3], [15, 3], [20, 3]] });
    expect(await range('vector(1) + vector(2) * 2', [], { start: 10, end: 20, step: 10 })).toEqual({ '{}': [[10, 5], [20, 5]] });
  });
  it('or vector(0) fills the steps without data', async () => {
    const r = await range('sum(count_over_time({app="a", level="error"}[5s])) or vector(0)', A, { start: 10, end: 20, step: 5 });
    // (5,10] empty → 0; (10,15] has 15 → 1; (15,20] empty → 0. Both sides are label-less: one series.
    expect(r).toEqual({ '{}': [[10, 0], [15, 1], [20, 0]] });
  });
});

describe('label_replace', () => {
  const S = 'sum by (level) (count_over_time({app="a"}[1m]))';
  it('sets dst from the expanded replacement when the anchored regex matches', async () => {
    expect(await instant(`label_replace(${S}, "sev", "$1-x", "level", "(e.*)")`, A, 60)).toEqual([
      ['{level="error", sev="error-x"}', 2],
      ['{level="info"}', 5],
    ]);
  });
  it('the regex is anchored', async () => {
    expect(await instant(`label_replace(${S}, "sev", "y", "level", "rro")`, A, 60)).toEqual([
      ['{level="error"}', 2],
      ['{level="info"}', 5],
    ]);
  });
  it('named groups, ${n} and $$', async () => {
    expect(await instant(`label_replace(${S}, "sev", "\${first}$$\${2}", "level", "(?P<first>.)(.*)")`, A, 60)).toEqual([
      ['{level="error", sev="e$rror"}', 2],
      ['{level="info", sev="i$nfo"}', 5],
    ]);
  });
  it('an empty result removes dst; a missing src matches as ""', async () => {
    expect(await instant(`label_replace(${S}, "level", "", "level", "info")`, A, 60)).toEqual([
      ['{}', 5],
      ['{level="error"}', 2],
    ]);
    expect(await instant(`label_replace(${S}, "src", "none", "missing", "")`, A, 60)).toEqual([
      ['{level="error", src="none"}', 2],
      ['{level="info", src="none"}', 5],
    ]);
  });
});

describe('series limit', () => {
  const MSG = /^maximum number of series \(1\) reached for a single query; consider reducing query cardinality by adding more specific stream selectors, reducing the time range, or aggregating results with functions like sum\(\), count\(\) or topk\(\)$/;
  it('fails an instant query with more series than max_query_series', async () => {
    const err = await instantRaw('count_over_time({app="a"}[1m])', A, 60, unboundedContext({ maxQuerySeries: 1 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryError);
    expect((err as Error).message).toMatch(MSG);
    // The limit applies to the result, not to the inner range vector.
    expect(await instant('sum(count_over_time({app="a"}[1m]))', A, 60, unboundedContext({ maxQuerySeries: 1 }))).toEqual([['{}', 7]]);
    // Exactly at the limit is fine.
    expect((await instant('count_over_time({app="a"}[1m])', A, 60, unboundedContext({ maxQuerySeries: 2 }))).length).toBe(2);
  });
  it('counts distinct series over all the steps of a range query', async () => {
    // t=10: (5,10] info only; t=15: (10,15] error only. One series per step, two in all.
    await expect(rangeRaw('count_over_time({app="a"}[5s])', A, { start: 10, end: 15, step: 5 }, unboundedContext({ maxQuerySeries: 1 }))).rejects.toThrow(MSG);
    expect(await range('count_over_time({app="a"}[5s])', A, { start: 10, end: 15, step: 5 }, unboundedContext({ maxQuerySeries: 2 }))).toEqual({
      '{app="a", level="error"}': [[15, 1]],
      '{app="a", level="info"}': [[10, 1]],
    });
  });
});

describe('result ordering', () => {
  it('matrices are sorted by labels even with sort_desc', async () => {
    const r = await rangeRaw('sort_desc(count_over_time({app="a"}[1m]))', A, { start: 60, end: 60, step: 1 });
    if (r.type !== 'matrix') throw new Error(r.type);
    expect(r.series.map((s) => s.labels.map((l) => l.value).join())).toEqual(['a,error', 'a,info']);
  });
  it('shorter label sets sort first when they are a prefix (Prometheus labels.Compare)', async () => {
    const r = await instant('count_over_time({app="m"}[1m])', [stream({ app: 'm' }, [[1, 'a', { z: '1' }], [2, 'b']])], 60);
    expect(r.map(([k]) => k)).toEqual(['{app="m"}', '{app="m", z="1"}']);
  });
});
