/**
 * RE2 (Go `regexp`) syntax → JavaScript RegExp.
 *
 * LogQL regexes are Go regexes. JavaScript differs in ways that silently change results:
 * `\s` is Unicode-wide in JS but ASCII in RE2, `.` stops at `\r` and `\u2028` in JS, `(?i)`,
 * `(?s)`, `(?P<name>)`, `\z`, `\Q…\E` and POSIX classes do not exist, and JS accepts
 * backreferences and lookaround that RE2 rejects. We therefore parse the RE2 pattern ourselves
 * and emit an equivalent JS pattern (per code point, as in Go; see `compileRegex` for when the `u`
 * flag can be left out), resolving flags at translation time instead of relying on JS flags.
 *
 * Dot semantics: Loki compiles label matchers as `^(?s:re)$` (Prometheus) and line filters so
 * that `.` also matches a newline, so by default `.` matches `\n` unless the pattern says `(?-s)`.
 * Places where Loki calls plain `regexp.Compile` (the `| regexp` parser, `label_replace`) pass
 * `dotNL: false`.
 */

/** Thrown for patterns RE2 rejects; the message mirrors Go's `regexp.Compile` error text. */
export class RegexSyntaxError extends Error {
  override readonly name = 'RegexSyntaxError';
  /** Go's error code text, e.g. `missing closing )`. */
  readonly code: string;
  /** The offending part of the pattern, as Go reports it. */
  readonly expr: string;

  constructor(code: string, expr: string) {
    super(`error parsing regexp: ${code}: \`${expr}\``);
    this.code = code;
    this.expr = expr;
  }
}

export interface CompileRegexOptions {
  /** true: the whole value must match (`^(?:re)$`, label matchers); false: substring search (line filters). */
  anchored: boolean;
  /** Whether `.` matches a newline when the pattern does not say; default true (matchers, line filters). */
  dotNL?: boolean;
}

/**
 * Compiles an RE2 pattern to a JS RegExp. Throws RegexSyntaxError where Go's regexp.Compile fails.
 *
 * The result has no `u` flag whenever the pattern can do without it (no `\p{…}` classes, no
 * characters beyond U+FFFF): V8's linear-time fallback engine, which the server enables against
 * catastrophic backtracking, only takes non-unicode patterns. The one difference is that a single
 * `.` or negated class then matches half of a character beyond U+FFFF (an emoji) instead of all of it.
 */
export function compileRegex(pattern: string, options: CompileRegexOptions): RegExp {
  const { source } = translate(pattern, options.dotNL ?? true);
  const full = options.anchored ? `^(?:${source})$` : source;
  const basic = withoutUnicodeEscapes(full);
  return basic === undefined ? new RegExp(full, 'u') : new RegExp(basic);
}

/**
 * The translated source rewritten for a non-unicode RegExp (`\u{h}` → `\uHHHH`), or undefined when
 * it needs the `u` flag (property classes, code points beyond U+FFFF).
 */
function withoutUnicodeEscapes(source: string): string | undefined {
  let out = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    const code = c.charCodeAt(0);
    if (code >= 0xd800 && code <= 0xdfff) return undefined;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = source[i + 1] ?? '';
    if (next === 'p' || next === 'P') return undefined;
    if (next === 'u' && source[i + 2] === '{') {
      const close = source.indexOf('}', i);
      const cp = parseInt(source.slice(i + 3, close), 16);
      if (cp > 0xffff) return undefined;
      out += '\\u' + cp.toString(16).padStart(4, '0');
      i = close;
      continue;
    }
    out += c + next;
    i++;
  }
  return out;
}

/**
 * Capture group names in group order, as Go's `Regexp.SubexpNames()[1:]` (unnamed groups give "").
 * Throws RegexSyntaxError like compileRegex.
 */
export function regexCaptureNames(pattern: string): string[] {
  return translate(pattern, true).names;
}

interface Flags {
  i: boolean;
  s: boolean;
  m: boolean;
  U: boolean;
}

interface Translation {
  source: string;
  names: string[];
}

