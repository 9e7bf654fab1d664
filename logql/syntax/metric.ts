/**
 * Metric queries: log ranges, range and vector aggregations, binary operators (with Loki's
 * literal folding), `vector()`, `label_replace()`, and the top-level expression rule.
 *
 * Like Loki's yacc grammar, binary operators accept log queries as operands and reject them
 * afterwards with Loki's message; that keeps syntax errors at the token where Loki reports them
 * (e.g. `min({a="b"}[5m])` fails at the range, not at the brace).
 */
import P from 'parsimmon';
import type {
  BinaryOp,
  ComparisonOp,
  Expr,
  Grouping,
  LogRangeExpr,
  LogSelectorExpr,
  PipelineStage,
  RangeOp,
  SampleExpr,
  UnwrapExpr,
  VectorMatching,
  VectorOp,
} from '../ast.js';
import { ParseError } from '../errors.js';
import { compileRegex, RegexSyntaxError } from '../regex.js';
import { nsToMs } from './duration.js';
import { literal } from './literals.js';
import { parseGoFloat } from './numbers.js';
import { pipeline, unwrap } from './pipeline.js';
import { selector } from './selector.js';
import { DURATION, IDENTIFIER, NUMBER, RANGE, STRING, list, token } from './tokens.js';

// --- log queries -------------------------------------------------------------------------------

function logSelector(matchers: LogSelectorExpr['matchers'], stages: PipelineStage[] = []): LogSelectorExpr {
  return { kind: 'LogSelector', matchers, stages };
}

/** yacc `logExpr`: a selector with an optional pipeline, possibly parenthesised. */
const logExpr: P.Parser<LogSelectorExpr> = P.lazy(() =>
  P.alt(
    P.seqMap(selector, pipeline.atMost(1), (m, p) => logSelector(m, p[0])),
    token('(').then(logExpr).skip(token(')')),
  ),
);

const offset: P.Parser<number> = token('offset').then(DURATION).map((ns) => nsToMs(ns));

function logRange(
  matchers: LogSelectorExpr['matchers'],
  stages: PipelineStage[] | undefined,
  rangeMs: number,
  offsetMs: number | undefined,
  unwrapExpr: UnwrapExpr | undefined,
): LogRangeExpr {
  const r: LogRangeExpr = { kind: 'LogRange', selector: logSelector(matchers, stages), rangeMs, offsetMs: offsetMs ?? 0 };
  if (unwrapExpr) r.unwrap = unwrapExpr;
  return r;
}

const opt = <T>(p: P.Parser<T>): P.Parser<T | undefined> => p.atMost(1).map((xs) => xs[0]);

/**
 * yacc `logRangeExpr`: the range may follow the selector (`{…}[5m] | json`) or end the pipeline
 * (`{…} | json [5m]`), or follow a parenthesised selector/pipeline; `offset` follows the range.
 */
const logRangeExpr: P.Parser<LogRangeExpr> = P.lazy(() =>
  P.alt(
    // selector RANGE [offset] [pipeline] [unwrap]
    P.seqMap(selector, RANGE, opt(offset), opt(pipeline), opt(unwrap), (m, r, o, p, u) => logRange(m, p, r, o, u)),
    // selector [pipeline] [unwrap] RANGE [offset]
    P.seqMap(selector, opt(pipeline), opt(unwrap), RANGE, opt(offset), (m, p, u, r, o) => logRange(m, p, r, o, u)),
    // ( selector [pipeline] [unwrap] ) RANGE [offset] — a trailing unwrap only after a bare selector
    P.seqMap(
      token('('),
      selector,
      opt(pipeline),
      opt(unwrap),
      token(')'),
      RANGE,
      opt(offset),
      (_o, m, p, u, _c, r, o) => ({ m, p, u, r, o }),
    ).chain(({ m, p, u, r, o }) =>
      p === undefined && u === undefined
        ? opt(unwrap).map((u2) => logRange(m, p, r, o, u2))
        : P.succeed(logRange(m, p, r, o, u)),
    ),
    token('(').then(logRangeExpr).skip(token(')')),
  ),
);

// --- shared pieces -----------------------------------------------------------------------------

const labels = (open: string, close: string): P.Parser<string[]> => list(open, IDENTIFIER, close);

const grouping: P.Parser<Grouping> = P.seqMap(token('by', 'without'), labels('(', ')'), (kw, ls) => ({
  without: kw.name === 'without',
  labels: ls,
}));

