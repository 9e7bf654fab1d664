/**
 * `docker` in a pipeline: label `stream`; extracted `stream`, `output` (the line) and
 * `timestamp` (RFC3339Nano), as Promtail's docker stage (json → labels → timestamp → output,
 * `docs/.../stages/docker.md`) leaves them. The docker joiner (agent/docker.ts) has already
 * parsed the json-file line and re-joined 16 KiB chunks; see cri.ts for the contract.
 */
import { formatRfc3339Nano } from './cri.js';
import type { Stage, StageEntry } from './types.js';

export class DockerStage implements Stage {
  private readonly output: boolean;
  private readonly stream: boolean;
  private readonly timestamp: boolean;

  /** `read`: the extracted names any stage of the pipeline reads (others are not stored). */
  constructor(read: ReadonlySet<string>) {
    this.output = read.has('output');
    this.stream = read.has('stream');
    this.timestamp = read.has('timestamp');
  }

  process(entry: StageEntry): StageEntry {
    const stream = entry.stream;
    if (stream === undefined) return entry;
    entry.labels.set('stream', stream);
    const x = entry.extracted;
    if (this.output) x.set('output', entry.line);
    if (this.stream) x.set('stream', stream);
    if (this.timestamp) x.set('timestamp', formatRfc3339Nano(entry.timestamp));
    return entry;
  }
}
