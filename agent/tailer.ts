/**
 * Follows one live log path (`…/<container>/<n>.log`) by file identity, not by name.
 *
 * Bytes are read from an explicit offset in bounded chunks and split on `\n`; each complete line
 * is handed on with the byte range it occupies in its physical file (`start`, and `end` just past
 * the `\n`), so positions can be committed per file. An unterminated last line waits for more
 * data. A line longer than `maxLineBytes` is cut: its first `maxLineBytes` bytes are delivered
 * with `truncated: true` once its `\n` arrives, the rest is skipped (memory stays bounded).
 *
 * What it notices, on fs.watch events of the directory and on a poll timer (Promtail: 250 ms):
 * - rotation: kubelet renames `N.log` to `N.log.<YYYYMMDD-hhmmss>` and the runtime reopens
 *   `N.log`. The open descriptor keeps the renamed file (same inode), so it is read to its end,
 *   finished (`onFileEnd`), and the new `N.log` is read from offset 0. Kubelet gzipping and
 *   unlinking the renamed file later does not matter: the descriptor still reads its data.
 * - compressed rotations: a rotated file kubelet compressed before the tailer opened it (reading
 *   was paused while the server was away, or the agent was down) is read through gunzip — at
 *   `start` found by the hash of its first bytes, between looks placed by its `<ts>` name.
 * - truncation: the file at the same identity got shorter than the offset: restart at 0.
 * - on `start`, a saved identity that does not match the file now at the path: if the saved file
 *   is found as a rotated sibling `N.log.<ts>` in the same directory, it is finished from the
 *   saved offset first; the file at the path is then read from 0.
 */
import { fstatSync, statSync, watch, type FSWatcher } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GzipReader, gzipHead } from './gzip-reader.js';
import { DEFAULT_HEAD_BYTES, matchesIdentity, readIdentity, type FileIdentity } from './positions.js';

/** One physical file being read. `path` is where it was opened; a rotated file keeps it until finished. */
export interface TailedFile {
  /** Distinguishes files opened by this tailer (increasing). */
  readonly seq: number;
  readonly path: string;
  /** Grows (longer head hash) while the file is shorter than the head size; see `onIdentity`. */
  readonly identity: FileIdentity;
  /** True once the path no longer names this file (rotated, replaced). */
  readonly rotated: boolean;
}

export interface TailLine {
  /**
   * The line's bytes without the `\n` (at most `maxLineBytes`). Valid only until `onLines`
   * returns: the read buffer is reused (copy what must outlive the call).
   */
  readonly bytes: Buffer;
  /** Offset of the line's first byte in its file. */
  readonly start: number;
  /** Offset just past the line's `\n` (or past its last byte for an unterminated final line of a finished file). */
  readonly end: number;
  /** The line was longer than `maxLineBytes`; the rest up to `end` was skipped. */
  readonly truncated: boolean;
}

export interface TailerOptions {
  path: string;
  /** Resume point from the positions file; both omitted = read from the start. */
  offset?: number;
  identity?: FileIdentity;
  /** Lines read, in order, per file. The returned promise is awaited before reading on (backpressure). */
  onLines: (file: TailedFile, lines: TailLine[]) => void | Promise<void>;
  /**
   * Called before each read, holding one of the few shared read buffers; a returned promise is
   * awaited first (backpressure). Waiting while holding the buffer bounds how much all tailers
   * together hand on once room comes back: a few chunks, not one chunk per file.
   */
  waitForRoom?: () => Promise<void> | undefined;
  /** A file starts being read at `offset` (0 for new files, the resume offset otherwise). */
  onFileStart?: (file: TailedFile, offset: number) => void;
  /** A file was read to its end and released (rotated away, or `finish()`); nothing more comes from it. */
  onFileEnd?: (file: TailedFile, endOffset: number) => void;
  /** The file shrank below the read offset: reading restarts at 0. */
  onTruncated?: (file: TailedFile, previousOffset: number, size: number) => void;
  /** The identity of `file` got a longer head hash. */
  onIdentity?: (file: TailedFile) => void;
  onWarning?: (message: string) => void;
  /** Poll interval in ms (250). */
  pollIntervalMs?: number;
  /** Also react to fs.watch events on the directory (true). */
  watch?: boolean;
  /**
   * A shared watch of the file's directory (discovery's): subscribes the listener (`lost`: the
   * watch failed) and returns the unsubscribe function, or undefined when there is none — the
   * tailer then watches the directory itself (with `watch`).
   */
  watchDir?: (dir: string, listener: (lost: boolean) => void) => (() => void) | undefined;
  /** Bytes read per read call (64 KiB). */
  chunkBytes?: number;
  /** Longest line delivered; longer lines are cut (256 KiB + 64 bytes of CRI prefix room). */
  maxLineBytes?: number;
  headBytes?: number;
}

