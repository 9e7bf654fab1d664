/**
 * The `logfmt` parser (Loki's `LogfmtParser`/`LogfmtExpressionParser` and its go-logfmt based decoder).
 *
 * A pair is `key`, `key=`, `key=value` or `key="quoted \"value\""`; keys and bare values end at a
 * space or control character, and an `=` or `"` inside them is a syntax error. Keys are sanitised,
 * the first of duplicate keys wins, and an empty value is dropped unless `--keep-empty`.
 * Without `--strict` a malformed pair is skipped (up to the next space) and parsing goes on; with
 * `--strict` parsing stops there and `__error__="LogfmtParserErr"` is set, with
 * `__error_details__="logfmt syntax error at pos N : msg"` (N is 1-based, in bytes).
 */
import type { LogfmtParserStage } from '../ast.js';
import { LOGFMT_PARSER_ERR, type LabelsBuilder } from './labels.js';
import { replaceRuneError, SanitizeCache, sanitizeKey } from './sanitize.js';
import type { Stage } from './stage.js';

/** A streaming logfmt decoder over one line; `next()` advances to the next pair. */
class Decoder {
  s = '';
  p = 0;
  key = '';
  value = '';
  /** Set when `next()` returned false because of a syntax error. */
  errMsg = '';
  /** UTF-16 index the error is reported at (Go's `pos`; reported as byte position + 1). */
  errPos = 0;

  reset(s: string): void {
    this.s = s;
    this.p = 0;
    this.errMsg = '';
  }

  eol(): boolean {
    return this.p >= this.s.length;
  }

  /** Records an error at `at` and resumes at `resume`. */
  private fail(msg: string, at: number, resume: number): false {
    this.errMsg = msg;
    this.errPos = at;
    this.p = resume;
    return false;
  }

  /** Error at `at`, resuming at the next space or control character (go-logfmt's skip_value). */
  private failSkip(msg: string, at: number): false {
    const s = this.s;
    let p = at;
    while (p < s.length && s.charCodeAt(p) > 32) p++;
    return this.fail(msg, at, p);
  }

  /** Decodes the next pair into key/value. False at the end of the line or on a syntax error. */
  next(): boolean {
    const s = this.s;
    const n = s.length;
    let p = this.p;
    this.errMsg = '';
    this.key = '';
    this.value = '';
    while (p < n && s.charCodeAt(p) <= 32) p++;
    if (p >= n) {
      this.p = n;
      return false;
    }
    const keyStart = p;
    for (; p < n; p++) {
      const c = s.charCodeAt(p);
      if (c === 61) break; // =
      if (c === 34) return this.failSkip(`unexpected '"'`, p);
      if (c <= 32) break;
    }
    if (p === keyStart) return this.failSkip(`unexpected '='`, p);
    this.key = s.slice(keyStart, p);
    // Invalid UTF-8 in a key (decoded as U+FFFD) is an error.
    if (this.key.includes('\uFFFD')) {
      return p < n && s.charCodeAt(p) === 61 ? this.failSkip('invalid key', p) : this.fail('invalid key', p, p);
    }
    if (p >= n || s.charCodeAt(p) !== 61) {
      this.p = p;
      return true;
    }
    p++; // past '='
    if (p >= n || s.charCodeAt(p) <= 32) {
      this.p = p;
      return true;
    }
    if (s.charCodeAt(p) === 34) return this.quoted(p);
    const valStart = p;
    for (; p < n; p++) {
      const c = s.charCodeAt(p);
      if (c === 61) return this.failSkip(`unexpected '='`, p);
      if (c === 34) return this.failSkip(`unexpected '"'`, p);
      if (c <= 32) break;
    }
    this.value = s.slice(valStart, p);
    this.p = p;
    return true;
  }

  private quoted(start: number): boolean {
    const s = this.s;
    const n = s.length;
    let hasEsc = false;
    for (let p = start + 1; p < n; p++) {
      const c = s.charCodeAt(p);
      if (c === 92) {
        hasEsc = true;
        p++;
      } else if (c === 34) {
        this.p = p + 1;
        if (!hasEsc) {
          this.value = s.slice(start + 1, p);
          return true;
        }
        try {
          this.value = JSON.parse(s.slice(start, p + 1)) as string;
        } catch {
          return this.fail('invalid quoted value', p + 1, p + 1);
        }
        return true;
      }
    }
    return this.fail('unterminated quoted value', n, n);
  }
}

