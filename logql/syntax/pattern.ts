/**
 * Parse-time checks of the `| pattern "<ip> - <_> <status>"` parser (Loki's pkg/logql/log/pattern):
 * `<name>` captures and `<_>` skips; at least one named capture, no two captures side by side, no
 * name twice.
 */

const CAPTURE = /<([A-Za-z_][A-Za-z0-9_]*)>/g;

/** Returns Loki's error text for an invalid pattern, or undefined when it is valid. */
export function validatePattern(pattern: string): string | undefined {
  if (pattern === '') return 'syntax error: unexpected $end, expecting IDENTIFIER or LITERAL';
  const captures: { name: string; start: number; end: number }[] = [];
  for (const m of pattern.matchAll(CAPTURE)) {
    captures.push({ name: m[1]!, start: m.index, end: m.index + m[0].length });
  }
  if (!captures.some((c) => c.name !== '_')) return 'at least one capture is required';
  for (let i = 0; i + 1 < captures.length; i++) {
    const [a, b] = [captures[i]!, captures[i + 1]!];
    if (a.end === b.start) return `found consecutive capture '<${a.name}><${b.name}>': invalid expression`;
  }
  const seen = new Set<string>();
  for (const { name } of captures) {
    if (name === '_') continue;
    if (seen.has(name)) return `duplicate capture name (${name}): invalid expression`;
    seen.add(name);
  }
  return undefined;
}
