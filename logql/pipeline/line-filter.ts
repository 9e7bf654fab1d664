/**
 * Line filters: `|=`, `!=`, `|~`, `!~`, `|>`, `!>`, their `or` alternatives and `ip("…")` values
 * (Loki's pkg/logql/log/filter.go). Substring, pattern and ip() tests run on the line bytes;
 * regexes on the decoded text (decoded once per line by the LabelsBuilder).
 */
import type { LineFilterStage, LineFilterValue } from '../ast.js';
import { compileRegex } from '../regex.js';
import { IpMatcher } from './ip.js';
import type { LabelsBuilder } from './labels.js';
import { parsePattern, patternTest, type PatternNode } from './pattern-matcher.js';
import type { Stage } from './stage.js';

/** One positive test of a line (the operator's negation is applied by the stage). */
type Test =
  | { kind: 'contains'; needle: Buffer }
  | { kind: 'regex'; re: RegExp }
  | { kind: 'pattern'; nodes: PatternNode[] }
  | { kind: 'ip'; ip: IpMatcher }
  | { kind: 'true' };

function compileTest(op: LineFilterStage['op'], v: LineFilterValue): Test {
  if (v.kind === 'ip') {
    if (op !== '|=' && op !== '!=') throw new Error('ip: invalid operation');
    return { kind: 'ip', ip: new IpMatcher(v.value) };
  }
  switch (op) {
    case '|=':
    case '!=':
      // Every line contains "", so `|= ""` keeps every line and `!= ""` drops every line.
      return v.value === '' ? { kind: 'true' } : { kind: 'contains', needle: Buffer.from(v.value) };
    case '|~':
    case '!~':
      return { kind: 'regex', re: compileRegex(v.value, { anchored: false }) };
    case '|>':
    case '!>': {
      const nodes = parsePattern(v.value);
      if (nodes.some((n) => n.kind === 'capture' && n.name !== '_')) throw new Error('named captures are not allowed');
      return { kind: 'pattern', nodes };
    }
  }
}

function runTest(t: Test, line: Uint8Array, lbs: LabelsBuilder): boolean {
  switch (t.kind) {
    case 'contains':
      return (Buffer.prototype.indexOf.call(line, t.needle) as number) >= 0;
    case 'regex':
      return t.re.test(lbs.lineText(line));
    case 'pattern':
      return patternTest(t.nodes, line);
    case 'ip':
      return t.ip.matchesAnyIn(line);
    case 'true':
      return true;
  }
}

export class LineFilter implements Stage {
  private readonly tests: Test[];
  private readonly negate: boolean;
  /** True for `|= ""`: the stage keeps every line and can be skipped. */
  readonly isNoop: boolean;

  /** Throws for a bad regex (RegexSyntaxError), a bad ip() pattern, or a named capture in `|>`. */
  constructor(stage: LineFilterStage) {
    this.negate = stage.op[0] === '!';
    this.tests = [stage.value, ...stage.or].map((v) => compileTest(stage.op, v));
    this.isNoop = !this.negate && this.tests.some((t) => t.kind === 'true');
  }

  /** The needle of a plain `|= "…"` (one non-empty substring, no `or`): every kept line contains it. */
  get requiredSubstring(): Uint8Array | undefined {
    const only = this.tests.length === 1 ? this.tests[0]! : undefined;
    return !this.negate && only?.kind === 'contains' ? only.needle : undefined;
  }

  /** Whether the line passes this filter. */
  matches(line: Uint8Array, lbs: LabelsBuilder): boolean {
    let any = false;
    for (let i = 0; i < this.tests.length; i++) {
      if (runTest(this.tests[i]!, line, lbs)) {
        any = true;
        break;
      }
    }
    return any !== this.negate;
  }

  process(_ts: bigint, line: Uint8Array, lbs: LabelsBuilder): Uint8Array | null {
    return this.matches(line, lbs) ? line : null;
  }
}
