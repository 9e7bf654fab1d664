/**
 * The `pattern` parser (Loki's `PatternParser`): `<name>` captures and `<_>` skips, matched on the
 * line bytes. A line that does not fully match extracts what it can (a capture whose following
 * literal is missing takes the rest of the line); a line whose leading literal does not match gets
 * nothing.
 */
import type { PatternParserStage } from '../ast.js';
import { validatePattern } from '../syntax/pattern.js';
import type { LabelsBuilder } from './labels.js';
import { parsePattern, patternExtract, type PatternNode } from './pattern-matcher.js';
import type { Stage } from './stage.js';

export class PatternParser implements Stage {
  private readonly nodes: PatternNode[];
  private readonly names: string[];
  private readonly decoder = new TextDecoder();
  private line: Uint8Array = new Uint8Array(0);
  private lbs: LabelsBuilder | null = null;
  /** Built once, reused for every line. */
  private readonly onCapture: (index: number, start: number, end: number) => void;

  /** Throws with Loki's message for an invalid pattern. */
  constructor(stage: PatternParserStage) {
    const err = validatePattern(stage.pattern);
    if (err !== undefined) throw new Error(err);
    this.nodes = parsePattern(stage.pattern);
    this.names = this.nodes.flatMap((n) => (n.kind === 'capture' && n.name !== '_' ? [n.name] : []));
    this.onCapture = (index, start, end) => {
      this.lbs!.set('parsed', this.names[index]!, this.decoder.decode(this.line.subarray(start, end)));
    };
  }

  process(_ts: bigint, line: Uint8Array, lbs: LabelsBuilder): Uint8Array | null {
    this.line = line;
    this.lbs = lbs;
    patternExtract(this.nodes, line, this.onCapture);
    this.lbs = null;
    return line;
  }
}
