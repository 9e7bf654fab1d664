/**
 * A query Loki would reject inside `syntax.ParseExpr` (HTTP 400).
 *
 * `message` (also `detail`) is the text Loki prints after the position prefix, e.g.
 * `syntax error: unexpected IDENTIFIER`. `lokiMessage` is the full string Loki returns:
 * `parse error at line L, col C: <detail>`, or `parse error : <detail>` when Loki has no
 * position (line 0 and col 0 — validation errors raised after the grammar accepted the query),
 * or the bare detail for the few errors Loki does not wrap (`prefixed` false). The server should
 * answer 400 with `lokiMessage`.
 *
 * Positions copy Loki's scanner: 1-based, columns count characters. Loki's lexer loses the
 * line number (reports 0) for tokens it finishes with extra look-ahead reads — ranges `[5m]`,
 * durations, byte sizes, parser flags and two-character operators such as `|=` — and we report
 * the same numbers so that responses match Loki byte for byte.
 */
export class ParseError extends Error {
  override readonly name = 'ParseError';
  readonly line: number;
  readonly col: number;
  /** false for the few rejections Loki returns as plain errors, without the `parse error` prefix. */
  readonly prefixed: boolean;

  constructor(detail: string, line: number, col: number, options: { prefixed?: boolean } = {}) {
    super(detail);
    this.line = line;
    this.col = col;
    this.prefixed = options.prefixed ?? true;
  }

  /** Loki's message without the position prefix (same as `message`). */
  get detail(): string {
    return this.message;
  }

  /** The exact error string Loki's HTTP API returns for this query. */
  get lokiMessage(): string {
    if (!this.prefixed) return this.message;
    if (this.line === 0 && this.col === 0) return `parse error : ${this.message}`;
    return `parse error at line ${this.line}, col ${this.col}: ${this.message}`;
  }
}
