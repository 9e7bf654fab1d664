/**
 * `label_replace(v, dst, replacement, src, regex)` (Loki's `LabelReplaceEvaluator`) and `vector(s)`.
 *
 * label_replace: the regex is anchored (`^(?:regex)$`, Go `regexp.Compile`, so `.` does not match a
 * newline) and matched against the value of `src` ("" when absent). No match: the sample is
 * unchanged. A match: `replacement` is expanded as Go's `Regexp.ExpandString` (`$1`, `${1}`,
 * `$name`, `${name}`, `$$`), `dst` is removed and set to the result when it is not empty.
 */
import type { LabelReplaceExpr } from '../ast.js';
import { compileRegex, regexCaptureNames } from '../regex.js';
import { QueryError } from './context.js';
import { getLabel, RefTable, setLabel, type SeriesRef, type StepEvaluator, type StepVector } from './series.js';
import type { StepGrid } from './steps.js';

/**
 * Go's `Regexp.Expand` template: `$name` takes the longest run of letters, digits and `_`; a name
 * that is a number is a group index; an unknown group expands to ""; `$$` is a literal `$`; a `$`
 * not followed by a valid reference is copied as is.
 */
export function expandTemplate(template: string, match: RegExpExecArray, names: readonly string[]): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const rest = template.slice(i + 1);
    if (rest.startsWith('$')) {
      out += '$';
      i += 2;
      continue;
    }
    let name: string | undefined;
    let consumed = 0;
    if (rest.startsWith('{')) {
      const m = /^\{([A-Za-z0-9_]+)\}/.exec(rest);
      if (m) {
        name = m[1]!;
        consumed = m[0].length;
      }
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(rest);
      if (m) {
        name = m[0];
        consumed = m[0].length;
      }
    }
    if (name === undefined) {
      out += '$';
      i++;
      continue;
    }
    i += 1 + consumed;
    if (/^[0-9]+$/.test(name) && (name.length === 1 || name[0] !== '0') && name.length <= 8) {
      const n = Number(name);
      if (n < match.length) out += match[n] ?? '';
      continue;
    }
    const idx = names.indexOf(name);
    if (idx >= 0) out += match[idx + 1] ?? '';
  }
  return out;
}

class LabelReplaceEvaluator implements StepEvaluator {
  private readonly cache = new Map<SeriesRef, SeriesRef>();
  private readonly table = new RefTable();
  private readonly re: RegExp;
  private readonly names: string[];

  constructor(
    private readonly expr: LabelReplaceExpr,
    private readonly inner: StepEvaluator,
  ) {
    try {
      this.re = compileRegex(expr.regex, { anchored: true, dotNL: false });
      this.names = regexCaptureNames(expr.regex);
    } catch (e) {
      throw new QueryError(`invalid regex in label_replace: ${(e as Error).message}`);
    }
  }

  private replace(ref: SeriesRef): SeriesRef {
    let out = this.cache.get(ref);
    if (out !== undefined) return out;
    const src = getLabel(ref.labels, this.expr.src) ?? '';
    this.re.lastIndex = 0;
    const m = this.re.exec(src);
    if (m === null) {
      out = ref;
    } else {
      const res = expandTemplate(this.expr.replacement, m, this.names);
      out = this.table.intern(setLabel(ref.labels, this.expr.dst, res));
    }
    this.cache.set(ref, out);
    return out;
  }

  next(): StepVector | null {
    const input = this.inner.next();
    if (input === null) return null;
    return { refs: input.refs.map((r) => this.replace(r)), values: input.values };
  }
}

export function labelReplace(expr: LabelReplaceExpr, inner: StepEvaluator): StepEvaluator {
  return new LabelReplaceEvaluator(expr, inner);
}

/** `vector(s)`: at every step one sample without labels. */
export function vectorLiteral(value: number, grid: StepGrid): StepEvaluator {
  const ref: SeriesRef = { labels: [], key: '{}' };
  let k = 0;
  return {
    next(): StepVector | null {
      if (k >= grid.count) return null;
      k++;
      return { refs: [ref], values: [value] };
    },
  };
}
