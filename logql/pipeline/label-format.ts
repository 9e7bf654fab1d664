/**
 * `| label_format dst=src, dst="{{template}}", …` (Loki's `LabelsFormatter`, pkg/logql/log/fmt.go).
 *
 * - Validation when the pipeline is compiled (Loki's `validate`): a target of `__error__` throws
 *   `__error__ cannot be formatted`; the same target twice throws
 *   `multiple label name 'x' not allowed in a single format operation`. A template syntax error
 *   throws `invalid template for label 'x': template: label:1: …`.
 * - Items run in order. Rename `dst=src`: when `src` exists, `dst` gets its value and `src` is
 *   removed (so `a=a` removes `a`); a missing `src` changes nothing. Error labels are not labels
 *   to Loki's `Get`, so renaming from `__error__` does nothing.
 * - Templates see the labels as they were at the first template item of the stage (Loki fills its
 *   map once, lazily): renames before it are visible, results of earlier templates are not.
 * - Results are set like Loki's `Set(ParsedLabel, …)`: no `_extracted` suffix, and a stream or
 *   structured-metadata label of the same name is replaced.
 * - An execution error sets `__error__="TemplateFormatErr"` and `__error_details__`, leaves that
 *   target unset and goes on with the next item.
 */
import type { LabelFormatStage } from '../ast.js';
import { StringMap, type Template } from '../template/index.js';
import { ERROR_DETAILS_LABEL, ERROR_LABEL, TEMPLATE_FORMAT_ERR, type LabelsBuilder } from './labels.js';
import { compileStageTemplate } from './line-format.js';
import type { Stage } from './stage.js';
import { LabelsDot, labelsSnapshot } from './template-data.js';

type Item = { rename: true; dst: string; src: string } | { rename: false; dst: string; template: Template };

export class LabelsFormatter implements Stage {
  private readonly items: Item[];
  private readonly templates: number;
  private readonly dot = new LabelsDot();

  /** Throws Loki's validation and template errors. */
  constructor(stage: LabelFormatStage) {
    const seen = new Set<string>();
    for (const it of stage.items) {
      if (it.dst === ERROR_LABEL) throw new Error(`${it.dst} cannot be formatted`);
      if (seen.has(it.dst)) throw new Error(`multiple label name '${it.dst}' not allowed in a single format operation`);
      seen.add(it.dst);
    }
    this.items = stage.items.map((it) =>
      it.kind === 'rename'
        ? { rename: true, dst: it.dst, src: it.src }
        : { rename: false, dst: it.dst, template: compileStageTemplate(it.template, 'label', `invalid template for label '${it.dst}': `) },
    );
    this.templates = this.items.filter((i) => !i.rename).length;
  }

  process(ts: bigint, line: Uint8Array, lbs: LabelsBuilder): Uint8Array | null {
    // With one template the live view is the labels "as of the first template"; with more, earlier
    // results must not be visible, so take Loki's snapshot.
    let snapshot: StringMap | null = null;
    let snapshotSize = 0;
    for (const it of this.items) {
      if (it.rename) {
        if (it.src === ERROR_LABEL || it.src === ERROR_DETAILS_LABEL) continue;
        const v = lbs.get(it.src);
        if (v !== undefined) {
          lbs.setFormatted(it.dst, v);
          lbs.delete(it.src);
        }
        continue;
      }
      let data: StringMap | LabelsDot;
      if (this.templates === 1) {
        this.dot.lbs = lbs;
        data = this.dot;
      } else {
        if (snapshot === null || snapshotSize === 0) {
          const m = labelsSnapshot(lbs);
          snapshot = new StringMap(m);
          snapshotSize = m.size;
        }
        data = snapshot;
      }
      try {
        const text = it.template.usesLine ? lbs.lineText(line) : '';
        lbs.setFormatted(it.dst, it.template.execute(data, text, ts));
      } catch (e) {
        // TemplateExecError carries Go's message; anything else is reported the same way.
        lbs.setError(TEMPLATE_FORMAT_ERR, e instanceof Error ? e.message : String(e));
      } finally {
        this.dot.lbs = null;
      }
    }
    return line;
  }
}
