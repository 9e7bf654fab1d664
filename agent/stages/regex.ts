/**
 * `regex`: matches an RE2 expression against the line, or against the extracted value `source`,
 * and stores every named group in the extracted map (Promtail `stages/regex.go`). The expression
 * is unanchored and `.` does not match a newline unless it says `(?s)` (Go's `regexp.Compile`).
 * A group that took no part in the match stores "" (as Go's `FindStringSubmatch`); no match,
 * a missing or null source changes nothing.
 */
import { compileRegex, regexCaptureNames } from '../../logql/index.js';
import type { RegexStageConfig } from '../config.js';
import { stageInput, type Stage, type StageEntry } from './types.js';

export class RegexStage implements Stage {
  private readonly re: RegExp;
  /** Group numbers (1-based, as in the match array) of the named groups, and their names. */
  private readonly groups: number[] = [];
  private readonly names: string[] = [];
  private readonly source: string | undefined;

  constructor(config: RegexStageConfig) {
    this.re = compileRegex(config.expression, { anchored: false, dotNL: false });
    regexCaptureNames(config.expression).forEach((name, i) => {
      if (name !== '') {
        this.groups.push(i + 1);
        this.names.push(name);
      }
    });
    this.source = config.source;
  }

  process(entry: StageEntry): StageEntry {
    const input = stageInput(entry, this.source);
    if (input === undefined) return entry;
    const match = this.re.exec(input);
    if (match === null) return entry;
    const { groups, names } = this;
    for (let i = 0; i < groups.length; i++) entry.extracted.set(names[i]!, match[groups[i]!] ?? '');
    return entry;
  }
}
