/**
 * Joining of a container's partial lines, shared by the CRI (`P`/`F` tags) and docker json-file
 * (no trailing `\n`) formats. State is kept per output stream (stdout, stderr) of one joiner; use
 * one joiner per container log (file). A joined line is bounded by size and by number of parts,
 * and a partial whose final part never comes is flushed after an idle timeout; the clock is
 * passed in so that callers and tests decide what "now" is.
 */

export type StreamName = 'stdout' | 'stderr';

/** Why a record was emitted before its final part arrived. */
export type CutReason =
  /** The joined line reached `maxLineBytes` (split mode). */
  | 'size'
  /** `maxParts` parts were pending. */
  | 'parts'
  /** No part arrived for `maxWaitMs`. */
  | 'timeout'
  /** The caller finished the log (file rotated away, pod deleted, agent stopping). */
  | 'end';

export interface LogRecord {
  stream: StreamName;
  /** Nanoseconds since the epoch: the timestamp of the last part, as Promtail's cri stage keeps. */
  timestamp: bigint;
  /** The content, partial parts concatenated without separator, trailing newline removed. */
  line: string;
  /** Caller's offset of the first raw line in this record (e.g. its byte offset in the file). */
  start: number;
  /** Caller's offset just after the last raw line in this record. */
  end: number;
  /** Raw lines that made up this record. */
  parts: number;
  /** Set when the record was emitted without its final part. */
  cut: CutReason | undefined;
  /** True when bytes were dropped because of `truncate`. */
  truncated: boolean;
}

export interface JoinLimits {
  /** Maximum UTF-8 bytes of a joined line (Promtail `max_partial_line_size`). */
  maxLineBytes: number;
  /** Maximum parts of one joined line pending per stream (Promtail `max_partial_lines`). */
  maxParts: number;
  /**
   * false (default): a line reaching `maxLineBytes` is emitted and the rest continues as a new
   * line, so nothing is lost. true (Promtail `max_partial_line_size_truncate`): bytes past the
   * bound are dropped until the final part.
   */
  truncate: boolean;
  /** A pending partial with no new part for this long is flushed by `flushExpired`. */
  maxWaitMs: number;
}

/**
 * Defaults. Promtail's `max_partial_lines` is 100; its `max_partial_line_size` is 0 (unbounded),
 * which Skald replaces by Loki's default `max_line_size` (256 KiB) so memory stays bounded and
 * joined lines are not rejected by the server. Promtail has no timeout at all (loki#10998).
 */
export const DEFAULT_JOIN_LIMITS: Readonly<JoinLimits> = Object.freeze({
  maxLineBytes: 256 * 1024,
  maxParts: 100,
  truncate: false,
  maxWaitMs: 5000,
});

class Pending {
  parts: string[] = [];
  bytes = 0;
  count = 0;
  truncated = false;
  constructor(
    public timestamp: bigint,
    public start: number,
    public end: number,
    public lastSeen: number,
  ) {}
}

