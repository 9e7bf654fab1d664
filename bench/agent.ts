/**
 * Agent throughput benchmark (issue 5): `skald agent` tailing CRI container logs, parsing,
 * batching and pushing to a real `skald server` process.
 *
 *   node dist/bench/agent.js [--lines 1500000] [--files 10,100,1000] [--cpu-prof] [--keep] [--plain-node]
 *     [--timeout 600]
 *
 * For each file count N:
 * 1. Writes `--lines` CRI lines (`<RFC 3339 ns> stdout|stderr F <content>`; logfmt, JSON and
 *    klog-style app lines of 40–~110 bytes) split evenly over N files
 *    `<pods>/bench_pod-<i>_uid<i>/app/0.log`, BEFORE the agent starts: the agent's work is pure
 *    catch-up reading (from the page cache, as the files were just written). Timestamps start an
 *    hour ago and increase within every file, so the server accepts them all.
 * 2. Starts a fresh server (own data dir, limits raised so it never throttles), then the agent
 *    (default pipeline: `cri`; batchwait 1s, batchsize 1MiB), and polls the agent's /metrics every
 *    250 ms until `skald_agent_sent_entries_total` = lines written, sampling the agent's and the
 *    server's VmRSS and CPU from /proc.
 * 3. Checks the server's `loki_distributor_lines_received_total` and an instant
 *    `sum(count_over_time({namespace="bench"}[2h]))` against the lines written, measures the
 *    agent's CPU over 5 s of idling (all files caught up, no /metrics polls), stops both.
 *
 * "lines per agent CPU-second" is lines ÷ (user + system seconds of the whole agent process,
 * all threads, from its spawn to the last acknowledgement, startup included): the throughput the
 * agent would have on one dedicated core. Agent and server share the machine's cores.
 *
 * The agent runs with the environment variables the DaemonSet gives it (deploy/kubernetes/agent.yaml:
 * NODE_OPTIONS, glibc malloc settings; those with a literal value), as in production;
 * `--plain-node` leaves them out, for comparisons.
 *
 * `AGENT_NODE_FLAGS="--flag …"` in the environment passes V8/Node flags to the agent process only
 * (e.g. heap sizes, `--heapsnapshot-signal=SIGUSR2`), for experiments.
 *
 * With --cpu-prof the agent runs under `node --cpu-prof` (the profile goes to bench/out/) and the
 * functions with the most self time are printed. Raw results go to bench/out/agent-<date>.json.
 * Exits 1 if a case times out or a count does not match.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import {
  exited, exitFailure, isRunning, logTail, machineBusySeconds, procCpuSeconds, procStatusKb, sampleRssKb, startServer, sumSamples, summarizeLog,
  terminateServer, UNTHROTTLED_LIMITS, writeServerConfig,
} from './server-process.js';
import { createRandom } from './generate.js';

const BENCH_OUT = fileURLToPath(new URL('../../bench/out/', import.meta.url));
const SKALD = fileURLToPath(new URL('../bin/skald.js', import.meta.url));
const MIB = 1024 * 1024;
const POLL_MS = 250;
const IDLE_SECONDS = 5;

interface BenchOptions {
  lines: number;
  files: number[];
  cpuProf: boolean;
  keep: boolean;
  plainNode: boolean;
  timeoutSeconds: number;
}

const fmtInt = (value: number): string => Math.round(value).toLocaleString('en-US');
const log = (message: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
};

function parseOptions(): BenchOptions {
  const { values } = parseArgs({
    options: {
      lines: { type: 'string', default: '1500000' },
      files: { type: 'string', default: '10,100,1000' },
      'cpu-prof': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'plain-node': { type: 'boolean', default: false },
      timeout: { type: 'string', default: '600' },
    },
    strict: true,
  });
  const positive = (name: string, text: string): number => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`--${name} must be a whole number > 0, got ${JSON.stringify(text)}`);
    return value;
  };
  return {
    lines: positive('lines', values.lines),
    files: values.files.split(',').map((text) => positive('files', text.trim())),
    cpuProf: values['cpu-prof'],
    keep: values.keep,
    plainNode: values['plain-node'],
    timeoutSeconds: positive('timeout', values.timeout),
  };
}

// ---- CRI file generation -------------------------------------------------------------


const LEVELS = ['debug', 'info', 'info', 'info', 'info', 'info', 'info', 'warn', 'error'];
const MESSAGES = [
  'request completed', 'cache miss, fetching from upstream', 'retrying after transient error', 'connection pool exhausted',
  'user session refreshed', 'job finished', 'flushing batch to storage', 'config reloaded', 'slow query detected',
  'lease renewed', 'message acknowledged', 'health check passed',
];
const PATHS = ['/api/v1/users', '/api/v1/orders', '/healthz', '/metrics', '/api/v2/search', '/login', '/api/v1/cart/items'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const STATUSES = [200, 200, 200, 200, 201, 204, 304, 400, 404, 500];
const EXTRA_KEYS = ['user_id', 'tenant', 'region', 'shard', 'upstream', 'cache', 'attempt', 'order_id', 'bytes'];
const EXTRA_VALUES = ['eu-west-1', 'us-east-2', 'acme', 'globex', 'initech', 'hit', 'miss', '10.0.4.17:8080', 'shard-07', '3', '1842'];
const GO_FILES = ['handler.go', 'server.go', 'queue.go', 'store.go', 'reconcile.go'];

type Format = 'logfmt' | 'json' | 'klog';
const FORMATS: Format[] = ['logfmt', 'logfmt', 'json', 'json', 'klog'];

class LineMaker {
  private readonly random: () => number;
  constructor(seed: number, private readonly format: Format) {
    this.random = createRandom(seed);
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)]!;
  }

  private hex(digits: number): string {
    let text = '';
    while (text.length < digits) text += Math.floor(this.random() * 0x100000000).toString(16).padStart(8, '0');
    return text.slice(0, digits);
  }

  /** One line of content, at least `minBytes` long (fields are appended until it is). */
  make(isoSecond: string, millis: number, minBytes: number): string {
    const level = this.pick(LEVELS);
    const msg = this.pick(MESSAGES);
    const ms = String(millis).padStart(3, '0');
    switch (this.format) {
      case 'logfmt': {
        let line = `ts=${isoSecond}.${ms}Z level=${level} caller=${this.pick(GO_FILES)}:${10 + Math.floor(this.random() * 400)} msg="${msg}"`;
        if (this.random() < 0.6) line += ` method=${this.pick(METHODS)} path=${this.pick(PATHS)} status=${this.pick(STATUSES)} duration_ms=${(this.random() * 250).toFixed(1)}`;
        while (line.length < minBytes) line += ` ${this.pick(EXTRA_KEYS)}=${this.pick(EXTRA_VALUES)}`;
        return line;
      }
      case 'json': {
        let line = `{"level":"${level}","ts":"${isoSecond}.${ms}Z","msg":"${msg}","trace_id":"${this.hex(16)}"`;
        while (line.length < minBytes - 1) line += `,"${this.pick(EXTRA_KEYS)}":"${this.pick(EXTRA_VALUES)}"`;
        return `${line}}`;
      }
      case 'klog': {
        const l = level === 'error' ? 'E' : level === 'warn' ? 'W' : 'I';
        let line = `${l}${isoSecond.slice(5, 7)}${isoSecond.slice(8, 10)} ${isoSecond.slice(11)}.${ms}000 1 ${this.pick(GO_FILES)}:${Math.floor(this.random() * 900)}] ${msg}`;
        while (line.length < minBytes) line += ` ${this.pick(EXTRA_KEYS)}=${this.pick(EXTRA_VALUES)}`;
        return line;
      }
    }
  }
}

