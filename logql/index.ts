/**
 * Skald's LogQL library (`skald/logql`): parses LogQL exactly as Grafana Loki 3.x's
 * `syntax.ParseExpr` does (same accepted queries, same error messages and positions), prints a
 * canonical form, compiles log pipelines and evaluates queries against any `LogSource`. Pure: no I/O.
 *
 * Errors: every rejection is a `ParseError`; render it for HTTP 400 responses with
 * `err.lokiMessage` (`parse error at line L, col C: <detail>`, or `parse error : <detail>` for
 * Loki's position-less validation errors); `err.message`/`err.detail` hold the part after the prefix.
 */
import type { Expr, LabelMatcher } from './ast.js';
import { parseMatchers, parseQuery } from './syntax/parser.js';

export type * from './ast.js';
export { ParseError } from './errors.js';
export { compileRegex, regexCaptureNames, RegexSyntaxError } from './regex.js';
export type { CompileRegexOptions } from './regex.js';
export { compileMatcher } from './matcher.js';
export { format, formatMatchers } from './format.js';
export { compilePipeline } from './pipeline/pipeline.js';
export type { Pipeline, PipelineOptions, PipelineResult } from './pipeline/pipeline.js';
export type { Label, Labels } from './pipeline/labels.js';
export {
  evaluate,
  isLogQuery,
  emptyStats,
  unboundedContext,
  QueryError,
  QueryTimeoutError,
  CHECKPOINT_LINES,
} from './engine/index.js';
export type {
  QueryParams,
  QueryContext,
  QueryLimits,
  QueryStats,
  QueryResult,
  StreamsResult,
  MatrixResult,
  VectorResult,
  ScalarResult,
  LogStream,
  LogEntry,
  Series,
  Point,
  VectorSample,
  LogSource,
  SourceStream,
  EntryBatch,
  BatchRef,
  LineBounds,
  Direction,
} from './engine/index.js';

/** Parses any LogQL query (log or metric). Throws ParseError. */
export function parse(query: string): Expr {
  return parseQuery(query);
}

/**
 * Parses a stream selector such as `{app="a", env=~"prod|dev"}` (series `match[]`, `/labels?query=`),
 * like Loki's `ParseMatchers`: validated, regexes checked, and anything but a bare selector is
 * rejected. Throws ParseError.
 */
export function parseSelector(input: string): LabelMatcher[] {
  return parseMatchers(input);
}
