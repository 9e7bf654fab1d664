/**
 * Binary operations. L = sum by (ns): x 4, y 6. R = count by (ns): x 2, y 3 (pods: p1 x 3, p2 x 1,
 * p3 y 3, p4 y 2, p5 y 1 lines in the [1m] window at t=60).
 */
import { describe, expect, it } from 'vitest';
import { instant, instantRaw, stream } from './helpers.js';

const lines = (n: number): [number, string][] => Array.from({ length: n }, (_, i) => [10 + i, `l${i}`]);
const V = [
  stream({ app: 'v', ns: 'x', pod: 'p1' }, lines(3)),
  stream({ app: 'v', ns: 'x', pod: 'p2' }, lines(1)),
  stream({ app: 'v', ns: 'y', pod: 'p3' }, lines(3)),
  stream({ app: 'v', ns: 'y', pod: 'p4' }, lines(2)),
  stream({ app: 'v', ns: 'y', pod: 'p5' }, lines(1)),
];
const C = 'count_over_time({app="v"}[1m])';
const L = `sum by (ns) (${C})`;
const R = `count by (ns) (${C})`;
const q = (s: string): Promise<[string, number][]> => instant(s, V, 60);
const X = '{ns="x"}';
const Y = '{ns="y"}';

describe('arithmetic', () => {
  it('vector op vector matches on all labels', async () => {
    expect(await q(`${L} / ${R}`)).toEqual([[X, 2], [Y, 2]]);
    expect(await q(`${L} - ${R}`)).toEqual([[X, 2], [Y, 3]]);
    expect(await q(`${L} % ${R}`)).toEqual([[X, 0], [Y, 0]]);
    expect(await q(`${L} ^ ${R}`)).toEqual([[X, 16], [Y, 216]]);
    expect(await q(`${L} + ${R} * 2`)).toEqual([[X, 8], [Y, 12]]);
  });
  it('vector op scalar and scalar op vector', async () => {
    expect(await q(`${L} * 2`)).toEqual([[X, 8], [Y, 12]]);
    expect(await q(`2 - ${L}`)).toEqual([[X, -2], [Y, -4]]);
    expect(await q(`12 / ${L}`)).toEqual([[X, 3], [Y, 2]]);
  });
  it('division and modulo by zero give NaN (Loki), not ±Inf', async () => {
    const r = await q(`${L} / 0`);
    expect(r.map(([, v]) => Number.isNaN(v))).toEqual([true, true]);
    const m = await q(`${L} % (${R} - ${R})`);
    expect(m.map(([, v]) => Number.isNaN(v))).toEqual([true, true]);
  });
  it('vector(1) + vector(1) at 4000000000 s is one sample of 2', async () => {
    const r = await instantRaw('vector(1)+vector(1)', [], 4000000000);
    expect(r).toEqual({ type: 'vector', samples: [{ labels: [], t: 4000000000000, v: 2 }] });
  });
});

describe('comparisons', () => {
  it('filter by default and keep the vector side’s value', async () => {
    expect(await q(`${L} > 5`)).toEqual([[Y, 6]]);
    expect(await q(`5 < ${L}`)).toEqual([[Y, 6]]);
    expect(await q(`${L} == 4`)).toEqual([[X, 4]]);
    // vector/vector keeps the left value.
    expect(await q(`${L} > ${R}`)).toEqual([[X, 4], [Y, 6]]);
    expect(await q(`${R} > ${L}`)).toEqual([]);
    expect(await q(`${R} <= ${L}`)).toEqual([[X, 2], [Y, 3]]);
  });
  it('with bool return 0/1 for every pair', async () => {
    expect(await q(`${L} > bool 5`)).toEqual([[X, 0], [Y, 1]]);
    expect(await q(`5 >= bool ${L}`)).toEqual([[X, 1], [Y, 0]]);
    expect(await q(`${L} != bool ${R}`)).toEqual([[X, 1], [Y, 1]]);
    expect(await q(`${L} == bool ${R}`)).toEqual([[X, 0], [Y, 0]]);
  });
});

