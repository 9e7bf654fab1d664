/**
 * A `skald server` child process for benchmarks, and what /proc says about it: start it on a
 * free loopback port with its own config and log file, wait for /ready, stop it with SIGTERM
 * (which cuts every head into stored chunks), and read its RSS and CPU time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, lstatSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly baseUrl: string;
  readonly logFile: string;
}

export interface StartServerOptions {
  dataDir: string;
  configFile: string;
  logFile: string;
  port?: number;
  /** How long WAL replay may take before the start counts as failed. */
  readyTimeoutMs?: number;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address() as net.AddressInfo;
      probe.close(() => resolve(address.port));
    });
  });
}

/**
 * `limits_config` lines that lift the per-tenant and per-stream limits (the defaults allow 4 MB/s
 * per tenant and 5000 streams): a bench measures the server, not its limits. Callers may append
 * further `limits_config` keys (indented two spaces) or other sections.
 */
export const UNTHROTTLED_LIMITS: readonly string[] = [
  'limits_config:',
  '  ingestion_rate_mb: 100000',
  '  ingestion_burst_size_mb: 100000',
  '  per_stream_rate_limit: 1GB',
  '  per_stream_rate_limit_burst: 1GB',
  '  max_global_streams_per_user: 0',
];

export function writeServerConfig(file: string, yamlLines: readonly string[]): void {
  writeFileSync(file, `${yamlLines.join('\n')}\n`);
}

/** Starts `node dist/bin/skald.js server` and resolves once /ready answers 200 (WAL replayed). */
export async function startServer(options: StartServerOptions): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const baseUrl = `http://127.0.0.1:${port}`;
  const skald = fileURLToPath(new URL('../bin/skald.js', import.meta.url));
  // The server's log goes to a file so that writing it costs the bench process nothing; a fresh
  // file per start, so summarizeLog() sees only this run.
  const logFd = openSync(options.logFile, 'w');
  const child = spawn(
    process.execPath,
    [skald, 'server', '--config', options.configFile, '--listen', `127.0.0.1:${port}`, '--data-dir', options.dataDir],
    { stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  const server: ServerProcess = { child, pid: child.pid!, baseUrl, logFile: options.logFile };
  try {
    await waitReady(server, options.readyTimeoutMs ?? 300_000);
  } catch (err) {
    if (isRunning(child)) child.kill('SIGKILL');
    throw err;
  }
  return server;
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (!isRunning(child)) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

async function waitReady(server: ServerProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(server.child)) {
      throw new Error(`server exited before it was ready (${server.child.exitCode ?? server.child.signalCode}); ` +
        `log tail:\n${logTail(server.logFile)}`);
    }
    try {
      if ((await fetch(`${server.baseUrl}/ready`)).status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`server not ready after ${timeoutMs / 1000} s; log tail:\n${logTail(server.logFile)}`);
}

export interface ServerExit {
  /** Seconds from SIGTERM to the exit. */
  seconds: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * SIGTERM, then waits for the exit and reports it, whatever its code. Throws only if the server is
 * still running after `timeoutMs` (it is then killed).
 */
export async function terminateServer(server: ServerProcess, timeoutMs = 300_000): Promise<ServerExit> {
  const started = Date.now();
  server.child.kill('SIGTERM');
  const exit = await Promise.race([
    exited(server.child),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs).unref()),
  ]);
  const seconds = (Date.now() - started) / 1000;
  if (exit === undefined) {
    server.child.kill('SIGKILL');
    throw new Error(`server did not exit within ${timeoutMs / 1000} s of SIGTERM`);
  }
  return { seconds, ...exit };
}

/** Why a server's exit after SIGTERM was not a clean one, with its log tail; undefined if it was. */
export function exitFailure(server: ServerProcess, exit: ServerExit): string | undefined {
  if (exit.code === 0) return undefined;
  return `server exited with ${exit.code ?? exit.signal} after SIGTERM; log tail:\n${logTail(server.logFile)}`;
}

/**
 * SIGTERM, then waits for the exit; resolves to the seconds it took. Throws if the server is
 * still running after `timeoutMs` (it is then killed) or exits other than with code 0.
 */
export async function stopServer(server: ServerProcess, timeoutMs = 300_000): Promise<number> {
  const exit = await terminateServer(server, timeoutMs);
  const failure = exitFailure(server, exit);
  if (failure !== undefined) throw new Error(failure);
  return exit.seconds;
}

export function logTail(logFile: string, lines = 20): string {
  return readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n');
}

export interface LogSummary {
  warnings: number;
  errors: number;
  /** Lines that are not pino JSON: stack traces, stderr of native code. */
  other: number;
  first: string | undefined;
}

/** Server log lines at warn level or above, and anything that is not pino JSON. */
export function summarizeLog(logFile: string): LogSummary {
  const summary: LogSummary = { warnings: 0, errors: 0, other: 0, first: undefined };
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (line === '') continue;
    let level: number;
    try {
      level = (JSON.parse(line) as { level?: number }).level ?? 0;
    } catch {
      summary.other++;
      summary.first ??= line;
      continue;
    }
    if (level >= 50) summary.errors++;
    else if (level >= 40) summary.warnings++;
    else continue;
    summary.first ??= line;
  }
  return summary;
}

// ---- /proc ---------------------------------------------------------------------------

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux/x86 and arm64 build

export type ProcStatusField = 'VmRSS' | 'VmHWM' | 'RssAnon' | 'RssFile';

export function procStatusKb(pid: number, field: ProcStatusField): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

/** VmRSS for periodic samples: 0 once the process has gone (its exit is reported elsewhere). */
export function sampleRssKb(pid: number): number {
  try {
    return procStatusKb(pid, 'VmRSS');
  } catch {
    return 0;
  }
}

/**
 * Resets the process's VmHWM to its current RSS (writing 5 to /proc/PID/clear_refs, Linux ≥ 4.0),
 * so a later VmHWM is the peak of what happened since. False where the kernel does not allow it.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** User + system CPU seconds the process has used (fields 14 and 15 of /proc/PID/stat). */
export function procCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces; the fields after it are space-separated.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** CPU seconds all processes on the machine have spent busy (not idle or waiting on I/O), from /proc/stat. */
export function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return (user! + nice! + system! + irq! + softirq! + steal!) / CLOCK_TICKS_PER_SECOND;
}

/** Apparent size of every file under `path` (what `du --apparent-size -b` reports). */
export function treeBytes(path: string): number {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return 0;
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + treeBytes(`${path}/${name}`), 0);
}

// ---- /metrics ------------------------------------------------------------------------

/** Sum of a Prometheus text-format metric's samples whose label set starts with `labels`. */
export function sumSamples(metrics: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of metrics.split('\n')) {
    if (line.startsWith(`${name}{${labels}`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
