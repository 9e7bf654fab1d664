/**
 * Compiles Promtail `pipeline_stages` (as checked by agent/config.ts) once per target and runs
 * them on one entry at a time. Stages run in order on the same entry object (changed in place);
 * a stage returning null ends the entry: dropped (counted by reason) or held by `multiline`.
 *
 *   const pipeline = compileStages(config.pipeline_stages);
 *   const out = pipeline.process(makeEntry(labels, line, ts, 'stdout'), Date.now());
 *   // periodically (see nextDeadline): for (const e of pipeline.flush(Date.now())) ship(e);
 *   // at the end of a file: pipeline.flush(Date.now(), true)
 *
 * Entries released by `flush` went through the stages after the one that held them (including
 * those after an enclosing `match`).
 */
import type { PipelineStage } from '../config.js';
import { CriStage } from './cri.js';
import { DockerStage } from './docker.js';
import { DropStage } from './drop.js';
import { JsonStage } from './json.js';
import { LabelAllowStage } from './labelallow.js';
import { LabelDropStage } from './labeldrop.js';
import { LabelsStage } from './labels.js';
import { LogfmtStage } from './logfmt.js';
import { MatchStage } from './match.js';
import { MultilineStage } from './multiline.js';
import { OutputStage } from './output.js';
import { RegexStage } from './regex.js';
import { StaticLabelsStage } from './static_labels.js';
import { TimestampStage } from './timestamp.js';
import { StageConfigError, type DropCounter, type ExtractedValue, type Stage, type StageEntry } from './types.js';

export { StageConfigError, type ExtractedValue, type StageEntry } from './types.js';

export interface CompiledPipeline {
  /** Runs the stages on `entry`; the entry to ship (possibly a block released by multiline), or null. */
  process(entry: StageEntry, nowMs?: number): StageEntry | null;
  /** Entries held by multiline stages that are due at `nowMs` (all of them with `all`), through the remaining stages. */
  flush(nowMs: number, all?: boolean): StageEntry[];
  /** Lines held by multiline stages. */
  pending(): number;
  /** When `flush` should next be called (ms since the epoch), undefined when nothing is held. */
  nextDeadline(): number | undefined;
  /** The smallest `start` of the entries held by multiline stages, undefined when none is held. */
  oldestHeldStart(): number | undefined;
  /** Entries dropped so far, by reason (`drop_counter_reason`, `json_malformed`). */
  readonly dropped: ReadonlyMap<string, number>;
}

export interface CompileStagesOptions {
  /** Called for every dropped entry with its reason (e.g. to count it in /metrics). */
  onDrop?: (reason: string) => void;
}

/** Builds an entry; `labels` may be a record or a Map (a Map is used as it is, not copied). */
export function makeEntry(
  labels: Map<string, string> | Record<string, string>,
  line: string,
  timestamp: bigint,
  stream?: 'stdout' | 'stderr',
): StageEntry {
  const entry: StageEntry = {
    labels: labels instanceof Map ? labels : new Map(Object.entries(labels)),
    extracted: new Map<string, ExtractedValue>(),
    line,
    timestamp,
  };
  if (stream !== undefined) entry.stream = stream;
  return entry;
}

class StageList {
  constructor(private readonly stages: Stage[]) {}

  process(entry: StageEntry, nowMs: number): StageEntry | null {
    return this.from(entry, 0, nowMs);
  }

  private from(entry: StageEntry, start: number, nowMs: number): StageEntry | null {
    const stages = this.stages;
    let current: StageEntry | null = entry;
    for (let i = start; i < stages.length && current !== null; i++) current = stages[i]!.process(current, nowMs);
    return current;
  }

  flush(nowMs: number, all: boolean): StageEntry[] {
    const out: StageEntry[] = [];
    const stages = this.stages;
    for (let i = 0; i < stages.length; i++) {
      const stage = stages[i]!;
      if (stage.flush === undefined) continue;
      for (const released of stage.flush(nowMs, all)) {
        const result = this.from(released, i + 1, nowMs);
        if (result !== null) out.push(result);
      }
    }
    return out;
  }

  pending(): number {
    let n = 0;
    for (const stage of this.stages) n += stage.pending?.() ?? 0;
    return n;
  }

