/** Log pipelines: line filters, parsers, label filters, formatters, drop/keep, and unwrap. */
import P from 'parsimmon';
import type {
  ExtractionParam,
  LabelFormatItem,
  LineFilterOp,
  LineFilterStage,
  LineFilterValue,
  NamedLabelMatcher,
  PipelineStage,
  UnwrapConversion,
  UnwrapExpr,
} from '../ast.js';
import { ParseError } from '../errors.js';
import { RegexSyntaxError, regexCaptureNames } from '../regex.js';
import { labelFilter } from './label-filter.js';
import { validatePattern } from './pattern.js';
import { matcher } from './selector.js';
import { committed, IDENTIFIER, STRING, token } from './tokens.js';

// --- line filters ------------------------------------------------------------------------------

const NEGATIVE_FILTERS = new Set<LineFilterOp>(['!=', '!~', '!>']);

const ipCall: P.Parser<LineFilterValue> = token('ip')
  .then(token('('))
  .then(STRING)
  .skip(token(')'))
  .map((value) => ({ kind: 'ip', value }));

const filterValue: P.Parser<LineFilterValue> = P.alt(
  STRING.map((value): LineFilterValue => ({ kind: 'string', value })),
  ipCall,
);

/**
 * `|= "a" or "b"`. Negative operators follow De Morgan (`!= "a" or "b"` keeps lines containing
 * neither), which Loki represents — and prints — as consecutive filters; we store it that way too.
 */
const lineFilter: P.Parser<LineFilterStage[]> = P.seqMap(
  token('|=', '!=', '|~', '!~', '|>', '!>').map((t) => t.name as LineFilterOp),
  filterValue,
  token('or').then(committed(filterValue, ['STRING', 'ip'])).many(),
  (op, value, or) =>
    NEGATIVE_FILTERS.has(op)
      ? [value, ...or].map((v): LineFilterStage => ({ kind: 'LineFilter', op, value: v, or: [] }))
      : [{ kind: 'LineFilter', op, value, or }],
);

// --- parsers -----------------------------------------------------------------------------------

/** `name="expression"` or a bare `name` (meaning `name="name"`). */
const extractionParam: P.Parser<ExtractionParam> = P.seqMap(
  IDENTIFIER,
  token('=').then(STRING).atMost(1),
  (name, expr) => ({ name, expression: expr[0] ?? name }),
);
const extractionParams = P.sepBy1(extractionParam, token(','));

const jsonParser: P.Parser<PipelineStage> = token('json')
  .then(extractionParams.atMost(1))
  .map((params) => ({ kind: 'JsonParser', params: params[0] ?? [] }));

const logfmtParser: P.Parser<PipelineStage> = P.seqMap(
  token('logfmt'),
  token('FUNCTION_FLAG').many(),
  extractionParams.atMost(1),
  (_kw, flags, params) => ({
    kind: 'LogfmtParser',
    strict: flags.some((f) => f.text === '--strict'),
    keepEmpty: flags.some((f) => f.text === '--keep-empty'),
    params: params[0] ?? [],
  }),
);

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** log.NewRegexpParser's checks, which Loki runs while parsing. */
function validateRegexpParser(pattern: string): void {
  let names: string[];
  try {
    names = regexCaptureNames(pattern);
  } catch (e) {
    if (e instanceof RegexSyntaxError) throw new ParseError(`invalid regexp parser: ${e.message}`, 0, 0);
    throw e;
  }
  const seen = new Set<string>();
  for (const name of names) {
    if (name === '') continue;
    if (!LABEL_NAME.test(name)) throw new ParseError(`invalid regexp parser: invalid extracted label name '${name}'`, 0, 0);
    if (seen.has(name)) throw new ParseError(`invalid regexp parser: duplicate extracted label name '${name}'`, 0, 0);
    seen.add(name);
  }
  if (seen.size === 0) throw new ParseError('invalid regexp parser: at least one named capture must be supplied', 0, 0);
}

