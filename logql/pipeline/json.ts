/**
 * The `json` parser (Loki's `JSONParser` and `JSONExpressionParser`).
 *
 * Without parameters every field becomes a label: nested objects are flattened with `_`, keys are
 * sanitised, arrays are skipped, `null` is dropped, numbers and booleans keep their JSON text, and
 * the first of duplicate keys wins. Numbers are copied as written (not validated, like jsonparser). String values are unescaped (a bad escape gives ""), and
 * invalid UTF-8 becomes a space. With parameters (`json a="b.c[0]"`) only those paths are
 * extracted; objects and arrays come back as their JSON text and a missing path gives `a=""`.
 * An invalid line keeps the labels found before the error and gets `__error__="JSONParserErr"`
 * (details: jsonparser-style messages). Text after the closing brace is ignored, as
 * jsonparser.ObjectEach does.
 */
import type { ExtractionParam, JsonParserStage } from '../ast.js';
import { RequiredJsonScan } from './json-hints.js';
import { BAD_STRING, JsonSyntaxError, MALFORMED, MALFORMED_OBJECT, MAX_DEPTH, TOO_DEEP, UNKNOWN_TYPE, unescapeJson } from './json-syntax.js';
import { JSON_PARSER_ERR, type LabelsBuilder } from './labels.js';
import { joinKey, replaceRuneError, SanitizeCache } from './sanitize.js';
import type { Stage } from './stage.js';

/** A cursor over one JSON text; all methods throw a JsonSyntaxError on malformed input. */
export class Scanner {
  s = '';
  p = 0;

  ws(): void {
    const s = this.s;
    let p = this.p;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === 32 || c === 10 || c === 13 || c === 9) p++;
      else break;
    }
    this.p = p;
  }

  expect(c: number, err: JsonSyntaxError): void {
    this.ws();
    if (this.s.charCodeAt(this.p) !== c) throw err;
    this.p++;
  }

  /**
   * Reads a string at the cursor (which must be on `"`), unescaped. Like jsonparser, only the
   * closing quote is looked for (raw control characters pass). A bad escape throws for a key
   * (`key` true) and gives "" for a value, as Loki's unescapeJSONString does.
   */
  str(key: boolean): string {
    const s = this.s;
    const start = this.p + 1;
    let p = start;
    let escaped = false;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === 34) break;
      if (Number.isNaN(c)) throw MALFORMED;
      if (c === 92) {
        escaped = true;
        p += 2;
      } else p++;
    }
    this.p = p + 1;
    if (!escaped) return s.slice(start, p);
    const v = unescapeJson(s, start, p);
    if (v === null) {
      if (key) throw BAD_STRING;
      return '';
    }
    return v;
  }

  /** Moves past the string at the cursor (which must be on `"`) without building it. */
  skipStr(): void {
    const s = this.s;
    let p = this.p + 1;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === 34) break;
      if (Number.isNaN(c)) throw MALFORMED;
      p += c === 92 ? 2 : 1;
    }
    this.p = p + 1;
  }

  /**
   * Reads a number/true/false/null token and returns its text. Like jsonparser, a number is not
   * validated: it is whatever runs from a digit or `-` to the next delimiter.
   */
  scalar(): string {
    const s = this.s;
    const start = this.p;
    const c = s.charCodeAt(start);
    if ((c >= 48 && c <= 57) || c === 45) {
      let p = start + 1;
      for (;;) {
        const d = s.charCodeAt(p);
        if (Number.isNaN(d) || d === 44 || d === 125 || d === 93 || d === 32 || d === 10 || d === 13 || d === 9) break;
        p++;
      }
      this.p = p;
      return s.slice(start, p);
    }
    const word = c === 116 ? 'true' : c === 102 ? 'false' : c === 110 ? 'null' : '';
    if (word === '' || !s.startsWith(word, start)) throw UNKNOWN_TYPE;
    this.p = start + word.length;
    return word;
  }

  /** Skips any value at the cursor. */
  skip(depth: number): void {
    if (depth > MAX_DEPTH) throw TOO_DEEP;
    this.ws();
    const c = this.s.charCodeAt(this.p);
    if (c === 34) {
      this.skipStr();
    } else if (c === 123 || c === 91) {
      const close = c === 123 ? 125 : 93;
      this.p++;
      this.ws();
      if (this.s.charCodeAt(this.p) === close) {
        this.p++;
        return;
      }
      for (;;) {
        if (c === 123) {
          this.ws();
          if (this.s.charCodeAt(this.p) !== 34) throw MALFORMED_OBJECT;
          this.str(true);
          this.expect(58, MALFORMED_OBJECT);
        }
        this.skip(depth + 1);
        this.ws();
        const d = this.s.charCodeAt(this.p++);
        if (d === close) return;
        if (d !== 44) throw MALFORMED;
      }
    } else {
      this.scalar();
    }
  }
}