const MAX_REPEAT = 1000;
const SPECIAL_OUTSIDE = new Set('^$\\.*+?()[]{}|/'.split(''));
const SPECIAL_INSIDE = new Set('\\]^-['.split(''));

function translate(pattern: string, dotNL: boolean): Translation {
  return new Translator(pattern).run(dotNL);
}

type Range = [number, number];
/** A class escape: explicit code point ranges (Perl classes) or a Unicode property (kept symbolic). */
type ClassEscape = { ranges: Range[]; negated: boolean } | { prop: string; negated: boolean };

const ASCII_CLASSES: Record<string, Range[]> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a], [0x5f, 0x5f]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};
const PERL_CLASSES: Record<string, Range[]> = {
  d: ASCII_CLASSES.digit!,
  s: [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]],
  w: ASCII_CLASSES.word!,
};
const GENERAL_CATEGORIES = new Set(
  'C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs'.split(' '),
);
// Unicode simple case folding orbits with more than two members (Go folds through these too).
const FOLD_ORBITS: number[][] = [
  [0x4b, 0x6b, 0x212a],
  [0x53, 0x73, 0x17f],
  [0xc5, 0xe5, 0x212b],
];

function complement(ranges: Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= 0x10ffff) out.push([next, 0x10ffff]);
  return out;
}

function foldSet(cp: number): number[] {
  for (const orbit of FOLD_ORBITS) if (orbit.includes(cp)) return orbit;
  const s = String.fromCodePoint(cp);
  const set = new Set<number>([cp]);
  for (const v of [s.toLowerCase(), s.toUpperCase()]) {
    const c = v.codePointAt(0)!;
    if (String.fromCodePoint(c) === v) set.add(c);
  }
  return [...set];
}

function escapeCp(cp: number, inClass: boolean): string {
  const ch = String.fromCodePoint(cp);
  if ((inClass ? SPECIAL_INSIDE : SPECIAL_OUTSIDE).has(ch)) return `\\${ch}`;
  if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0) || cp === 0x2028 || cp === 0x2029) {
    return `\\u{${cp.toString(16)}}`;
  }
  return ch;
}

function rangeSource(lo: number, hi: number): string {
  return lo === hi ? escapeCp(lo, true) : `${escapeCp(lo, true)}-${escapeCp(hi, true)}`;
}

/** Adds the case variants of every code point in the ranges (small ranges only; large ones already span cases). */
function foldRanges(ranges: Range[]): Range[] {
  const out: Range[] = [...ranges];
  for (const [lo, hi] of ranges) {
    if (hi - lo > 0x3000) continue;
    for (let cp = lo; cp <= hi; cp++) {
      for (const f of foldSet(cp)) if (f < lo || f > hi) out.push([f, f]);
    }
  }
  return out;
}

class Translator {
  private pos = 0;
  private readonly names: string[] = [];
  private readonly seenNames = new Set<string>();

  constructor(private readonly src: string) {}

  run(dotNL: boolean): Translation {
    const flags: Flags = { i: false, s: dotNL, m: false, U: false };
    const source = this.alternation(flags, 0);
    if (this.pos < this.src.length) {
      // Only an unmatched ')' stops the top-level alternation early.
      throw new RegexSyntaxError('unexpected )', this.src);
    }
    return { source, names: this.names };
  }

  private peek(offset = 0): string {
    return this.src[this.pos + offset] ?? '';
  }

  private alternation(flags: Flags, depth: number): string {
    if (depth > 1000) throw new RegexSyntaxError('expression nests too deeply', this.src);
    const branches = [this.concat(flags, depth)];
    while (this.peek() === '|') {
      this.pos++;
      branches.push(this.concat(flags, depth));
    }
    return branches.join('|');
  }

