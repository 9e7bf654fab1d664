import { describe, expect, it } from 'vitest';

describe("the package's public entry point", () => {
  it("exports parse, format and ParseError as 'skald/logql'", async () => {
    // Resolved through package.json "exports" to the build in dist/ (npm test builds first).
    const logql = await import('skald/logql');
    expect(logql.format(logql.parse('{app="a"}  |=  "x"'))).toBe('{app="a"} |= "x"');
    expect(() => logql.parse('{app=}')).toThrow(logql.ParseError);
  });
});