interface GeneratedFiles {
  podsDir: string;
  files: number;
  lines: number;
  /** Bytes on disk (CRI lines with their prefix and newline). */
  fileBytes: number;
  /** Bytes of the content the server receives (what Loki counts as line bytes). */
  contentBytes: number;
  stderrLines: number;
  seconds: number;
}

/**
 * Writes `lines` CRI lines over `files` files. Every file spans the 50 minutes from an hour ago,
 * its lines evenly spaced (so timestamps increase within a file), ~5% of them on stderr.
 */
function generateFiles(podsDir: string, files: number, lines: number): GeneratedFiles {
  const started = performance.now();
  const startMs = Date.now() - 3_600_000;
  const spanNs = 50 * 60 * 1e9;
  let fileBytes = 0;
  let contentBytes = 0;
  let stderrLines = 0;
  for (let f = 0; f < files; f++) {
    const count = Math.floor(lines / files) + (f < lines % files ? 1 : 0);
    const dir = join(podsDir, `bench_pod-${f}_uid${f}`, 'app');
    mkdirSync(dir, { recursive: true });
    const fd = openSync(join(dir, '0.log'), 'w');
    const maker = new LineMaker(0xa6e27 + f, FORMATS[f % FORMATS.length]!);
    const random = createRandom(0x5700 + f);
    const stepNs = spanNs / Math.max(count, 1);
    let chunk: string[] = [];
    let chunkBytes = 0;
    let cachedSecond = -1;
    let isoSecond = '';
    for (let i = 0; i < count; i++) {
      // Integer ns offset from the file's first timestamp (doubles are exact up to 2^53 ns ≈ 104 days).
      const offsetNs = Math.floor(i * stepNs) + (f % 1000) * 1000;
      const totalNs = (startMs % 1000) * 1e6 + offsetNs;
      const second = Math.floor(startMs / 1000) + Math.floor(totalNs / 1e9);
      const nanos = totalNs % 1e9;
      if (second !== cachedSecond) {
        cachedSecond = second;
        isoSecond = new Date(second * 1000).toISOString().slice(0, 19);
      }
      const content = maker.make(isoSecond, Math.floor(nanos / 1e6), 40 + Math.floor(random() * 61));
      const stream = random() < 0.05 ? 'stderr' : 'stdout';
      if (stream === 'stderr') stderrLines++;
      const line = `${isoSecond}.${String(nanos).padStart(9, '0')}Z ${stream} F ${content}\n`;
      chunk.push(line);
      chunkBytes += line.length; // ASCII only
      contentBytes += content.length;
      if (chunkBytes >= MIB) {
        writeSync(fd, chunk.join(''));
        fileBytes += chunkBytes;
        chunk = [];
        chunkBytes = 0;
      }
    }
    writeSync(fd, chunk.join(''));
    fileBytes += chunkBytes;
    // On disk before the agent starts, so no writeback of these files competes with the run.
    fsyncSync(fd);
    closeSync(fd);
  }
  return { podsDir, files, lines, fileBytes, contentBytes, stderrLines, seconds: (performance.now() - started) / 1000 };
}

