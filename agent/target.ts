/**
 * Ships one discovered container log (`…/<container>/<n>.log`): tailer → format detection →
 * partial-line joiner → pipeline stages → the clients' batchers, and commits the positions file
 * as the clients acknowledge.
 *
 * Offsets. The files of one target (the live one and those rotated away from it) are read one
 * after the other; their bytes are numbered on one running *target offset*, so one number says
 * how far the whole target was consumed, even for a partial line whose parts straddle a
 * rotation. Each file is a `FileTrack` with the target offset of its byte 0 (`base`). After every
 * chunk the reader tells the batchers the *safe offset*: everything before it was shipped or
 * dropped, and nothing before it is still held by the joiner (a partial line waiting for its
 * final part) or by a `multiline` stage. A batch carries the safe offset of each target it
 * covers; once every client acknowledged (or dropped) it, that offset is committed.
 *
 * Positions hold one entry per live path: the oldest file of the target with unacknowledged
 * bytes, and how far it was acknowledged. When that file was read to its end and fully
 * acknowledged, the entry moves to the next file. After a crash the tailer resumes there (a
 * rotated file is found by its identity among the siblings), so at most the unacknowledged
 * window is sent again.
 */
import { formatLabelString, type LabelPair, type MetadataPairs } from '../proto/index.js';
import type { AgentEntry } from './batcher.js';
import type { JoinStageConfig, PipelineStage } from './config.js';
import { isUtf8 } from 'node:buffer';
import { CriJoiner, criFullLine, parseCriFullLine } from './cri.js';
import type { Target } from './discovery.js';
import { DockerJoiner } from './docker.js';
import { detectLineFormat, type LogFormat } from './format.js';
import type { JoinLimits, LineJoiner, LogRecord } from './partial.js';
import type { FilePosition, Positions } from './positions.js';
import { compileStages, makeEntry, type CompiledPipeline, type StageEntry } from './stages/pipeline.js';
import { labelsKey } from './stages/types.js';
import { parsedTime } from './timestamp.js';
import { Tailer, type TailedFile, type TailerOptions, type TailLine } from './tailer.js';

/** Where a target's entries go: every client's batcher (see agent.ts). */
export interface TargetSink {
  ship(target: TargetReader, labels: string, entry: AgentEntry): void;
  /** An entry without metadata whose line is the UTF-8 bytes `source[start, end)`, valid only during the call. */
  shipBytes(target: TargetReader, labels: string, seconds: number, nanos: number, source: Buffer, start: number, end: number): void;
  /** Everything of `target` before `offset` is shipped or dropped. */
  advance(target: TargetReader, offset: number): void;
  /** Resolves when the batchers have room again; undefined when they have room now. */
  room(): Promise<void> | undefined;
}

export interface TargetReaderOptions {
  target: Target;
  positions: Positions;
  sink: TargetSink;
  /** `pipeline_stages` of the configuration; empty = the default (`cri`, or `docker` where detected). */
  stages: readonly PipelineStage[];
  /** Number of clients whose acknowledgements are awaited before a commit. */
  clients: number;
  onWarning: (message: string) => void;
  /** A line was read: its bytes (with the `\n`), for the read counters. */
  onRead?: (target: TargetReader, lines: number, bytes: number) => void;
  /** A line matched no format its file was detected as and was shipped as it is. */
  onMalformed?: (target: TargetReader) => void;
  /** A stage dropped an entry. */
  onDrop?: (reason: string) => void;
  /** The target was finished and everything it read is acknowledged: it can be forgotten. */
  onReleased?: (target: TargetReader) => void;
  pollIntervalMs?: number;
  /** A shared watch of the file's directory, for the tailer (`TailerOptions.watchDir`). */
  watchDir?: TailerOptions['watchDir'];
}

/** One physical file of the target, on the target's offset numbering. */
interface FileTrack {
  readonly file: TailedFile;
  /** Target offset of the file's byte 0. */
  readonly base: number;
  /** File offset of the first line read from it (the resume offset, or 0). */
  readonly first: number;
  /** Target offset just past the file's last byte, once it was read to its end (or truncated). */
  end: number | undefined;
}

/**
 * A flat copy of `text`. V8 keeps a string built by concatenation as a tree of its pieces: a
 * target's label string took ~1 KB that way instead of ~250 bytes, times three, times a
 * thousand targets.
 */