  nextDeadline(): number | undefined {
    let due: number | undefined;
    for (const stage of this.stages) {
      const d = stage.nextDeadline?.();
      if (d !== undefined && (due === undefined || d < due)) due = d;
    }
    return due;
  }

  oldestHeldStart(): number | undefined {
    let oldest: number | undefined;
    for (const stage of this.stages) {
      const start = stage.oldestHeldStart?.();
      if (start !== undefined && (oldest === undefined || start < oldest)) oldest = start;
    }
    return oldest;
  }
}

/** Every extracted name some stage reads (sources, label sources), nested stages included. */
export function extractedNamesRead(stages: readonly PipelineStage[], into = new Set<string>()): Set<string> {
  for (const stage of stages) {
    if ('json' in stage && stage.json.source !== undefined) into.add(stage.json.source);
    else if ('logfmt' in stage && stage.logfmt.source !== undefined) into.add(stage.logfmt.source);
    else if ('regex' in stage && stage.regex.source !== undefined) into.add(stage.regex.source);
    else if ('labels' in stage) for (const [name, source] of Object.entries(stage.labels)) into.add(source || name);
    else if ('timestamp' in stage) into.add(stage.timestamp.source);
    else if ('output' in stage) into.add(stage.output.source);
    else if ('drop' in stage && stage.drop.source !== undefined) for (const s of [stage.drop.source].flat()) into.add(s);
    else if ('match' in stage) extractedNamesRead(stage.match.stages, into);
  }
  return into;
}

function compileList(stages: readonly PipelineStage[], countDrop: DropCounter, path: string, read: ReadonlySet<string>): StageList {
  return new StageList(stages.map((stage, i) => compileOne(stage, countDrop, `${path}[${i}]`, read)));
}

function compileOne(stage: PipelineStage, countDrop: DropCounter, path: string, read: ReadonlySet<string>): Stage {
  const name = Object.keys(stage)[0] ?? '';
  try {
    if ('cri' in stage) return new CriStage(read);
    if ('docker' in stage) return new DockerStage(read);
    if ('json' in stage) return new JsonStage(stage.json, countDrop);
    if ('logfmt' in stage) return new LogfmtStage(stage.logfmt);
    if ('regex' in stage) return new RegexStage(stage.regex);
    if ('labels' in stage) return new LabelsStage(stage.labels);
    if ('static_labels' in stage) return new StaticLabelsStage(stage.static_labels);
    if ('labeldrop' in stage) return new LabelDropStage(stage.labeldrop);
    if ('labelallow' in stage) return new LabelAllowStage(stage.labelallow);
    if ('timestamp' in stage) return new TimestampStage(stage.timestamp);
    if ('output' in stage) return new OutputStage(stage.output);
    if ('match' in stage) {
      const config = stage.match;
      const nested = config.action === 'keep' ? compileList(config.stages, countDrop, `${path}.match.stages`, read) : undefined;
      return new MatchStage(config, nested, countDrop);
    }
    if ('drop' in stage) return new DropStage(stage.drop, countDrop);
    if ('multiline' in stage) return new MultilineStage(stage.multiline);
  } catch (err) {
    if (err instanceof StageConfigError && err.message.startsWith('pipeline_stages')) throw err;
    throw new StageConfigError(`${path}.${name}: ${(err as Error).message}`);
  }
  throw new StageConfigError(`${path}: unknown stage ${JSON.stringify(name)}`);
}

/** Compiles `pipeline_stages`; throws StageConfigError naming the stage for what cannot run. */
export function compileStages(stages: readonly PipelineStage[], options: CompileStagesOptions = {}): CompiledPipeline {
  const dropped = new Map<string, number>();
  const onDrop = options.onDrop;
  const countDrop: DropCounter = (reason) => {
    dropped.set(reason, (dropped.get(reason) ?? 0) + 1);
    onDrop?.(reason);
  };
  const list = compileList(stages, countDrop, 'pipeline_stages', extractedNamesRead(stages));
  return {
    process: (entry, nowMs = Date.now()) => list.process(entry, nowMs),
    flush: (nowMs, all = false) => list.flush(nowMs, all),
    pending: () => list.pending(),
    nextDeadline: () => list.nextDeadline(),
    oldestHeldStart: () => list.oldestHeldStart(),
    dropped,
  };
}
