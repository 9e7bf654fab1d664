/** The contract every compiled pipeline stage implements (Loki's `log.Stage`). */
import type { LabelsBuilder } from './labels.js';

export interface Stage {
  /**
   * Processes one line: returns the (possibly new) line, or null when the line is dropped.
   * May read and change the labels in `lbs`. Must not allocate closures per call.
   */
  process(ts: bigint, line: Uint8Array, lbs: LabelsBuilder): Uint8Array | null;
}
