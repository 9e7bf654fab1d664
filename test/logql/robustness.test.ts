import { describe, expect, it } from 'vitest';
import { format, parse, ParseError } from '../../logql/index.js';
import { ALL_ACCEPTED } from './corpus.js';

/** Deterministic PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const ALPHABET = ['{', '}', '(', ')', '[', ']', '"', '`', '|', '=', '~', '!', '>', '<', ',', ' ', '\n', '#', '\\', '-', '+', '1', '5m', 'a', 'by', 'or', 'and', 'json', 'rate', 'sum', 'ip', 'unwrap', '--strict', 'é', '\uD800'];

describe('parse never fails with anything but ParseError', () => {
  it('survives 5000 mutated queries, and whatever it accepts round-trips', () => {
    const r = rng(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    for (let i = 0; i < 5000; i++) {
      let q = pick(ALL_ACCEPTED);
      for (let n = 1 + Math.floor(r() * 3); n > 0; n--) {
        const at = Math.floor(r() * (q.length + 1));
        const roll = r();
        if (roll < 0.4) q = q.slice(0, at) + q.slice(at + 1);
        else if (roll < 0.8) q = q.slice(0, at) + pick(ALPHABET) + q.slice(at);
        else q = q.slice(0, at) + q.slice(at + Math.floor(r() * 8));
      }
      let ast;
      try {
        ast = parse(q);
      } catch (e) {
        if (!(e instanceof ParseError)) throw new Error(`${JSON.stringify(q)} threw ${String(e)}`);
        expect(e.lokiMessage.startsWith('parse error') || e.lokiMessage === 'only label matchers is supported').toBe(true);
        continue;
      }
      expect(parse(format(ast)), q).toEqual(ast);
    }
  });
});
