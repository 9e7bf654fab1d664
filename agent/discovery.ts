/**
 * Finds the containers' live log files under the kubelet pods directory:
 * `<pods_dir>/<namespace>_<pod>_<uid>/<container>/<restartCount>.log` (agent.md §2).
 *
 * chokidar watches the pods directory (depth 0: pods coming and going). Below it, every pod
 * directory and container directory found by a scan has one plain fs.watch: a pod directory's
 * reports new container directories (a rescan follows); a container directory's finds new `N.log`
 * files and wakes that directory's tailers (`watchDir`). chokidar down to the files kept, per
 * container, a watcher on its directory, one per file (with a stat on every write) and its
 * bookkeeping, and each tailer had its own watch too: at a thousand containers that was megabytes
 * of the agent's memory budget. A periodic full rescan catches anything a missed event hid.
 *
 * Only `N.log` files are targets: kubelet's rotated `N.log.<YYYYMMDD-hhmmss>`, its `.gz` and
 * `.tmp` files belong to the tailer of `N.log` (which follows a rotated file by its
 * descriptor), and are never new targets. Other unexpected paths are reported through
 * `onWarning` once and ignored.
 *
 * A target is removed when its file is gone and its pod directory is gone (a deleted pod), or
 * when its file has been missing at two rescans in a row (a container's old log removed by
 * garbage collection; a rotation's rename-and-reopen never takes that long). The consumer then
 * finishes the file (`Tailer.finish()`) before releasing it.
 */
