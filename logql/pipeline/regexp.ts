/**
 * The `regexp` parser (Loki's `RegexpParser`): the first match of the (unanchored) RE2 regex sets a
 * label per named capture; an unmatched line is kept unchanged, an optional group that did not take
 * part gives an empty value. Compiled with plain `regexp.Compile` semantics (`.` does not match `\n`).
 */
import type { RegexpParserStage } from '../ast.js';
import { compileRegex, regexCaptureNames } from '../regex.js';
import type { LabelsBuilder } from './labels.js';
import type { Stage } from './stage.js';

export class RegexpParser implements Stage {
  private readonly re: RegExp;
  /** Group index → label name ("" for unnamed groups). */
  private readonly names: string[];

  /** Throws RegexSyntaxError for a bad regex and Error when there is no named capture. */
  constructor(stage: RegexpParserStage) {
    this.re = compileRegex(stage.pattern, { anchored: false, dotNL: false });
    this.names = regexCaptureNames(stage.pattern);
    if (!this.names.some((n) => n !== '')) throw new Error('at least one named capture must be supplied');
  }

  process(_ts: bigint, line: Uint8Array, lbs: LabelsBuilder): Uint8Array | null {
    const m = this.re.exec(lbs.lineText(line));
    if (m === null) return line;
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i]!;
      if (name !== '') lbs.set('parsed', name, m[i + 1] ?? '');
    }
    return line;
  }
}
