/**
 * Canonical LogQL printer. `parse(format(ast))` gives back `ast` for every AST `parse` returns.
 * Layout follows Loki's `String()` where that is unambiguous (`sum by (a)(…)`, `topk(5,…)`,
 * `{a="b"} | json[5m]`); binary operands that are themselves operations are parenthesised, and
 * label filters get only the parentheses their tree shape needs.
 */
import type {
  Expr,
  Grouping,
  LabelFilterExpr,
  LabelMatcher,
  LineFilterValue,
  LogRangeExpr,
  LogSelectorExpr,
  NamedLabelMatcher,
  PipelineStage,
  SampleExpr,
  UnwrapExpr,
  VectorMatching,
} from './ast.js';
import { formatBytes } from './syntax/bytes.js';
import { formatDuration } from './syntax/duration.js';
import { formatNumber } from './syntax/literals.js';
import { quoteString } from './syntax/strings.js';

export function format(e: Expr): string {
  return e.kind === 'LogSelector' ? formatLog(e) : formatSample(e);
}

export function formatMatchers(ms: LabelMatcher[]): string {
  return `{${ms.map(formatMatcher).join(', ')}}`;
}

function formatMatcher(m: LabelMatcher): string {
  return `${m.name}${m.type}${quoteString(m.value)}`;
}

function formatLog(e: LogSelectorExpr): string {
  return formatMatchers(e.matchers) + e.stages.map((s) => ` ${formatStage(s)}`).join('');
}

function formatFilterValue(v: LineFilterValue): string {
  return v.kind === 'ip' ? `ip(${quoteString(v.value)})` : quoteString(v.value);
}

function formatStage(s: PipelineStage): string {
  switch (s.kind) {
    case 'LineFilter':
      return [`${s.op} ${formatFilterValue(s.value)}`, ...s.or.map(formatFilterValue)].join(' or ');
    case 'JsonParser':
      return withParams('| json', s.params);
    case 'LogfmtParser':
      return withParams(`| logfmt${s.strict ? ' --strict' : ''}${s.keepEmpty ? ' --keep-empty' : ''}`, s.params);
    case 'RegexpParser':
      return `| regexp ${quoteString(s.pattern)}`;
    case 'PatternParser':
      return `| pattern ${quoteString(s.pattern)}`;
    case 'UnpackParser':
      return '| unpack';
    case 'LabelFilter':
      return `| ${formatLabelFilter(s.filter)}`;
    case 'LineFormat':
      return `| line_format ${quoteString(s.template)}`;
    case 'LabelFormat':
      return `| label_format ${s.items
        .map((i) => (i.kind === 'rename' ? `${i.dst}=${i.src}` : `${i.dst}=${quoteString(i.template)}`))
        .join(', ')}`;
    case 'DropLabels':
      return `| drop ${s.labels.map(formatNamedMatcher).join(', ')}`;
    case 'KeepLabels':
      return `| keep ${s.labels.map(formatNamedMatcher).join(', ')}`;
    case 'Decolorize':
      return '| decolorize';
  }
}

function withParams(head: string, params: { name: string; expression: string }[]): string {
  if (params.length === 0) return head;
  return `${head} ${params.map((p) => (p.name === p.expression ? p.name : `${p.name}=${quoteString(p.expression)}`)).join(', ')}`;
}

function formatNamedMatcher(n: NamedLabelMatcher): string {
  return n.kind === 'name' ? n.name : formatMatcher(n.matcher);
}

/** Label filter with the parentheses needed to rebuild the same tree (`and` binds tighter than `or`, both left-associative). */
function formatLabelFilter(f: LabelFilterExpr): string {
  switch (f.kind) {
    case 'StringFilter':
      return formatMatcher(f.matcher);
    case 'NumericFilter':
      return `${f.name} ${f.op} ${formatNumber(f.value)}`;
    case 'DurationFilter':
      return `${f.name} ${f.op} ${formatDuration(f.durationNs)}`;
    case 'BytesFilter':
      return `${f.name} ${f.op} ${formatBytes(f.bytes)}`;
    case 'IpFilter':
      return `${f.name} ${f.op} ip(${quoteString(f.pattern)})`;
    case 'AndFilter':
    case 'OrFilter': {
      const isAnd = f.kind === 'AndFilter';
      const leftNeedsParens = !isAnd ? false : f.left.kind === 'OrFilter';
      const rightNeedsParens = f.right.kind === 'OrFilter' || (f.right.kind === 'AndFilter' && isAnd);
      const wrap = (x: LabelFilterExpr, parens: boolean): string =>
        parens ? `(${formatLabelFilter(x)})` : formatLabelFilter(x);
      return `${wrap(f.left, leftNeedsParens)} ${isAnd ? 'and' : 'or'} ${wrap(f.right, rightNeedsParens)}`;
    }
  }
}

function formatUnwrap(u: UnwrapExpr): string {
  const target = u.conversion ? `${u.conversion}(${u.label})` : u.label;
  return ` | unwrap ${target}${u.postFilters.map((f) => ` | ${formatLabelFilter(f)}`).join('')}`;
}

function formatLogRange(r: LogRangeExpr): string {
  const unwrap = r.unwrap ? formatUnwrap(r.unwrap) : '';
  const offset = r.offsetMs !== 0 ? ` offset ${formatDuration(r.offsetMs * 1e6)}` : '';
  return `${formatLog(r.selector)}${unwrap}[${formatDuration(r.rangeMs * 1e6)}]${offset}`;
}

function formatGrouping(g: Grouping): string {
  return `${g.without ? 'without' : 'by'} (${g.labels.join(',')})`;
}

function formatMatching(m: VectorMatching): string {
  let out = ` ${m.on ? 'on' : 'ignoring'} (${m.labels.join(',')})`;
  if (m.group) out += ` group_${m.group.side} (${m.group.labels.join(',')})`;
  return out;
}

function formatOperand(e: SampleExpr): string {
  return e.kind === 'BinOp' ? `(${formatSample(e)})` : formatSample(e);
}

function formatSample(e: SampleExpr): string {
  switch (e.kind) {
    case 'RangeAggregation': {
      const param = e.param !== undefined ? `${formatNumber(e.param)},` : '';
      const grouping = e.grouping ? ` ${formatGrouping(e.grouping)}` : '';
      return `${e.op}(${param}${formatLogRange(e.range)})${grouping}`;
    }
    case 'VectorAggregation': {
      const grouping = e.grouping ? ` ${formatGrouping(e.grouping)}` : '';
      const param = e.param !== undefined ? `${e.param},` : '';
      return `${e.op}${grouping}(${param}${formatSample(e.expr)})`;
    }
    case 'BinOp': {
      const bool = e.returnBool ? ' bool' : '';
      const matching = e.matching ? formatMatching(e.matching) : '';
      return `${formatOperand(e.left)} ${e.op}${bool}${matching} ${formatOperand(e.right)}`;
    }
    case 'Literal':
      return formatNumber(e.value);
    case 'Vector':
      return `vector(${formatNumber(e.value)})`;
    case 'LabelReplace':
      return `label_replace(${formatSample(e.expr)},${[e.dst, e.replacement, e.src, e.regex].map(quoteString).join(',')})`;
  }
}
