import { describe, expect, it } from 'vitest';
import { unboundedContext } from '../../../logql/engine/context.js';
import { evaluateSample } from '../../../logql/engine/metric-query.js';
import { sameWindows } from '../../../logql/engine/range-aggregation.js';
import { IndexedMemorySource, MemorySource, sec, type MemoryStreamInput } from '../../helpers/memory-source.js';
import { seededRandom } from '../../helpers/random.js';
import { sampleExpr } from './helpers.js';

describe('counting blocks from the index', () => {
  it('sameWindows: no window bound k·step or k·step + range inside [min, max)', () => {
    // step 10, range 30, 5 steps: bounds at 0,10,20,30,40 and 30,40,50,60,70.
    expect(sameWindows(1, 9, 10, 30, 5)).toBe(true);
    expect(sameWindows(5, 15, 10, 30, 5)).toBe(false);
    expect(sameWindows(10, 15, 10, 30, 5)).toBe(false); // a bound at min itself
    expect(sameWindows(5, 10, 10, 30, 5)).toBe(true); // a bound at max: (…, 10] still holds 10
    expect(sameWindows(71, 500, 10, 30, 5)).toBe(true); // past every bound
    expect(sameWindows(42, 42, 10, 30, 5)).toBe(true); // one instant
  });

  it('gives the same results as reading every entry (1,000 generated cases)', async () => {
    const random = seededRandom(11);
    const queries = [
      'sum(count_over_time({job="x"}[R]))',
      'sum by (app) (count_over_time({job="x"}[R]))',
      'sum by (app) (rate({job="x"}[R] offset 3s))',
      'sum(count_over_time({job="x"} | json [R]))',
      'count_over_time({job="x"}[R])',
    ];
    let skipped = 0;
    for (let c = 0; c < 1000; c++) {
      const streams: MemoryStreamInput[] = ['a', 'b'].map((app) => ({
        labels: { job: 'x', app },
        entries: Array.from({ length: 1 + Math.floor(random() * 40) }, () => ({
          ts: sec(Math.floor(random() * 200)),
          line: '{"k":"v"}',
          ...(random() < 0.2 ? { metadata: { trace: 't' } } : {}),
        })),
      }));
      const query = queries[Math.floor(random() * queries.length)]!.replace('R', `${1 + Math.floor(random() * 60)}s`);
      const params = { start: sec(Math.floor(random() * 100)), end: sec(100 + Math.floor(random() * 120)), stepNs: sec(1 + Math.floor(random() * 30)), instant: random() < 0.2 };
      if (params.instant) params.start = params.end;
      const batchSize = 1 + Math.floor(random() * 6);
      const plain = await evaluateSample(sampleExpr(query), new MemorySource(streams, batchSize), params, unboundedContext());
      const indexed = new IndexedMemorySource(streams, batchSize);
      const fast = await evaluateSample(sampleExpr(query), indexed, params, unboundedContext());
      expect(fast, `${query} ${JSON.stringify(params, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`).toEqual(plain);
      if (indexed.loads < indexed.offered) skipped++;
    }
    // The fast path did happen in a good share of the cases.
    expect(skipped).toBeGreaterThan(100);
  });
});
