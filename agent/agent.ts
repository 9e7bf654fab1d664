/**
 * The agent: discovery finds container logs, a TargetReader ships each one, a Shipper per
 * configured client batches and pushes, and the positions file records what every client has
 * acknowledged. `/ready` and `/metrics` are served on `server.http_listen_port` (http.ts).
 *
 * Memory stays bounded while a server is away: each client's batcher holds at most 4 × batchsize;
 * when one is full, every reader waits before reading on, and unread lines stay on disk.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AgentEntry } from './batcher.js';
import { stderrLogger, type AgentLogger } from './client.js';
import type { AgentConfig } from './config.js';
import { Discovery, type Target } from './discovery.js';
import { Positions } from './positions.js';
import { Shipper } from './shipper.js';
import { compileStages } from './stages/pipeline.js';
import { TargetReader, type TargetReaderOptions, type TargetSink } from './target.js';

export interface AgentOptions {
  config: AgentConfig;
  /** `node_name` label (the agent passes `NODE_NAME`). */
  nodeName?: string;
  logger?: AgentLogger;
  registry?: Registry;
  /** Tailer poll interval (250 ms). */
  pollIntervalMs?: number;
  /** Discovery's full rescan interval (10 s). */
  rescanIntervalMs?: number;
}

/** How often held partial lines and multiline blocks are checked for their timeouts. */
const TICK_MS = 100;

interface AgentMetrics {
  readLines: Counter;
  readBytes: Counter;
  malformedLines: Counter;
  pipelineDropped: Counter<'reason'>;
  targets: Gauge;
}

function agentMetrics(registry: Registry): AgentMetrics {
  return {
    readLines: new Counter({ name: 'skald_agent_read_lines_total', help: 'Lines read from container logs.', registers: [registry] }),
    readBytes: new Counter({ name: 'skald_agent_read_bytes_total', help: 'Bytes read from container logs.', registers: [registry] }),
    malformedLines: new Counter({ name: 'skald_agent_malformed_lines_total', help: 'Lines not in their file\'s CRI or docker format, shipped as they are.', registers: [registry] }),
    pipelineDropped: new Counter({ name: 'skald_agent_pipeline_dropped_entries_total', help: 'Entries dropped by pipeline stages, by drop_counter_reason.', labelNames: ['reason'], registers: [registry] }),
    targets: new Gauge({ name: 'skald_agent_files_active', help: 'Container log files being tailed.', registers: [registry] }),
  };
}

export class Agent implements TargetSink {
  readonly registry: Registry;
  private readonly config: AgentConfig;
  private readonly options: AgentOptions;
  private readonly log: AgentLogger;
  private readonly metrics: AgentMetrics;
  private readonly shippers: Shipper<TargetReader>[];
  private readonly readers = new Map<string, TargetReader>();
  private positions: Positions | undefined;
  private discovery: Discovery | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private started = false;
  /** Readers found by the first scan, started once it is complete (so the scan is not slowed by their reading). */
  private unstarted: TargetReader[] | undefined = [];
  private stopping = false;
  /** The readers' callbacks, shared by all of them (closures per reader cost memory at a thousand targets). */
  private readonly readerHooks: Pick<TargetReaderOptions, 'watchDir' | 'onWarning' | 'onRead' | 'onMalformed' | 'onDrop' | 'onReleased'> = {
    watchDir: (dir, listener) => this.discovery?.watchDir(dir, listener),
    onWarning: (message) => this.warn(message),
    onRead: (_reader, lines, bytes) => {
      this.metrics.readLines.inc(lines);
      this.metrics.readBytes.inc(bytes);
    },
    onMalformed: () => this.metrics.malformedLines.inc(),
    onDrop: (reason) => this.metrics.pipelineDropped.inc({ reason }),
    onReleased: (released) => {
      if (this.readers.get(released.path) === released) this.readers.delete(released.path);
      this.metrics.targets.set(this.readers.size);
    },
  };

  constructor(options: AgentOptions) {
    this.options = options;
    this.config = options.config;
    this.log = options.logger ?? stderrLogger;
    this.registry = options.registry ?? new Registry();
    collectDefaultMetrics({ register: this.registry, prefix: 'skald_agent_' });
    this.metrics = agentMetrics(this.registry);
    // Every reader compiles its own copy; compiling once here fails a bad pipeline at start.
    compileStages(this.config.pipeline_stages);
    this.shippers = this.config.clients.map((client, i) => new Shipper<TargetReader>(i, client, { registry: this.registry, logger: this.log }));
  }

