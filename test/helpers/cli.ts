/** Runs the built CLI (`node dist/bin/skald.js …`, built by `npm test`) as a child process. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './server.js';

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  /** Extra environment variables; LOKI_* and NO_COLOR from the test runner's environment are removed first. */
  env?: Record<string, string | undefined>;
  /** Written to the child's stdin, which is then closed (stdin is closed immediately without it). */
  stdin?: string | Buffer;
  /** Kill the child with SIGTERM after this many milliseconds (default 30 s). */
  timeoutMs?: number;
  cwd?: string;
}

export const SKALD_BIN = join(REPO, 'dist/bin/skald.js');

/** Environment without the variables that change the CLI's behaviour, so tests do not depend on the caller's shell. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('LOKI_') || k === 'NO_COLOR' || k === 'FORCE_COLOR') continue;
    env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SKALD_BIN, ...args], {
      env: cleanEnv(options.env),
      cwd: options.cwd ?? REPO,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdin.on('error', () => undefined);
    const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs ?? 30_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    if (options.stdin !== undefined) child.stdin.end(options.stdin);
    else child.stdin.end();
  });
}
