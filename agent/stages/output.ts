/**
 * `output`: replaces the line with an extracted value (Promtail `stages/output.go`). A missing
 * or null value leaves the line as it is; an empty string empties it.
 */
import type { OutputStageConfig } from '../config.js';
import { valueToString, type Stage, type StageEntry } from './types.js';

export class OutputStage implements Stage {
  private readonly source: string;

  constructor(config: OutputStageConfig) {
    this.source = config.source;
  }

  process(entry: StageEntry): StageEntry {
    const value = valueToString(entry.extracted.get(this.source));
    if (value !== undefined) entry.line = value;
    return entry;
  }
}
