/**
 * `logfmt`: parses the line (or the extracted value `source`) as logfmt and stores the mapped
 * keys in the extracted map (Promtail `stages/logfmt.go`, go-logfmt's decoder). `mapping` is
 * extracted name → logfmt key (empty: the same name). Values are strings; a key without `=`
 * gives "". As go-logfmt, a syntax error (`=` or `"` inside a bare value or key, a bad quoted
 * string) stops the parse; pairs before it are kept. A missing or null source changes nothing.
 */
import type { LogfmtStageConfig } from '../config.js';
import { stageInput, type Stage, type StageEntry } from './types.js';

/**
 * Calls `pair(key, value)` for each logfmt pair of `text`, in order, until the end or the first
 * syntax error; returns false on a syntax error.
 */
export function scanLogfmt(text: string, pair: (key: string, value: string) => void): boolean {
  const n = text.length;
  let at = 0;
  while (at < n) {
    let c = text.charCodeAt(at);
    if (c <= 32) {
      at++;
      continue;
    }
    const keyStart = at;
    while (at < n) {
      c = text.charCodeAt(at);
      if (c <= 32 || c === 61 /* = */) break;
      if (c === 34 /* " */) return false;
      at++;
    }
    if (at === keyStart) return false; // a '=' with no key
    const key = text.slice(keyStart, at);
    if (at >= n || text.charCodeAt(at) !== 61) {
      pair(key, '');
      continue;
    }
    at++; // '='
    if (at < n && text.charCodeAt(at) === 34) {
      let end = at + 1;
      let escaped = false;
      while (end < n) {
        const d = text.charCodeAt(end);
        if (d === 92 /* \ */) {
          escaped = true;
          end += 2;
          continue;
        }
        if (d === 34 || d === 10) break;
        end++;
      }
      if (end >= n || text.charCodeAt(end) !== 34) return false;
      let value: string;
      if (!escaped) value = text.slice(at + 1, end);
      else {
        try {
          value = JSON.parse(text.slice(at, end + 1)) as string;
        } catch {
          return false;
        }
      }
      pair(key, value);
      at = end + 1;
      if (at < n && text.charCodeAt(at) > 32) return false; // go-logfmt: unexpected char after a quoted value
      continue;
    }
    const valueStart = at;
    while (at < n) {
      c = text.charCodeAt(at);
      if (c <= 32) break;
      if (c === 61 || c === 34) return false;
      at++;
    }
    pair(key, text.slice(valueStart, at));
  }
  return true;
}

export class LogfmtStage implements Stage {
  /** logfmt key → the extracted names it fills. */
  private readonly inverse = new Map<string, string[]>();
  private readonly source: string | undefined;
  private current: StageEntry | undefined;
  private readonly onPair = (key: string, value: string): void => {
    const names = this.inverse.get(key);
    if (names === undefined) return;
    for (const name of names) this.current!.extracted.set(name, value);
  };

  constructor(config: LogfmtStageConfig) {
    for (const [name, key] of Object.entries(config.mapping)) {
      const k = key || name;
      const names = this.inverse.get(k);
      if (names) names.push(name);
      else this.inverse.set(k, [name]);
    }
    this.source = config.source;
  }

  process(entry: StageEntry): StageEntry {
    const input = stageInput(entry, this.source);
    if (input === undefined) return entry;
    this.current = entry;
    scanLogfmt(input, this.onPair);
    this.current = undefined;
    return entry;
  }
}
