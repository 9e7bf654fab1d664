/**
 * `json` under parser hints: the grammar and errors of `JsonParser` (json.ts) run on the line's
 * bytes, with keys compared in place against the required label names. Only required values
 * become strings, objects are entered only when a required name lies under them, and the scan
 * stops once every required label is set, so a typical line costs one pass over its bytes and no
 * decoding.
 */
import { bytesEqual, isWordByte, textOf } from './bytes.js';
import { BAD_STRING, JsonSyntaxError, MALFORMED, MALFORMED_OBJECT, MAX_DEPTH, TOO_DEEP, UNKNOWN_TYPE, unescapeJson } from './json-syntax.js';
import { JSON_PARSER_ERR, type LabelsBuilder } from './labels.js';
import { replaceRuneError, sanitizeKey } from './sanitize.js';


const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');
const utf8 = new TextDecoder();
/** The prefix of objects no required label lies under: walked for their errors, nothing named. */
const IGNORED = '\u0000';

function isSpace(c: number | undefined): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

export class RequiredJsonScan {
  private b: Uint8Array = new Uint8Array(0);
  private p = 0;
  private readonly names: Array<{ name: string; bytes: Uint8Array }>;
  /** Flattened names some required label lies under (`a` and `a_b` for `a_b_c`). */
  private readonly parents = new Set<string>();
  private readonly parentBytes: Array<{ name: string; bytes: Uint8Array }>;
  /** First bytes of the required and parent names: a plain key starting otherwise names nothing. */
  private readonly firstBytes = new Uint8Array(256);
  private readonly seen = new Set<string>();

  constructor(private readonly required: ReadonlySet<string>) {
    this.names = [...required].map((name) => ({ name, bytes: Buffer.from(name) }));
    for (const name of required) {
      for (let i = name.indexOf('_'); i > 0; i = name.indexOf('_', i + 1)) this.parents.add(name.slice(0, i));
    }
    this.parentBytes = [...this.parents].map((name) => ({ name, bytes: Buffer.from(name) }));
    for (const name of [...required, ...this.parents]) if (name.length > 0) this.firstBytes[name.charCodeAt(0) & 0xff] = 1;
  }

  run(line: Uint8Array, lbs: LabelsBuilder): void {
    this.b = line;
    this.p = 0;
    if (this.seen.size > 0) this.seen.clear();
    try {
      this.ws();
      if (this.b[this.p] !== 123) throw MALFORMED_OBJECT;
      if (this.required.size > 0) this.object('', lbs, 0);
    } catch (e) {
      if (!(e instanceof JsonSyntaxError)) throw e;
      lbs.setError(JSON_PARSER_ERR, e.message);
    }
  }

  private ws(): void {
    const b = this.b;
    let p = this.p;
    while (isSpace(b[p])) p++;
    this.p = p;
  }

  private expect(c: number, err: JsonSyntaxError): void {
    this.ws();
    if (this.b[this.p] !== c) throw err;
    this.p++;
  }

  /** Moves past the string at the cursor; returns its closing quote's index and whether it has escapes. */
  private stringEnd(): { end: number; escaped: boolean } {
    const b = this.b;
    let p = this.p + 1;
    let escaped = false;
    for (;;) {
      const c = b[p];
      if (c === 34) break;
      if (c === undefined) throw MALFORMED;
      if (c === 92) {
        escaped = true;
        p += 2;
      } else p++;
    }
    this.p = p + 1;
    return { end: p, escaped };
  }

  /** A string value at the cursor: a bad escape gives "", as for JsonParser. */
  private stringValue(): string {
    const start = this.p + 1;
    const { end, escaped } = this.stringEnd();
    if (!escaped) return textOf(this.b, start, end);
    const text = utf8.decode(this.b.subarray(start, end));
    return unescapeJson(text, 0, text.length) ?? '';
  }

  /** A number/true/false/null token at the cursor, as text. */
  private scalar(): string {
    const start = this.p;
    this.skipScalar();
    return textOf(this.b, start, this.p);
  }

  /** Moves past a number/true/false/null token (a number is whatever runs up to a delimiter). */
  private skipScalar(): void {
    const b = this.b;
    const start = this.p;
    const c = b[start]!;
    if ((c >= 48 && c <= 57) || c === 45) {
      let p = start + 1;
      for (;;) {
        const d = b[p];
        if (d === undefined || d === 44 || d === 125 || d === 93 || isSpace(d)) break;
        p++;
      }
      this.p = p;
      return;
    }
    const word = c === 116 ? TRUE : c === 102 ? FALSE : c === 110 ? NULL : undefined;
    if (word === undefined || !bytesEqual(b, start, Math.min(start + word.length, b.length), word)) throw UNKNOWN_TYPE;
    this.p = start + word.length;
  }