export const DEFAULT_POLL_INTERVAL_MS = 250;
/**
 * While fs.watch reports the directory's changes, a file that stays idle is polled less and less
 * often, up to this: the poll is only a safety net then, and a thousand idle files polled every
 * 250 ms would keep half a core busy with stat calls.
 */
export const MAX_IDLE_POLL_INTERVAL_MS = 2000;
export const DEFAULT_CHUNK_BYTES = 64 * 1024;
export const DEFAULT_MAX_LINE_BYTES = 256 * 1024 + 1024;

const ROTATED_SIBLING = /^\.\d{8}-\d{6}$/;
const COMPRESSED_SIBLING = /^\.\d{8}-\d{6}\.gz$/;

/**
 * Read buffers shared by all tailers of one chunk size. A buffer is held for one read and the
 * synchronous handling of its lines, so a few serve any number of files; allocating one per
 * read left megabytes of garbage per second for the collector (and in the RSS).
 */
class ReadBuffers {
  private readonly free: Buffer[] = [];
  private readonly waiting: Array<(buffer: Buffer) => void> = [];
  private created = 0;

  constructor(
    readonly size: number,
    private readonly max: number,
  ) {}

  acquire(): Buffer | Promise<Buffer> {
    const buffer = this.free.pop();
    if (buffer !== undefined) return buffer;
    if (this.created < this.max) {
      this.created++;
      return Buffer.allocUnsafeSlow(this.size);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(buffer: Buffer): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(buffer);
    else this.free.push(buffer);
  }
}

const readBufferPools = new Map<number, ReadBuffers>();

function readBuffersOf(size: number): ReadBuffers {
  let pool = readBufferPools.get(size);
  if (pool === undefined) {
    pool = new ReadBuffers(size, 4);
    readBufferPools.set(size, pool);
  }
  return pool;
}

class OpenFile implements TailedFile {
  rotated = false;
  /** Reading it has begun (a backlog file then keeps its place). */
  reading = false;
  /** Bytes of the current unterminated line kept so far (at most maxLineBytes). */
  carry: Buffer[] = [];
  carryBytes = 0;
  /** Bytes of the current line beyond the bound, skipped. */
  skipped = 0;
  /** Offset of the first byte of the pending line (== offset when none pending). */
  lineStart: number;

  constructor(
    readonly seq: number,
    readonly path: string,
    /** Where it was opened (a rotated sibling's own name for files found rotated). */
    readonly source: string,
    public identity: FileIdentity,
    readonly handle: FileHandle,
    public offset: number,
    /** Set for a rotated file kubelet had compressed before it was read: its decompressed stream. */
    readonly gzip?: GzipReader,
  ) {
    this.lineStart = offset;
  }

  /** The rotated name of a compressed file without `.gz` (kubelet's `N.log.<ts>`), else undefined. */
  get compressedName(): string | undefined {
    return this.gzip === undefined ? undefined : basename(this.source).slice(0, -3);
  }

  async release(): Promise<void> {
    this.gzip?.close();
    await this.handle.close().catch(() => undefined);
  }

