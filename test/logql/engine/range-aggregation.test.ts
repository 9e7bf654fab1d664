/**
 * Range aggregations against values computed by hand. Windows are (t − range − offset, t − offset]:
 * a sample exactly at t counts, one exactly at t − range does not.
 */
import { describe, expect, it } from 'vitest';
import { instant, range, stream } from './helpers.js';

// info: 10 20 30 31 60 s; error: 15 60 s.
const A = [
  stream({ app: 'a', level: 'info' }, [[10, 'x'], [20, 'y'], [30, 'z'], [31, 'w'], [60, 'v']]),
  stream({ app: 'a', level: 'error' }, [[15, 'e'], [60, 'f']]),
  stream({ app: 'other' }, [[30, 'o']]),
];
const INFO = '{app="a", level="info"}';
const ERROR = '{app="a", level="error"}';

describe('count_over_time / rate windows', () => {
  it('counts (t − range, t]: the sample at t counts, the one at t − range does not', async () => {
    const r = await range('count_over_time({app="a"}[30s])', A, { start: 30, end: 60, step: 10 });
    expect(r).toEqual({
      // t=30: (0,30] → 10,20,30; t=40: (10,40] → 20,30,31 (10 is on the open edge);
      // t=50: (20,50] → 30,31; t=60: (30,60] → 31,60.
      [INFO]: [[30, 3], [40, 3], [50, 2], [60, 2]],
      // t=30,40: 15; t=50: (20,50] has nothing, so no point; t=60: 60.
      [ERROR]: [[30, 1], [40, 1], [60, 1]],
    });
    // The matrix is sorted by labels: error < info.
    expect(Object.keys(r)).toEqual([ERROR, INFO]);
  });

  it('rate is count / range seconds', async () => {
    const r = await range('rate({app="a"}[30s])', A, { start: 30, end: 60, step: 10 });
    expect(r[INFO]).toEqual([[30, 3 / 30], [40, 3 / 30], [50, 2 / 30], [60, 2 / 30]]);
    expect(r[ERROR]).toEqual([[30, 1 / 30], [40, 1 / 30], [60, 1 / 30]]);
  });

  it('end is inclusive and steps are start + k·step', async () => {
    // steps 30, 55 (80 > 60 stops): t=55: (25,55] → 30,31.
    const r = await range('count_over_time({app="a", level="info"}[30s])', A, { start: 30, end: 60, step: 25 });
    expect(r).toEqual({ [INFO]: [[30, 3], [55, 2]] });
  });

  it('offset shifts the window back and keeps the evaluation timestamps', async () => {
    const r = await range('count_over_time({app="a", level="info"}[30s] offset 10s)', A, { start: 40, end: 70, step: 10 });
    // t=40: (0,30] → 3; t=50: (10,40] → 3; t=60: (20,50] → 2; t=70: (30,60] → 2.
    expect(r).toEqual({ [INFO]: [[40, 3], [50, 3], [60, 2], [70, 2]] });
    // Instant at 50 s, [10s] offset 20s: (20,30] → only 30 (20 is on the open edge).
    expect(await instant('count_over_time({app="a", level="info"}[10s] offset 20s)', A, 50)).toEqual([[INFO, 1]]);
  });

  it('instant queries evaluate one window ending at the query time', async () => {
    expect(await instant('count_over_time({app="a"}[1m])', A, 60)).toEqual([
      [ERROR, 2],
      [INFO, 5],
    ]);
    // (0,9.999] is empty: no sample at all.
    expect(await instant('count_over_time({app="a"}[9s])', A, 9)).toEqual([]);
  });

  it('sum by pushes grouping into extraction and merges interleaved streams in time order', async () => {
    const r = await range('sum by (app) (count_over_time({app="a"}[30s]))', A, { start: 30, end: 60, step: 10 });
    expect(r).toEqual({ '{app="a"}': [[30, 4], [40, 4], [50, 2], [60, 3]] });
  });
});

describe('bytes', () => {
  // "hello" 5 bytes, "hi" 2, "héllo" 6 (é is two bytes in UTF-8).
  const B = [stream({ app: 'b' }, [[10, 'hello'], [20, 'hi'], [30, 'héllo']])];
  it('bytes_over_time and bytes_rate sum the line bytes', async () => {
    expect(await instant('bytes_over_time({app="b"}[30s])', B, 30)).toEqual([['{app="b"}', 13]]);
    expect(await instant('bytes_rate({app="b"}[30s])', B, 30)).toEqual([['{app="b"}', 13 / 30]]);
    // t=20: (5,20] → 5+2; t=30: (15,30] → 2+6; t=40: (25,40] → 6.
    expect(await range('bytes_over_time({app="b"}[15s])', B, { start: 20, end: 40, step: 10 })).toEqual({
      '{app="b"}': [[20, 7], [30, 8], [40, 6]],
    });
  });
});

