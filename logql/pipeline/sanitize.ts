/** Label-name sanitising of the parsers (Loki's `sanitizeLabelKey`/`appendSanitized`). */

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/**
 * One key as a label-name part: surrounding whitespace trimmed, a `_` prepended when it starts
 * with a digit, every code point outside `[A-Za-z0-9_]` replaced by `_`. An all-whitespace key
 * gives "".
 */
export function sanitizeKey(key: string): string {
  const k = key.trim();
  if (k === '') return '';
  const first = k.charCodeAt(0);
  const prefix = first >= 48 && first <= 57 ? '_' : '';
  let clean = true;
  for (let i = 0; i < k.length; i++) {
    if (!isWordChar(k.charCodeAt(i))) {
      clean = false;
      break;
    }
  }
  if (clean) return prefix + k;
  // Per code point, as Go ranges over runes: a surrogate pair becomes one `_`.
  let out = prefix;
  for (const ch of k) out += ch.length === 1 && isWordChar(ch.charCodeAt(0)) ? ch : '_';
  return out;
}

/**
 * The flattened json name of `key` under `prefix`: `prefix_key`, or just the sanitised key at the
 * top level (empty prefix). A whitespace key under a prefix gives `prefix_`.
 */
export function joinKey(prefix: string, key: string): string {
  return prefix === '' ? sanitizeKey(key) : prefix + '_' + sanitizeKey(key);
}

/** A bounded cache of sanitised keys (lines of one stream repeat their keys). */
export class SanitizeCache {
  private readonly map = new Map<string, string>();
  constructor(private readonly max = 4096) {}

  get(key: string): string {
    let v = this.map.get(key);
    if (v === undefined) {
      v = sanitizeKey(key);
      if (this.map.size >= this.max) this.map.clear();
      this.map.set(key, v);
    }
    return v;
  }
}

/** Go replaces utf8.RuneError (what invalid UTF-8 decodes to) with a space in parsed values. */
export function replaceRuneError(v: string): string {
  return v.includes('\uFFFD') ? v.replace(/\uFFFD/g, ' ') : v;
}