  resetTo(offset: number): void {
    this.offset = offset;
    this.lineStart = offset;
    this.carry = [];
    this.carryBytes = 0;
    this.skipped = 0;
  }
}

export class Tailer {
  readonly path: string;
  private readonly options: TailerOptions;
  private readonly pollMs: number;
  private readonly chunkBytes: number;
  private readonly maxLineBytes: number;
  private readonly headBytes: number;
  private readonly warn: (message: string) => void;
  /** Files to finish before `current` (rotated siblings found at start). */
  private readonly backlog: OpenFile[] = [];
  private current: OpenFile | undefined;
  private seq = 0;
  private paused = false;
  private closed = false;
  private finishing = false;
  private started = false;
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly buffers: ReadBuffers;
  /** Polls in a row that found nothing; with a watcher, the poll interval grows with it. */
  private idlePolls = 0;
  private nextPollAt = 0;
  /** Whether the last pass read anything or saw a rotation. */
  private progressed = false;
  /** The last look at the file being read found nothing more in it. */
  private atEnd = false;
  /** When a look last found everything read (ms since the epoch; 0 = never). */
  private caughtUpAtMs = 0;
  /** The file finished last: its rotated name (if found) and mtime, to find rotations skipped since. */
  private lastFinished: { name: string | undefined; mtimeNs: bigint } | undefined;
  /** Identities of files this tailer read (recent ones), never re-read as skipped rotations. */
  private finishedIds: Set<string> | undefined;
  /** Their head hashes: a compressed copy of a file read before has another inode but the same head. */
  private finishedHeads: Set<string> | undefined;
  private watcher: FSWatcher | undefined;
  /** Unsubscribes from the shared directory watch (`watchDir`). */
  private unwatch: (() => void) | undefined;

  constructor(options: TailerOptions) {
    this.options = options;
    this.path = options.path;
    this.pollMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.headBytes = options.headBytes ?? DEFAULT_HEAD_BYTES;
    this.buffers = readBuffersOf(this.chunkBytes);
    this.warn = options.onWarning ?? ((message) => process.stderr.write(`level=warn component=tailer msg=${JSON.stringify(message)}\n`));
    if (this.maxLineBytes < 1 || this.chunkBytes < 1) throw new RangeError('maxLineBytes and chunkBytes must be positive');
  }

  /** Opens the file (resolving the saved position), then follows it. Resolves once the first file is open. */
  async start(): Promise<void> {
    if (this.started) throw new Error('tailer already started');
    this.started = true;
    await this.openInitial();
    this.timer = setInterval(() => this.poll0(), this.pollMs);
    this.timer.unref();
    this.unwatch = this.options.watchDir?.(dirname(this.path), (lost) => {
      if (lost) {
        this.unwatch = undefined;
        return;
      }
      this.idlePolls = 0;
      this.kick();
    });
    if (this.unwatch === undefined && (this.options.watch ?? true)) {
      try {
        this.watcher = watch(dirname(this.path), { persistent: false }, () => {
          this.idlePolls = 0;
          this.kick();
        });
        this.watcher.on('error', () => {
          // The directory went away (pod deleted) or watching failed: the poll timer carries on.
          this.watcher?.close();
          this.watcher = undefined;
        });
      } catch (err) {
        this.warn(`watching ${dirname(this.path)} failed, polling only: ${(err as Error).message}`);
      }
    }
    this.kick();
  }

  /** Stops reading after the current chunk; offsets stay where they are. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.kick();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /**
   * Everything written so far has been read: the last look found no more bytes, and reading is
   * not paused or waiting. Timeouts for a partial line's missing part (or a multiline block's next
   * line) only mean something then; while reading lags, the missing part may be on disk unread.
   */
  get caughtUp(): boolean {
    return this.atEnd && !this.paused && this.backlog.length === 0;
  }

  /**
   * When a look last found everything written read (ms since the epoch, 0 = never). A part
   * that had not come by then was not in the file then; unlike `caughtUp` it stays meaningful
   * for a file that is written all the time.
   */
  get caughtUpAt(): number {
    return this.caughtUp ? Date.now() : this.caughtUpAtMs;
  }