const regexpParser: P.Parser<PipelineStage> = token('regexp')
  .then(STRING)
  .map((pattern) => {
    validateRegexpParser(pattern);
    return { kind: 'RegexpParser', pattern };
  });

const patternParser: P.Parser<PipelineStage> = token('pattern')
  .then(STRING)
  .map((pattern) => {
    const problem = validatePattern(pattern);
    if (problem !== undefined) throw new ParseError(`invalid pattern parser: ${problem}`, 0, 0);
    return { kind: 'PatternParser', pattern };
  });

// --- formatting and label-set stages -----------------------------------------------------------

const lineFormat: P.Parser<PipelineStage> = token('line_format')
  .then(STRING)
  .map((template) => ({ kind: 'LineFormat', template }));

const labelFormatItem: P.Parser<LabelFormatItem> = P.seqMap(
  IDENTIFIER.skip(token('=')),
  P.alt(
    IDENTIFIER.map((src) => ({ kind: 'rename' as const, src })),
    STRING.map((template) => ({ kind: 'template' as const, template })),
  ),
  (dst, v): LabelFormatItem => (v.kind === 'rename' ? { kind: 'rename', dst, src: v.src } : { kind: 'template', dst, template: v.template }),
);

const labelFormat: P.Parser<PipelineStage> = token('label_format')
  .then(P.sepBy1(labelFormatItem, token(',')))
  .map((items) => ({ kind: 'LabelFormat', items }));

const namedMatcher: P.Parser<NamedLabelMatcher> = P.alt(
  matcher.map((m): NamedLabelMatcher => ({ kind: 'matcher', matcher: m })),
  IDENTIFIER.map((name): NamedLabelMatcher => ({ kind: 'name', name })),
);
const namedMatchers = P.sepBy1(namedMatcher, token(','));

const dropLabels: P.Parser<PipelineStage> = token('drop')
  .then(namedMatchers)
  .map((labels) => ({ kind: 'DropLabels', labels }));

const keepLabels: P.Parser<PipelineStage> = token('keep')
  .then(namedMatchers)
  .map((labels) => ({ kind: 'KeepLabels', labels }));

// --- pipeline ----------------------------------------------------------------------------------

const pipedStage: P.Parser<PipelineStage> = token('|').then(
  P.alt<PipelineStage>(
    logfmtParser,
    jsonParser,
    regexpParser,
    patternParser,
    token('unpack').result({ kind: 'UnpackParser' }),
    lineFormat,
    labelFormat,
    dropLabels,
    keepLabels,
    token('decolorize').result({ kind: 'Decolorize' }),
    labelFilter.map((filter): PipelineStage => ({ kind: 'LabelFilter', filter })),
  ),
);

/** yacc `pipelineExpr`: one or more stages. */
export const pipeline: P.Parser<PipelineStage[]> = P.alt(
  lineFilter,
  pipedStage.map((s) => [s]),
)
  .atLeast(1)
  .map((groups) => groups.flat());

// --- unwrap ------------------------------------------------------------------------------------

const CONVERSIONS: Record<string, UnwrapConversion> = {
  BYTES_CONV: 'bytes',
  DURATION_CONV: 'duration',
  DURATION_SECONDS_CONV: 'duration_seconds',
};

/** `| unwrap label` or `| unwrap duration(label)`, then label filters only. */
export const unwrap: P.Parser<UnwrapExpr> = P.seqMap(
  token('|').then(token('unwrap')),
  P.alt(
    P.seqMap(
      token('BYTES_CONV', 'DURATION_CONV', 'DURATION_SECONDS_CONV'),
      token('(').then(IDENTIFIER).skip(token(')')),
      (conv, label) => ({ label, conversion: CONVERSIONS[conv.name] }),
    ),
    IDENTIFIER.map((label) => ({ label, conversion: undefined })),
  ),
  token('|').then(labelFilter).many(),
  (_kw, { label, conversion }, postFilters): UnwrapExpr =>
    conversion === undefined ? { label, postFilters } : { label, conversion, postFilters },
);
