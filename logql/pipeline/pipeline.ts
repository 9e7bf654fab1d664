/**
 * A log query's pipeline, compiled once per query and run per line (Loki's `log.Pipeline`).
 *
 * `compilePipeline(stages)` builds every stage (regexes, patterns, paths, ip ranges, matchers) up
 * front and throws there for anything Loki only rejects when it builds the pipeline (bad regex,
 * bad ip pattern, bad json path, …). `process()` then runs one line through the stages with a
 * reused LabelsBuilder.
 *
 * Like Loki, line filters are moved ahead of the parsers and label stages that precede them (see
 * `reorderStages`), which lets most lines be dropped before any parsing.
 */
import type { LabelFilterExpr, PipelineStage } from '../ast.js';
import { Decolorize } from './decolorize.js';
import { DropLabels, KeepLabels } from './drop-keep.js';
import { compileJson } from './json.js';
import { LabelFilter } from './label-filter.js';
import { LabelsFormatter } from './label-format.js';
import { LabelsBuilder, type LabelCategories, type Labels } from './labels.js';
import { LineFilter } from './line-filter.js';
import { LineFormatter } from './line-format.js';
import { compileLogfmt } from './logfmt.js';
import { PatternParser } from './pattern.js';
import { RegexpParser } from './regexp.js';
import type { Stage } from './stage.js';
import { UnpackParser } from './unpack.js';

export interface PipelineResult {
  /** The line after the pipeline: the input array itself unless a stage rewrote it. */
  line: Uint8Array;
  /** The line's final labels, sorted by name. Shared between lines; do not mutate. */
  labels: Labels;
  /** `{a="b", …}` of `labels`: the output stream the line belongs to. */
  key: string;
}

export interface Pipeline {
  /**
   * Runs one line. `streamLabels` is cached by identity: pass the same array for every line of a
   * stream. Returns null when the line is dropped. The result object is reused by the next call.
   */
  process(ts: bigint, line: Uint8Array, streamLabels: Labels, structuredMetadata: Labels): PipelineResult | null;
  /** True when the pipeline has no stage that can drop or change anything (e.g. only `|= ""`). */
  readonly isNoop: boolean;
  /**
   * Bytes every kept line contains, when the first stage is a plain `|= "…"`: a caller can search a
   * whole buffer of lines for them and run the pipeline only on the lines that hold a match.
   */
  readonly requiredSubstring: Uint8Array | undefined;
  /** The labels of the line `process` last returned, split by category (allocates). */
  categories(): LabelCategories;
}

/** Compiles one stage. Throws for invalid stage arguments (bad regex, template, …). */
export function compileStage(stage: PipelineStage, required?: ReadonlySet<string>): Stage {
  switch (stage.kind) {
    case 'LineFilter':
      return new LineFilter(stage);
    case 'JsonParser':
      return compileJson(stage, required);
    case 'LogfmtParser':
      return compileLogfmt(stage, required);
    case 'RegexpParser':
      return new RegexpParser(stage);
    case 'PatternParser':
      return new PatternParser(stage);
    case 'UnpackParser':
      return new UnpackParser();
    case 'LabelFilter':
      return new LabelFilter(stage);
    case 'DropLabels':
      return new DropLabels(stage);
    case 'KeepLabels':
      return new KeepLabels(stage);
    case 'Decolorize':
      return new Decolorize();
    case 'LineFormat':
      return new LineFormatter(stage);
    case 'LabelFormat':
      return new LabelsFormatter(stage);
  }
}

/**
 * Loki's filter reordering (`MultiStageExpr.reorderStages`): line filters move ahead of the stages
 * before them, up to the previous barrier. Barriers are label filters (which stay where they are),
 * and `line_format`/`unpack` (which rewrite the line, so later filters stay after them).
 * Like Loki, `decolorize` is not a barrier: a line filter written after it runs before it.
 */
export function reorderStages(stages: readonly PipelineStage[]): PipelineStage[] {
  const out: PipelineStage[] = [];
  let filters: PipelineStage[] = [];
  let rest: PipelineStage[] = [];
  const flush = (): void => {
    out.push(...filters, ...rest);
    filters = [];
    rest = [];
  };
  for (const s of stages) {
    if (s.kind === 'LabelFilter') {
      flush();
      out.push(s);
    } else if (s.kind === 'LineFilter') {
      filters.push(s);
    } else {
      rest.push(s);
      if (s.kind === 'LineFormat' || s.kind === 'UnpackParser') flush();
    }
  }
  flush();
  return out;
}

class CompiledPipeline implements Pipeline {
  private readonly lbs = new LabelsBuilder();
  private readonly result: PipelineResult = { line: new Uint8Array(0), labels: [], key: '{}' };
  readonly isNoop: boolean;
  readonly requiredSubstring: Uint8Array | undefined;

  constructor(private readonly stages: Stage[]) {
    this.isNoop = stages.length === 0;
    const first = stages[0];
    this.requiredSubstring = first instanceof LineFilter ? first.requiredSubstring : undefined;
  }

  categories(): LabelCategories {
    return this.lbs.categories();
  }

  process(ts: bigint, line: Uint8Array, streamLabels: Labels, structuredMetadata: Labels): PipelineResult | null {
    const lbs = this.lbs;
    lbs.reset(streamLabels, structuredMetadata);
    let cur: Uint8Array | null = line;
    const stages = this.stages;
    for (let i = 0; i < stages.length; i++) {
      cur = stages[i]!.process(ts, cur, lbs);
      if (cur === null) return null;
    }
    const r = this.result;
    r.line = cur;
    r.labels = lbs.labels();
    r.key = lbs.keyOf(r.labels);
    return r;
  }
}

export interface PipelineOptions {
  /**
   * Parser hints (Loki's `ParserHints`): the only labels the caller reads from the results, e.g. the
   * `by` labels of `sum by (level) (count_over_time({…} | logfmt [1m]))`. `json` and `logfmt` then
   * extract just these plus what the pipeline's own label filters test, and stop once they have them.
   * Ignored when a `line_format`/`label_format` template could read any label. Undefined: extract all.
   */
  requiredLabels?: ReadonlySet<string>;
}

/** Compiles a log query's pipeline stages (from `parse()`) once; see `Pipeline.process`. */
export function compilePipeline(stages: readonly PipelineStage[], options: PipelineOptions = {}): Pipeline {
  const required = parserHints(stages, options.requiredLabels);
  const compiled: Stage[] = [];
  for (const s of reorderStages(stages)) {
    const stage = compileStage(s, required);
    if (stage instanceof LineFilter && stage.isNoop) continue;
    compiled.push(stage);
  }
  return new CompiledPipeline(compiled);
}

/** The labels parsers must extract: the caller's plus those the label filters test; undefined for all. */
function parserHints(stages: readonly PipelineStage[], callerLabels: ReadonlySet<string> | undefined): ReadonlySet<string> | undefined {
  if (callerLabels === undefined) return undefined;
  const required = new Set(callerLabels);
  for (const s of stages) {
    if (s.kind === 'LineFormat' || s.kind === 'LabelFormat') return undefined;
    if (s.kind === 'LabelFilter') addFilterLabels(s.filter, required);
  }
  return required;
}

function addFilterLabels(filter: LabelFilterExpr, into: Set<string>): void {
  switch (filter.kind) {
    case 'AndFilter':
    case 'OrFilter':
      addFilterLabels(filter.left, into);
      addFilterLabels(filter.right, into);
      return;
    case 'StringFilter':
      into.add(filter.matcher.name);
      return;
    default:
      into.add(filter.name);
  }
}