// --- range aggregations ------------------------------------------------------------------------

const RANGE_OPS: Record<string, RangeOp> = {
  COUNT_OVER_TIME: 'count_over_time',
  RATE: 'rate',
  RATE_COUNTER: 'rate_counter',
  BYTES_OVER_TIME: 'bytes_over_time',
  BYTES_RATE: 'bytes_rate',
  AVG_OVER_TIME: 'avg_over_time',
  SUM_OVER_TIME: 'sum_over_time',
  MIN_OVER_TIME: 'min_over_time',
  MAX_OVER_TIME: 'max_over_time',
  STDVAR_OVER_TIME: 'stdvar_over_time',
  STDDEV_OVER_TIME: 'stddev_over_time',
  QUANTILE_OVER_TIME: 'quantile_over_time',
  FIRST_OVER_TIME: 'first_over_time',
  LAST_OVER_TIME: 'last_over_time',
  ABSENT_OVER_TIME: 'absent_over_time',
};
const GROUPABLE_RANGE_OPS = new Set<RangeOp>([
  'avg_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
  'max_over_time',
  'min_over_time',
  'first_over_time',
  'last_over_time',
]);
const UNWRAP_ALLOWED = new Set<RangeOp>([
  'avg_over_time',
  'sum_over_time',
  'max_over_time',
  'min_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
  'rate',
  'rate_counter',
  'absent_over_time',
  'first_over_time',
  'last_over_time',
]);
const UNWRAP_OPTIONAL = new Set<RangeOp>(['bytes_over_time', 'bytes_rate', 'count_over_time', 'rate', 'absent_over_time']);

/** Loki's `newRangeAggregationExpr` + `validate()`. */
function newRangeAggregation(op: RangeOp, param: string | undefined, range: LogRangeExpr, grp: Grouping | undefined): SampleExpr {
  const fail = (msg: string): never => {
    throw new ParseError(msg, 0, 0);
  };
  let value: number | undefined;
  if (param !== undefined) {
    if (op !== 'quantile_over_time') fail(`parameter ${param} not supported for operation ${op}`);
    try {
      value = parseGoFloat(param);
    } catch (e) {
      fail(`invalid parameter for operation ${op}: ${(e as Error).message}`);
    }
  } else if (op === 'quantile_over_time') fail(`parameter required for operation ${op}`);
  if (grp && !GROUPABLE_RANGE_OPS.has(op)) fail(`grouping not allowed for ${op} aggregation`);
  if (range.unwrap) {
    if (!UNWRAP_ALLOWED.has(op)) fail(`invalid aggregation ${op} with unwrap`);
  } else if (!UNWRAP_OPTIONAL.has(op)) fail(`invalid aggregation ${op} without unwrap`);
  return {
    kind: 'RangeAggregation',
    op,
    range,
    ...(value !== undefined ? { param: value } : {}),
    ...(grp ? { grouping: grp } : {}),
  };
}

const rangeAggregation: P.Parser<SampleExpr> = P.seqMap(
  token(...Object.keys(RANGE_OPS)).skip(token('(')),
  opt(NUMBER.skip(token(','))),
  logRangeExpr.skip(token(')')),
  opt(grouping),
  (op, param, range, grp) => newRangeAggregation(RANGE_OPS[op.name]!, param, range, grp),
);

// --- vector aggregations -----------------------------------------------------------------------

const VECTOR_OPS = ['SUM', 'AVG', 'COUNT', 'MAX', 'MIN', 'STDDEV', 'STDVAR', 'BOTTOMK', 'TOPK', 'SORT', 'SORT_DESC', 'APPROX_TOPK'];

/** Loki's `mustNewVectorAggregationExpr`. */
function newVectorAggregation(op: VectorOp, param: string | undefined, expr: SampleExpr, grp: Grouping | undefined): SampleExpr {
  let k: number | undefined;
  if (op === 'topk' || op === 'bottomk' || op === 'approx_topk') {
    if (param === undefined) throw new ParseError(`parameter required for operation ${op}`, 0, 0);
    // Go strconv.Atoi: an optionally signed decimal integer.
    if (!/^[+-]?[0-9]+$/.test(param)) throw new ParseError(`invalid parameter ${op}(${param},`, 0, 0);
    k = Number(param);
    if (k <= 0) throw new ParseError(`invalid parameter (must be greater than 0) ${op}(${param}`, 0, 0);
    if (op === 'approx_topk' && grp) throw new ParseError(`grouping not allowed for ${op} aggregation`, 0, 0);
  } else if (param !== undefined) {
    throw new ParseError(`unsupported parameter for operation ${op}(${param},`, 0, 0);
  }
  return {
    kind: 'VectorAggregation',
    op,
    expr,
    ...(k !== undefined ? { param: k } : {}),
    ...(grp ? { grouping: grp } : {}),
  };
}