// ---- Agent process -------------------------------------------------------------------

interface AgentProcess {
  child: ChildProcess;
  pid: number;
  metricsUrl: string;
  logFile: string;
}

const DAEMONSET = fileURLToPath(new URL('../../deploy/kubernetes/agent.yaml', import.meta.url));

/** The environment variables with a literal value that the agent DaemonSet's container gets. */
function daemonSetEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const doc of parseAllDocuments(readFileSync(DAEMONSET, 'utf8'))) {
    const object = doc.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: Array<{ env?: Array<{ name: string; value?: unknown }> }> } } } } | null;
    if (object?.kind !== 'DaemonSet') continue;
    for (const container of object.spec?.template?.spec?.containers ?? []) {
      for (const variable of container.env ?? []) if (typeof variable.value === 'string') env[variable.name] = variable.value;
    }
  }
  return env;
}

async function startAgent(configFile: string, logFile: string, cpuProfDir: string | undefined, timeoutMs: number, extraEnv: Record<string, string>): Promise<AgentProcess> {
  const logFd = openSync(logFile, 'w');
  const nodeArgs = [...(process.env['AGENT_NODE_FLAGS'] ?? '').split(' ').filter(Boolean), ...(cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', cpuProfDir])];
  const child = spawn(process.execPath, [...nodeArgs, SKALD, 'agent', '--config', configFile], {
    stdio: ['ignore', logFd, logFd],
    env: { ...process.env, ...extraEnv, NODE_NAME: 'bench-node' },
  });
  closeSync(logFd);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = /msg="agent started".* http="([^"]+)"/.exec(readFileSync(logFile, 'utf8'));
    if (match !== null) return { child, pid: child.pid!, metricsUrl: `http://${match[1]}/metrics`, logFile };
    if (!isRunning(child)) throw new Error(`agent exited before it started (${child.exitCode ?? child.signalCode}); log tail:\n${logTail(logFile)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  throw new Error(`agent did not start within ${timeoutMs / 1000} s; log tail:\n${logTail(logFile)}`);
}

async function fetchText(url: string): Promise<string> {
  const response = await fetch(url);
  const text = await response.text();
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}: ${text.slice(0, 300)}`);
  return text;
}

