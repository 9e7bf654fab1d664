/**
 * Label filter expressions (Loki's pkg/logql/log/label_filter.go).
 *
 * - string: Prometheus matcher on the value, a missing label counts as "".
 * - numeric / duration / bytes: a missing label drops the line; a value that does not convert keeps
 *   the line and sets `__error__="LabelFilterErr"` with the conversion error in `__error_details__`;
 *   a line that already has an error passes (only string filters can filter errors out).
 * - ip: `=`/`!=`: whether the value contains an address inside the pattern (the same search as the
 *   `ip()` line filter); a missing label drops the line.
 * - `and` evaluates both sides (so both can set errors), `or` stops at a passing left side.
 */
import type { ComparisonOp, LabelFilterExpr, LabelFilterStage } from '../ast.js';
import { compileMatcher } from '../matcher.js';
import { parseGoFloat } from '../syntax/numbers.js';
import { IpMatcher } from './ip.js';
import { LABEL_FILTER_ERR, type LabelsBuilder } from './labels.js';
import type { Stage } from './stage.js';
import { parseHumanizeBytes } from '../syntax/bytes.js';
import { parseGoDuration as parseGoDurationNs } from '../syntax/duration.js';

interface Filter {
  test(lbs: LabelsBuilder): boolean;
}

function compare(op: ComparisonOp, a: number, b: number): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
  }
}

const quote = (s: string): string => JSON.stringify(s);

/** Thrown by the converters; carries Go's error text. */
export class ConversionError {
  constructor(readonly message: string) {}
}

const SPECIAL = /^(?:inf|infinity|nan)$/i;

/** Go `strconv.ParseFloat(v, 64)` for label values: decimal and hex floats, an optional sign, inf and nan. */
export function parseFloatValue(v: string): number {
  const sign = v[0] === '-' ? -1 : 1;
  const body = v[0] === '-' || v[0] === '+' ? v.slice(1) : v;
  if (SPECIAL.test(body)) return /nan/i.test(body) ? NaN : sign * Infinity;
  try {
    return sign * parseGoFloat(body);
  } catch (e) {
    const range = (e as Error).message.endsWith('value out of range');
    throw new ConversionError(`strconv.ParseFloat: parsing ${quote(v)}: ${range ? 'value out of range' : 'invalid syntax'}`);
  }
}

/** Go `time.ParseDuration` on a label value; a bad value is a ConversionError (LabelFilterErr). */
export function parseGoDuration(v: string): number {
  try {
    return parseGoDurationNs(v);
  } catch (err) {
    throw new ConversionError((err as Error).message);
  }
}

/** go-humanize `ParseBytes` on a label value; a bad value is a ConversionError (LabelFilterErr). */
export function parseBytesValue(v: string): number {
  try {
    return parseHumanizeBytes(v);
  } catch (err) {
    throw new ConversionError((err as Error).message);
  }
}

class StringFilter implements Filter {
  private readonly match: (v: string) => boolean;
  constructor(private readonly name: string, m: Parameters<typeof compileMatcher>[0]) {
    this.match = compileMatcher(m);
  }
  test(lbs: LabelsBuilder): boolean {
    return this.match(lbs.get(this.name) ?? '');
  }
}

/** numeric, duration and bytes filters: convert the value, then compare. */
class ConvertingFilter implements Filter {
  constructor(
    private readonly name: string,
    private readonly op: ComparisonOp,
    private readonly expected: number,
    private readonly convert: (v: string) => number,
  ) {}
  test(lbs: LabelsBuilder): boolean {
    if (lbs.hasError()) return true;
    const v = lbs.get(this.name);
    if (v === undefined) return false;
    let n: number;
    try {
      n = this.convert(v);
    } catch (e) {
      if (!(e instanceof ConversionError)) throw e;
      lbs.setError(LABEL_FILTER_ERR, e.message);
      return true;
    }
    return compare(this.op, n, this.expected);
  }
}

class IpFilter implements Filter {
  private readonly ip: IpMatcher;
  constructor(private readonly name: string, private readonly negate: boolean, pattern: string) {
    this.ip = new IpMatcher(pattern);
  }
  test(lbs: LabelsBuilder): boolean {
    if (lbs.hasError()) return true;
    const v = lbs.get(this.name);
    if (v === undefined) return false;
    return this.ip.matchesAnyInText(v) !== this.negate;
  }
}

class AndFilter implements Filter {
  constructor(private readonly left: Filter, private readonly right: Filter) {}
  test(lbs: LabelsBuilder): boolean {
    const l = this.left.test(lbs);
    const r = this.right.test(lbs);
    return l && r;
  }
}

class OrFilter implements Filter {
  constructor(private readonly left: Filter, private readonly right: Filter) {}
  test(lbs: LabelsBuilder): boolean {
    return this.left.test(lbs) || this.right.test(lbs);
  }
}

function compileFilter(e: LabelFilterExpr): Filter {
  switch (e.kind) {
    case 'StringFilter':
      return new StringFilter(e.matcher.name, e.matcher);
    case 'NumericFilter':
      return new ConvertingFilter(e.name, e.op, e.value, parseFloatValue);
    case 'DurationFilter':
      return new ConvertingFilter(e.name, e.op, e.durationNs, parseGoDuration);
    case 'BytesFilter':
      return new ConvertingFilter(e.name, e.op, e.bytes, parseBytesValue);
    case 'IpFilter':
      return new IpFilter(e.name, e.op === '!=', e.pattern);
    case 'AndFilter':
      return new AndFilter(compileFilter(e.left), compileFilter(e.right));
    case 'OrFilter':
      return new OrFilter(compileFilter(e.left), compileFilter(e.right));
  }
}

export class LabelFilter implements Stage {
  private readonly filter: Filter;

  /** Throws for a bad regex or ip() pattern. */
  constructor(stage: LabelFilterStage) {
    this.filter = compileFilter(stage.filter);
  }

  process(_ts: bigint, line: Uint8Array, lbs: LabelsBuilder): Uint8Array | null {
    return this.filter.test(lbs) ? line : null;
  }
}