/** `sum by (a) (x)`, `sum(x) by (a)`, `topk(5, x)`: grouping goes before or after, not both. */
const vectorAggregation: P.Parser<SampleExpr> = P.lazy(() =>
  P.seqMap(
    token(...VECTOR_OPS),
    opt(grouping),
    token('(').then(opt(NUMBER.skip(token(',')))),
    metricExpr.skip(token(')')),
    (op, before, param, expr) => ({ op: op.name.toLowerCase() as VectorOp, before, param, expr }),
  ).chain(({ op, before, param, expr }) =>
    before
      ? P.succeed(newVectorAggregation(op, param, expr, before))
      : opt(grouping).map((after) => newVectorAggregation(op, param, expr, after)),
  ),
);

// --- functions and literals --------------------------------------------------------------------

const labelReplace: P.Parser<SampleExpr> = P.lazy(() =>
  P.seqMap(
    token('label_replace').then(token('(')).then(metricExpr),
    token(',').then(STRING),
    token(',').then(STRING),
    token(',').then(STRING),
    token(',').then(STRING).skip(token(')')),
    (expr, dst, replacement, src, regex): SampleExpr => {
      try {
        compileRegex(regex, { anchored: true, dotNL: false });
      } catch (e) {
        if (e instanceof RegexSyntaxError) throw new ParseError(`invalid regex in label_replace: ${e.message}`, 0, 0);
        throw e;
      }
      return { kind: 'LabelReplace', expr, dst, replacement, src, regex };
    },
  ),
);

const vectorExpr: P.Parser<SampleExpr> = token('VECTOR')
  .then(token('('))
  .then(NUMBER)
  .skip(token(')'))
  .map((text) => {
    try {
      return { kind: 'Vector', value: parseGoFloat(text) };
    } catch (e) {
      throw new ParseError(`unable to parse vectorExpr as a float: ${(e as Error).message}`, 0, 0);
    }
  });

// --- binary operators --------------------------------------------------------------------------

const PRECEDENCE: Record<BinaryOp, number> = {
  or: 1,
  and: 2,
  unless: 2,
  '==': 3,
  '!=': 3,
  '>': 3,
  '>=': 3,
  '<': 3,
  '<=': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
  '^': 6,
};
const SET_OPS = new Set<BinaryOp>(['and', 'or', 'unless']);

interface Operator {
  op: BinaryOp;
  returnBool: boolean;
  matching?: VectorMatching;
}

/** `bool`, `on(…)`/`ignoring(…)`, `group_left(…)`/`group_right(…)` (yacc `binOpModifier`). */
const operator: P.Parser<Operator> = P.seqMap(
  token(...(Object.keys(PRECEDENCE) as string[])),
  opt(token('bool')),
  opt(
    P.seqMap(
      token('on', 'ignoring'),
      labels('(', ')'),
      opt(P.seqMap(token('group_left', 'group_right'), opt(labels('(', ')')), (g, ls) => ({ g, ls }))),
      (kw, ls, grp): VectorMatching => {
        const m: VectorMatching = { on: kw.name === 'on', labels: ls };
        if (grp) m.group = { side: grp.g.name === 'group_left' ? 'left' : 'right', labels: grp.ls ?? [] };
        return m;
      },
    ),
  ),
  (tok, bool, matching) => {
    const o: Operator = { op: tok.name as BinaryOp, returnBool: bool !== undefined };
    if (matching) o.matching = matching;
    return o;
  },
);

/** What Go's %T prints for a log query leg in Loki's error message. */
function goTypeName(e: LogSelectorExpr): string {
  return e.stages.length > 0 ? '*syntax.PipelineExpr' : '*syntax.MatchersExpr';
}

function goFloat6(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  return n.toFixed(6);
}