/** Agent log lines at level=warn or error. */
function agentLogProblems(logFile: string): string[] {
  return readFileSync(logFile, 'utf8').split('\n').filter((line) => /level=(warn|error)/.test(line));
}

// ---- One case ------------------------------------------------------------------------

interface CaseResult {
  files: number;
  lines: number;
  fileBytes: number;
  contentBytes: number;
  generateSeconds: number;
  wallSeconds: number;
  agentCpuSeconds: number;
  /** Agent CPU seconds spent before "agent started" was seen (Node startup, first scan; some reading may have begun). */
  agentStartupCpuSeconds: number;
  serverCpuSeconds: number;
  benchCpuSeconds: number;
  otherCpuSeconds: number;
  linesPerSecondWall: number;
  linesPerAgentCpuSecond: number;
  fileMegabytesPerSecondWall: number;
  fileMegabytesPerAgentCpuSecond: number;
  agentPeakRssKb: number;
  agentMaxSampledRssKb: number;
  agentEndRssKb: number;
  serverPeakRssKb: number;
  readLines: number;
  sentEntries: number;
  serverLinesReceived: number;
  serverCountOverTime: number | undefined;
  /** Agent CPU (cores) over IDLE_SECONDS after the catch-up, no /metrics polls, nothing new to read. */
  idleAgentCores: number | undefined;
  agentLogProblems: string[];
  serverLog: ReturnType<typeof summarizeLog>;
  loadavgBefore: string;
  /** Environment variables from the DaemonSet the agent ran with (empty with --plain-node). */
  agentEnv: Record<string, string>;
  cpuProfile: string | undefined;
  failures: string[];
}

/** Child processes of the case running now, killed if the case throws half-way. */
const running = new Set<ChildProcess>();

async function runCase(options: BenchOptions, files: number, runDir: string): Promise<CaseResult> {
  try {
    return await measureCase(options, files, runDir);
  } finally {
    for (const child of running) if (isRunning(child)) child.kill('SIGKILL');
    running.clear();
  }
}

