/** `static_labels`: sets fixed labels on every entry (Promtail `stages/static_labels.go`). */
import type { Stage, StageEntry } from './types.js';

export class StaticLabelsStage implements Stage {
  private readonly pairs: [string, string][];

  constructor(config: Record<string, string>) {
    // Promtail skips a label whose value is empty; the config reader already rejects those.
    this.pairs = Object.entries(config).filter(([, value]) => value !== '');
  }

  process(entry: StageEntry): StageEntry {
    for (const [name, value] of this.pairs) entry.labels.set(name, value);
    return entry;
  }
}