  private concat(flags: Flags, depth: number): string {
    let out = '';
    // Go tracks whether the previous item can take a repetition operator and what it was.
    let hasAtom = false;
    let lastRepeat = '';
    for (;;) {
      const c = this.peek();
      if (c === '' || c === '|' || c === ')') return out;
      const start = this.pos;
      if (c === '*' || c === '+' || c === '?' || (c === '{' && this.repeatAt(this.pos))) {
        const op = this.quantifier();
        const opText = this.src.slice(start, this.pos);
        if (lastRepeat !== '') {
          throw new RegexSyntaxError('invalid nested repetition operator', lastRepeat + opText);
        }
        if (!hasAtom) throw new RegexSyntaxError('missing argument to repetition operator', opText);
        out += op.lazy !== flags.U ? `${op.text}?` : op.text;
        lastRepeat = opText;
        continue;
      }
      lastRepeat = '';
      const atom = this.atom(flags, depth);
      if (atom === null) continue; // a bare flag group such as (?i) changes flags and emits nothing
      out += atom;
      hasAtom = true;
    }
  }

  /** Whether `{` at i starts a well-formed repeat `{n}`, `{n,}` or `{n,m}`; otherwise `{` is a literal. */
  private repeatAt(i: number): boolean {
    return /^\{\d+(,\d*)?\}/.test(this.src.slice(i));
  }

