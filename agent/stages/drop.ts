/**
 * `drop`: drops entries meeting every configured condition (AND), counted by
 * `drop_counter_reason` (default `drop_stage`) — Promtail `stages/drop.go` and
 * `docs/.../stages/drop.md`:
 * - `longer_than`: the line is longer than this many bytes (UTF-8);
 * - `older_than`: the entry's time is before now minus this duration;
 * - `source` (one name or a list) without `expression`: some named value is extracted; with
 *   `value`, the present values joined by `separator` (default `;`) equal it exactly;
 * - `expression` (RE2, unanchored): matches the joined source values, or the line without `source`.
 * Missing source names are left out of the join; when none is present nothing is dropped. A
 * null value (a JSON field that was absent) cannot be converted to text, so it never drops.
 */
import { compileRegex } from '../../logql/index.js';
import type { DropStageConfig } from '../config.js';
import { valueToString, type DropCounter, type Stage, type StageEntry } from './types.js';

export class DropStage implements Stage {
  private readonly sources: string[] | undefined;
  private readonly separator: string;
  private readonly value: string | undefined;
  private readonly re: RegExp | undefined;
  private readonly olderThanNs: bigint | undefined;
  private readonly longerThan: number | undefined;
  private readonly reason: string;

  constructor(
    config: DropStageConfig,
    private readonly countDrop: DropCounter,
  ) {
    this.sources = config.source === undefined ? undefined : Array.isArray(config.source) ? config.source : [config.source];
    this.separator = config.separator;
    this.value = config.value;
    this.re = config.expression === undefined ? undefined : compileRegex(config.expression, { anchored: false, dotNL: false });
    this.olderThanNs = config.older_than === undefined ? undefined : BigInt(config.older_than) * 1_000_000n;
    this.longerThan = config.longer_than;
    this.reason = config.drop_counter_reason || 'drop_stage';
  }

  process(entry: StageEntry, nowMs: number): StageEntry | null {
    if (!this.shouldDrop(entry, nowMs)) return entry;
    this.countDrop(this.reason);
    return null;
  }

  private shouldDrop(entry: StageEntry, nowMs: number): boolean {
    const limit = this.longerThan;
    if (limit !== undefined) {
      const line = entry.line;
      // UTF-8 bytes ≥ UTF-16 units and ≤ 3 × units: count bytes only in between.
      if (line.length <= limit && (line.length * 3 <= limit || Buffer.byteLength(line, 'utf8') <= limit)) return false;
    }
    if (this.olderThanNs !== undefined && entry.timestamp >= BigInt(Math.floor(nowMs)) * 1_000_000n - this.olderThanNs) return false;
    let joined: string | undefined;
    if (this.sources !== undefined) {
      joined = this.joinSources(entry);
      if (joined === undefined) return false;
      if (this.re === undefined && this.value !== undefined && joined !== this.value) return false;
    }
    if (this.re !== undefined && !this.re.test(joined ?? entry.line)) return false;
    return true;
  }

  /** The present source values joined, or undefined when none is present or one is null. */
  private joinSources(entry: StageEntry): string | undefined {
    let joined: string | undefined;
    for (const name of this.sources!) {
      if (!entry.extracted.has(name)) continue;
      const text = valueToString(entry.extracted.get(name));
      if (text === undefined) return undefined;
      joined = joined === undefined ? text : joined + this.separator + text;
    }
    return joined;
  }
}
