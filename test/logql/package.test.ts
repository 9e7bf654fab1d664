import { describe, expect, it } from 'vitest';

describe("the package's public entry point", () => {
  it("exports parse, format and ParseError as 'skald/logql'", async () => {
    // Resolved through package.json "exports" to the build in dist/ (npm test builds first).
    const logql = await import('skald/logql');
    expect(logql.format(logql.parse('{app="a"}  |=  "x"'))).toBe('{app="a"} |= "x"');
    expect(() => logql.parse('{app=}')).toThrow(logql.ParseError);
  });

  it('evaluates queries against a LogSource of its caller', async () => {
    const logql = await import('skald/logql');
    const labels = [{ name: 'app', value: 'a' }];
    const lines = ['one', 'two error', 'three'].map((l) => Buffer.from(l));
    const batch = {
      base: 1_000_000_000n,
      offsets: new Float64Array([0, 1, 2]),
      from: 0,
      to: 3,
      line: (i: number) => lines[i]!,
      metadata: () => [],
    };
    const source = { selectStreams: () => [{ labels }], entries: () => [batch] };
    const params = { start: 0n, end: 2_000_000_000n, stepNs: 0n, instant: false, limit: 10, direction: 'forward' as const, intervalNs: 0n, categorizeLabels: false };
    const result = await logql.evaluate(logql.parse('{app="a"} |= "error"'), source, params, logql.unboundedContext());
    expect(result).toEqual({ type: 'streams', streams: [{ labels, streamLabels: labels, entries: [{ ts: 1_000_000_001n, line: 'two error', structuredMetadata: [], parsed: [] }] }] });
  });
});
