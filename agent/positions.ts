/**
 * The positions file: for each tailed file, the offset up to which the server acknowledged
 * its lines, and the file's identity (device, inode and a hash of its first bytes), so a
 * renamed, replaced or truncated file is recognised after a restart.
 *
 * Unlike Promtail (which records the read offset, keyed by path only), an offset here moves
 * only through `commit()`, called once the batch holding those lines was acknowledged. What
 * was read and sent but not yet acknowledged is kept apart (`markSent`, memory only), so after
 * `kill -9` the agent re-sends at most the unacknowledged window.
 *
 * On disk (YAML, Promtail's top-level key; a Promtail file `path: "offset"` loads too):
 *
 *     positions:
 *       /var/log/pods/ns_pod_uid/c/0.log:
 *         offset: "1234"
 *         dev: "2049"
 *         ino: "393217"
 *         head_length: 1024
 *         head_sha1: "5f0c…"
 *
 * Saving writes a temporary file next to the target, fsyncs it, renames it over the target and
 * fsyncs the directory, so the file on disk is always one complete version.
 */
import { createHash } from 'node:crypto';
import { open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parse } from 'yaml';

/** Bytes hashed at the start of a file to tell files apart when an inode is reused. */
export const DEFAULT_HEAD_BYTES = 1024;

export interface FileIdentity {
  /** st_dev and st_ino as decimal strings (they may exceed 2^53). */
  readonly dev: string;
  readonly ino: string;
  /** How many leading bytes `headSha1` covers: min(head size, file size when computed). */
  readonly headLength: number;
  /** Hex SHA-1 of the first `headLength` bytes. */
  readonly headSha1: string;
}

/** One tracked file. A handle: positions replaced or removed since no longer take commits. */
export interface FilePosition {
  readonly path: string;
  readonly identity: FileIdentity | undefined;
  /** Offset acknowledged by the server: what is saved, and where reading resumes after a restart. */
  readonly acked: number;
  /** Offset read and handed to the batcher (>= acked); memory only. */
  readonly sent: number;
}

export type PositionsLoadStatus = 'missing' | 'loaded' | 'corrupt';

export interface PositionsLoadReport {
  status: PositionsLoadStatus;
  /** For 'corrupt': why, and where the unreadable file was moved to. */
  error?: string;
  movedTo?: string;
  /** A temporary file left by a save that was interrupted; removed, never read. */
  removedTempFile?: string;
}

export interface PositionsOptions {
  filename: string;
  /** Periodic save interval (Promtail's positions `sync_period`, 10s). 0 disables the timer. */
  syncPeriodMs?: number;
  /** Problems that do not stop the agent: corrupt file, failed periodic save. */
  onWarning?: (message: string) => void;
}

class Entry implements FilePosition {
  constructor(
    public path: string,
    public identity: FileIdentity | undefined,
    public acked: number,
    public sent: number,
  ) {}
}

export class PositionsCorruptError extends Error {
  override readonly name = 'PositionsCorruptError';
}

export class Positions {
  private readonly entries = new Map<string, Entry>();
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private closed = false;
  readonly filename: string;
  readonly tempFilename: string;
  private readonly onWarning: (message: string) => void;

  private constructor(
    options: PositionsOptions,
    readonly loadReport: PositionsLoadReport,
  ) {
    this.filename = options.filename;
    this.tempFilename = tempNameFor(options.filename);
    this.onWarning = options.onWarning ?? ((message) => process.stderr.write(`level=warn component=positions msg=${JSON.stringify(message)}\n`));
  }

