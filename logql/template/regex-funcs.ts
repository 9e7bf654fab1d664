/**
 * Go `regexp` operations the template functions need, on the RE2 → JS translation of
 * `logql/regex.ts`: `ReplaceAllString` (with `Expand`'s `$1`/`${name}` rules),
 * `ReplaceAllLiteralString` and `FindAllStringIndex`, including Go's rule that an empty match right
 * after a previous match is ignored.
 */
import { compileRegex, regexCaptureNames } from '../regex.js';

export interface GoRegexp {
  re: RegExp;
  /** Group names by group index (index 0 is the whole match, ""). */
  names: string[];
}

const cache = new Map<string, GoRegexp>();

/** Go `regexp.Compile` (unanchored, `.` does not match `\n`); throws RegexSyntaxError. */
export function goRegexp(pattern: string): GoRegexp {
  let r = cache.get(pattern);
  if (!r) {
    const base = compileRegex(pattern, { anchored: false, dotNL: false });
    r = { re: new RegExp(base.source, 'gu'), names: ['', ...regexCaptureNames(pattern)] };
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, r);
  }
  return r;
}

function execAt(re: RegExp, s: string, pos: number): RegExpExecArray | null {
  re.lastIndex = pos;
  return re.exec(s);
}

const widthAt = (s: string, i: number): number => {
  if (i >= s.length) return 0;
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
};

function replaceAll(r: GoRegexp, src: string, repl: (m: RegExpExecArray) => string): string {
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= src.length) {
    const m = execAt(r.re, src, searchPos);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    out += src.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += repl(m);
    lastMatchEnd = end;
    const width = widthAt(src, searchPos);
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + src.slice(lastMatchEnd);
}

/** Go `Regexp.ReplaceAllString(src, repl)`. */
export function replaceAllString(r: GoRegexp, src: string, template: string): string {
  return replaceAll(r, src, (m) => expand(r, template, m));
}

/** Go `Regexp.ReplaceAllLiteralString(src, repl)`. */
export function replaceAllLiteralString(r: GoRegexp, src: string, repl: string): string {
  return replaceAll(r, src, () => repl);
}

/** Number of matches of Go's `FindAllStringIndex(s, -1)`. */
export function countMatches(r: GoRegexp, s: string): number {
  let n = 0;
  let pos = 0;
  let prevMatchEnd = -1;
  while (pos <= s.length) {
    const m = execAt(r.re, s, pos);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    let accept = true;
    if (end === pos) {
      if (start === prevMatchEnd) accept = false;
      const w = widthAt(s, pos);
      pos += w > 0 ? w : 1;
    } else {
      pos = end;
    }
    prevMatchEnd = end;
    if (accept) n++;
  }
  return n;
}

/** Go `Regexp.Expand`: `$1`, `${1}`, `$name`, `${name}`, `$$`; a malformed reference stays literal. */
function expand(r: GoRegexp, template: string, m: RegExpExecArray): string {
  let out = '';
  let t = template;
  for (;;) {
    const i = t.indexOf('$');
    if (i < 0) break;
    out += t.slice(0, i);
    t = t.slice(i + 1);
    if (t[0] === '$') {
      out += '$';
      t = t.slice(1);
      continue;
    }
    const ref = extract(t);
    if (!ref) {
      out += '$';
      continue;
    }
    t = ref.rest;
    if (ref.num >= 0) {
      if (ref.num < m.length) out += m[ref.num] ?? '';
    } else {
      const idx = r.names.indexOf(ref.name);
      if (idx > 0) out += m[idx] ?? '';
    }
  }
  return out + t;
}

function extract(str: string): { name: string; num: number; rest: string } | null {
  if (str === '') return null;
  let brace = false;
  let s = str;
  if (s[0] === '{') {
    brace = true;
    s = s.slice(1);
  }
  const name = /^[\p{L}\p{Nd}_]*/u.exec(s)![0];
  if (name === '') return null;
  let i = name.length;
  if (brace) {
    if (s[i] !== '}') return null;
    i++;
  }
  let num = /^[0-9]+$/.test(name) && name.length <= 8 ? Number(name) : -1;
  if (name[0] === '0' && name.length > 1) num = -1;
  return { name, num, rest: s.slice(i) };
}