describe('unwrapped range aggregations', () => {
  // h1: 2 4 6 8 at 10..40 s; h2: 10 at 25 s, 1 at 35 s. Window at t=40 with [40s]: (0,40] holds all.
  const U = [
    stream({ app: 'u', host: 'h1' }, [[10, 'v=2'], [20, 'v=4'], [30, 'v=6'], [40, 'v=8']]),
    stream({ app: 'u', host: 'h2' }, [[25, 'v=10'], [35, 'v=1']]),
  ];
  const H1 = '{app="u", host="h1"}';
  const H2 = '{app="u", host="h2"}';
  const at40 = (op: string, extra = ''): Promise<[string, number][]> =>
    instant(`${op}({app="u"} | logfmt | unwrap v${extra} [40s])`, U, 40);

  it('sum / avg / min / max / first / last', async () => {
    expect(await at40('sum_over_time')).toEqual([[H1, 20], [H2, 11]]);
    expect(await at40('avg_over_time')).toEqual([[H1, 5], [H2, 5.5]]);
    expect(await at40('min_over_time')).toEqual([[H1, 2], [H2, 1]]);
    expect(await at40('max_over_time')).toEqual([[H1, 8], [H2, 10]]);
    expect(await at40('first_over_time')).toEqual([[H1, 2], [H2, 10]]);
    expect(await at40('last_over_time')).toEqual([[H1, 8], [H2, 1]]);
  });

  it('rate with unwrap is sum / range seconds', async () => {
    expect(await at40('rate')).toEqual([[H1, 20 / 40], [H2, 11 / 40]]);
  });

  it('stdvar / stddev are population variance / deviation', async () => {
    // h1: mean 5, squared deviations 9+1+1+9 = 20 → 20/4 = 5. h2: mean 5.5, 2·20.25/2 = 20.25.
    const v = await at40('stdvar_over_time');
    expect(v[0]![1]).toBeCloseTo(5, 12);
    expect(v[1]![1]).toBeCloseTo(20.25, 12);
    const d = await at40('stddev_over_time');
    expect(d[0]![1]).toBeCloseTo(Math.sqrt(5), 12);
    expect(d[1]![1]).toBeCloseTo(4.5, 12);
  });

  it('quantile_over_time interpolates between closest ranks', async () => {
    // h1 sorted 2 4 6 8: φ=0.5 → rank 1.5 → (4+6)/2; φ=0.9 → rank 2.7 → 6·0.3 + 8·0.7 = 7.4. h2: 1 10 → 5.5.
    const q5 = await instant('quantile_over_time(0.5, {app="u"} | logfmt | unwrap v [40s])', U, 40);
    expect(q5).toEqual([[H1, 5], [H2, 5.5]]);
    const q9 = await instant('quantile_over_time(0.9, {app="u"} | logfmt | unwrap v [40s])', U, 40);
    expect(q9[0]![1]).toBeCloseTo(7.4, 12);
    // φ > 1 is +Inf, as Prometheus.
    const q2 = await instant('quantile_over_time(2, {app="u"} | logfmt | unwrap v [40s])', U, 40);
    expect(q2[0]![1]).toBe(Infinity);
  });

  it('grouping on the range aggregation merges the series’ samples', async () => {
    // All six samples 2 4 6 8 10 1 in one series.
    expect(await instant('max_over_time({app="u"} | logfmt | unwrap v [40s]) by (app)', U, 40)).toEqual([['{app="u"}', 10]]);
    const avg = await instant('avg_over_time({app="u"} | logfmt | unwrap v [40s]) without (host)', U, 40);
    expect(avg.map(([k]) => k)).toEqual(['{app="u"}']);
    expect(avg[0]![1]).toBeCloseTo(31 / 6, 12);
    // In time order: 10:2 20:4 25:10 30:6 35:1 40:8.
    expect(await instant('first_over_time({app="u"} | logfmt | unwrap v [40s]) by (app)', U, 40)).toEqual([['{app="u"}', 2]]);
    expect(await instant('last_over_time({app="u"} | logfmt | unwrap v [40s]) by (app)', U, 40)).toEqual([['{app="u"}', 8]]);
    expect(await instant('min_over_time({app="u"} | logfmt | unwrap v [40s]) by ()', U, 40)).toEqual([['{}', 1]]);
  });

  it('post-unwrap filters see the unwrapped label', async () => {
    expect(await at40('sum_over_time', ' | v > 5')).toEqual([[H1, 14], [H2, 10]]);
  });
});