describe('vector matching', () => {
  const LA = `sum by (ns, app) (${C})`;
  it('on (…) keeps only the matching labels, ignoring (…) drops the ignored ones', async () => {
    expect(await q(`${LA} / on (ns) ${R}`)).toEqual([[X, 2], [Y, 2]]);
    expect(await q(`${LA} / ignoring (app) ${R}`)).toEqual([[X, 2], [Y, 2]]);
    // Without matching modifiers the label sets differ: nothing matches.
    expect(await q(`${LA} / ${R}`)).toEqual([]);
  });
  it('group_left divides each pod by its namespace total', async () => {
    expect(await q(`${C} / on (ns) group_left ${L}`)).toEqual([
      ['{app="v", ns="x", pod="p1"}', 0.75],
      ['{app="v", ns="x", pod="p2"}', 0.25],
      ['{app="v", ns="y", pod="p3"}', 0.5],
      ['{app="v", ns="y", pod="p4"}', 2 / 6],
      ['{app="v", ns="y", pod="p5"}', 1 / 6],
    ]);
  });
  const OWNER = `label_replace(${L}, "owner", "team-$1", "ns", "(.*)")`;
  it('group_left (l) copies l from the one side', async () => {
    expect(await q(`count_over_time({app="v", pod="p1"}[1m]) * on (ns) group_left (owner) ${OWNER}`)).toEqual([
      ['{app="v", ns="x", owner="team-x", pod="p1"}', 12],
    ]);
  });
  it('group_right is the mirror image (left value op right value, labels from the right)', async () => {
    expect(await q(`${OWNER} - on (ns) group_right (owner) count_over_time({app="v", pod=~"p1|p2"}[1m])`)).toEqual([
      ['{app="v", ns="x", owner="team-x", pod="p1"}', 4 - 3],
      ['{app="v", ns="x", owner="team-x", pod="p2"}', 4 - 1],
    ]);
    // Filtering comparisons keep the left (one side) value.
    expect(await q(`${OWNER} > on (ns) group_right count_over_time({app="v", pod=~"p1|p2"}[1m])`)).toEqual([
      ['{app="v", ns="x", pod="p1"}', 4],
      ['{app="v", ns="x", pod="p2"}', 4],
    ]);
  });
  it('many-to-one without group_left fails as Loki', async () => {
    await expect(instantRaw(`${C} / on (ns) ${L}`, V, 60)).rejects.toThrow(
      /^multiple matches for labels: many-to-one matching must be explicit \(group_left\/group_right\)$/,
    );
  });
  it('duplicates on the one side fail as Loki', async () => {
    await expect(instantRaw(`${L} / on (ns) ${C}`, V, 60)).rejects.toThrow(
      /^found duplicate series on the right hand-side;many-to-many matching not allowed: matching labels must be unique on one side$/,
    );
    await expect(instantRaw(`${C} / on (ns) group_right ${L}`, V, 60)).rejects.toThrow(/^found duplicate series on the left hand-side;/);
  });
});

describe('and / or / unless', () => {
  const BIG = `(${L} > 5)`;
  it('and keeps left samples with a match', async () => {
    expect(await q(`${C} and on (ns) ${BIG}`)).toEqual([
      ['{app="v", ns="y", pod="p3"}', 3],
      ['{app="v", ns="y", pod="p4"}', 2],
      ['{app="v", ns="y", pod="p5"}', 1],
    ]);
  });
  it('unless keeps left samples without a match', async () => {
    expect(await q(`${C} unless on (ns) ${BIG}`)).toEqual([
      ['{app="v", ns="x", pod="p1"}', 3],
      ['{app="v", ns="x", pod="p2"}', 1],
    ]);
  });
  it('or adds right samples whose signature the left lacks', async () => {
    expect(await q(`${L} or ${R}`)).toEqual([[X, 4], [Y, 6]]);
    expect(await q(`(${L} > 5) or ${R}`)).toEqual([[X, 2], [Y, 6]]);
    expect(await q(`sum(count_over_time({app="none"}[1m])) or vector(0)`)).toEqual([['{}', 0]]);
  });
});