function syntaxError(dec: Decoder): string {
  const pos = Buffer.byteLength(dec.s.slice(0, dec.errPos)) + 1;
  return `logfmt syntax error at pos ${pos} : ${dec.errMsg}`;
}

/** `logfmt` without parameters. */
export class LogfmtParser implements Stage {
  private readonly dec = new Decoder();
  private readonly keys = new SanitizeCache();
  private readonly seen = new Set<string>();

  /** `required`: the only labels the query reads (parser hints); undefined extracts every pair. */
  constructor(
    private readonly strict: boolean,
    private readonly keepEmpty: boolean,
    private readonly required?: ReadonlySet<string>,
  ) {}

  process(_ts: bigint, line: Uint8Array, lbs: LabelsBuilder): Uint8Array | null {
    const dec = this.dec;
    const required = this.required;
    dec.reset(lbs.lineText(line));
    // Without --strict nothing after the last required pair can change the result: stop there.
    const stopEarly = required !== undefined && !this.strict;
    if (stopEarly && required.size === 0) return line;
    while (!dec.eol()) {
      if (!dec.next()) {
        if (dec.errMsg !== '' && this.strict) {
          lbs.setError(LOGFMT_PARSER_ERR, syntaxError(dec));
          break;
        }
        continue;
      }
      const name = this.keys.get(dec.key);
      if (name === '' || (required !== undefined && !required.has(name))) continue;
      const value = replaceRuneError(dec.value);
      if (value === '' && !this.keepEmpty) continue;
      const n = lbs.resolveName('parsed', name);
      if (this.seen.has(n)) continue;
      this.seen.add(n);
      lbs.set('parsed', n, value);
      if (stopEarly && this.seen.size >= required.size) break;
    }
    dec.reset('');
    if (this.seen.size > 0) this.seen.clear();
    return line;
  }
}

/**
 * `logfmt a, b="c"` (Loki's `LogfmtExpressionParser`): every requested name first gets an empty
 * label unless a stream label has that name; then each pair whose sanitised key equals a requested
 * expression (or, as in Loki, a requested name) sets that label, clash rule applied, a later
 * pair overwriting an earlier one. Values with invalid UTF-8 become "". `--keep-empty` has no
 * effect here.
 */
export class LogfmtExpressionParser implements Stage {
  private readonly dec = new Decoder();
  private readonly keys = new SanitizeCache();
  private readonly names: string[];
  /** Sanitised key → the label names it feeds. */
  private readonly byKey = new Map<string, string[]>();

  constructor(
    private readonly strict: boolean,
    params: LogfmtParserStage['params'],
  ) {
    this.names = [...new Set(params.map((p) => p.name))];
    const byExpr = new Map<string, string[]>();
    for (const p of params) {
      const k = sanitizeKey(p.expression);
      const list = byExpr.get(k) ?? [];
      if (!list.includes(p.name)) list.push(p.name);
      byExpr.set(k, list);
    }
    for (const name of this.names) if (!byExpr.has(name)) byExpr.set(name, [name]);
    this.byKey = byExpr;
  }

  process(_ts: bigint, line: Uint8Array, lbs: LabelsBuilder): Uint8Array | null {
    for (let i = 0; i < this.names.length; i++) {
      const name = this.names[i]!;
      if (!lbs.baseHas(name)) lbs.set('parsed', name, '');
    }
    const dec = this.dec;
    dec.reset(lbs.lineText(line));
    while (!dec.eol()) {
      if (!dec.next()) {
        if (dec.errMsg !== '' && this.strict) {
          lbs.setError(LOGFMT_PARSER_ERR, syntaxError(dec));
          break;
        }
        continue;
      }
      const targets = this.byKey.get(this.keys.get(dec.key));
      if (targets === undefined) continue;
      const value = dec.value.includes('\uFFFD') ? '' : dec.value;
      for (let i = 0; i < targets.length; i++) lbs.set('parsed', targets[i]!, value);
    }
    dec.reset('');
    return line;
  }
}

/** `required`: parser hints (see `compilePipeline`); they only narrow `logfmt` without parameters. */
export function compileLogfmt(stage: LogfmtParserStage, required?: ReadonlySet<string>): Stage {
  return stage.params.length === 0
    ? new LogfmtParser(stage.strict, stage.keepEmpty, required)
    : new LogfmtExpressionParser(stage.strict, stage.params);
}