function flatString(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/** Label names starting with `__` are internal and never sent (as Promtail). */
function visibleLabels(labels: Map<string, string>): LabelPair[] {
  const pairs: LabelPair[] = [];
  for (const [name, value] of labels) if (!name.startsWith('__')) pairs.push([name, value]);
  return pairs;
}

export class TargetReader {
  readonly target: Target;
  readonly path: string;
  private readonly options: TargetReaderOptions;
  private readonly positions: Positions;
  private readonly sink: TargetSink;
  private readonly tailer: Tailer;
  /** The configured stages; none for the default pipeline (a thousand targets would each hold an empty one). */
  private readonly pipeline: CompiledPipeline | undefined;
  /** No user pipeline: labels are the target's plus `stream`, and their strings are precomputed. */
  private readonly defaultPipeline: boolean;
  /** The configured pipeline parses CRI/docker (or is the default); otherwise lines go as they are, as in Promtail. */
  private readonly parsesContainerFormat: boolean;
  private readonly joinLimits: Partial<JoinLimits>;
  private readonly targetLabels: readonly LabelPair[];
  /** Label strings of a configured pipeline's entries, by labelsKey (created with the first). */
  private labelStrings: Map<string, string> | undefined;
  /** The label strings of the default pipeline: the target's labels plus `stream`, or without it for raw lines. */
  private readonly fixedLabels: { stdout: string; stderr: string; raw: string };
  private format: LogFormat | undefined;
  private joiner: LineJoiner | undefined;
  /** Default pipeline on a CRI file: whole lines go to the sink as bytes (see `take`). */
  private criBytes = false;
  /** Records from the joiner, and raw lines (`raw`: shipped as read, without a parsed stream). */
  private readonly records: Array<LogRecord & { raw?: true }> = [];
  /** Files with bytes not yet committed, oldest first; the last one is being read (unless ended). */
  private readonly tracks: FileTrack[] = [];
  /** The positions entry of `tracks[0]` (or of the saved file, before anything was read). */
  private position: FilePosition | undefined;
  /** Target offset just past the last byte read. */
  private cursor = 0;
  private readonly acked: number[];
  private committed = -Infinity;
  private advanced = -Infinity;
  private finishing = false;
  private released = false;

  constructor(options: TargetReaderOptions) {
    this.options = options;
    this.target = options.target;
    this.path = options.target.path;
    this.positions = options.positions;
    this.sink = options.sink;
    const configured = options.stages;
    const joinStage = configured.find((s) => 'cri' in s || 'docker' in s);
    this.defaultPipeline = configured.length === 0;
    this.parsesContainerFormat = this.defaultPipeline || joinStage !== undefined;
    this.joinLimits = joinLimitsOf(joinStage === undefined ? undefined : 'cri' in joinStage ? joinStage.cri : 'docker' in joinStage ? joinStage.docker : undefined);
    this.pipeline = this.defaultPipeline ? undefined : compileStages(configured, { onDrop: options.onDrop });
    this.targetLabels = Object.entries(options.target.labels).filter((pair): pair is [string, string] => pair[1] !== undefined);
    const withStream = (stream: string): string => flatString(formatLabelString([...this.targetLabels, ['stream', stream]]));
    this.fixedLabels = { stdout: withStream('stdout'), stderr: withStream('stderr'), raw: flatString(formatLabelString([...this.targetLabels])) };
    this.acked = new Array<number>(Math.max(1, options.clients)).fill(-Infinity);
    const saved = this.positions.get(this.path);
    this.position = saved;
    this.tailer = new Tailer({
      path: this.path,
      offset: saved?.acked,
      identity: saved?.identity,
      onLines: (file, lines) => this.read(file, lines),
      waitForRoom: () => this.sink.room(),
      onFileEnd: (file, end) => this.fileEnded(file, end),
      onTruncated: (file, previous, size) => {
        this.options.onWarning(`${this.path}: truncated from ${previous} to ${size} bytes; reading it again from the start`);
        this.fileEnded(file, previous);
      },
      onIdentity: (file) => {
        const head = this.tracks[0];
        if (head !== undefined && head.file === file && this.position !== undefined) this.positions.setIdentity(this.position, file.identity);
      },
      onWarning: options.onWarning,
      pollIntervalMs: options.pollIntervalMs,
      watchDir: options.watchDir,
    });
  }

  start(): Promise<void> {
    return this.tailer.start();
  }

  /**
   * Flushes partial lines and multiline blocks that waited too long — measured up to when
   * reading last caught up with the file, not up to now: while reading lags (paused for room, a
   * backlog of rotated files) a partial line's final part or a block's next line may be on disk
   * unread, and flushing would split the line. A file written all the time still catches up
   * between reads, so an orphaned partial there does time out (and stops holding positions back).
   */
  tick(nowMs: number): void {
    if (this.released) return;
    const readUpTo = Math.min(nowMs, this.tailer.caughtUpAt);
    const joiner = this.joiner;
    if (joiner !== undefined) {
      const due = joiner.nextDeadline();
      if (due !== undefined && due <= readUpTo) {
        joiner.flushExpired(readUpTo, this.records);
        this.process(nowMs);
      }
    }
    const pipeline = this.pipeline;
    const pipelineDue = pipeline?.nextDeadline();
    if (pipeline !== undefined && pipelineDue !== undefined && pipelineDue <= readUpTo) {
      for (const entry of pipeline.flush(readUpTo)) this.ship(entry);
    }
    this.advance();
  }

  /** The pod is gone: reads what is left, ships everything held, and releases once acknowledged. */
  async finish(): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    await this.tailer.finish();
    const now = Date.now();
    this.joiner?.finish(this.records);
    this.process(now);
    for (const entry of this.pipeline?.flush(now, true) ?? []) this.ship(entry);
    this.advance();
    this.maybeRelease();
  }

  /** Stops reading (agent shutdown); held lines stay uncommitted and are read again after a restart. */
  close(): Promise<void> {
    return this.tailer.close();
  }

  /** Client `client` acknowledged (or dropped) everything before `offset`. */
  acknowledge(client: number, offset: number): void {
    if (offset > this.acked[client]!) this.acked[client] = offset;
    let all = Infinity;
    for (const a of this.acked) if (a < all) all = a;
    if (all <= this.committed) return;
    this.committed = all;
    this.commit(all);
    this.maybeRelease();
  }

  private commit(offset: number): void {
    const tracks = this.tracks;
    // Files read to their end and acknowledged entirely give way to the next one.
    while (tracks.length > 1 && tracks[0]!.end !== undefined && offset >= tracks[0]!.end) {
      tracks.shift();
      const next = tracks[0]!;
      this.position = this.positions.replace(this.path, next.file.identity, next.first);
    }
    const head = tracks[0];
    if (head === undefined || this.position === undefined) return;
    const end = head.end === undefined ? offset : Math.min(offset, head.end);
    if (end > head.base) this.positions.commit(this.position, end - head.base);
  }

  private maybeRelease(): void {
    if (!this.finishing || this.released) return;
    if (this.tracks.length > 0 && this.committed < this.cursor) return;
    if (this.joiner !== undefined && this.joiner.pendingStreams > 0) return;
    this.released = true;
    this.positions.remove(this.path);
    this.options.onReleased?.(this);
  }

  private read(file: TailedFile, lines: TailLine[]): void {
    let track = this.tracks[this.tracks.length - 1];
    if (track === undefined || track.file !== file || track.end !== undefined) {
      const first = lines[0]!.start;
      track = { file, base: this.cursor - first, first, end: undefined };
      this.tracks.push(track);
      if (this.tracks.length === 1) {
        let position = this.positions.track(this.path, file.identity, first);
        // Saved further than where reading starts: the file was truncated and rewritten with the same first bytes.
        if (position.acked > first) position = this.positions.replace(this.path, file.identity, first);
        this.position = position;
      }
      this.detect(lines[0]!);
    }
    const now = Date.now();
    let bytes = 0;
    const base = track.base;
    for (const line of lines) {
      bytes += line.end - line.start;
      this.take(line, base, now);
    }
    this.cursor = base + lines[lines.length - 1]!.end;
    this.options.onRead?.(this, lines.length, bytes);
    this.process(now);
    this.advance();
  }

  /** The format of a file comes from its first line; a change of format starts a new joiner. */
  private detect(first: TailLine): void {
    const format = this.parsesContainerFormat ? detectLineFormat(first.bytes.toString('utf8')) : 'raw';
    if (format === this.format) return;
    if (this.joiner !== undefined) {
      this.joiner.finish(this.records);
      this.process(Date.now());
    }
    this.format = format;
    this.joiner = format === 'cri' ? new CriJoiner(this.joinLimits) : format === 'docker' ? new DockerJoiner(this.joinLimits) : undefined;
    this.criBytes = format === 'cri' && this.defaultPipeline;
  }

  private take(line: TailLine, base: number, now: number): void {
    const bytes = line.bytes;
    const joiner = this.joiner;
    // The hot path: a whole CRI line, nothing pending on its stream, default pipeline, valid
    // UTF-8 — its content goes to the batchers as the bytes read, the same entry the joiner would
    // have made without a string, a record or BigInts. Anything else takes the general path.
    if (this.criBytes && joiner !== undefined && !line.truncated && parseCriFullLine(bytes, 0, bytes.length) && !joiner.isPending(criFullLine.stream) && isUtf8(bytes)) {
      // Records already collected come first (a joined line completed by an earlier line).
      if (this.records.length > 0) this.process(now);
      const labels = criFullLine.stream === 'stdout' ? this.fixedLabels.stdout : this.fixedLabels.stderr;
      this.sink.shipBytes(this, labels, parsedTime.seconds, parsedTime.nanos, bytes, criFullLine.contentStart, bytes.length);
      return;
    }
    const text = bytes.toString('utf8');
    const start = base + line.start;
    const end = base + line.end;
    if (joiner !== undefined && joiner.add(text, start, end, now, this.records) === undefined) return;
    if (joiner !== undefined) this.options.onMalformed?.(this);
    // Raw (or a line its format cannot parse): shipped as it is, stamped with the read time.
    this.records.push({ stream: 'stdout', timestamp: BigInt(now) * 1_000_000n, line: text, start, end, parts: 1, cut: undefined, truncated: line.truncated, raw: true });
  }

  /** Runs the records collected so far through the pipeline. */
  private process(now: number): void {
    const records = this.records;
    if (records.length === 0) return;
    const pipeline = this.pipeline;
    if (pipeline === undefined) {
      // The default pipeline only labels `stream`: no stage entries (the hot path).
      for (const record of records) {
        const labels = record.raw === true ? this.fixedLabels.raw : record.stream === 'stdout' ? this.fixedLabels.stdout : this.fixedLabels.stderr;
        this.sink.ship(this, labels, { ts: record.timestamp, line: record.line });
      }
      records.length = 0;
      return;
    }
    for (const record of records) {
      const entry = makeEntry(new Map(this.targetLabels), record.line, record.timestamp, record.raw === true ? undefined : record.stream);
      entry.start = record.start;
      const out = pipeline.process(entry, now);
      if (out !== null) this.ship(out);
    }
    records.length = 0;
  }

  private ship(entry: StageEntry): void {
    const shipped: AgentEntry = { ts: entry.timestamp, line: entry.line };
    const metadata = entry.structuredMetadata;
    if (metadata !== undefined && metadata.size > 0) shipped.metadata = [...metadata] as MetadataPairs;
    this.sink.ship(this, this.labelString(entry), shipped);
  }

  private labelString(entry: StageEntry): string {
    const key = labelsKey(entry.labels);
    const labelStrings = (this.labelStrings ??= new Map());
    let text = labelStrings.get(key);
    if (text === undefined) {
      text = formatLabelString(visibleLabels(entry.labels));
      // Bounded: a pipeline turning a high-cardinality value into a label must not grow it for ever.
      if (labelStrings.size >= 1000) labelStrings.clear();
      labelStrings.set(key, text);
    }
    return text;
  }

  /** Tells the batchers how far the target is safely consumed. */
  private advance(): void {
    let safe = this.cursor;
    const pending = this.joiner?.oldestPendingStart();
    if (pending !== undefined && pending < safe) safe = pending;
    const held = this.pipeline?.oldestHeldStart();
    if (held !== undefined && held < safe) safe = held;
    if (safe <= this.advanced) return;
    this.advanced = safe;
    this.sink.advance(this, safe);
  }

  private fileEnded(file: TailedFile, end: number): void {
    const track = this.tracks[this.tracks.length - 1];
    if (track !== undefined && track.file === file && track.end === undefined) {
      track.end = track.base + end;
      if (track.end > this.cursor) this.cursor = track.end;
    }
  }
}

function joinLimitsOf(config: JoinStageConfig | undefined): Partial<JoinLimits> {
  if (config === undefined) return {};
  const limits: Partial<JoinLimits> = { maxParts: config.max_partial_lines, truncate: config.max_partial_line_size_truncate, maxWaitMs: config.max_wait_time };
  if (config.max_partial_line_size > 0) limits.maxLineBytes = config.max_partial_line_size;
  return limits;
}
