/**
 * `drop` and `keep` (Loki's `DropLabels`/`KeepLabels`). A bare name drops/keeps that label; a
 * matcher (`name="value"`, `name=~"re"`) only applies when the label's current value matches
 * (a missing label counts as ""). `keep` never removes `__error__`/`__error_details__`.
 */
import type { DropLabelsStage, KeepLabelsStage, NamedLabelMatcher } from '../ast.js';
import { compileMatcher } from '../matcher.js';
import { ERROR_DETAILS_LABEL, ERROR_LABEL, type LabelsBuilder } from './labels.js';
import type { Stage } from './stage.js';

interface CompiledName {
  name: string;
  /** Absent for a bare name. */
  match: ((value: string) => boolean) | undefined;
}

function compileNames(labels: NamedLabelMatcher[]): CompiledName[] {
  return labels.map((l) =>
    l.kind === 'name'
      ? { name: l.name, match: undefined }
      : { name: l.matcher.name, match: compileMatcher(l.matcher) },
  );
}

export class DropLabels implements Stage {
  private readonly names: CompiledName[];

  constructor(stage: DropLabelsStage) {
    this.names = compileNames(stage.labels);
  }

  process(_ts: bigint, line: Uint8Array, lbs: LabelsBuilder): Uint8Array | null {
    for (let i = 0; i < this.names.length; i++) {
      const n = this.names[i]!;
      if (n.match === undefined || n.match(lbs.get(n.name) ?? '')) lbs.delete(n.name);
    }
    return line;
  }
}

export class KeepLabels implements Stage {
  private readonly names: CompiledName[];
  private readonly lbsRef: { lbs: LabelsBuilder | null } = { lbs: null };
  /** Built once: deletes every label no keep entry accepts. */
  private readonly visit: (name: string, value: string) => void;

  constructor(stage: KeepLabelsStage) {
    this.names = compileNames(stage.labels);
    const ref = this.lbsRef;
    const names = this.names;
    this.visit = (name, value) => {
      if (name === ERROR_LABEL || name === ERROR_DETAILS_LABEL) return;
      for (let i = 0; i < names.length; i++) {
        const n = names[i]!;
        if (n.name === name && (n.match === undefined || n.match(value))) return;
      }
      ref.lbs!.delete(name);
    };
  }

  process(_ts: bigint, line: Uint8Array, lbs: LabelsBuilder): Uint8Array | null {
    if (this.names.length === 0) return line;
    this.lbsRef.lbs = lbs;
    lbs.forEach(this.visit);
    this.lbsRef.lbs = null;
    return line;
  }
}