async function measureCase(options: BenchOptions, files: number, runDir: string): Promise<CaseResult> {
  const failures: string[] = [];
  const podsDir = join(runDir, 'pods');
  mkdirSync(podsDir, { recursive: true });
  log(`[${files} files] generating ${fmtInt(options.lines)} CRI lines`);
  const generated = generateFiles(podsDir, files, options.lines);
  log(`[${files} files] wrote ${(generated.fileBytes / 1e6).toFixed(1)} MB (${(generated.fileBytes / generated.lines).toFixed(0)} B/line on disk, ` +
    `${(generated.contentBytes / generated.lines).toFixed(0)} B content) in ${generated.seconds.toFixed(1)} s`);

  const serverConfig = join(runDir, 'server.yaml');
  writeServerConfig(serverConfig, UNTHROTTLED_LIMITS);
  const server = await startServer({ dataDir: join(runDir, 'data'), configFile: serverConfig, logFile: join(runDir, 'server.log') });
  running.add(server.child);
  const agentConfig = join(runDir, 'agent.yaml');
  writeFileSync(agentConfig, [
    'server: {http_listen_address: 127.0.0.1, http_listen_port: 0}',
    `positions: {filename: ${JSON.stringify(join(runDir, 'positions.yaml'))}, sync_period: 1s}`,
    `pods_dir: ${JSON.stringify(podsDir)}`,
    `clients: [{url: ${JSON.stringify(`${server.baseUrl}/loki/api/v1/push`)}}]`,
    '',
  ].join('\n'));

  // Let the page cache settle and the load average reflect the quiet before the run.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const loadavgBefore = readFileSync('/proc/loadavg', 'utf8').trim();
  const serverCpuStart = procCpuSeconds(server.pid);
  const machineBusyStart = machineBusySeconds();
  const benchCpuStart = process.cpuUsage();
  let cpuProfDir: string | undefined;
  if (options.cpuProf) {
    cpuProfDir = join(BENCH_OUT, `agent-prof-${files}-${new Date().toISOString().replaceAll(':', '-').slice(0, 19)}`);
    mkdirSync(cpuProfDir, { recursive: true });
  }
  const started = performance.now();
  const agentEnv = options.plainNode ? {} : daemonSetEnv();
  log(`[${files} files] agent environment from the DaemonSet: ${Object.entries(agentEnv).map(([name, value]) => `${name}=${value}`).join(' ') || '(none, --plain-node)'}`);
  const agent = await startAgent(agentConfig, join(runDir, 'agent.log'), cpuProfDir, 60_000, agentEnv);
  running.add(agent.child);
  const agentStartupCpuSeconds = procCpuSeconds(agent.pid);
  log(`[${files} files] agent pid ${agent.pid} started after ${((performance.now() - started) / 1000).toFixed(2)} s (${agentStartupCpuSeconds.toFixed(2)} CPU s), metrics ${agent.metricsUrl}`);

  let sentEntries = 0;
  let readLines = 0;
  let maxSampledRssKb = 0;
  let agentCpuSeconds = 0;
  let wallSeconds = 0;
  let lastReport = performance.now();
  const deadline = performance.now() + options.timeoutSeconds * 1000;
  for (;;) {
    maxSampledRssKb = Math.max(maxSampledRssKb, sampleRssKb(agent.pid));
    if (!isRunning(agent.child)) {
      failures.push(`agent exited during the run (${agent.child.exitCode ?? agent.child.signalCode}); log tail:\n${logTail(agent.logFile)}`);
      break;
    }
    const metrics = await fetchText(agent.metricsUrl);
    const now = performance.now();
    sentEntries = sumSamples(metrics, 'skald_agent_sent_entries_total');
    readLines = sumSamples(metrics, 'skald_agent_read_lines_total');
    if (sentEntries >= generated.lines) {
      wallSeconds = (now - started) / 1000;
      agentCpuSeconds = procCpuSeconds(agent.pid);
      break;
    }
    if (now > deadline) {
      failures.push(`timeout after ${options.timeoutSeconds} s: sent ${sentEntries} of ${generated.lines} (read ${readLines})`);
      wallSeconds = (now - started) / 1000;
      agentCpuSeconds = procCpuSeconds(agent.pid);
      break;
    }
    if (now - lastReport > 5000) {
      lastReport = now;
      log(`[${files} files]   read ${fmtInt(readLines)}, sent ${fmtInt(sentEntries)} after ${((now - started) / 1000).toFixed(1)} s, ` +
        `agent ${procCpuSeconds(agent.pid).toFixed(1)} CPU s, RSS ${(sampleRssKb(agent.pid) / 1024).toFixed(0)} MiB`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const serverCpuSeconds = procCpuSeconds(server.pid) - serverCpuStart;
  const benchCpu = process.cpuUsage(benchCpuStart);
  const benchCpuSeconds = (benchCpu.user + benchCpu.system) / 1e6;
  // Everything else the machine did meanwhile (other engineers' tests): the contention indicator.
  const otherCpuSeconds = Math.max(0, machineBusySeconds() - machineBusyStart - agentCpuSeconds - serverCpuSeconds - benchCpuSeconds);
  let agentPeakRssKb = 0;
  let agentEndRssKb = 0;
  let serverPeakRssKb = 0;
  try {
    agentPeakRssKb = procStatusKb(agent.pid, 'VmHWM');
    agentEndRssKb = procStatusKb(agent.pid, 'VmRSS');
    serverPeakRssKb = procStatusKb(server.pid, 'VmHWM');
  } catch {
    // A process that exited is reported as a failure above.
  }

  // Correctness: what the server received and what a query counts.
  const serverMetrics = await fetchText(`${server.baseUrl}/metrics`);
  const serverLinesReceived = sumSamples(serverMetrics, 'loki_distributor_lines_received_total');
  if (sentEntries !== generated.lines) failures.push(`agent sent ${sentEntries} entries, ${generated.lines} lines were written`);
  if (serverLinesReceived !== generated.lines) failures.push(`server received ${serverLinesReceived} lines, ${generated.lines} were written`);
  let serverCountOverTime: number | undefined;
  try {
    const query = encodeURIComponent('sum(count_over_time({namespace="bench"}[2h]))');
    const body = JSON.parse(await fetchText(`${server.baseUrl}/loki/api/v1/query?query=${query}&time=${Date.now() * 1e6}`)) as {
      data: { result: { value: [number, string] }[] };
    };
    serverCountOverTime = Number(body.data.result[0]?.value[1] ?? 0);
    if (serverCountOverTime !== generated.lines) failures.push(`count_over_time counted ${serverCountOverTime} lines, ${generated.lines} were written`);
  } catch (err) {
    failures.push(`count_over_time query failed: ${(err as Error).message}`);
  }

  // What tailing N caught-up files costs when nothing is written (polls, position saves).
  let idleAgentCores: number | undefined;
  if (isRunning(agent.child)) {
    const idleCpuStart = procCpuSeconds(agent.pid);
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    if (isRunning(agent.child)) idleAgentCores = (procCpuSeconds(agent.pid) - idleCpuStart) / IDLE_SECONDS;
  }

  // Stop the agent (a clean exit writes the CPU profile), then the server.
  if (isRunning(agent.child)) agent.child.kill('SIGTERM');
  const agentExit = await Promise.race([
    exited(agent.child),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 30_000).unref()),
  ]);
  if (agentExit === undefined) {
    agent.child.kill('SIGKILL');
    failures.push('agent did not exit within 30 s of SIGTERM');
  } else if (agentExit.code !== 0) {
    failures.push(`agent exited with ${agentExit.code ?? agentExit.signal} after SIGTERM; log tail:\n${logTail(agent.logFile)}`);
  }
  const serverExit = await terminateServer(server);
  const serverExitFailure = exitFailure(server, serverExit);
  if (serverExitFailure !== undefined) failures.push(serverExitFailure);
  const serverLog = summarizeLog(server.logFile);
  const problems = agentLogProblems(agent.logFile);

  let cpuProfile: string | undefined;
  if (cpuProfDir !== undefined) {
    const profile = readdirSync(cpuProfDir).find((name) => name.endsWith('.cpuprofile'));
    if (profile === undefined) failures.push(`no .cpuprofile in ${cpuProfDir}`);
    else cpuProfile = join(cpuProfDir, profile);
  }

  const fileMB = generated.fileBytes / 1e6;
  return {
    files,
    lines: generated.lines,
    fileBytes: generated.fileBytes,
    contentBytes: generated.contentBytes,
    generateSeconds: generated.seconds,
    wallSeconds,
    agentCpuSeconds,
    agentStartupCpuSeconds,
    serverCpuSeconds,
    benchCpuSeconds,
    otherCpuSeconds,
    linesPerSecondWall: generated.lines / wallSeconds,
    linesPerAgentCpuSecond: generated.lines / agentCpuSeconds,
    fileMegabytesPerSecondWall: fileMB / wallSeconds,
    fileMegabytesPerAgentCpuSecond: fileMB / agentCpuSeconds,
    agentPeakRssKb,
    agentMaxSampledRssKb: maxSampledRssKb,
    agentEndRssKb,
    serverPeakRssKb,
    readLines,
    sentEntries,
    serverLinesReceived,
    serverCountOverTime,
    idleAgentCores,
    agentLogProblems: problems,
    serverLog,
    loadavgBefore,
    agentEnv,
    cpuProfile,
    failures,
  };
}

// ---- CPU profile summary -------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Functions by self time (samples), from a V8 .cpuprofile. */
function topSelfTime(file: string, count = 20): { name: string; percent: number }[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const samplesById = new Map<number, number>();
  for (const id of profile.samples) samplesById.set(id, (samplesById.get(id) ?? 0) + 1);
  const byFunction = new Map<string, number>();
  for (const [id, samples] of samplesById) {
    const frame = byId.get(id)!.callFrame;
    const where = frame.url === '' ? '' : ` ${frame.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${frame.lineNumber + 1}`;
    const name = `${frame.functionName || '(anonymous)'}${where}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + samples);
  }
  const total = profile.samples.length;
  return [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, samples]) => ({ name, percent: (samples / total) * 100 }));
}

// ---- Main ----------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = parseOptions();
  const startedAt = new Date();
  const results: CaseResult[] = [];
  for (const files of options.files) {
    const runDir = mkdtempSync(join(os.tmpdir(), 'skald-agent-bench-'));
    try {
      const result = await runCase(options, files, runDir);
      results.push(result);
      log(`[${files} files] ${fmtInt(result.linesPerSecondWall)} lines/s wall, ${fmtInt(result.linesPerAgentCpuSecond)} lines per agent CPU s, ` +
        `agent peak RSS ${(result.agentPeakRssKb / 1024).toFixed(0)} MiB` + (result.failures.length > 0 ? `; FAILED: ${result.failures.join('; ')}` : ''));
      if (result.cpuProfile !== undefined) {
        log(`[${files} files] CPU profile ${result.cpuProfile}; top self time:`);
        for (const { name, percent } of topSelfTime(result.cpuProfile)) log(`  ${percent.toFixed(1).padStart(5)}%  ${name}`);
      }
    } finally {
      if (options.keep) log(`kept ${runDir}`);
      else rmSync(runDir, { recursive: true, force: true });
    }
  }

  console.log('');
  console.log(`# Agent throughput, ${startedAt.toISOString()} (${os.availableParallelism()} CPUs, ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version})`);
  console.log('');
  console.log('| files | lines | MB on disk | B/line (content) | wall s | lines/s (wall) | agent CPU s | **lines per agent CPU-s** | MB/s per agent CPU-s | ' +
    'agent peak RSS (VmHWM) | max sampled RSS | agent idle CPU after (cores) | agent CPU (cores) | server CPU (cores) | other CPU (cores) | server count | load avg before |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of results) {
    console.log(`| ${fmtInt(r.files)} | ${fmtInt(r.lines)} | ${(r.fileBytes / 1e6).toFixed(1)} | ${(r.fileBytes / r.lines).toFixed(0)} (${(r.contentBytes / r.lines).toFixed(0)}) | ` +
      `${r.wallSeconds.toFixed(1)} | ${fmtInt(r.linesPerSecondWall)} | ${r.agentCpuSeconds.toFixed(2)} | **${fmtInt(r.linesPerAgentCpuSecond)}** | ` +
      `${r.fileMegabytesPerAgentCpuSecond.toFixed(1)} | ${(r.agentPeakRssKb / 1024).toFixed(0)} MiB | ${(r.agentMaxSampledRssKb / 1024).toFixed(0)} MiB | ` +
      `${r.idleAgentCores === undefined ? 'n/a' : r.idleAgentCores.toFixed(2)} | ${(r.agentCpuSeconds / r.wallSeconds).toFixed(2)} | ${(r.serverCpuSeconds / r.wallSeconds).toFixed(2)} | ${(r.otherCpuSeconds / r.wallSeconds).toFixed(2)} | ${r.serverCountOverTime === undefined ? 'n/a' : fmtInt(r.serverCountOverTime)} | ${r.loadavgBefore.split(' ').slice(0, 3).join(' ')} |`);
  }
  for (const r of results) {
    if (r.agentLogProblems.length > 0) console.log(`\n[${r.files} files] agent log: ${r.agentLogProblems.length} warn/error lines; first: ${r.agentLogProblems[0]!.slice(0, 300)}`);
    if (r.serverLog.errors + r.serverLog.warnings + r.serverLog.other > 0) {
      console.log(`\n[${r.files} files] server log: ${r.serverLog.errors} errors, ${r.serverLog.warnings} warnings, ${r.serverLog.other} other; first: ${r.serverLog.first?.slice(0, 300)}`);
    }
  }

  mkdirSync(BENCH_OUT, { recursive: true });
  const jsonFile = join(BENCH_OUT, `agent-${startedAt.toISOString().replaceAll(':', '-').slice(0, 19)}.json`);
  writeFileSync(jsonFile, `${JSON.stringify({ startedAt: startedAt.toISOString(), options, machine: { cpus: os.availableParallelism(), model: os.cpus()[0]?.model, node: process.version, totalMemBytes: os.totalmem() }, results }, null, 2)}\n`);
  log(`results written to ${jsonFile}`);
  const failures = results.flatMap((r) => r.failures.map((failure) => `[${r.files} files] ${failure}`));
  for (const failure of failures) log(`FAIL: ${failure}`);
  return failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`agent bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