  private skip(depth: number): void {
    if (depth > MAX_DEPTH) throw TOO_DEEP;
    this.ws();
    const b = this.b;
    const c = b[this.p];
    if (c === 34) {
      this.stringEnd();
    } else if (c === 123 || c === 91) {
      const close = c === 123 ? 125 : 93;
      this.p++;
      this.ws();
      if (b[this.p] === close) {
        this.p++;
        return;
      }
      for (;;) {
        if (c === 123) {
          this.ws();
          if (b[this.p] !== 34) throw MALFORMED_OBJECT;
          this.key();
          this.expect(58, MALFORMED_OBJECT);
        }
        this.skip(depth + 1);
        this.ws();
        const d = b[this.p++];
        if (d === close) return;
        if (d !== 44) throw MALFORMED;
      }
    } else {
      this.skipScalar();
    }
  }

  /**
   * The key at the cursor: its bytes' bounds, and its text when it needs decoding or unescaping
   * (undefined for plain keys, compared in place). A bad escape in a key is an error.
   */
  private key(): { start: number; end: number; text: string | undefined } {
    const start = this.p + 1;
    const { end, escaped } = this.stringEnd();
    if (!escaped) return { start, end, text: undefined };
    const raw = utf8.decode(this.b.subarray(start, end));
    const text = unescapeJson(raw, 0, raw.length);
    if (text === null) throw BAD_STRING;
    return { start, end, text };
  }

  /** The label name of a key under `prefix`, or undefined when it is neither required nor a parent of one. */
  private nameOf(prefix: string, start: number, end: number, text: string | undefined): string | undefined {
    if (prefix === IGNORED) return undefined;
    const b = this.b;
    // A key starting with a letter or `_` keeps that first byte when sanitised.
    const first = b[start]!;
    if (prefix === '' && text === undefined && start < end && isWordByte(first) && !(first >= 48 && first <= 57) && this.firstBytes[first] === 0) {
      return undefined;
    }
    if (prefix === '' && text === undefined && start < end && !(b[start]! >= 48 && b[start]! <= 57)) {
      let clean = true;
      for (let i = start; i < end && clean; i++) clean = isWordByte(b[i]!);
      if (clean) {
        for (const { name, bytes } of this.names) if (bytesEqual(b, start, end, bytes)) return name;
        for (const { name, bytes } of this.parentBytes) if (bytesEqual(b, start, end, bytes)) return name;
        return undefined;
      }
    }
    const key = sanitizeKey(text ?? textOf(b, start, end));
    const name = prefix === '' ? key : prefix + '_' + key;
    // A blank top-level key names nothing itself, and its fields flatten as top-level names.
    return name === '' || this.required.has(name) || this.parents.has(name) ? name : undefined;
  }

  /** True once every required label is set. */
  private setLabel(lbs: LabelsBuilder, name: string, value: string): boolean {
    const n = lbs.resolveName('parsed', name);
    if (!this.seen.has(n)) {
      this.seen.add(n);
      lbs.set('parsed', n, replaceRuneError(value));
    }
    return this.seen.size >= this.required.size;
  }

  /** The object at the cursor; true once every required label is set (the rest is not read). */
  private object(prefix: string, lbs: LabelsBuilder, depth: number): boolean {
    if (depth > MAX_DEPTH) throw TOO_DEEP;
    const b = this.b;
    this.p++; // {
    this.ws();
    if (b[this.p] === 125) {
      this.p++;
      return false;
    }
    for (;;) {
      this.ws();
      if (b[this.p] !== 34) throw MALFORMED_OBJECT;
      const { start, end, text } = this.key();
      this.expect(58, MALFORMED_OBJECT);
      this.ws();
      const name = this.nameOf(prefix, start, end, text);
      const c = b[this.p];
      let done = false;
      // Objects are walked like JsonParser walks them (same errors), naming keys only under a parent.
      if (c === 123) done = this.object(name !== undefined && (name === '' || this.parents.has(name)) ? name : IGNORED, lbs, depth + 1);
      else if (c === 91 || name === undefined || !this.required.has(name)) this.skip(depth + 1);
      else if (c === 34) done = this.setLabel(lbs, name, this.stringValue());
      else {
        const v = this.scalar();
        if (v !== 'null') done = this.setLabel(lbs, name, v);
      }
      if (done) return true;
      this.ws();
      const d = b[this.p++];
      if (d === 125) return false;
      if (d !== 44) throw MALFORMED_OBJECT;
    }
  }
}
