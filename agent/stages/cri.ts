/**
 * `cri` (and, in docker.ts, `docker`) in a pipeline. The CRI/docker joiners (agent/cri.ts, agent/docker.ts) parse
 * and join lines before the pipeline, so the entry arrives with `line` = the content,
 * `timestamp` = the runtime's time and `stream` set. These stages then do what Promtail's do with
 * the parsed fields (`stages/extensions.go`, `docs/.../stages/cri.md`, `docker.md`):
 * - `cri`: label `stream`; extracted `stream`, `content`, `flags` (`F`: the joined line is
 *   whole) and `time` (RFC3339Nano, UTC); time and output are already the parsed ones.
 *   Extracted values no stage of the pipeline reads are not stored (they cannot be observed).
 * - `docker`: label `stream`; extracted `stream`, `output` (the line), `timestamp` (RFC3339Nano).
 * An entry without `stream` (a line no joiner parsed) passes unchanged, as a line the cri regex
 * does not match passes Promtail's stage. Joining options (`max_partial_lines` …) configure the
 * joiner, not these stages.
 */
import type { Stage, StageEntry } from './types.js';

const NS = 1_000_000_000n;

/** Go's RFC3339Nano formatting in UTC: trailing zeros of the fraction trimmed. */
export function formatRfc3339Nano(ns: bigint): string {
  let seconds = ns / NS;
  let nanos = ns % NS;
  if (nanos < 0n) {
    nanos += NS;
    seconds -= 1n;
  }
  const iso = new Date(Number(seconds) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  const fraction = nanos === 0n ? '' : '.' + nanos.toString().padStart(9, '0').replace(/0+$/, '');
  return iso.slice(0, 19) + fraction + 'Z';
}

export class CriStage implements Stage {
  private readonly time: boolean;
  private readonly stream: boolean;
  private readonly flags: boolean;
  private readonly content: boolean;

  /** `read`: the extracted names any stage of the pipeline reads (others are not stored: no stage could see them). */
  constructor(read: ReadonlySet<string>) {
    this.time = read.has('time');
    this.stream = read.has('stream');
    this.flags = read.has('flags');
    this.content = read.has('content');
  }

  process(entry: StageEntry): StageEntry {
    const stream = entry.stream;
    if (stream === undefined) return entry;
    entry.labels.set('stream', stream);
    const x = entry.extracted;
    if (this.time) x.set('time', formatRfc3339Nano(entry.timestamp));
    if (this.stream) x.set('stream', stream);
    if (this.flags) x.set('flags', 'F');
    if (this.content) x.set('content', entry.line);
    return entry;
  }
}