  /** True once the positions are loaded and the first scan of the pods directory is done. */
  get ready(): boolean {
    return this.started && !this.stopping;
  }

  /** Paths being tailed. */
  targets(): string[] {
    return [...this.readers.keys()];
  }

  async start(): Promise<void> {
    const filename = this.config.positions.filename;
    await mkdir(dirname(filename), { recursive: true });
    const positions = await Positions.open({ filename, syncPeriodMs: this.config.positions.sync_period, onWarning: (message) => this.warn(message) });
    this.positions = positions;
    for (const shipper of this.shippers) shipper.start();
    const discovery = new Discovery({
      podsDir: this.config.pods_dir,
      nodeName: this.options.nodeName,
      rescanIntervalMs: this.options.rescanIntervalMs,
      onAdd: (target) => this.add(target),
      onRemove: (target) => this.remove(target),
      onWarning: (message) => this.warn(message),
    });
    this.discovery = discovery;
    await discovery.start();
    // Entries of files that no longer exist cannot be resumed: forget them (as Promtail does).
    for (const saved of positions.all()) if (!this.readers.has(saved.path)) positions.remove(saved.path);
    const unstarted = this.unstarted ?? [];
    this.unstarted = undefined;
    for (const reader of unstarted) this.startReader(reader);
    this.ticker = setInterval(() => {
      const now = Date.now();
      for (const reader of this.readers.values()) reader.tick(now);
    }, TICK_MS);
    this.ticker.unref();
    this.started = true;
  }

  /**
   * Stops reading, sends what was read within `graceMs`, and saves the positions. Lines held
   * (partial lines, multiline blocks) or not acknowledged by then are read again at the next start.
   */
  async stop(graceMs = 5000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.ticker !== undefined) clearInterval(this.ticker);
    await this.discovery?.close();
    // Both at once: a reader waiting for room in a full batcher is woken by the batcher's close.
    const readersClosed = Promise.all([...this.readers.values()].map((reader) => reader.close()));
    const shippersStopped = Promise.all(this.shippers.map((shipper) => shipper.stop(graceMs)));
    await readersClosed;
    await shippersStopped;
    await this.positions?.close();
  }

  /** While stopping, what readers still hand on is not shipped, and its position not committed: it is read again at the next start. */
  ship(_target: TargetReader, labels: string, entry: AgentEntry): void {
    if (this.stopping) return;
    for (const shipper of this.shippers) shipper.batcher.add(labels, entry);
  }

  shipBytes(_target: TargetReader, labels: string, seconds: number, nanos: number, source: Buffer, start: number, end: number): void {
    if (this.stopping) return;
    for (const shipper of this.shippers) shipper.batcher.addBytes(labels, seconds, nanos, source, start, end);
  }

  advance(target: TargetReader, offset: number): void {
    if (this.stopping) return;
    for (const shipper of this.shippers) shipper.batcher.advance(target, offset);
  }

  room(): Promise<void> | undefined {
    let waits: Promise<void>[] | undefined;
    for (const shipper of this.shippers) {
      if (shipper.batcher.full) (waits ??= []).push(shipper.batcher.waitForRoom());
    }
    return waits === undefined ? undefined : Promise.all(waits).then(() => undefined);
  }

  private add(target: Target): void {
    if (this.stopping || this.readers.has(target.path) || this.positions === undefined) return;
    const reader = new TargetReader({
      target,
      positions: this.positions,
      sink: this,
      stages: this.config.pipeline_stages,
      clients: this.shippers.length,
      pollIntervalMs: this.options.pollIntervalMs,
      ...this.readerHooks,
    });
    this.readers.set(target.path, reader);
    this.metrics.targets.set(this.readers.size);
    if (this.unstarted !== undefined) this.unstarted.push(reader);
    else this.startReader(reader);
  }

  private startReader(reader: TargetReader): void {
    reader.start().catch((err: unknown) => this.warn(`${reader.path}: ${(err as Error).message}`));
  }

  private remove(target: Target): void {
    const reader = this.readers.get(target.path);
    if (reader === undefined || this.stopping) return;
    reader.finish().catch((err: unknown) => this.warn(`finishing ${target.path}: ${(err as Error).message}`));
  }

  private warn(message: string): void {
    this.log('warn', message, { component: 'agent' });
  }
}