/** `json` with no parameters. */
export class JsonParser implements Stage {
  private readonly sc = new Scanner();
  private readonly keys = new SanitizeCache();
  /** Names set on the current line: the first of duplicate keys wins. */
  private readonly seen = new Set<string>();

  /** Parser hints: a scan of the line's bytes for the required labels only. */
  private readonly requiredScan: RequiredJsonScan | undefined;

  /** `required`: the only labels the query reads (parser hints); undefined extracts every field. */
  constructor(required?: ReadonlySet<string>) {
    if (required !== undefined) this.requiredScan = new RequiredJsonScan(required);
  }

  process(_ts: bigint, line: Uint8Array, lbs: LabelsBuilder): Uint8Array | null {
    if (this.requiredScan !== undefined) {
      this.requiredScan.run(line, lbs);
      return line;
    }
    const sc = this.sc;
    sc.s = lbs.lineText(line);
    sc.p = 0;
    try {
      sc.ws();
      if (sc.s.charCodeAt(sc.p) !== 123) throw MALFORMED_OBJECT;
      this.object('', lbs, 0);
    } catch (e) {
      if (!(e instanceof JsonSyntaxError)) throw e;
      lbs.setError(JSON_PARSER_ERR, e.message);
    }
    sc.s = '';
    if (this.seen.size > 0) this.seen.clear();
    return line;
  }

  /** Sets a parsed label; the first of duplicate keys wins. */
  private setLabel(lbs: LabelsBuilder, name: string, value: string): void {
    const n = lbs.resolveName('parsed', name);
    if (this.seen.has(n)) return;
    this.seen.add(n);
    lbs.set('parsed', n, replaceRuneError(value));
  }

  /** Parses the object at the cursor, setting a label for every scalar field under `prefix`. */
  private object(prefix: string, lbs: LabelsBuilder, depth: number): void {
    if (depth > MAX_DEPTH) throw TOO_DEEP;
    const sc = this.sc;
    sc.p++; // {
    sc.ws();
    if (sc.s.charCodeAt(sc.p) === 125) {
      sc.p++;
      return;
    }
    for (;;) {
      sc.ws();
      if (sc.s.charCodeAt(sc.p) !== 34) throw MALFORMED_OBJECT;
      const rawKey = sc.str(true);
      sc.expect(58, MALFORMED_OBJECT);
      sc.ws();
      const name = prefix === '' ? this.keys.get(rawKey) : joinKey(prefix, rawKey);
      const c = sc.s.charCodeAt(sc.p);
      if (c === 123) this.object(name, lbs, depth + 1);
      else if (c === 91) sc.skip(depth + 1);
      else if (c === 34) this.setLabel(lbs, name, sc.str(false));
      else {
        const v = sc.scalar();
        if (v !== 'null') this.setLabel(lbs, name, v);
      }
      sc.ws();
      const d = sc.s.charCodeAt(sc.p++);
      if (d === 125) return;
      if (d !== 44) throw MALFORMED_OBJECT;
    }
  }
}

type PathSegment = string | number;

/** Parses a json extraction expression: `a.b[0]`, `["User-Agent"]`, `servers`. Throws on a bad path. */
export function parseJsonPath(expr: string): PathSegment[] {
  const fail = (): Error => new Error(`cannot parse expression "${expr}"`);
  const out: PathSegment[] = [];
  let i = 0;
  const ident = (): void => {
    const m = /^[^.[\]"\s]+/.exec(expr.slice(i));
    if (!m) throw fail();
    out.push(m[0]);
    i += m[0].length;
  };
  if (expr === '') throw fail();
  if (expr[0] !== '[') ident();
  while (i < expr.length) {
    const c = expr[i];
    if (c === '.') {
      i++;
      ident();
    } else if (c === '[') {
      const num = /^\[([0-9]+)\]/.exec(expr.slice(i));
      if (num) {
        out.push(Number(num[1]));
        i += num[0].length;
        continue;
      }
      const str = /^\["((?:[^"\\]|\\.)*)"\]/.exec(expr.slice(i));
      if (!str) throw fail();
      try {
        out.push(JSON.parse(`"${str[1]}"`) as string);
      } catch {
        throw fail();
      }
      i += str[0].length;
    } else throw fail();
  }
  return out;
}

