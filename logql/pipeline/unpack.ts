/**
 * The `unpack` parser (Loki's `UnpackParser`, for Promtail's `pack` stage): the line is a JSON
 * object whose top-level string fields are labels and whose `_entry` field is the original line.
 * When `_entry` is present the line is replaced by it and the other string fields become labels
 * (clash rule on the raw name, then sanitised); without `_entry` the line and labels are
 * unchanged. Non-string values are ignored. A line that does not start with `{` or is malformed
 * gets `__error__="JSONParserErr"` and is left unchanged.
 */
import { Scanner } from './json.js';
import { JsonSyntaxError, MALFORMED_OBJECT } from './json-syntax.js';
import { DUPLICATE_SUFFIX, JSON_PARSER_ERR, type LabelsBuilder } from './labels.js';
import { replaceRuneError, sanitizeKey } from './sanitize.js';
import type { Stage } from './stage.js';

const PACKED_ENTRY_KEY = '_entry';
const NOT_AN_OBJECT = 'expecting json object(6), but it is not';

export class UnpackParser implements Stage {
  private readonly sc = new Scanner();
  /** name, value, name, value… of the current line. */
  private readonly pending: string[] = [];

  process(_ts: bigint, line: Uint8Array, lbs: LabelsBuilder): Uint8Array | null {
    if (line.length === 0) return line;
    if (line[0] !== 0x7b) {
      lbs.setError(JSON_PARSER_ERR, NOT_AN_OBJECT);
      return line;
    }
    const sc = this.sc;
    const pending = this.pending;
    pending.length = 0;
    sc.s = lbs.lineText(line);
    sc.p = 1;
    let entry: string | undefined;
    try {
      sc.ws();
      if (sc.s.charCodeAt(sc.p) === 125) sc.p++;
      else
        for (;;) {
          sc.ws();
          if (sc.s.charCodeAt(sc.p) !== 34) throw MALFORMED_OBJECT;
          const key = sc.str(true);
          sc.expect(58, MALFORMED_OBJECT);
          sc.ws();
          if (sc.s.charCodeAt(sc.p) !== 34) sc.skip(1);
          else if (key === PACKED_ENTRY_KEY) entry = sc.str(true);
          else pending.push(sanitizeKey(lbs.baseHas(key) ? key + DUPLICATE_SUFFIX : key), replaceRuneError(sc.str(false)));
          sc.ws();
          const d = sc.s.charCodeAt(sc.p++);
          if (d === 125) break;
          if (d !== 44) throw MALFORMED_OBJECT;
        }
    } catch (e) {
      if (!(e instanceof JsonSyntaxError)) throw e;
      lbs.setError(JSON_PARSER_ERR, e.message);
      sc.s = '';
      return line;
    }
    sc.s = '';
    if (entry === undefined) return line;
    for (let i = 0; i < pending.length; i += 2) lbs.set('parsed', pending[i]!, pending[i + 1]!);
    pending.length = 0;
    return Buffer.from(entry);
  }
}
