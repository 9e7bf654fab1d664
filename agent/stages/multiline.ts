/**
 * `multiline`: joins the lines of a block — a line matching `firstline` (RE2, unanchored) and
 * the lines after it that do not — into one entry, per label set (Promtail
 * `stages/multiline.go`). Lines are joined with `\n`; the block keeps the first line's labels,
 * extracted values and time. A block is released when the next first line comes, when it has
 * `max_lines` lines (default 128), or by `flush(now)` once no line came for `max_wait_time`
 * (default 3s) — Promtail's per-stream timer, made an explicit call here — or at the end
 * (`flush(now, true)`). Until a label set has seen its first `firstline`, its lines pass through
 * one by one.
 *
 * Differences from Promtail: a continuation line arriving after its block was released starts
 * a block with its own time and labels (Promtail reuses the released block's first entry); a
 * label set idle for 10 × `max_wait_time` with nothing held is forgotten (Promtail keeps it for
 * ever), after which its continuation lines pass through again until a first line.
 */
import { compileRegex } from '../../logql/index.js';
import type { MultilineStageConfig } from '../config.js';
import { labelsKey, type Stage, type StageEntry } from './types.js';

interface Block {
  /** The entry of the block's first line; its `line` is set to the joined text when released. */
  start: StageEntry | undefined;
  text: string;
  lines: number;
  /** When the last line was added (ms). */
  lastAt: number;
}

export class MultilineStage implements Stage {
  private readonly firstline: RegExp;
  private readonly maxLines: number;
  private readonly maxWait: number;
  private readonly blocks = new Map<string, Block>();

  constructor(config: MultilineStageConfig) {
    this.firstline = compileRegex(config.firstline, { anchored: false, dotNL: false });
    this.maxLines = config.max_lines;
    this.maxWait = config.max_wait_time;
  }

  process(entry: StageEntry, nowMs: number): StageEntry | null {
    const key = labelsKey(entry.labels);
    const isFirst = this.firstline.test(entry.line);
    let block = this.blocks.get(key);
    if (block === undefined) {
      if (!isFirst) return entry;
      block = { start: undefined, text: '', lines: 0, lastAt: nowMs };
      this.blocks.set(key, block);
    }
    let out: StageEntry | null = null;
    if (isFirst) out = release(block);
    if (block.lines === 0) {
      block.start = entry;
      block.text = entry.line;
    } else {
      block.text += '\n' + entry.line;
    }
    block.lines++;
    block.lastAt = nowMs;
    // With max_lines ≥ 2 the block released above was empty; with 1 nothing was held before.
    if (block.lines >= this.maxLines) out = release(block) ?? out;
    return out;
  }

  flush(nowMs: number, all: boolean): StageEntry[] {
    const out: StageEntry[] = [];
    for (const [key, block] of this.blocks) {
      const idle = nowMs - block.lastAt;
      if (block.lines > 0 && (all || idle >= this.maxWait)) out.push(release(block)!);
      else if (block.lines === 0 && (all || idle >= 10 * this.maxWait)) this.blocks.delete(key);
    }
    return out;
  }

  /** Lines held in blocks not yet released. */
  pending(): number {
    let n = 0;
    for (const block of this.blocks.values()) n += block.lines;
    return n;
  }

  /** The time the oldest held block is due for release by `flush`, or undefined when none is held. */
  nextDeadline(): number | undefined {
    let due: number | undefined;
    for (const block of this.blocks.values()) {
      if (block.lines > 0 && (due === undefined || block.lastAt + this.maxWait < due)) due = block.lastAt + this.maxWait;
    }
    return due;
  }

  oldestHeldStart(): number | undefined {
    let oldest: number | undefined;
    for (const block of this.blocks.values()) {
      const start = block.lines > 0 ? block.start?.start : undefined;
      if (start !== undefined && (oldest === undefined || start < oldest)) oldest = start;
    }
    return oldest;
  }
}

function release(block: Block): StageEntry | null {
  const start = block.start;
  if (block.lines === 0 || start === undefined) return null;
  start.line = block.text;
  block.start = undefined;
  block.text = '';
  block.lines = 0;
  return start;
}