describe('rate_counter (Prometheus extrapolation over the query window)', () => {
  const C = [stream({ app: 'c' }, [[10, 'c=10'], [20, 'c=20'], [30, 'c=30'], [40, 'c=5'], [50, 'c=15']])];
  it('adds counter resets and extrapolates to the window edges', async () => {
    // increase = 15 − 10 + 30 (reset) = 35. Window (0,60]: 10 s to the start and to the end, both
    // below 1.1 × the 10 s average interval → extrapolate over 40+10+10 = 60 s: 35·60/40/60 = 0.875.
    const r = await instant('rate_counter({app="c"} | logfmt | unwrap c [60s])', C, 60);
    expect(r[0]![1]).toBeCloseTo(0.875, 12);
  });
  it('extrapolates only half an interval past a far edge', async () => {
    // Window (0,100]: 50 s to the end ≥ 11 → 5 s. (40+10+5)/40/100 · 35 = 0.48125.
    const r = await instant('rate_counter({app="c"} | logfmt | unwrap c [100s])', C, 100);
    expect(r[0]![1]).toBeCloseTo(0.48125, 12);
  });
  it('does not extrapolate below zero', async () => {
    // 1, 11, 21 at 30/40/50 s, window (0,60]: start gap 30 s → 5 s, then zero point 20·1/20 = 1 s.
    // (20+1+10)/20/60 · 20 = 31/60.
    const Z = [stream({ app: 'z' }, [[30, 'c=1'], [40, 'c=11'], [50, 'c=21']])];
    const r = await instant('rate_counter({app="z"} | logfmt | unwrap c [60s])', Z, 60);
    expect(r[0]![1]).toBeCloseTo(31 / 60, 12);
  });
  it('uses the offset window as the extrapolation bounds', async () => {
    // At t=70 with offset 10s the window is (0,60] again: same 0.875; the range query steps agree.
    const r = await instant('rate_counter({app="c"} | logfmt | unwrap c [60s] offset 10s)', C, 70);
    expect(r[0]![1]).toBeCloseTo(0.875, 12);
    const m = await range('rate_counter({app="c"} | logfmt | unwrap c [60s] offset 10s)', C, { start: 70, end: 110, step: 40 });
    // t=110: window (40,100] holds only 50:15 → a single sample → 0.
    expect(m['{app="c"}']!.map(([t]) => t)).toEqual([70, 110]);
    expect(m['{app="c"}']![0]![1]).toBeCloseTo(0.875, 12);
    expect(m['{app="c"}']![1]![1]).toBe(0);
  });
  it('gives 0 for a single sample (Loki)', async () => {
    expect(await instant('rate_counter({app="c"} | logfmt | unwrap c [5s])', C, 50)).toEqual([['{app="c"}', 0]]);
  });
});

describe('absent_over_time', () => {
  it('is 1 with the equality matchers’ labels where no series has samples', async () => {
    // error stream: 15 and 60 s. Windows of 10 s: (20,30] (30,40] (40,50] empty, (50,60] has 60.
    const r = await range('absent_over_time({app="a", level="error"}[10s])', A, { start: 30, end: 60, step: 10 });
    expect(r).toEqual({ [ERROR]: [[30, 1], [40, 1], [50, 1]] });
  });
  it('leaves out names with a non-equality matcher', async () => {
    expect(await instant('absent_over_time({app="a", level=~"nope.*"}[10s])', A, 60)).toEqual([['{app="a"}', 1]]);
    expect(await instant('absent_over_time({app="a"}[10s])', A, 60)).toEqual([]);
  });
});

describe('NaN handling follows Loki', () => {
  // NaN parses as a float (Go accepts "NaN"): values 1, NaN, 3.
  const N = [stream({ app: 'n' }, [[10, 'v=1'], [20, 'v=NaN'], [30, 'v=3']])];
  it('quantile sorts NaN first (HeapByMaxValue)', async () => {
    // sorted: NaN 1 3; φ=1 → the last = 3; φ=0.5 → rank 1 → 1.
    expect(await instant('quantile_over_time(1, {app="n"} | logfmt | unwrap v [1m])', N, 30)).toEqual([['{app="n"}', 3]]);
    expect(await instant('quantile_over_time(0.5, {app="n"} | logfmt | unwrap v [1m])', N, 30)).toEqual([['{app="n"}', 1]]);
  });
  it('max/min skip NaN unless it comes first', async () => {
    expect(await instant('max_over_time({app="n"} | logfmt | unwrap v [1m])', N, 30)).toEqual([['{app="n"}', 3]]);
    expect(await instant('min_over_time({app="n"} | logfmt | unwrap v [1m])', N, 30)).toEqual([['{app="n"}', 1]]);
  });
});