  /** Loads the file (missing: empty; corrupt: moved aside, reported, empty) and starts the save timer. */
  static async open(options: PositionsOptions): Promise<Positions> {
    const report: PositionsLoadReport = { status: 'missing' };
    const temp = tempNameFor(options.filename);
    // A temporary file means a save was interrupted before its rename: the target is still the
    // previous complete version, and the temporary one may be partial. Never read it.
    try {
      await rm(temp);
      report.removedTempFile = temp;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    let loaded: Map<string, FilePosition> | undefined;
    let text: string | undefined;
    try {
      text = await readFile(options.filename, 'utf8');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (text !== undefined) {
      try {
        loaded = parsePositions(text);
        report.status = 'loaded';
      } catch (err) {
        const movedTo = `${options.filename}.corrupt-${Date.now()}`;
        await rename(options.filename, movedTo);
        report.status = 'corrupt';
        report.error = (err as Error).message;
        report.movedTo = movedTo;
      }
    }
    const positions = new Positions(options, report);
    if (loaded !== undefined) for (const [path, p] of loaded) positions.entries.set(path, new Entry(path, p.identity, p.acked, p.acked));
    if (report.status === 'corrupt') {
      positions.onWarning(`positions file ${options.filename} is corrupt (${report.error}); moved to ${report.movedTo}, starting with no positions`);
    }
    const period = options.syncPeriodMs ?? 10_000;
    if (period > 0) {
      positions.timer = setInterval(() => {
        if (!positions.dirty) return;
        positions.save().catch((err: unknown) => positions.onWarning(`saving positions failed: ${(err as Error).message}`));
      }, period);
      positions.timer.unref();
    }
    return positions;
  }

  get(path: string): FilePosition | undefined {
    return this.entries.get(path);
  }

  all(): FilePosition[] {
    return [...this.entries.values()];
  }

  /**
   * The tracked file with this device and inode (and the same head hash when both hashes cover
   * the same length). A candidate only: confirm with `matchesIdentity(file, found.identity)`,
   * which re-hashes the saved head length, before resuming at its offset (inode reuse).
   */
  findByIdentity(identity: FileIdentity): FilePosition | undefined {
    for (const entry of this.entries.values()) {
      if (entry.identity !== undefined && sameIdentity(entry.identity, identity)) return entry;
    }
    return undefined;
  }

  /**
   * Starts tracking `path` as the file `identity` and returns its handle. If the path is already
   * tracked as the same file (same dev/ino, matching head hash), that handle is returned and its
   * offset kept; otherwise a new entry at `offset` replaces it and the old handle goes dead.
   */
  track(path: string, identity: FileIdentity | undefined, offset = 0): FilePosition {
    const existing = this.entries.get(path);
    if (existing !== undefined && identity !== undefined && existing.identity !== undefined && sameIdentity(existing.identity, identity)) {
      // A longer head hash is a better identity: keep the newer one.
      if (identity.headLength > existing.identity.headLength) {
        existing.identity = identity;
        this.dirty = true;
      }
      return existing;
    }
    if (existing !== undefined && existing.identity === undefined && identity !== undefined) {
      // Loaded from a Promtail file (no identity): adopt the file; the caller checked its size.
      existing.identity = identity;
      this.dirty = true;
      return existing;
    }
    return this.replace(path, identity, offset);
  }

  /** A fresh entry for `path` (truncation, new file at the same path); in-flight commits to the old handle are ignored. */
  replace(path: string, identity: FileIdentity | undefined, offset = 0): FilePosition {
    const entry = new Entry(path, identity, offset, offset);
    this.entries.set(path, entry);
    this.dirty = true;
    return entry;
  }

  /** Updates the identity (e.g. a longer head hash once the file grew). */
  setIdentity(position: FilePosition, identity: FileIdentity): void {
    const entry = this.live(position);
    if (entry === undefined) return;
    entry.identity = identity;
    this.dirty = true;
  }

  /** The file was renamed (kubelet rotation): its entry follows it. */
  move(position: FilePosition, newPath: string): void {
    const entry = this.live(position);
    if (entry === undefined) return;
    this.entries.delete(entry.path);
    entry.path = newPath;
    this.entries.set(newPath, entry);
    this.dirty = true;
  }

  /** Records that lines up to `offset` were read and handed on (not persisted). */
  markSent(position: FilePosition, offset: number): void {
    const entry = this.live(position);
    if (entry !== undefined && offset > entry.sent) entry.sent = offset;
  }

  /**
   * The server acknowledged everything up to `offset`. Offsets only move forward on a handle;
   * a commit to a handle that was replaced, moved away by `remove` or is unknown is ignored
   * (returns false). A path string means the entry currently at that path.
   */
  commit(position: FilePosition | string, offset: number): boolean {
    const entry = typeof position === 'string' ? this.entries.get(position) : this.live(position);
    if (entry === undefined) return false;
    if (offset > entry.acked) {
      entry.acked = offset;
      if (offset > entry.sent) entry.sent = offset;
      this.dirty = true;
    }
    return true;
  }

  /** The file is finished and gone: forget it. */
  remove(position: FilePosition | string): void {
    const entry = typeof position === 'string' ? this.entries.get(position) : this.live(position);
    if (entry === undefined) return;
    this.entries.delete(entry.path);
    this.dirty = true;
  }

  get isDirty(): boolean {
    return this.dirty;
  }

  /** Writes the file now (atomically). Saves are serialised; concurrent calls share order. */
  save(): Promise<void> {
    const run = this.saving.then(() => this.writeNow());
    this.saving = run.catch(() => undefined);
    return run;
  }

  /** Stops the timer and saves a last time. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.save();
  }

  private live(position: FilePosition): Entry | undefined {
    const entry = this.entries.get(position.path);
    return entry === position ? entry : undefined;
  }

  private async writeNow(): Promise<void> {
    this.dirty = false;
    const text = serializePositions(this.entries.values());
    try {
      await writeFileAtomic(this.filename, this.tempFilename, text);
    } catch (err) {
      this.dirty = true;
      throw err;
    }
  }
}

function tempNameFor(filename: string): string {
  return join(dirname(filename), `.${basename(filename)}.tmp`);
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/** temp file, fsync, rename over the target, fsync the directory. */
export async function writeFileAtomic(filename: string, tempFilename: string, text: string): Promise<void> {
  const handle = await open(tempFilename, 'w', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tempFilename, filename);
  let dir: FileHandle | undefined;
  try {
    dir = await open(dirname(filename), 'r');
    await dir.sync();
  } catch (err) {
    // Some filesystems refuse fsync on a directory; the rename itself is still atomic.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    await dir?.close();
  }
}

/**
 * The positions file's YAML, written by hand: it is rewritten every sync period with an entry
 * per file, and the yaml library's general stringifier cost 5% of the agent's CPU with a
 * thousand files. Paths are JSON strings, which are valid YAML double-quoted scalars.
 */
export function serializePositions(entries: Iterable<FilePosition>): string {
  let text = '';
  for (const entry of entries) {
    text += `  ${JSON.stringify(entry.path)}:\n    offset: "${entry.acked}"\n`;
    const identity = entry.identity;
    if (identity !== undefined) {
      text += `    dev: "${identity.dev}"\n    ino: "${identity.ino}"\n    head_length: ${identity.headLength}\n    head_sha1: "${identity.headSha1}"\n`;
    }
  }
  return text === '' ? 'positions: {}\n' : `positions:\n${text}`;
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const HEX40 = /^[0-9a-f]{40}$/;

function offsetFrom(value: unknown, path: string): number {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !DECIMAL.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new PositionsCorruptError(`invalid offset for ${JSON.stringify(path)}: ${JSON.stringify(value)}`);
  }
  return Number(text);
}

/** Parses the file; throws PositionsCorruptError (or a YAML error) for anything unexpected. */
export function parsePositions(text: string): Map<string, FilePosition> {
  if (text.includes('\u0000')) throw new PositionsCorruptError('file contains NUL bytes');
  if (text.trim() === '') throw new PositionsCorruptError('file is empty');
  const doc: unknown = parse(text);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new PositionsCorruptError('not a YAML mapping');
  const top = doc as Record<string, unknown>;
  const positions = top['positions'];
  if (positions === null || positions === undefined) return new Map();
  if (typeof positions !== 'object' || Array.isArray(positions)) throw new PositionsCorruptError('"positions" is not a mapping');
  const out = new Map<string, FilePosition>();
  for (const [path, value] of Object.entries(positions as Record<string, unknown>)) {
    if (typeof value === 'string' || typeof value === 'number') {
      // Promtail's form: path: "offset".
      const offset = offsetFrom(value, path);
      out.set(path, new Entry(path, undefined, offset, offset));
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new PositionsCorruptError(`invalid entry for ${JSON.stringify(path)}`);
    }
    const fields = value as Record<string, unknown>;
    const offset = offsetFrom(fields['offset'], path);
    let identity: FileIdentity | undefined;
    if (fields['dev'] !== undefined || fields['ino'] !== undefined) {
      const dev = String(fields['dev']);
      const ino = String(fields['ino']);
      const headLength = fields['head_length'];
      const headSha1 = fields['head_sha1'];
      if (!DECIMAL.test(dev) || !DECIMAL.test(ino) || typeof headLength !== 'number' || !Number.isSafeInteger(headLength) || headLength < 0 || typeof headSha1 !== 'string' || !HEX40.test(headSha1)) {
        throw new PositionsCorruptError(`invalid identity for ${JSON.stringify(path)}`);
      }
      identity = { dev, ino, headLength, headSha1 };
    }
    out.set(path, new Entry(path, identity, offset, offset));
  }
  return out;
}

/** Device, inode and a hash of the first `headBytes` bytes (fewer if the file is shorter). */
export async function readIdentity(file: string | FileHandle, headBytes = DEFAULT_HEAD_BYTES): Promise<FileIdentity> {
  const handle = typeof file === 'string' ? await open(file, 'r') : file;
  try {
    const stat = await handle.stat({ bigint: true });
    const length = Number(stat.size < BigInt(headBytes) ? stat.size : BigInt(headBytes));
    const head = await readHead(handle, length);
    return { dev: String(stat.dev), ino: String(stat.ino), headLength: head.length, headSha1: sha1(head) };
  } finally {
    if (typeof file === 'string') await handle.close();
  }
}

/**
 * Whether the open file is the one `saved` describes: same device and inode, and its first
 * `saved.headLength` bytes hash the same (a reused inode or a truncated-and-rewritten file fails).
 */
export async function matchesIdentity(file: string | FileHandle, saved: FileIdentity): Promise<boolean> {
  const handle = typeof file === 'string' ? await open(file, 'r') : file;
  try {
    const stat = await handle.stat({ bigint: true });
    if (String(stat.dev) !== saved.dev || String(stat.ino) !== saved.ino) return false;
    const head = await readHead(handle, saved.headLength);
    return head.length === saved.headLength && sha1(head) === saved.headSha1;
  } finally {
    if (typeof file === 'string') await handle.close();
  }
}

/** Same dev/ino and the shorter head hash is consistent with the longer one's length (equal lengths: equal hashes). */
function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  if (a.dev !== b.dev || a.ino !== b.ino) return false;
  // Hashes of different lengths cannot be compared without the bytes; dev+ino decide then.
  return a.headLength !== b.headLength || a.headSha1 === b.headSha1;
}

async function readHead(handle: FileHandle, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

function sha1(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}
