/**
 * The values that flow between the step evaluators of a metric query.
 *
 * A metric query is evaluated one step at a time, as Loki's `StepEvaluator`s do: every node of the
 * expression produces, for each evaluation time, a vector of samples. A sample names its series by
 * a `SeriesRef`, an object that each node interns once per distinct label set, so that per-series
 * work (grouping keys, matching signatures, label rewrites) is done once per series instead of once
 * per step, and so that maps can be keyed by object identity.
 */
import { labelsKey, type Label, type Labels } from '../pipeline/labels.js';

/** One series: its labels (sorted by name) and their canonical `{a="b", …}` key. */
export interface SeriesRef {
  readonly labels: Labels;
  readonly key: string;
}

/** The samples of one step: `refs[i]` has value `values[i]`. Order matters only for instant queries. */
export interface StepVector {
  readonly refs: SeriesRef[];
  readonly values: number[];
}

/** A node of the evaluation tree: yields the vector of step 0, 1, … in turn. */
export interface StepEvaluator {
  /** The vector of the next step, or null after the last step. Throws QueryError. */
  next(): StepVector | null;
}

export function emptyVector(): StepVector {
  return { refs: [], values: [] };
}

export function makeRef(labels: Labels): SeriesRef {
  return { labels, key: labelsKey(labels) };
}

/** Interns series by canonical key, so that equal label sets share one `SeriesRef`. */
export class RefTable {
  private readonly byKey = new Map<string, SeriesRef>();

  /** The ref for `labels` (sorted by name). */
  intern(labels: Labels): SeriesRef {
    const key = labelsKey(labels);
    let ref = this.byKey.get(key);
    if (ref === undefined) {
      ref = { labels, key };
      this.byKey.set(key, ref);
    }
    return ref;
  }
}

const byName = (a: Label, b: Label): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Sorts a label array by name (in place) and returns it. */
export function sortLabels(labels: Label[]): Label[] {
  return labels.sort(byName);
}

/**
 * Prometheus `labels.Compare`: label by label, name then value, then the shorter set first. This
 * is the order of a matrix result and of Loki's instant vectors.
 */
export function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name) return x.name < y.name ? -1 : 1;
    if (x.value !== y.value) return x.value < y.value ? -1 : 1;
  }
  return a.length - b.length;
}

export function getLabel(labels: Labels, name: string): string | undefined {
  for (let i = 0; i < labels.length; i++) if (labels[i]!.name === name) return labels[i]!.value;
  return undefined;
}

/** Only the labels named in `names` (Prometheus `Keep`, `by (…)`). */
export function keepLabels(labels: Labels, names: ReadonlySet<string>): Label[] {
  const out: Label[] = [];
  for (const l of labels) if (names.has(l.name)) out.push(l);
  return out;
}

/** Every label but those named in `names` (Prometheus `Del`, `without (…)`). */
export function dropLabels(labels: Labels, names: ReadonlySet<string>): Label[] {
  const out: Label[] = [];
  for (const l of labels) if (!names.has(l.name)) out.push(l);
  return out;
}

/** Sets (or, for an empty value, deletes) one label; returns a new sorted array. */
export function setLabel(labels: Labels, name: string, value: string): Label[] {
  const out: Label[] = [];
  for (const l of labels) if (l.name !== name) out.push(l);
  if (value !== '') {
    out.push({ name, value });
    sortLabels(out);
  }
  return out;
}
