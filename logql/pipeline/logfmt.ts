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
import { asciiOf, bytesEqual, isWordByte, textOf } from './bytes.js';
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

  /**
   * Moves to the next well-formed pair, skipping malformed ones. False at the end of the line, or
   * with `strict` at the first syntax error, which then sets `__error__`/`__error_details__`.
   */
  nextPair(lbs: LabelsBuilder, strict: boolean): boolean {
    while (!this.eol()) {
      if (this.next()) return true;
      if (this.errMsg !== '' && strict) {
        lbs.setError(LOGFMT_PARSER_ERR, syntaxError(this));
        return false;
      }
    }
    return false;
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

  /** Parser hints without --strict: a scan of the line's bytes for the required keys only. */
  private readonly requiredScan: RequiredPairsScan | undefined;

  /** `required`: the only labels the query reads (parser hints); undefined extracts every pair. */
  constructor(
    private readonly strict: boolean,
    private readonly keepEmpty: boolean,
    private readonly required?: ReadonlySet<string>,
  ) {
    // With --strict a syntax error anywhere sets __error__, so the whole line must be decoded.
    if (required !== undefined && !strict) this.requiredScan = new RequiredPairsScan(required, keepEmpty);
  }

  process(_ts: bigint, line: Uint8Array, lbs: LabelsBuilder): Uint8Array | null {
    const required = this.required;
    if (this.requiredScan !== undefined) {
      this.requiredScan.run(line, lbs);
      return line;
    }
    const dec = this.dec;
    dec.reset(lbs.lineText(line));
    while (dec.nextPair(lbs, this.strict)) {
      const name = this.keys.get(dec.key);
      if (name === '' || (required !== undefined && !required.has(name))) continue;
      const value = replaceRuneError(dec.value);
      if (value === '' && !this.keepEmpty) continue;
      const n = lbs.resolveName('parsed', name);
      if (this.seen.has(n)) continue;
      this.seen.add(n);
      lbs.set('parsed', n, value);
    }
    dec.reset('');
    if (this.seen.size > 0) this.seen.clear();
    return line;
  }
}

const utf8 = new TextDecoder();

/**
 * `logfmt` under parser hints, without --strict: the same pairs as `Decoder` (malformed pairs
 * skipped alike), found on the line's bytes. Keys are compared with the required names in place,
 * only the values of required keys become strings, and the scan stops once every required label is
 * set. A key with bytes outside `[A-Za-z0-9_]` is decoded and sanitised as usual.
 */
class RequiredPairsScan {
  private readonly names: Array<{ name: string; bytes: Uint8Array }>;
  private readonly seen = new Set<string>();

  constructor(
    private readonly required: ReadonlySet<string>,
    private readonly keepEmpty: boolean,
  ) {
    this.names = [...required].map((name) => ({ name, bytes: Buffer.from(name) }));
  }

  run(line: Uint8Array, lbs: LabelsBuilder): void {
    if (this.required.size === 0) return;
    if (this.seen.size > 0) this.seen.clear();
    const n = line.length;
    let p = 0;
    while (p < n) {
      while (p < n && line[p]! <= 32) p++;
      if (p >= n) break;
      const keyStart = p;
      let clean = !(line[p]! >= 48 && line[p]! <= 57);
      let ascii = true;
      let quote = false;
      for (; p < n; p++) {
        const c = line[p]!;
        if (c === 61 || c <= 32) break;
        if (c === 34) {
          quote = true;
          break;
        }
        if (!isWordByte(c)) {
          clean = false;
          if (c >= 0x80) ascii = false;
        }
      }
      if (quote || p === keyStart) {
        // `"` in a key or an empty key: the pair is skipped up to the next space.
        while (p < n && line[p]! > 32) p++;
        continue;
      }
      const keyEnd = p;
      let key: string | undefined;
      if (!ascii) {
        key = utf8.decode(line.subarray(keyStart, keyEnd));
        if (key.includes('\uFFFD')) {
          // Invalid UTF-8 in a key: skipped like Decoder does (the value too, up to a space).
          while (p < n && line[p]! > 32) p++;
          continue;
        }
      }
      // The value: none (bare key or `key=`), quoted, or up to the next space.
      let valueStart = p;
      let valueEnd = p;
      let escaped = false;
      if (p < n && line[p] === 61) {
        p++;
        if (p < n && line[p]! > 32) {
          if (line[p] === 34) {
            let q = p + 1;
            while (q < n && line[q] !== 34) {
              if (line[q] === 92) {
                escaped = true;
                q++;
              }
              q++;
            }
            if (q >= n) return; // unterminated quoted value: Decoder stops at the end of the line
            valueStart = p + 1;
            valueEnd = q;
            p = q + 1;
          } else {
            valueStart = p;
            let bad = false;
            for (; p < n; p++) {
              const c = line[p]!;
              if (c <= 32) break;
              if (c === 61 || c === 34) bad = true;
            }
            if (bad) continue;
            valueEnd = p;
          }
        }
      }
      // An empty value is dropped anyway: no need to work out the key's label name.
      if (valueEnd === valueStart && !this.keepEmpty) continue;
      let name: string | undefined;
      if (clean) {
        name = this.match(line, keyStart, keyEnd);
      } else {
        const sanitized = sanitizeKey(key ?? asciiOf(line, keyStart, keyEnd));
        name = this.required.has(sanitized) ? sanitized : undefined;
      }
      let quoted: string | undefined;
      if (escaped && name !== undefined) {
        try {
          quoted = JSON.parse(utf8.decode(line.subarray(valueStart - 1, valueEnd + 1))) as string;
        } catch {
          continue;
        }
      }
      if (name === undefined) continue;
      const value = replaceRuneError(quoted ?? textOf(line, valueStart, valueEnd));
      if (value === '' && !this.keepEmpty) continue;
      const resolved = lbs.resolveName('parsed', name);
      if (this.seen.has(resolved)) continue;
      this.seen.add(resolved);
      lbs.set('parsed', resolved, value);
      if (this.seen.size >= this.required.size) return;
    }
  }

  /** The required name spelled by `line[start, end)`, if any. */
  private match(line: Uint8Array, start: number, end: number): string | undefined {
    for (const { name, bytes } of this.names) if (bytesEqual(line, start, end, bytes)) return name;
    return undefined;
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
    while (dec.nextPair(lbs, this.strict)) {
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