  /** Files currently open (backlog and current), oldest first. */
  files(): TailedFile[] {
    return this.current === undefined ? [...this.backlog] : [...this.backlog, this.current];
  }

  /** Reads a pass now (as a watch event would); resolves when the pass ends. */
  async poll(): Promise<void> {
    this.kick();
    while (this.running !== undefined) await this.running;
  }

  /**
   * The target is gone (pod deleted): reads every open file to its end, delivers an unterminated
   * last line, reports `onFileEnd`, and closes. Ignores `pause()`.
   */
  async finish(): Promise<void> {
    if (this.closed) return;
    this.finishing = true;
    this.paused = false;
    while (this.running !== undefined) await this.running;
    for (const file of [...this.backlog, ...(this.current === undefined ? [] : [this.current])]) {
      await this.readToEnd(file);
      await this.endFile(file);
    }
    this.backlog.length = 0;
    this.current = undefined;
    await this.close();
  }

  /** Releases the descriptors and timers without reading further. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
    this.unwatch?.();
    this.unwatch = undefined;
    while (this.running !== undefined) await this.running.catch(() => undefined);
    for (const file of this.backlog.splice(0)) await file.release();
    await this.current?.release();
    this.current = undefined;
  }

  /** The poll timer: a pass, unless the file has been idle and a watcher is there to wake it. */
  private poll0(): void {
    if ((this.watcher !== undefined || this.unwatch !== undefined) && this.idlePolls > 0 && Date.now() < this.nextPollAt) return;
    this.kick();
  }

