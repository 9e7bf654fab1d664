/** What the json parsers share: jsonparser's error values and string unescaping. */

export class JsonSyntaxError {
  constructor(readonly message: string) {}
}
export const MALFORMED = new JsonSyntaxError('Malformed JSON error');
export const MALFORMED_OBJECT = new JsonSyntaxError('Malformed object error');
export const BAD_STRING = new JsonSyntaxError('Encountered invalid escape sequence in a string');
export const UNKNOWN_TYPE = new JsonSyntaxError('Unknown value type');
export const TOO_DEEP = new JsonSyntaxError('JSON nested too deeply');
export const MAX_DEPTH = 512;

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** jsonparser.Unescape of `s[start, end)`: JSON escapes (with surrogate pairs); null for a bad escape. */
export function unescapeJson(s: string, start: number, end: number): string | null {
  let out = '';
  let last = start;
  for (let i = start; i < end; i++) {
    if (s.charCodeAt(i) !== 92) continue;
    out += s.slice(last, i);
    const e = s[i + 1];
    if (e === undefined || i + 1 >= end) return null;
    if (e === 'u') {
      const hex = s.slice(i + 2, i + 6);
      if (i + 6 > end || !/^[0-9a-fA-F]{4}$/.test(hex)) return null;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 5;
    } else {
      const r = ESCAPES[e];
      if (r === undefined) return null;
      out += r;
      i += 1;
    }
    last = i + 1;
  }
  return out + s.slice(last, end);
}