function foldLiterals(op: BinaryOp, l: number, r: number): number {
  switch (op) {
    case '+':
      return l + r;
    case '-':
      return l - r;
    case '*':
      return l * r;
    case '/':
      return l / r;
    case '%':
      return l % r;
    case '^':
      return l ** r;
    // Comparisons between literals always yield 1 or 0, as if `bool` were given.
    case '==':
    case '!=':
    case '>':
    case '>=':
    case '<':
    case '<=':
      return compareAsNumber(op, l, r);
    default:
      throw new Error(`cannot fold ${op}`);
  }
}

/** A comparison as LogQL's `bool` gives it: 1 when it holds, else 0. */
export function compareAsNumber(op: ComparisonOp, l: number, r: number): number {
  switch (op) {
    case '==':
      return l === r ? 1 : 0;
    case '!=':
      return l !== r ? 1 : 0;
    case '>':
      return l > r ? 1 : 0;
    case '>=':
      return l >= r ? 1 : 0;
    case '<':
      return l < r ? 1 : 0;
    case '<=':
      return l <= r ? 1 : 0;
  }
}

/** Loki's `mustNewBinOpExpr`: leg checks, then literal folding (`1 + 1` → `2`). */
function newBinOp(o: Operator, lhs: Expr, rhs: Expr): SampleExpr {
  if (lhs.kind === 'LogSelector') {
    throw new ParseError(`unexpected type for left leg of binary operation (${o.op}): ${goTypeName(lhs)}`, 0, 0);
  }
  if (rhs.kind === 'LogSelector') {
    throw new ParseError(`unexpected type for right leg of binary operation (${o.op}): ${goTypeName(rhs)}`, 0, 0);
  }
  if (SET_OPS.has(o.op)) {
    if (lhs.kind === 'Literal') {
      throw new ParseError(`unexpected literal for left leg of logical/set binary operation (${o.op}): ${goFloat6(lhs.value)}`, 0, 0);
    }
    if (rhs.kind === 'Literal') {
      throw new ParseError(`unexpected literal for right leg of logical/set binary operation (${o.op}): ${goFloat6(rhs.value)}`, 0, 0);
    }
  }
  if (lhs.kind === 'Literal' && rhs.kind === 'Literal') {
    return { kind: 'Literal', value: foldLiterals(o.op, lhs.value, rhs.value) };
  }
  const e: SampleExpr = { kind: 'BinOp', op: o.op, left: lhs, right: rhs, returnBool: o.returnBool };
  if (o.matching) e.matching = o.matching;
  return e;
}

/** Builds the operator tree with yacc's precedences (all left-associative except `^`). */
function buildBinary(first: Expr, rest: [Operator, Expr][]): SampleExpr {
  let pos = 0;
  const climb = (left: Expr, minPrec: number): Expr => {
    while (pos < rest.length && PRECEDENCE[rest[pos]![0].op] >= minPrec) {
      const [o, operand] = rest[pos++]!;
      const prec = PRECEDENCE[o.op];
      let right = operand;
      while (pos < rest.length) {
        const nextPrec = PRECEDENCE[rest[pos]![0].op];
        if (nextPrec > prec || (nextPrec === prec && o.op === '^')) right = climb(right, nextPrec);
        else break;
      }
      left = newBinOp(o, left, right);
    }
    return left;
  };
  const tree = climb(first, 0);
  // The grammar only calls this with a metric first operand or at least one operator.
  if (tree.kind === 'LogSelector') throw new Error('log query is not a metric expression');
  return tree;
}

// --- expressions -------------------------------------------------------------------------------

/** A metric operand that is not a binary expression. */
const metricAtom: P.Parser<SampleExpr> = P.lazy(() =>
  P.alt(
    rangeAggregation,
    vectorAggregation,
    labelReplace,
    vectorExpr,
    literal.map((value): SampleExpr => ({ kind: 'Literal', value })),
    token('(').then(metricExpr).skip(token(')')),
  ),
);

const operand: P.Parser<Expr> = P.alt<Expr>(metricAtom, logExpr);
const tail = P.seq(operator, operand);

/**
 * yacc `metricExpr`: a metric operand with optional operators, or a log query that is the left leg
 * of at least one operator (which `newBinOp` then rejects, as Loki does).
 */
const metricExpr: P.Parser<SampleExpr> = P.alt(
  P.seqMap(metricAtom, tail.many(), buildBinary),
  P.seqMap(logExpr, tail.atLeast(1), buildBinary),
);

/** yacc `expr`: a metric query or a log query. */
export const expr: P.Parser<Expr> = P.alt<Expr>(metricExpr, logExpr);
