/**
 * `| line_format "<template>"` (Loki's `LineFormatter`, pkg/logql/log/fmt.go): the Go template runs
 * with the line's labels as the dot (`{{.label}}`; a missing label is "" because Loki sets
 * `missingkey=zero`), `__line__` and `__timestamp__` as functions, and its output replaces the line.
 *
 * - A template syntax error throws when the pipeline is compiled: `invalid line template: template: line:1: …`.
 * - An execution error keeps the original line and sets `__error__="TemplateFormatErr"` and
 *   `__error_details__` to Go's message.
 * - Like Loki, a template that is exactly one `{{.name}}` action copies that label's value with
 *   `LabelsBuilder.Get` (which, in Loki, does not see `__error__`/`__error_details__`).
 * - Templates of only text and `{{.name}}` are concatenated without interpretation.
 */
import type { LineFormatStage } from '../ast.js';
import { compileTemplate, type SimplePart, type Template } from '../template/index.js';
import { ERROR_DETAILS_LABEL, ERROR_LABEL, TEMPLATE_FORMAT_ERR, type LabelsBuilder } from './labels.js';
import type { Stage } from './stage.js';
import { LabelsDot } from './template-data.js';

const encoder = new TextEncoder();

/** Compiles a template with Loki's error wrapping; `what` is e.g. "invalid line template: ". */
export function compileStageTemplate(text: string, name: string, prefix: string): Template {
  try {
    return compileTemplate(text, name);
  } catch (e) {
    throw new Error(prefix + (e as Error).message, { cause: e });
  }
}

export class LineFormatter implements Stage {
  readonly template: Template;
  /** Loki's `simpleKey`: the template is exactly `{{.name}}`. */
  private readonly simpleKey: string | null;
  private readonly parts: readonly SimplePart[] | null;
  private readonly dot = new LabelsDot();

  /** Throws for a template syntax error, with Loki's message. */
  constructor(stage: LineFormatStage) {
    this.template = compileStageTemplate(stage.template, 'line', 'invalid line template: ');
    const parts = this.template.simpleParts;
    this.parts = parts;
    this.simpleKey = parts !== null && parts.length === 1 && typeof parts[0] !== 'string' ? parts[0]!.field : null;
  }

  process(ts: bigint, line: Uint8Array, lbs: LabelsBuilder): Uint8Array | null {
    if (this.simpleKey !== null) {
      const k = this.simpleKey;
      const v = k === ERROR_LABEL || k === ERROR_DETAILS_LABEL ? undefined : lbs.get(k);
      return v === undefined || v === '' ? EMPTY : encoder.encode(v);
    }
    const parts = this.parts;
    if (parts !== null) {
      let out = '';
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        out += typeof p === 'string' ? p : (lbs.get(p.field) ?? '');
      }
      return encoder.encode(out);
    }
    const dot = this.dot;
    dot.lbs = lbs;
    try {
      const text = this.template.usesLine ? lbs.lineText(line) : '';
      return encoder.encode(this.template.execute(dot, text, ts));
    } catch (e) {
      // TemplateExecError carries Go's message; anything else (e.g. a stack overflow) is reported the same way.
      lbs.setError(TEMPLATE_FORMAT_ERR, e instanceof Error ? e.message : String(e));
      return line;
    } finally {
      dot.lbs = null;
    }
  }
}

const EMPTY = new Uint8Array(0);
