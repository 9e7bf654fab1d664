/** `labeldrop`: removes the named labels (Promtail `stages/labeldrop.go`). */
import type { Stage, StageEntry } from './types.js';

export class LabelDropStage implements Stage {
  constructor(private readonly names: readonly string[]) {}

  process(entry: StageEntry): StageEntry {
    for (const name of this.names) entry.labels.delete(name);
    return entry;
  }
}