  private kick(): void {
    if (this.closed || this.finishing || !this.started) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.progressed = false;
    this.running = this.pass()
      .catch((err: unknown) => this.warn(`tailing ${this.path}: ${(err as Error).message}`))
      .finally(() => {
        this.running = undefined;
        this.idlePolls = this.progressed ? 0 : this.idlePolls + 1;
        this.nextPollAt = Date.now() + Math.min(this.pollMs * 2 ** Math.min(this.idlePolls, 16), Math.max(this.pollMs, MAX_IDLE_POLL_INTERVAL_MS));
        if (this.again && !this.paused && !this.closed && !this.finishing) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async openInitial(): Promise<void> {
    const saved = this.options.identity;
    const offset = this.options.offset ?? 0;
    const handle = await openIfExists(this.path);
    if (saved === undefined) {
      if (handle !== undefined) this.current = await this.adopt(this.path, handle, offset);
      return;
    }
    if (handle !== undefined && (await matchesIdentity(handle, saved))) {
      this.current = await this.adopt(this.path, handle, offset);
      return;
    }
    // Another file (or none) at the path: the saved one may be a rotated sibling not yet gzipped.
    const sibling = await this.findRotatedSibling(saved);
    const compressed = sibling === undefined ? await this.findCompressedSibling(saved) : undefined;
    if (sibling !== undefined) {
      const file = await this.adopt(sibling.path, sibling.handle, offset, this.path);
      file.rotated = true;
      this.backlog.push(file);
    } else if (compressed !== undefined) {
      const file = await this.adoptCompressed(compressed, offset);
      if (file !== undefined) this.backlog.push(file);
    } else if (offset > 0) {
      this.warn(`${this.path}: the file saved at offset ${offset} is gone (rotated and compressed?); reading the current file from its start`);
    }
    if (handle !== undefined) this.current = await this.adopt(this.path, handle, 0);
  }

  private async findRotatedSibling(saved: FileIdentity): Promise<{ path: string; handle: FileHandle } | undefined> {
    const dir = dirname(this.path);
    for (const name of (await this.siblingNames(ROTATED_SIBLING)).reverse()) {
      const path = join(dir, name);
      const handle = await openIfExists(path);
      if (handle === undefined) continue;
      if (await matchesIdentity(handle, saved).catch(() => false)) return { path, handle };
      await handle.close();
    }
    return undefined;
  }

  /** Wraps an open handle; a start offset beyond the size means the file was truncated meanwhile. */
  private async adopt(path: string, handle: FileHandle, offset: number, reportPath = path): Promise<OpenFile> {
    const identity = await readIdentity(handle, this.headBytes);
    const size = (await handle.stat()).size;
    let start = offset;
    const file = new OpenFile(++this.seq, reportPath, path, identity, handle, offset);
    if (size < offset) {
      start = 0;
      file.resetTo(0);
      this.options.onTruncated?.(file, offset, size);
    }
    if (path !== reportPath) this.warn(`${reportPath}: finishing rotated file ${path} from offset ${start}`);
    this.options.onFileStart?.(file, start);
    return file;
  }

  /** The saved file, compressed by kubelet since (`N.log.<ts>.gz`), found by the hash of its first bytes. */
  private async findCompressedSibling(saved: FileIdentity): Promise<string | undefined> {
    for (const c of (await this.compressedSiblings()).reverse()) {
      const head = await gzipHead(c.path, saved.headLength);
      if (head !== undefined && head.headLength === saved.headLength && head.headSha1 === saved.headSha1) return c.path;
    }
    return undefined;
  }

  /** Opens a compressed rotated file to be finished from `offset` (reported under the live path). */
  private async adoptCompressed(path: string, offset: number): Promise<OpenFile | undefined> {
    const handle = await openIfExists(path);
    if (handle === undefined) return undefined;
    const head = await gzipHead(path, this.headBytes);
    const st = await handle.stat({ bigint: true });
    if (head === undefined) {
      await handle.close();
      this.warn(`${this.path}: cannot decompress rotated file ${path}; its unread lines are lost`);
      return undefined;
    }
    const identity: FileIdentity = { dev: String(st.dev), ino: String(st.ino), ...head };
    const file = new OpenFile(++this.seq, this.path, path, identity, handle, offset, new GzipReader(path));
    file.rotated = true;
    this.warn(`${this.path}: finishing rotated file ${path} (compressed) from offset ${offset}`);
    this.options.onFileStart?.(file, offset);
    return file;
  }

  /** One pass: read what is there, then check for rotation and truncation; repeat while things change. */
  private async pass(): Promise<void> {
    for (;;) {
      if (this.paused || this.closed || this.finishing) return;
      const head = this.backlog[0];
      if (head !== undefined) {
        if (!(await this.readToEnd(head))) return;
        await this.noteFinished(head);
        await this.queueUnread(this.current);
        await this.endFile(head);
        this.backlog.shift();
        continue;
      }
      if (this.current === undefined) {
        const handle = await openIfExists(this.path);
        if (handle === undefined) return;
        if (this.closed) {
          await handle.close();
          return;
        }
        this.current = await this.adopt(this.path, handle, 0);
        this.progressed = true;
        // Rotations may have happened while the previous files were finished.
        if (await this.queueUnread(this.current)) continue;
      }
      const file = this.current;
      if (!(await this.readToEnd(file))) return;
      // Synchronous stats: this runs on every poll of every file, and a local stat takes a few
      // microseconds, less than a round trip through the thread pool.
      const own = fstatSync(file.handle.fd, { bigint: true });
      if (own.size < BigInt(file.offset)) {
        const previous = file.offset;
        file.resetTo(0);
        // The head the identity hashed is gone: hash what is there now (it grows as the file does),
        // or a restart would not recognise the file and would skip what was not yet committed.
        file.identity = await readIdentity(file.handle, this.headBytes);
        this.progressed = true;
        this.options.onTruncated?.(file, previous, Number(own.size));
        continue;
      }
      const atPath = statSync(this.path, { bigint: true, throwIfNoEntry: false });
      if (atPath === undefined) return; // renamed, not reopened yet; or deleted: wait (or finish())
      if (atPath.ino === own.ino && atPath.dev === own.dev) return; // nothing changed
      this.progressed = true;
      // The path names another file now. Everything written to the old one came before the new
      // one existed, so reading the old one to its end now misses nothing.
      file.rotated = true;
      if (!(await this.readToEnd(file))) return;
      await this.noteFinished(file);
      await this.queueUnread(undefined);
      await this.endFile(file);
      this.current = undefined;
    }
  }

  /**
   * Records the file about to be finished (still open, so its inode is its own): its rotated
   * name among the siblings, if it has one, and its identity.
   */
  private async noteFinished(file: OpenFile): Promise<void> {
    const own = await file.handle.stat({ bigint: true });
    const name = file.compressedName ?? (await this.rotatedNameOf(file, own));
    this.lastFinished = { name, mtimeNs: own.mtimeNs };
    this.remember(file.identity);
  }

  /**
   * The rotated name of an open file: its sibling by inode, or — when kubelet compressed and
   * removed it while it was open — the `.gz` whose first bytes hash the same. Undefined when it
   * is still the live file, or gone altogether.
   */
  private async rotatedNameOf(file: OpenFile, own: { ino: bigint; dev: bigint }): Promise<string | undefined> {
    const plain = (await this.rotatedSiblings()).find((r) => r.ino === own.ino && r.dev === own.dev);
    if (plain !== undefined) return plain.name;
    const live = await statIfExists(this.path);
    if (live !== undefined && live.ino === own.ino && live.dev === own.dev) return undefined;
    for (const c of await this.compressedSiblings()) {
      const head = await gzipHead(c.path, file.identity.headLength);
      if (head !== undefined && head.headLength === file.identity.headLength && head.headSha1 === file.identity.headSha1) return c.name.slice(0, -3);
    }
    return undefined;
  }

  /**
   * More than one rotation happened since the last look (never with kubelet's 10 s monitor
   * interval, but cheap to cover): uncompressed siblings newer than the last finished file and
   * not read yet are queued, oldest first, to be finished before `before` (the current file, when
   * there is one). Siblings rotated after `before` itself are left for when `before` is finished:
   * queueing them now would read them ahead of it. Returns whether any were queued.
   */
  private async queueUnread(before: OpenFile | undefined): Promise<boolean> {
    const last = this.lastFinished;
    if (last === undefined) return false;
    const open = [...this.backlog, ...(this.current === undefined ? [] : [this.current])];
    const siblings = await this.rotatedSiblings();
    let bound: { name: string | undefined; mtimeNs: bigint; live: boolean } | undefined;
    if (before !== undefined) {
      const own = await before.handle.stat({ bigint: true });
      const live = await statIfExists(this.path);
      const isLive = live !== undefined && live.ino === own.ino && live.dev === own.dev;
      // Not live and not found by name: rotated and compressed already; its final mtime then
      // separates older from newer plain siblings.
      bound = { name: isLive ? undefined : await this.rotatedNameOf(before, own), mtimeNs: own.mtimeNs, live: isLive };
    }
    let queued = false;
    for (const r of siblings) {
      if (last.name !== undefined ? r.name <= last.name : r.mtimeNs < last.mtimeNs) continue;
      if (bound !== undefined && (bound.name !== undefined ? r.name >= bound.name : r.mtimeNs > bound.mtimeNs)) continue;
      if (open.some((f) => f.identity.ino === String(r.ino) && f.identity.dev === String(r.dev))) continue;
      const handle = await openIfExists(r.path);
      if (handle === undefined) continue;
      // Inodes are reused: a closed file read before is recognised by its identity with the head hash.
      const identity = await readIdentity(handle, this.headBytes);
      if (this.finishedIds?.has(identityKey(identity)) === true || identity.ino !== String(r.ino)) {
        await handle.close();
        continue;
      }
      const file = await this.adopt(r.path, handle, 0, this.path);
      file.rotated = true;
      this.backlog.push(file);
      queued = true;
    }
    // Compressed ones too, when they can be placed by name: kubelet compresses a rotated file at
    // its next rotation, so one the tailer never opened (reading was paused, rotations came fast)
    // may be there only as `.gz`.
    if (last.name !== undefined && (bound === undefined || bound.live || bound.name !== undefined)) {
      const plainNames = new Set(siblings.map((r) => r.name));
      for (const c of await this.compressedSiblings()) {
        const name = c.name.slice(0, -3);
        if (name <= last.name || (bound?.name !== undefined && name >= bound.name)) continue;
        // Being compressed right now: the plain file is still there and is the one read.
        if (plainNames.has(name)) continue;
        const head = await gzipHead(c.path, this.headBytes);
        if (head === undefined) continue;
        const key = headKey(head);
        if (this.finishedHeads?.has(key) === true || open.some((f) => f.identity.headLength === head.headLength && f.identity.headSha1 === head.headSha1)) continue;
        const file = await this.adoptCompressed(c.path, 0);
        if (file === undefined) continue;
        this.backlog.push(file);
        queued = true;
      }
    }
    // Oldest first (kubelet's suffix sorts by time); a head already being read stays first.
    const keep = this.backlog[0]?.reading === true ? 1 : 0;
    const rest = this.backlog.slice(keep).sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
    this.backlog.splice(keep, rest.length, ...rest);
    return queued;
  }

  /** Kubelet's compressed rotations of this file, `N.log.<ts>.gz`, oldest first. */
  private async compressedSiblings(): Promise<{ name: string; path: string }[]> {
    const dir = dirname(this.path);
    return (await this.siblingNames(COMPRESSED_SIBLING)).map((name) => ({ name, path: join(dir, name) }));
  }

  /** Names in this file's directory that are `<base><suffix>` with `suffix` matching, sorted. */
  private async siblingNames(suffix: RegExp): Promise<string[]> {
    const base = basename(this.path);
    let names: string[];
    try {
      names = await readdir(dirname(this.path));
    } catch {
      return [];
    }
    return names.filter((name) => name.startsWith(base) && suffix.test(name.slice(base.length))).sort();
  }

  private async rotatedSiblings(): Promise<{ name: string; path: string; ino: bigint; dev: bigint; mtimeNs: bigint }[]> {
    const dir = dirname(this.path);
    const out: { name: string; path: string; ino: bigint; dev: bigint; mtimeNs: bigint }[] = [];
    for (const name of await this.siblingNames(ROTATED_SIBLING)) {
      const path = join(dir, name);
      const st = await statIfExists(path);
      if (st !== undefined) out.push({ name, path, ino: st.ino, dev: st.dev, mtimeNs: st.mtimeNs });
    }
    return out;
  }

  private remember(identity: FileIdentity): void {
    // Created on the first rotation: most of a thousand tailers never see one.
    const ids = (this.finishedIds ??= new Set());
    ids.add(identityKey(identity));
    if (ids.size > 64) ids.delete(ids.values().next().value!);
    const heads = (this.finishedHeads ??= new Set());
    heads.add(headKey(identity));
    if (heads.size > 64) heads.delete(heads.values().next().value!);
  }

  /** Reads until EOF. Returns false when paused or closed first. */
  private async readToEnd(file: OpenFile): Promise<boolean> {
    file.reading = true;
    for (;;) {
      if (this.closed || (this.paused && !this.finishing)) return false;
      // Nothing new (the common case of a poll): no buffer, no read.
      if (file.gzip === undefined && fstatSync(file.handle.fd).size <= file.offset) {
        this.reachedEnd();
        return true;
      }
      this.atEnd = false;
      const buffer = await this.buffers.acquire();
      let waitFor: void | Promise<void> = undefined;
      try {
        const room = this.options.waitForRoom?.();
        if (room !== undefined) await room;
        if (this.closed || (this.paused && !this.finishing)) return false;
        const bytesRead = file.gzip !== undefined ? await file.gzip.read(buffer, file.offset) : (await file.handle.read(buffer, 0, this.chunkBytes, file.offset)).bytesRead;
        if (bytesRead === 0) {
          if (file.gzip === undefined) this.reachedEnd();
          return true;
        }
        this.progressed = true;
        if (file.gzip === undefined && file.identity.headLength < this.headBytes && file.offset + bytesRead > file.identity.headLength) {
          file.identity = await readIdentity(file.handle, this.headBytes);
          this.options.onIdentity?.(file);
        }
        waitFor = this.deliver(file, buffer.subarray(0, bytesRead));
      } finally {
        this.buffers.release(buffer);
      }
      await waitFor;
    }
  }

  private reachedEnd(): void {
    this.atEnd = true;
    if (!this.paused && this.backlog.length === 0) this.caughtUpAtMs = Date.now();
  }

  /**
   * Splits a chunk and hands its lines on. Synchronous and apart from readToEnd on purpose: a
   * suspended async function keeps its locals, and a thousand tailers waiting for a read buffer
   * each kept the lines of their previous chunk alive (18 MB of heap at 1,000 files).
   */
  private deliver(file: OpenFile, chunk: Buffer): void | Promise<void> {
    const lines = this.split(file, chunk);
    return lines.length > 0 ? this.options.onLines(file, lines) : undefined;
  }

  private split(file: OpenFile, chunk: Buffer): TailLine[] {
    const lines: TailLine[] = [];
    let from = 0;
    const base = file.offset;
    for (;;) {
      const nl = chunk.indexOf(0x0a, from);
      const pieceEnd = nl === -1 ? chunk.length : nl;
      this.keep(file, chunk.subarray(from, pieceEnd), nl === -1);
      if (nl === -1) break;
      const end = base + nl + 1;
      const bytes = file.carry.length === 1 ? file.carry[0]! : Buffer.concat(file.carry, file.carryBytes);
      lines.push({ bytes, start: file.lineStart, end, truncated: file.skipped > 0 });
      file.carry = [];
      file.carryBytes = 0;
      file.skipped = 0;
      file.lineStart = end;
      from = nl + 1;
    }
    file.offset = base + chunk.length;
    return lines;
  }

  /**
   * Appends part of the pending line, keeping at most maxLineBytes. A piece left pending at the
   * end of the chunk (`tail`) is copied: the read buffer is reused for the next read.
   */
  private keep(file: OpenFile, piece: Buffer, tail: boolean): void {
    if (piece.length === 0) {
      if (file.carry.length === 0) file.carry.push(piece);
      return;
    }
    const room = this.maxLineBytes - file.carryBytes;
    const kept = piece.length <= room ? piece : piece.subarray(0, room);
    if (kept.length > 0) {
      file.carry.push(tail || kept.length < piece.length || file.carry.length > 0 ? Buffer.from(kept) : kept);
      file.carryBytes += kept.length;
    }
    file.skipped += piece.length - kept.length;
  }

  /** Delivers a pending unterminated line, reports the end and closes the descriptor. */
  private async endFile(file: OpenFile): Promise<void> {
    if (file.carryBytes > 0 || file.skipped > 0) {
      const bytes = Buffer.concat(file.carry, file.carryBytes);
      const line: TailLine = { bytes, start: file.lineStart, end: file.offset, truncated: file.skipped > 0 };
      file.carry = [];
      file.carryBytes = 0;
      file.skipped = 0;
      file.lineStart = file.offset;
      await this.options.onLines(file, [line]);
    }
    this.options.onFileEnd?.(file, file.offset);
    await file.release();
  }
}

function identityKey(identity: FileIdentity): string {
  return `${identity.dev}:${identity.ino}:${identity.headLength}:${identity.headSha1}`;
}

function headKey(head: { headLength: number; headSha1: string }): string {
  return `${head.headLength}:${head.headSha1}`;
}

async function openIfExists(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function statIfExists(path: string): Promise<{ ino: bigint; dev: bigint; mtimeNs: bigint } | undefined> {
  try {
    return await stat(path, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
