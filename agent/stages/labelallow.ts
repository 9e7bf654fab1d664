/** `labelallow`: removes every label not named (Promtail `stages/labelallow.go`). */
import type { Stage, StageEntry } from './types.js';

export class LabelAllowStage implements Stage {
  private readonly allowed: ReadonlySet<string>;

  constructor(names: readonly string[]) {
    this.allowed = new Set(names);
  }

  process(entry: StageEntry): StageEntry {
    for (const name of entry.labels.keys()) {
      if (!this.allowed.has(name)) entry.labels.delete(name);
    }
    return entry;
  }
}