/** The longest prefix of `text` that is at most `maxBytes` UTF-8 bytes, not splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= maxBytes) return text;
  let cut = maxBytes;
  while (cut > 0 && (buf[cut]! & 0xc0) === 0x80) cut--;
  return buf.toString('utf8', 0, cut);
}

function makeRecord(
  stream: StreamName,
  timestamp: bigint,
  line: string,
  start: number,
  end: number,
  parts: number,
  cut: CutReason | undefined,
  truncated: boolean,
): LogRecord {
  return { stream, timestamp, line, start, end, parts, cut, truncated };
}

export class PartialJoiner {
  readonly limits: Readonly<JoinLimits>;
  private stdout: Pending | undefined;
  private stderr: Pending | undefined;

  constructor(limits: Partial<JoinLimits> = {}) {
    const merged = { ...DEFAULT_JOIN_LIMITS, ...limits };
    if (!(merged.maxLineBytes >= 1) || !(merged.maxParts >= 1) || !(merged.maxWaitMs >= 0)) {
      throw new RangeError(`invalid join limits ${JSON.stringify(merged)}`);
    }
    this.limits = merged;
  }

  /** Number of streams with a pending partial line. */
  get pendingStreams(): number {
    return (this.stdout === undefined ? 0 : 1) + (this.stderr === undefined ? 0 : 1);
  }

  /** Whether `stream` has a partial line waiting for its final part. */
  isPending(stream: StreamName): boolean {
    return (stream === 'stdout' ? this.stdout : this.stderr) !== undefined;
  }

  /**
   * The smallest `start` of a pending partial, or undefined when nothing is pending: a position
   * before which every raw line has been emitted (a resume point that loses nothing).
   */
  oldestPendingStart(): number | undefined {
    const a = this.stdout?.start;
    const b = this.stderr?.start;
    if (a === undefined) return b;
    if (b === undefined) return a;
    return a < b ? a : b;
  }

  /**
   * Adds one raw line's content. `partial` = more parts follow. Completed records are pushed
   * to `out` (zero, one or two of them).
   */
  add(
    stream: StreamName,
    partial: boolean,
    content: string,
    timestamp: bigint,
    start: number,
    end: number,
    now: number,
    out: LogRecord[],
  ): void {
    const pending = stream === 'stdout' ? this.stdout : this.stderr;
    if (pending === undefined) {
      // The hot path: a whole line with nothing pending is emitted without measuring it.
      if (!partial) {
        out.push(makeRecord(stream, timestamp, content, start, end, 1, undefined, false));
        return;
      }
      const fresh = new Pending(timestamp, start, end, now);
      this.set(stream, fresh);
      this.append(fresh, content, Buffer.byteLength(content, 'utf8'), timestamp, end, now);
      this.checkBounds(stream, fresh, out);
      return;
    }
    const bytes = Buffer.byteLength(content, 'utf8');
    if (!this.limits.truncate && pending.bytes + bytes > this.limits.maxLineBytes && pending.bytes > 0) {
      this.emit(stream, pending, 'size', out);
      this.add(stream, partial, content, timestamp, start, end, now, out);
      return;
    }
    this.append(pending, content, bytes, timestamp, end, now);
    if (partial) this.checkBounds(stream, pending, out);
    else this.emit(stream, pending, undefined, out);
  }

  private append(pending: Pending, content: string, bytes: number, timestamp: bigint, end: number, now: number): void {
    const max = this.limits.maxLineBytes;
    if (pending.bytes + bytes <= max) {
      pending.parts.push(content);
      pending.bytes += bytes;
    } else if (this.limits.truncate) {
      if (pending.bytes < max) {
        const kept = truncateUtf8(content, max - pending.bytes);
        pending.parts.push(kept);
        pending.bytes += Buffer.byteLength(kept, 'utf8');
      }
      pending.truncated = true;
    } else {
      // A single part larger than the bound: it stands alone.
      pending.parts.push(content);
      pending.bytes += bytes;
    }
    pending.count++;
    pending.timestamp = timestamp;
    pending.end = end;
    pending.lastSeen = now;
  }

  /** After a partial part: emits the pending line early when it reached a bound. */
  private checkBounds(stream: StreamName, pending: Pending, out: LogRecord[]): void {
    const max = this.limits.maxLineBytes;
    if (this.limits.truncate) {
      if (pending.count >= this.limits.maxParts) this.emit(stream, pending, 'parts', out);
    } else if (pending.bytes >= max) {
      this.emit(stream, pending, 'size', out);
    } else if (pending.count >= this.limits.maxParts) {
      this.emit(stream, pending, 'parts', out);
    }
  }

  /** Emits every pending partial that has seen no part for `maxWaitMs` as of `now`. */
  flushExpired(now: number, out: LogRecord[]): void {
    const wait = this.limits.maxWaitMs;
    if (this.stdout !== undefined && now - this.stdout.lastSeen >= wait) this.emit('stdout', this.stdout, 'timeout', out);
    if (this.stderr !== undefined && now - this.stderr.lastSeen >= wait) this.emit('stderr', this.stderr, 'timeout', out);
  }

  /** The earliest `now` at which `flushExpired` would emit something, or undefined. */
  nextDeadline(): number | undefined {
    const a = this.stdout?.lastSeen;
    const b = this.stderr?.lastSeen;
    const first = a === undefined ? b : b === undefined ? a : Math.min(a, b);
    return first === undefined ? undefined : first + this.limits.maxWaitMs;
  }

  /** Emits everything pending (the log is finished), oldest first. */
  finish(out: LogRecord[]): void {
    const a = this.stdout;
    const b = this.stderr;
    if (a !== undefined && b !== undefined && b.start < a.start) {
      this.emit('stderr', b, 'end', out);
      this.emit('stdout', a, 'end', out);
      return;
    }
    if (a !== undefined) this.emit('stdout', a, 'end', out);
    if (b !== undefined) this.emit('stderr', b, 'end', out);
  }

  private set(stream: StreamName, pending: Pending | undefined): void {
    if (stream === 'stdout') this.stdout = pending;
    else this.stderr = pending;
  }

  private emit(stream: StreamName, pending: Pending, cut: CutReason | undefined, out: LogRecord[]): void {
    this.set(stream, undefined);
    const line = pending.parts.length === 1 ? pending.parts[0]! : pending.parts.join('');
    out.push(makeRecord(stream, pending.timestamp, line, pending.start, pending.end, pending.count, cut, pending.truncated));
  }
}