import { existsSync, watch as fsWatch, type FSWatcher as FsWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

export interface TargetLabels {
  namespace: string;
  pod: string;
  container: string;
  /** Omitted when no node name was given. */
  node_name?: string;
  /** `<namespace>/<container>`. */
  job: string;
  service_name: string;
  filename: string;
}

export interface Target {
  /** The live file's absolute path (`…/<container>/<n>.log`). */
  readonly path: string;
  /** Pod directory name parts. */
  readonly namespace: string;
  readonly pod: string;
  readonly uid: string;
  readonly container: string;
  readonly restartCount: number;
  readonly labels: Readonly<TargetLabels>;
}

export interface DiscoveryOptions {
  podsDir: string;
  /** The node's name (the agent passes `NODE_NAME`). */
  nodeName?: string;
  onAdd: (target: Target) => void;
  onRemove: (target: Target) => void;
  onWarning?: (message: string) => void;
  /** Full rescan interval in ms (10 s, Promtail's `sync_period`). 0 disables it. */
  rescanIntervalMs?: number;
  /** Use chokidar (true); false relies on rescans only. */
  watch?: boolean;
}

export const DEFAULT_RESCAN_INTERVAL_MS = 10_000;

/** Told of every change in a watched container directory; `lost` once watching it failed (poll instead). */
export type DirListener = (lost: boolean) => void;

interface DirWatch {
  watcher: FsWatcher;
  /** Tailers of a container directory (`watchDir`). */
  listeners: Set<DirListener>;
}

const LIVE_LOG = /^(0|[1-9][0-9]*)\.log$/;
/** Kubelet's own files next to a live log: rotated, being compressed, compressed. */
const KUBELET_FILE = /^(0|[1-9][0-9]*)\.log\.\d{8}-\d{6}(\.gz|\.tmp|\.gz\.tmp)?$|\.tmp$/;

export type ParsedPath =
  | { kind: 'target'; target: Target }
  | { kind: 'ignore' }
  | { kind: 'invalid'; reason: string };

export class Discovery {
  private readonly podsDir: string;
  private readonly options: DiscoveryOptions;
  private readonly warn: (message: string) => void;
  private readonly targets = new Map<string, Target>();
  /** Targets whose file was missing at the last rescan. */
  private readonly missing = new Set<string>();
  private readonly warned = new Set<string>();
  private watcher: FSWatcher | undefined;
  /** Pod and container directories being watched (see the module comment). */
  private readonly dirWatches = new Map<string, DirWatch>();
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private closed = false;

  constructor(options: DiscoveryOptions) {
    this.options = options;
    this.podsDir = resolve(options.podsDir);
    this.warn = options.onWarning ?? ((message) => process.stderr.write(`level=warn component=discovery msg=${JSON.stringify(message)}\n`));
  }

  /** Scans once (emitting `onAdd` for every live file), then watches. */
  async start(): Promise<void> {
    await this.rescan();
    if (this.watching) {
      const watcher = watch(this.podsDir, { depth: 0, ignoreInitial: true, persistent: false });
      this.watcher = watcher;
      watcher.on('unlinkDir', (path) => this.dirRemoved(path));
      watcher.on('addDir', (path) => {
        // A pod directory created with directories and files already inside.
        if (this.depthOf(path) >= 1) void this.rescan();
      });
      watcher.on('error', (err) => this.warn(`watching ${this.podsDir}: ${(err as Error).message}`));
      await new Promise<void>((done) => watcher.once('ready', () => done()));
    }
    const interval = this.options.rescanIntervalMs ?? DEFAULT_RESCAN_INTERVAL_MS;
    if (interval > 0) {
      this.timer = setInterval(() => {
        this.rescan().catch((err: unknown) => this.warn(`rescanning ${this.podsDir}: ${(err as Error).message}`));
      }, interval);
      this.timer.unref();
    }
  }

  /** The current targets. */
  list(): Target[] {
    return [...this.targets.values()];
  }

  /** Walks the whole directory: adds new live files, removes targets whose files are gone (see the module comment). */
  rescan(): Promise<void> {
    if (this.scanning !== undefined) return this.scanning.then(() => this.rescan());
    this.scanning = this.scan().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  /**
   * Subscribes `listener` to the changes in container directory `dir`. Returns the unsubscribe
   * function, or undefined when `dir` is not watched (watching disabled, failed, or `dir` has
   * not been scanned): the caller then watches by itself.
   */
  watchDir(dir: string, listener: DirListener): (() => void) | undefined {
    const entry = this.dirWatches.get(dir);
    if (entry === undefined) return undefined;
    entry.listeners.add(listener);
    return () => {
      entry.listeners.delete(listener);
    };
  }

  private get watching(): boolean {
    return this.options.watch ?? true;
  }

  /**
   * Starts watching a pod or container directory (before it is listed, so nothing created
   * meanwhile is missed).
   */
  private watchDirectory(dir: string, kind: 'pod' | 'container'): void {
    if (!this.watching || this.closed || this.dirWatches.has(dir)) return;
    let watcher: FsWatcher;
    try {
      const onEvent = kind === 'pod' ? (event: string) => this.podDirChanged(event) : (event: string, name: string | null) => this.containerDirChanged(dir, event, name);
      watcher = fsWatch(dir, { persistent: false }, onEvent);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') this.warnOnce(dir, `watching failed, found by rescans only: ${(err as Error).message}`);
      return;
    }
    const entry: DirWatch = { watcher, listeners: new Set() };
    watcher.on('error', () => {
      // The directory went away (pod deleted) or watching failed: rescans and the tailers' polls carry on.
      this.unwatchDirectory(dir);
      for (const listener of entry.listeners) listener(true);
    });
    this.dirWatches.set(dir, entry);
  }

  private unwatchDirectory(dir: string): void {
    const entry = this.dirWatches.get(dir);
    if (entry === undefined) return;
    this.dirWatches.delete(dir);
    entry.watcher.close();
  }

  /** A container directory appeared (or went) in a pod directory: a rescan finds its files. */
  private podDirChanged(event: string): void {
    if (event !== 'rename' || this.closed) return;
    this.rescan().catch((err: unknown) => this.warn(`rescanning ${this.podsDir}: ${(err as Error).message}`));
  }

  /**
   * Writes arrive as `change` events and only wake the tailers; files appearing, renamed or
   * removed arrive as `rename` events and are looked at.
   */
  private containerDirChanged(dir: string, event: string, name: string | null): void {
    const entry = this.dirWatches.get(dir);
    if (entry === undefined || this.closed) return;
    for (const listener of entry.listeners) listener(false);
    if (event !== 'rename' || name === null || !LIVE_LOG.test(name)) return;
    const path = join(dir, name);
    if (!this.targets.has(path)) {
      if (existsSync(path)) this.fileAdded(path);
    } else if (!existsSync(path)) {
      void this.fileRemoved(path);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    for (const dir of [...this.dirWatches.keys()]) this.unwatchDirectory(dir);
    await this.watcher?.close();
    this.watcher = undefined;
    await this.scanning?.catch(() => undefined);
  }

  /** Classifies a path below the pods directory. Exposed for tests and the agent's warnings. */
  parse(path: string): ParsedPath {
    const rel = relative(this.podsDir, resolve(path));
    const parts = rel.split(sep);
    if (parts.length !== 3 || rel.startsWith('..')) return { kind: 'invalid', reason: 'not <pods_dir>/<namespace>_<pod>_<uid>/<container>/<n>.log' };
    const [podDir, container, name] = parts as [string, string, string];
    if (!LIVE_LOG.test(name)) {
      return KUBELET_FILE.test(name) ? { kind: 'ignore' } : { kind: 'invalid', reason: `unexpected file name ${JSON.stringify(name)}` };
    }
    const pod = parsePodDir(podDir);
    if (pod === undefined) return { kind: 'invalid', reason: `pod directory ${JSON.stringify(podDir)} is not <namespace>_<pod>_<uid>` };
    if (container === '') return { kind: 'invalid', reason: 'empty container name' };
    const filename = join(this.podsDir, rel);
    const labels: TargetLabels = {
      namespace: pod.namespace,
      pod: pod.pod,
      container,
      job: `${pod.namespace}/${container}`,
      service_name: container,
      filename,
    };
    if (this.options.nodeName !== undefined && this.options.nodeName !== '') labels.node_name = this.options.nodeName;
    return {
      kind: 'target',
      target: { path: filename, namespace: pod.namespace, pod: pod.pod, uid: pod.uid, container, restartCount: Number(name.slice(0, -4)), labels },
    };
  }

  private depthOf(path: string): number {
    const rel = relative(this.podsDir, resolve(path));
    return rel === '' ? 0 : rel.split(sep).length;
  }

  private fileAdded(path: string): void {
    if (this.closed) return;
    const parsed = this.parse(path);
    if (parsed.kind === 'invalid') {
      this.warnOnce(path, parsed.reason);
      return;
    }
    if (parsed.kind === 'ignore') return;
    this.missing.delete(parsed.target.path);
    if (this.targets.has(parsed.target.path)) return;
    this.targets.set(parsed.target.path, parsed.target);
    this.options.onAdd(parsed.target);
  }

  private async fileRemoved(path: string): Promise<void> {
    const target = this.targets.get(resolve(path));
    if (target === undefined || this.closed) return;
    if (!(await exists(join(this.podsDir, podDirName(this.podsDir, target.path))))) this.drop(target);
  }

  private dirRemoved(path: string): void {
    if (this.closed) return;
    const abs = resolve(path);
    // A pod directory: its pod was deleted. (A container directory alone: left to rescans.)
    if (this.depthOf(abs) !== 1) return;
    const prefix = abs + sep;
    for (const target of [...this.targets.values()]) {
      if (target.path.startsWith(prefix)) this.drop(target);
    }
    for (const dir of [...this.dirWatches.keys()]) if (dir === abs || dir.startsWith(prefix)) this.unwatchDirectory(dir);
  }

  private drop(target: Target): void {
    if (this.targets.get(target.path) !== target) return;
    this.targets.delete(target.path);
    this.missing.delete(target.path);
    this.options.onRemove(target);
  }

  private warnOnce(path: string, reason: string): void {
    if (this.warned.has(path)) return;
    if (this.warned.size > 10_000) this.warned.clear();
    this.warned.add(path);
    this.warn(`ignoring ${path}: ${reason}`);
  }

  private async scan(): Promise<void> {
    const seen = new Set<string>();
    const seenDirs = new Set<string>();
    const podDirs = await listDir(this.podsDir);
    for (const pod of podDirs) {
      const podPath = join(this.podsDir, pod.name);
      if (!pod.dir) {
        this.warnOnce(podPath, 'not a pod directory');
        continue;
      }
      seenDirs.add(podPath);
      this.watchDirectory(podPath, 'pod');
      for (const container of await listDir(podPath)) {
        const containerPath = join(podPath, container.name);
        if (!container.dir) {
          this.warnOnce(containerPath, 'not a container directory');
          continue;
        }
        seenDirs.add(containerPath);
        this.watchDirectory(containerPath, 'container');
        for (const file of await listDir(containerPath)) {
          const filePath = join(containerPath, file.name);
          if (file.dir) {
            this.warnOnce(filePath, 'unexpected directory');
            continue;
          }
          const parsed = this.parse(filePath);
          if (parsed.kind === 'target') seen.add(parsed.target.path);
          this.fileAdded(filePath);
        }
      }
    }
    if (this.closed) return;
    for (const dir of [...this.dirWatches.keys()]) if (!seenDirs.has(dir)) this.unwatchDirectory(dir);
    for (const target of [...this.targets.values()]) {
      if (seen.has(target.path)) {
        this.missing.delete(target.path);
        continue;
      }
      if (this.missing.has(target.path) || !(await exists(join(this.podsDir, podDirName(this.podsDir, target.path))))) {
        this.drop(target);
      } else {
        this.missing.add(target.path);
      }
    }
  }
}

/** `<namespace>_<pod>_<uid>`: namespaces and pod names are DNS names (no `_`). */
export function parsePodDir(name: string): { namespace: string; pod: string; uid: string } | undefined {
  const parts = name.split('_');
  if (parts.length !== 3 || parts.some((p) => p === '')) return undefined;
  const [namespace, pod, uid] = parts as [string, string, string];
  return { namespace, pod, uid };
}

function podDirName(podsDir: string, path: string): string {
  return relative(podsDir, path).split(sep)[0] ?? '';
}

async function listDir(path: string): Promise<{ name: string; dir: boolean }[]> {
  try {
    const entries = await readdir(path, { withFileTypes: true });
    return entries.map((e) => ({ name: e.name, dir: e.isDirectory() }));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
