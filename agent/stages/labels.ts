/**
 * `labels`: sets labels from extracted values (Promtail `stages/labels.go`). Each key is the
 * label name, its value the extracted name (empty: the same name). A value missing from the
 * extracted map, or null, leaves the label as it is; numbers and booleans become their text.
 */
import { valueToString, type Stage, type StageEntry } from './types.js';

export class LabelsStage implements Stage {
  private readonly names: string[];
  private readonly sources: string[];

  constructor(config: Record<string, string>) {
    this.names = Object.keys(config);
    this.sources = this.names.map((name) => config[name] || name);
  }

  process(entry: StageEntry): StageEntry {
    const { names, sources, } = this;
    for (let i = 0; i < names.length; i++) {
      const value = valueToString(entry.extracted.get(sources[i]!));
      if (value !== undefined) entry.labels.set(names[i]!, value);
    }
    return entry;
  }
}
