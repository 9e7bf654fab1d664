/**
 * Vector aggregations at t=60 over [1m] windows. Per pod: p1 (ns=x) 3 lines, p2 (x) 1, p3 (y) 3,
 * p4 (y) 2, p5 (y) 1.
 */
import { describe, expect, it } from 'vitest';
import { instant, range, stream } from './helpers.js';

const lines = (n: number): [number, string][] => Array.from({ length: n }, (_, i) => [10 + i, `l${i}`]);
const V = [
  stream({ app: 'v', ns: 'x', pod: 'p1' }, lines(3)),
  stream({ app: 'v', ns: 'x', pod: 'p2' }, lines(1)),
  stream({ app: 'v', ns: 'y', pod: 'p3' }, lines(3)),
  stream({ app: 'v', ns: 'y', pod: 'p4' }, lines(2)),
  stream({ app: 'v', ns: 'y', pod: 'p5' }, lines(1)),
];
const C = 'count_over_time({app="v"}[1m])';
const P = (n: number, ns: string): string => `{app="v", ns="${ns}", pod="p${n}"}`;
const q = (s: string): Promise<[string, number][]> => instant(s, V, 60);

describe('aggregations with grouping', () => {
  it('sum without grouping, by (), by, without', async () => {
    expect(await q(`sum(${C})`)).toEqual([['{}', 10]]);
    expect(await q(`sum by () (${C})`)).toEqual([['{}', 10]]);
    expect(await q(`sum by (ns) (${C})`)).toEqual([['{ns="x"}', 4], ['{ns="y"}', 6]]);
    expect(await q(`sum without (pod) (${C})`)).toEqual([['{app="v", ns="x"}', 4], ['{app="v", ns="y"}', 6]]);
    expect(await q(`sum(${C}) by (ns)`)).toEqual([['{ns="x"}', 4], ['{ns="y"}', 6]]);
    // A grouping label that no series has gives one group without it.
    expect(await q(`sum by (nope) (${C})`)).toEqual([['{}', 10]]);
  });
  it('avg, min, max, count', async () => {
    expect(await q(`avg by (ns) (${C})`)).toEqual([['{ns="x"}', 2], ['{ns="y"}', 2]]);
    expect(await q(`min by (ns) (${C})`)).toEqual([['{ns="x"}', 1], ['{ns="y"}', 1]]);
    expect(await q(`max by (ns) (${C})`)).toEqual([['{ns="x"}', 3], ['{ns="y"}', 3]]);
    expect(await q(`count by (ns) (${C})`)).toEqual([['{ns="x"}', 2], ['{ns="y"}', 3]]);
    expect(await q(`count(${C})`)).toEqual([['{}', 5]]);
  });
  it('stddev and stdvar are population statistics', async () => {
    // x: 3, 1 → mean 2, variance 1. y: 3, 2, 1 → mean 2, variance 2/3.
    const v = await q(`stdvar by (ns) (${C})`);
    expect(v[0]).toEqual(['{ns="x"}', 1]);
    expect(v[1]![1]).toBeCloseTo(2 / 3, 12);
    const d = await q(`stddev by (ns) (${C})`);
    expect(d[0]).toEqual(['{ns="x"}', 1]);
    expect(d[1]![1]).toBeCloseTo(Math.sqrt(2 / 3), 12);
  });
  it('nests', async () => {
    // max per ns: 3 and 3; summed: 6.
    expect(await q(`sum(max by (ns) (${C}))`)).toEqual([['{}', 6]]);
  });
});

describe('topk / bottomk', () => {
  it('keep the k largest / smallest; among ties the first series in label order wins', async () => {
    // p1 and p3 both have 3: p1 sorts first.
    expect(await q(`topk(1, ${C})`)).toEqual([[P(1, 'x'), 3]]);
    expect(await q(`topk(2, ${C})`)).toEqual([[P(1, 'x'), 3], [P(3, 'y'), 3]]);
    // p2 and p5 both have 1: p2 sorts first.
    expect(await q(`bottomk(1, ${C})`)).toEqual([[P(2, 'x'), 1]]);
    expect(await q(`bottomk(3, ${C})`)).toEqual([[P(2, 'x'), 1], [P(4, 'y'), 2], [P(5, 'y'), 1]]);
  });
  it('work per group and keep the input labels', async () => {
    expect(await q(`topk by (ns) (1, ${C})`)).toEqual([[P(1, 'x'), 3], [P(3, 'y'), 3]]);
    expect(await q(`bottomk(1, ${C}) by (ns)`)).toEqual([[P(2, 'x'), 1], [P(5, 'y'), 1]].sort());
  });
  it('a k larger than the vector keeps everything', async () => {
    expect((await q(`topk(10, ${C})`)).length).toBe(5);
  });
  it('are evaluated per step in range queries', async () => {
    // ns=y: p3 lines at 10,11,12 s; p4 at 10,11; p5 at 10.
    const r = await range(`topk(1, count_over_time({app="v", ns="y"}[2s]))`, V, { start: 11, end: 13, step: 1 });
    // t=11: (9,11] p3 2, p4 2, p5 1 → tie p3/p4 → p3. t=12: (10,12] p3 2, p4 1 → p3. t=13: (11,13] p3 1 → p3.
    expect(r).toEqual({ [P(3, 'y')]: [[11, 2], [12, 2], [13, 1]] });
  });
});

describe('sort / sort_desc', () => {
  it('instant results keep the value order (ties by labels)', async () => {
    expect(await q(`sort(${C})`)).toEqual([[P(2, 'x'), 1], [P(5, 'y'), 1], [P(4, 'y'), 2], [P(1, 'x'), 3], [P(3, 'y'), 3]]);
    expect(await q(`sort_desc(${C})`)).toEqual([[P(1, 'x'), 3], [P(3, 'y'), 3], [P(4, 'y'), 2], [P(2, 'x'), 1], [P(5, 'y'), 1]]);
    // sort anywhere in the query keeps the evaluator's order (Loki's Sortable).
    expect(await q(`sort_desc(${C}) * 2`)).toEqual([[P(1, 'x'), 6], [P(3, 'y'), 6], [P(4, 'y'), 4], [P(2, 'x'), 2], [P(5, 'y'), 2]]);
  });
  it('without sort, instant vectors are sorted by labels (topk included)', async () => {
    expect(await q(`bottomk(2, ${C})`)).toEqual([[P(2, 'x'), 1], [P(5, 'y'), 1]]);
    expect((await q(`sum by (pod) (${C})`)).map(([k]) => k)).toEqual(['{pod="p1"}', '{pod="p2"}', '{pod="p3"}', '{pod="p4"}', '{pod="p5"}']);
  });
});