/**
 * `json a="path", b`: only the given paths (Loki's `JSONExpressionParser`). The line must start
 * with `{`, `[` or `"` (else JSONParserErr without details); strings are unescaped, objects come
 * back as their JSON text, arrays as their (unescaped) text, `null` and missing paths as "".
 * A missing path only adds `name=""` when no label `name` exists yet (a stream label of that name
 * stays as it is); a found one follows the clash rule (`name_extracted`).
 */
export class JsonExpressionParser implements Stage {
  private readonly sc = new Scanner();
  private readonly names: string[];
  private readonly paths: PathSegment[][];

  /** Throws for a path Loki cannot parse. */
  constructor(params: ExtractionParam[]) {
    this.names = params.map((p) => p.name);
    this.paths = params.map((p) => parseJsonPath(p.expression));
  }

  process(_ts: bigint, line: Uint8Array, lbs: LabelsBuilder): Uint8Array | null {
    if (line.length === 0) return line;
    const c = line[0];
    if (c !== 123 && c !== 91 && c !== 34) {
      lbs.setError(JSON_PARSER_ERR);
      return line;
    }
    const sc = this.sc;
    sc.s = lbs.lineText(line);
    for (let i = 0; i < this.paths.length; i++) {
      const name = this.names[i]!;
      let value: string | undefined;
      try {
        value = this.get(this.paths[i]!);
      } catch (e) {
        if (!(e instanceof JsonSyntaxError)) throw e;
        lbs.setError(JSON_PARSER_ERR, e.message);
      }
      if (value !== undefined) lbs.set('parsed', name, replaceRuneError(value));
      else if (!lbs.has(name)) lbs.set('parsed', name, '');
    }
    sc.s = '';
    return line;
  }

  /** The value at `path` as a label value; undefined when the path is missing. */
  private get(path: PathSegment[]): string | undefined {
    const sc = this.sc;
    sc.p = 0;
    for (const seg of path) {
      sc.ws();
      const c = sc.s.charCodeAt(sc.p);
      if (typeof seg === 'string') {
        if (c !== 123) return undefined;
        sc.p++;
        sc.ws();
        if (sc.s.charCodeAt(sc.p) === 125) return undefined;
        for (;;) {
          sc.ws();
          if (sc.s.charCodeAt(sc.p) !== 34) throw MALFORMED_OBJECT;
          const k = sc.str(true);
          sc.expect(58, MALFORMED_OBJECT);
          if (k === seg) break;
          sc.skip(1);
          sc.ws();
          const d = sc.s.charCodeAt(sc.p++);
          if (d === 125) return undefined;
          if (d !== 44) throw MALFORMED_OBJECT;
        }
      } else {
        if (c !== 91) return undefined;
        sc.p++;
        sc.ws();
        if (sc.s.charCodeAt(sc.p) === 93) return undefined;
        for (let idx = 0; idx !== seg; idx++) {
          sc.skip(1);
          sc.ws();
          const d = sc.s.charCodeAt(sc.p++);
          if (d === 93) return undefined;
          if (d !== 44) throw MALFORMED;
        }
      }
    }
    sc.ws();
    const c = sc.s.charCodeAt(sc.p);
    if (c === 34) return sc.str(false);
    if (c === 123 || c === 91) {
      const start = sc.p;
      sc.skip(1);
      if (c === 123) return sc.s.slice(start, sc.p);
      return unescapeJson(sc.s, start, sc.p) ?? '';
    }
    const v = sc.scalar();
    return v === 'null' ? '' : v;
  }
}

/** `required`: parser hints (see `compilePipeline`); they only narrow `json` without parameters. */
export function compileJson(stage: JsonParserStage, required?: ReadonlySet<string>): Stage {
  return stage.params.length === 0 ? new JsonParser(required) : new JsonExpressionParser(stage.params);
}
