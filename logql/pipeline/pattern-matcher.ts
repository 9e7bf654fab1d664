/**
 * Loki's pattern language (pkg/logql/log/pattern): literals and `<name>`/`<_>` captures, matched
 * left to right on bytes. For extraction a leading literal must start the line, each capture runs
 * to the first occurrence of the literal after it, and a trailing capture takes the rest.
 */

const CAPTURE = /<([A-Za-z_][A-Za-z0-9_]*)>/g;

export type PatternNode = { kind: 'literal'; bytes: Buffer } | { kind: 'capture'; name: string };

export function parsePattern(pattern: string): PatternNode[] {
  const nodes: PatternNode[] = [];
  let last = 0;
  for (const m of pattern.matchAll(CAPTURE)) {
    if (m.index > last) nodes.push({ kind: 'literal', bytes: Buffer.from(pattern.slice(last, m.index)) });
    nodes.push({ kind: 'capture', name: m[1]! });
    last = m.index + m[0].length;
  }
  if (last < pattern.length) nodes.push({ kind: 'literal', bytes: Buffer.from(pattern.slice(last)) });
  return nodes;
}

const indexOf = (hay: Uint8Array, needle: Buffer, from: number): number =>
  Buffer.prototype.indexOf.call(hay, needle, from) as number;

/**
 * The `|>` test (Loki's `Matcher.Test`): every literal must be found, in order, each after the
 * previous one (first occurrence); a capture may not be empty (a literal found right where the
 * previous one ended fails, except for the very first node); a pattern that ends on a literal
 * must end the line, one that ends on a capture must leave something for it. The first literal
 * is not anchored at the line start. An empty line matches only an empty pattern.
 */
export function patternTest(nodes: readonly PatternNode[], line: Uint8Array): boolean {
  if (line.length === 0 || nodes.length === 0) return line.length === 0 && nodes.length === 0;
  let off = 0;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (node.kind !== 'literal') continue;
    const at = indexOf(line, node.bytes, off);
    if (at < 0) return false;
    if (i !== 0 && at === off) return false;
    off = at + node.bytes.length;
  }
  const endsOnCapture = nodes[nodes.length - 1]!.kind === 'capture';
  return endsOnCapture === (off !== line.length);
}

/**
 * The `| pattern` extraction: calls `onCapture(index, start, end)` for every named capture found
 * (index counts named captures only); a capture whose literal is missing takes the rest and stops.
 */
export function patternExtract(
  nodes: readonly PatternNode[],
  line: Uint8Array,
  onCapture: (index: number, start: number, end: number) => void,
): void {
  if (line.length === 0 || nodes.length === 0) return;
  let pos = 0;
  let i = 0;
  let named = 0;
  const first = nodes[0]!;
  if (first.kind === 'literal') {
    if (indexOf(line, first.bytes, 0) !== 0) return;
    pos = first.bytes.length;
    i = 1;
  }
  while (i < nodes.length) {
    const cap = nodes[i] as { kind: 'capture'; name: string };
    const isNamed = cap.name !== '_';
    if (i === nodes.length - 1) {
      if (isNamed) onCapture(named, pos, line.length);
      return;
    }
    const lit = nodes[i + 1] as { kind: 'literal'; bytes: Buffer };
    i += 2;
    const at = indexOf(line, lit.bytes, pos);
    if (at < 0) {
      if (isNamed) onCapture(named, pos, line.length);
      return;
    }
    if (isNamed) onCapture(named++, pos, at);
    pos = at + lit.bytes.length;
  }
}