  private quantifier(): { text: string; lazy: boolean } {
    const c = this.src[this.pos]!;
    let text: string;
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos))!;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
      if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max)) {
        throw new RegexSyntaxError('invalid repeat count', m[0]);
      }
      text = max === min ? `{${min}}` : max < 0 ? `{${min},}` : `{${min},${max}}`;
      this.pos += m[0].length;
    } else {
      text = c;
      this.pos++;
    }
    let lazy = false;
    if (this.peek() === '?') {
      lazy = true;
      this.pos++;
    }
    return { text, lazy };
  }

  private literal(cp: number, flags: Flags): string {
    if (flags.i) {
      const set = foldSet(cp);
      if (set.length > 1) return `[${set.map((f) => escapeCp(f, true)).join('')}]`;
    }
    return escapeCp(cp, false);
  }

  private atom(flags: Flags, depth: number): string | null {
    const c = this.peek();
    switch (c) {
      case '(':
        return this.group(flags, depth);
      case '[':
        return this.charClass(flags);
      case '.':
        this.pos++;
        return flags.s ? '[^]' : '[^\\n]';
      // Assertions are wrapped so that a following quantifier stays legal in JS (RE2 allows `^*`).
      case '^':
        this.pos++;
        return flags.m ? '(?:(?<![^\\n]))' : '(?:^)';
      case '$':
        this.pos++;
        return flags.m ? '(?:(?![^\\n]))' : '(?:$)';
      case '\\':
        return this.escapeAtom(flags);
      default: {
        const cp = this.src.codePointAt(this.pos)!;
        this.pos += cp > 0xffff ? 2 : 1;
        return this.literal(cp, flags);
      }
    }
  }

  private group(outer: Flags, depth: number): string | null {
    const start = this.pos;
    this.pos++; // (
    let prefix = '(';
    const flags: Flags = { ...outer };
    if (this.peek() === '?') {
      const rest = this.src.slice(this.pos);
      const named = /^\?P?<([^>]*)>/.exec(rest);
      if (rest.startsWith('?P<') || (rest.startsWith('?<') && rest[2] !== '=' && rest[2] !== '!')) {
        if (!named || !/^[A-Za-z0-9_]+$/.test(named[1]!)) {
          const end = this.src.indexOf('>', this.pos);
          throw new RegexSyntaxError('invalid named capture', this.src.slice(start, end < 0 ? undefined : end + 1));
        }
        const name = named[1]!;
        this.names.push(name);
        this.pos += named[0].length;
        // Go allows a name twice and JS does not, and JS names cannot start with a digit: such
        // groups stay positional (regexCaptureNames still reports their names).
        prefix = this.seenNames.has(name) || /^[0-9]/.test(name) ? '(' : `(?<${name}>`;
        this.seenNames.add(name);
      } else {
        const m = /^\?([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
        if (!m || (m[2] !== undefined && m[2] === '') || (m[1] === '' && m[2] === undefined && m[3] === ')')) {
          const bad = /^\?[imsU-]*/.exec(rest)![0];
          const shown = this.src.slice(start, this.pos + bad.length + 1);
          throw new RegexSyntaxError('invalid or unsupported Perl syntax', shown);
        }
        for (const f of m[1]!) flags[f as keyof Flags] = true;
        for (const f of m[2] ?? '') flags[f as keyof Flags] = false;
        this.pos += m[0].length;
        if (m[3] === ')') {
          // (?flags) applies to the rest of the enclosing group.
          Object.assign(outer, flags);
          return null;
        }
        prefix = '(?:';
      }
    } else {
      this.names.push('');
    }
    const body = this.alternation(flags, depth + 1);
    if (this.peek() !== ')') throw new RegexSyntaxError('missing closing )', this.src);
    this.pos++;
    return `${prefix}${body})`;
  }

  private escapeAtom(flags: Flags): string {
    const start = this.pos;
    this.pos++; // backslash
    const c = this.peek();
    if (c === '') throw new RegexSyntaxError('trailing backslash at end of expression', '');
    switch (c) {
      case 'A':
        this.pos++;
        return '(?:^)';
      case 'z':
        this.pos++;
        return '(?:$)';
      case 'b':
      case 'B':
        this.pos++;
        return `(?:\\${c})`;
      case 'Q': {
        this.pos++;
        const end = this.src.indexOf('\\E', this.pos);
        const text = this.src.slice(this.pos, end < 0 ? undefined : end);
        this.pos = end < 0 ? this.src.length : end + 2;
        let out = '';
        for (const ch of text) out += this.literal(ch.codePointAt(0)!, flags);
        return out === '' ? '(?:)' : `(?:${out})`;
      }
      default:
        break;
    }
    const set = this.classEscape(start);
    if (set !== null) {
      if ('prop' in set) {
        if (set.prop === 'Any') return set.negated ? '(?!)' : '[^]';
        return `\\${set.negated ? 'P' : 'p'}{${set.prop}}`;
      }
      const ranges = flags.i ? foldRanges(set.ranges) : set.ranges;
      const body = ranges.map(([lo, hi]) => rangeSource(lo, hi)).join('');
      return set.negated ? `[^${body}]` : `[${body}]`;
    }
    this.pos = start;
    return this.literal(this.escapedChar(), flags);
  }

  /**
   * Parses `\d \s \w \D \S \W \pX \p{Name} \PX \P{^Name}` at `start` (the backslash).
   * Returns null (position untouched) when the escape is not a class.
   */
  private classEscape(start: number): ClassEscape | null {
    const c = this.src[start + 1];
    if (c === undefined) return null;
    const perl = PERL_CLASSES[c.toLowerCase()];
    if (perl && 'dswDSW'.includes(c)) {
      this.pos = start + 2;
      return { ranges: perl, negated: c !== c.toLowerCase() };
    }
    if (c !== 'p' && c !== 'P') return null;
    let name: string;
    let end: number;
    if (this.src[start + 2] === '{') {
      const close = this.src.indexOf('}', start + 3);
      if (close < 0) throw new RegexSyntaxError('invalid character class range', this.src.slice(start));
      name = this.src.slice(start + 3, close);
      end = close + 1;
    } else {
      const cp = this.src.codePointAt(start + 2);
      if (cp === undefined) throw new RegexSyntaxError('invalid character class range', this.src.slice(start));
      name = String.fromCodePoint(cp);
      end = start + 2 + name.length;
    }
    const shown = this.src.slice(start, end);
    let negated = c === 'P';
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    const prop = name === 'Any' ? 'Any' : GENERAL_CATEGORIES.has(name) ? name : `Script=${name}`;
    if (prop !== 'Any') {
      try {
        new RegExp(`\\p{${prop}}`, 'u');
      } catch {
        throw new RegexSyntaxError('invalid character class range', shown);
      }
    }
    this.pos = end;
    return { prop, negated };
  }

  /** A single escaped character (`\n`, `\x41`, `\x{263a}`, `\101`, `\.`), positioned at the backslash. */
  private escapedChar(): number {
    const start = this.pos;
    this.pos++;
    const c = this.peek();
    const bad = (): never => {
      throw new RegexSyntaxError('invalid escape sequence', this.src.slice(start, this.pos));
    };
    this.pos++;
    switch (c) {
      case 'a':
        return 7;
      case 'f':
        return 12;
      case 't':
        return 9;
      case 'n':
        return 10;
      case 'r':
        return 13;
      case 'v':
        return 11;
      case 'x': {
        if (this.peek() === '{') {
          const close = this.src.indexOf('}', this.pos);
          const hex = close < 0 ? '' : this.src.slice(this.pos + 1, close);
          if (!/^[0-9A-Fa-f]+$/.test(hex) || parseInt(hex, 16) > 0x10ffff) {
            this.pos = close < 0 ? this.src.length : close + 1;
            return bad();
          }
          this.pos = close + 1;
          return parseInt(hex, 16);
        }
        const hex = this.src.slice(this.pos, this.pos + 2);
        if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
          this.pos = Math.min(this.src.length, this.pos + 2);
          return bad();
        }
        this.pos += 2;
        return parseInt(hex, 16);
      }
      default:
        break;
    }
    if (c >= '0' && c <= '7') {
      // Go: a lone \1-\7 would be a backreference (unsupported); \0 and multi-digit forms are octal.
      const digits = /^[0-7]{0,2}/.exec(this.src.slice(this.pos))![0];
      if (c !== '0' && digits === '') return bad();
      this.pos += digits.length;
      return parseInt(c + digits, 8);
    }
    const cp = this.src.codePointAt(start + 1)!;
    if (cp < 0x80 && !/[0-9A-Za-z]/.test(c)) return cp;
    this.pos = start + 1 + (cp > 0xffff ? 2 : 1);
    return bad();
  }

  private charClass(flags: Flags): string {
    const start = this.pos;
    this.pos++; // [
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.pos++;
    }
    const ranges: Range[] = [];
    const raws: string[] = [];
    let first = true;
    for (;;) {
      const c = this.peek();
      if (c === '') throw new RegexSyntaxError('missing closing ]', this.src.slice(start));
      if (c === ']' && !first) break;
      first = false;
      if (c === '[' && this.peek(1) === ':') {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.pos));
        if (m) {
          const cls = ASCII_CLASSES[m[2]!];
          if (!cls) throw new RegexSyntaxError('invalid character class range', m[0]);
          ranges.push(...(m[1] === '^' ? complement(cls) : cls));
          this.pos += m[0].length;
          continue;
        }
      }
      if (c === '\\') {
        const set = this.classEscape(this.pos);
        if (set !== null) {
          if (!('prop' in set)) ranges.push(...(set.negated ? complement(set.ranges) : set.ranges));
          else if (set.prop === 'Any') ranges.push(...(set.negated ? [] : complement([])));
          else raws.push(`\\${set.negated ? 'P' : 'p'}{${set.prop}}`);
          continue;
        }
      }
      const rangeStart = this.pos;
      const lo = this.classChar(start);
      let hi = lo;
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== '') {
        this.pos++;
        hi = this.classChar(start);
        if (hi < lo) throw new RegexSyntaxError('invalid character class range', this.src.slice(rangeStart, this.pos));
      }
      ranges.push([lo, hi]);
    }
    this.pos++; // ]
    const all = flags.i ? foldRanges(ranges) : ranges;
    const body = all.map(([lo, hi]) => rangeSource(lo, hi)).join('') + raws.join('');
    return negated ? `[^${body}]` : `[${body}]`;
  }

  private classChar(classStart: number): number {
    const c = this.peek();
    if (c === '') throw new RegexSyntaxError('missing closing ]', this.src.slice(classStart));
    if (c === '\\') {
      if (this.peek(1) === '') throw new RegexSyntaxError('trailing backslash at end of expression', '');
      return this.escapedChar();
    }
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }
}
