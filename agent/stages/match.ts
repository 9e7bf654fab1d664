/**
 * `match`: runs nested stages, or drops, for entries whose labels match a LogQL stream
 * selector (Promtail `stages/match.go`). Matchers are evaluated on the labels as they are when
 * the entry reaches the stage; a missing label is "" (so `{app!="x"}` matches entries without
 * `app`). `action: drop` drops matching entries, counted as `drop_counter_reason` (default
 * `match_stage`); `action: keep` (default) sends them through `stages`, where they may be
 * dropped or held (multiline) like in the outer pipeline. Non-matching entries pass unchanged.
 * The selector may be followed by line filters (`{app="a"} |~ "noisy"`), which the line must
 * pass too, as in Promtail; other pipeline stages (parsers, label filters) are rejected.
 */
import { ParseError, compileMatcher, compilePipeline, parse, type LabelMatcher, type PipelineStage as LogqlStage, type Pipeline } from '../../logql/index.js';
import type { MatchStageConfig } from '../config.js';
import type { DropCounter, Stage, StageEntry } from './types.js';

/** The part of a compiled pipeline a match stage needs from its nested stages. */
export interface NestedPipeline {
  process(entry: StageEntry, nowMs: number): StageEntry | null;
  flush(nowMs: number, all: boolean): StageEntry[];
  pending(): number;
  nextDeadline(): number | undefined;
  oldestHeldStart(): number | undefined;
}

/** Parses a match selector: stream matchers plus optional line filters. Throws ParseError. */
export function parseMatchSelector(selector: string): { matchers: LabelMatcher[]; filters: LogqlStage[] } {
  const expr = parse(selector);
  if (expr.kind !== 'LogSelector') throw new ParseError('a match selector must be a stream selector, optionally with line filters', 0, 0);
  for (const stage of expr.stages) {
    if (stage.kind !== 'LineFilter') throw new ParseError(`only line filters may follow the selector (got ${stage.kind})`, 0, 0);
  }
  return { matchers: expr.matchers, filters: expr.stages };
}

const NO_LABELS: readonly never[] = [];
const encoder = new TextEncoder();

export class MatchStage implements Stage {
  private readonly filter: Pipeline | undefined;
  private readonly names: string[];
  private readonly tests: ((value: string) => boolean)[];
  private readonly reason: string;

  constructor(
    config: MatchStageConfig,
    private readonly nested: NestedPipeline | undefined,
    private readonly countDrop: DropCounter,
  ) {
    const { matchers, filters } = parseMatchSelector(config.selector);
    this.filter = filters.length > 0 ? compilePipeline(filters) : undefined;
    this.names = matchers.map((m) => m.name);
    this.tests = matchers.map((m) => compileMatcher(m));
    this.reason = config.drop_counter_reason || 'match_stage';
  }

  matches(labels: Map<string, string>): boolean {
    const { names, tests } = this;
    for (let i = 0; i < names.length; i++) {
      if (!tests[i]!(labels.get(names[i]!) ?? '')) return false;
    }
    return true;
  }

  process(entry: StageEntry, nowMs: number): StageEntry | null {
    if (!this.matches(entry.labels)) return entry;
    if (this.filter !== undefined && this.filter.process(entry.timestamp, encoder.encode(entry.line), NO_LABELS, NO_LABELS) === null) return entry;
    if (this.nested === undefined) {
      this.countDrop(this.reason);
      return null;
    }
    return this.nested.process(entry, nowMs);
  }

  flush(nowMs: number, all: boolean): StageEntry[] {
    return this.nested === undefined ? [] : this.nested.flush(nowMs, all);
  }

  pending(): number {
    return this.nested?.pending() ?? 0;
  }

  nextDeadline(): number | undefined {
    return this.nested?.nextDeadline();
  }

  oldestHeldStart(): number | undefined {
    return this.nested?.oldestHeldStart();
  }
}
