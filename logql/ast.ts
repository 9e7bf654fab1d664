/**
 * The LogQL AST. Every node is a plain object with a `kind` discriminant so it can be compared
 * structurally, serialised, and switched over exhaustively. Parentheses are not kept: the tree
 * shape carries the grouping, and `format()` prints the parentheses the shape needs.
 *
 * Durations: ranges and offsets are whole milliseconds (`rangeMs`, `offsetMs`); label-filter
 * durations are nanoseconds (`durationNs`) because they accept `ns`/`us`.
 */

export type MatchType = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  type: MatchType;
  name: string;
  value: string;
}

/** A top-level query: a log query (selector + pipeline) or a metric (sample) query. */
export type Expr = LogSelectorExpr | SampleExpr;

// ---------------------------------------------------------------------------------------------
// Log queries

export interface LogSelectorExpr {
  kind: 'LogSelector';
  matchers: LabelMatcher[];
  stages: PipelineStage[];
}

export type PipelineStage =
  | LineFilterStage
  | JsonParserStage
  | LogfmtParserStage
  | RegexpParserStage
  | PatternParserStage
  | UnpackParserStage
  | LabelFilterStage
  | LineFormatStage
  | LabelFormatStage
  | DropLabelsStage
  | KeepLabelsStage
  | DecolorizeStage;

export type LineFilterOp = '|=' | '!=' | '|~' | '!~' | '|>' | '!>';

/** What a line filter compares against: a literal/regex/pattern string, or an `ip("…")` pattern. */
export type LineFilterValue = { kind: 'string'; value: string } | { kind: 'ip'; value: string };

/**
 * `|= "a" or "b"`: the line must satisfy `op` with `value` or with any of `or`.
 * Negative `or` chains (`!= "a" or "b"`) are stored as separate stages, as Loki applies them.
 */
export interface LineFilterStage {
  kind: 'LineFilter';
  op: LineFilterOp;
  value: LineFilterValue;
  or: LineFilterValue[];
}

/** `json` and `json a="path", b`: no params means every field. */
export interface JsonParserStage {
  kind: 'JsonParser';
  params: ExtractionParam[];
}

export interface LogfmtParserStage {
  kind: 'LogfmtParser';
  strict: boolean;
  keepEmpty: boolean;
  params: ExtractionParam[];
}

/** `name="expression"`; a bare `name` has `expression` equal to `name`. */
export interface ExtractionParam {
  name: string;
  expression: string;
}

export interface RegexpParserStage {
  kind: 'RegexpParser';
  pattern: string;
}

export interface PatternParserStage {
  kind: 'PatternParser';
  pattern: string;
}

export interface UnpackParserStage {
  kind: 'UnpackParser';
}

export interface LabelFilterStage {
  kind: 'LabelFilter';
  filter: LabelFilterExpr;
}

export type ComparisonOp = '==' | '!=' | '>' | '>=' | '<' | '<=';

export type LabelFilterExpr =
  | { kind: 'StringFilter'; matcher: LabelMatcher }
  | { kind: 'NumericFilter'; name: string; op: ComparisonOp; value: number }
  | { kind: 'DurationFilter'; name: string; op: ComparisonOp; durationNs: number }
  | { kind: 'BytesFilter'; name: string; op: ComparisonOp; bytes: number }
  | { kind: 'IpFilter'; name: string; op: '=' | '!='; pattern: string }
  | { kind: 'AndFilter'; left: LabelFilterExpr; right: LabelFilterExpr }
  | { kind: 'OrFilter'; left: LabelFilterExpr; right: LabelFilterExpr };

export interface LineFormatStage {
  kind: 'LineFormat';
  template: string;
}

export type LabelFormatItem =
  | { kind: 'rename'; dst: string; src: string }
  | { kind: 'template'; dst: string; template: string };

export interface LabelFormatStage {
  kind: 'LabelFormat';
  items: LabelFormatItem[];
}

/** A bare label name, or a matcher that selects labels by value. */
export type NamedLabelMatcher = { kind: 'name'; name: string } | { kind: 'matcher'; matcher: LabelMatcher };

export interface DropLabelsStage {
  kind: 'DropLabels';
  labels: NamedLabelMatcher[];
}

export interface KeepLabelsStage {
  kind: 'KeepLabels';
  labels: NamedLabelMatcher[];
}

export interface DecolorizeStage {
  kind: 'Decolorize';
}

// ---------------------------------------------------------------------------------------------
// Metric queries

export type SampleExpr =
  | RangeAggregationExpr
  | VectorAggregationExpr
  | BinOpExpr
  | LiteralExpr
  | VectorExpr
  | LabelReplaceExpr;

export type UnwrapConversion = 'bytes' | 'duration' | 'duration_seconds';

export interface UnwrapExpr {
  label: string;
  /** Absent for a plain `unwrap label` (value parsed as a float). */
  conversion?: UnwrapConversion;
  /** Label filters after the unwrap (`| unwrap x | __error__=""`). */
  postFilters: LabelFilterExpr[];
}

export interface LogRangeExpr {
  kind: 'LogRange';
  selector: LogSelectorExpr;
  rangeMs: number;
  /** 0 when there is no offset (Loki does not distinguish `offset 0s`). */
  offsetMs: number;
  unwrap?: UnwrapExpr;
}

export type RangeOp =
  | 'count_over_time'
  | 'rate'
  | 'rate_counter'
  | 'bytes_over_time'
  | 'bytes_rate'
  | 'avg_over_time'
  | 'sum_over_time'
  | 'min_over_time'
  | 'max_over_time'
  | 'stdvar_over_time'
  | 'stddev_over_time'
  | 'quantile_over_time'
  | 'first_over_time'
  | 'last_over_time'
  | 'absent_over_time';

export interface Grouping {
  without: boolean;
  labels: string[];
}

export interface RangeAggregationExpr {
  kind: 'RangeAggregation';
  op: RangeOp;
  range: LogRangeExpr;
  /** quantile_over_time's φ. */
  param?: number;
  grouping?: Grouping;
}

export type VectorOp =
  | 'sum'
  | 'avg'
  | 'min'
  | 'max'
  | 'count'
  | 'stddev'
  | 'stdvar'
  | 'topk'
  | 'bottomk'
  | 'sort'
  | 'sort_desc'
  | 'approx_topk';

export interface VectorAggregationExpr {
  kind: 'VectorAggregation';
  op: VectorOp;
  expr: SampleExpr;
  /** topk/bottomk/approx_topk's k. */
  param?: number;
  grouping?: Grouping;
}

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^';
export type BinaryOp = ArithmeticOp | ComparisonOp | 'and' | 'or' | 'unless';

export interface VectorMatching {
  /** true for `on (…)`, false for `ignoring (…)`. */
  on: boolean;
  labels: string[];
  /** `group_left`/`group_right` with their extra labels. */
  group?: { side: 'left' | 'right'; labels: string[] };
}

export interface BinOpExpr {
  kind: 'BinOp';
  op: BinaryOp;
  left: SampleExpr;
  right: SampleExpr;
  /** The `bool` modifier of comparisons. */
  returnBool: boolean;
  matching?: VectorMatching;
}

/** A number; literal-only arithmetic is folded into one of these at parse time, as Loki does. */
export interface LiteralExpr {
  kind: 'Literal';
  value: number;
}

export interface VectorExpr {
  kind: 'Vector';
  value: number;
}

export interface LabelReplaceExpr {
  kind: 'LabelReplace';
  expr: SampleExpr;
  dst: string;
  replacement: string;
  src: string;
  regex: string;
}