/** A raw line that is not in the expected format: reported, never thrown. */
export interface FormatError {
  error: string;
  line: string;
}

export function formatError(reason: string, line: string): FormatError {
  return { error: reason, line };
}

export function isFormatError(value: object): value is FormatError {
  return 'error' in value;
}

/** One raw line of a container log, parsed (CRI or docker json-file). */
export interface RawLine {
  timestamp: bigint;
  stream: StreamName;
  /** More parts of the same line follow. */
  partial: boolean;
  content: string;
}

/**
 * Parses the raw lines of one container's log with `parse` and joins partials into whole lines
 * with the bounds of `PartialJoiner`. `add` returns a FormatError for a malformed line (nothing is
 * emitted for it) and otherwise undefined; finished lines go to `out`.
 */
export class LineJoiner {
  private readonly joiner: PartialJoiner;

  constructor(
    private readonly parse: (line: string) => RawLine | FormatError,
    limits: Partial<JoinLimits> = {},
  ) {
    this.joiner = new PartialJoiner(limits);
  }

  get limits(): Readonly<JoinLimits> {
    return this.joiner.limits;
  }

  /**
   * `start`/`end`: the raw line's offsets (e.g. bytes in the file, end after its `\n`), carried
   * into the records; `now`: the caller's clock in ms, for the idle timeout.
   */
  add(line: string, start: number, end: number, now: number, out: LogRecord[]): FormatError | undefined {
    const parsed = this.parse(line);
    if ('error' in parsed) return parsed;
    this.joiner.add(parsed.stream, parsed.partial, parsed.content, parsed.timestamp, start, end, now, out);
    return undefined;
  }

  flushExpired(now: number, out: LogRecord[]): void {
    this.joiner.flushExpired(now, out);
  }

  nextDeadline(): number | undefined {
    return this.joiner.nextDeadline();
  }

  oldestPendingStart(): number | undefined {
    return this.joiner.oldestPendingStart();
  }

  get pendingStreams(): number {
    return this.joiner.pendingStreams;
  }

  isPending(stream: StreamName): boolean {
    return this.joiner.isPending(stream);
  }

  finish(out: LogRecord[]): void {
    this.joiner.finish(out);
  }
}
