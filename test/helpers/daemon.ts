/**
 * Real third-party servers for end-to-end tests (Prometheus, Alertmanager): start the Debian
 * package's binary on a free port in a temporary directory, wait for `/-/ready`, stop and clean
 * up. A missing binary is an error, not a skip: CI installs the packages, and a silently skipped
 * test would hide a broken integration.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { freePort } from './port.js';
import { tempDir } from './tmp.js';

export interface Daemon {
  url: string;
  output(): string;
  close(): Promise<void>;
}

export interface DaemonSpec {
  /** For messages: `prometheus`, `Alertmanager`. */
  name: string;
  bin: string;
  /** The Debian package that provides `bin`. */
  debianPackage: string;
  /** Writes config files into `dir` and returns the arguments. */
  args(dir: string, port: number): string[];
  timeoutMs?: number;
}

export async function startDaemon(spec: DaemonSpec): Promise<Daemon> {
  if (!existsSync(spec.bin)) {
    throw new Error(`${spec.name} not found: install the Debian package \`${spec.debianPackage}\` (apt-get install -y ${spec.debianPackage})`);
  }
  const dir = tempDir(`skald-${spec.debianPackage}-`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(spec.bin, spec.args(dir, port), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr.on('data', (data: Buffer) => (output += data.toString()));
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };

  const timeoutMs = spec.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await close();
      throw new Error(`${spec.name} exited before it was ready:\n${output}`);
    }
    const ready = await fetch(`${url}/-/ready`).then((response) => response.status === 200, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await close();
      throw new Error(`${spec.name} not ready after ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
  return { url, output: () => output, close };
}
