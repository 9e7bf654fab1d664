/**
 * The dot of `line_format`/`label_format` templates: the line's current labels as a Go
 * `map[string]string` (every category, plus `__error__`/`__error_details__` when set), like
 * Loki's `LabelsBuilder.Map()`. A live view over the LabelsBuilder: nothing is copied unless the
 * template ranges over the map or asks for its length.
 */
import type { GoMap } from '../template/index.js';
import type { LabelsBuilder } from './labels.js';

export class LabelsDot implements GoMap {
  readonly kind = 'map';
  readonly goType = 'map[string]string';
  lbs: LabelsBuilder | null = null;

  lookup(key: string): string | undefined {
    return this.lbs!.get(key);
  }

  sortedKeys(): string[] {
    const keys: string[] = [];
    this.lbs!.forEach((name) => keys.push(name));
    return keys.sort();
  }

  get size(): number {
    let n = 0;
    this.lbs!.forEach(() => n++);
    return n;
  }
}

/** A copy of the labels as a Go map (Loki's `IntoMap`), for stages that change labels between templates. */
export function labelsSnapshot(lbs: LabelsBuilder): Map<string, string> {
  const m = new Map<string, string>();
  lbs.forEach((name, value) => m.set(name, value));
  return m;
}
