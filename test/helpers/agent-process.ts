/**
 * Child processes for end-to-end tests of the agent: a server on a fixed port (so that it can
 * be stopped and come back at the same address) and `skald agent` runs, both built in dist/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './server.js';

const SKALD = join(REPO, 'dist/bin/skald.js');

export { freePort } from './port.js';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface Child {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** Sends `signal` (unless already gone) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function track(child: ChildProcess): Child {
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  return {
    child,
    output: () => output,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

async function waitFor(what: string, child: Child, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.child.exitCode !== null || child.child.signalCode !== null) throw new Error(`${what} exited:\n${child.output()}`);
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after ${timeoutMs} ms:\n${child.output()}`);
    await sleep(50);
  }
}

/** `skald server` on 127.0.0.1:`port`, ready (GET /ready → 200) when this resolves. */
export async function spawnServerOnPort(port: number, dataDir: string, configFile: string, configYaml: string): Promise<Child & { url: string }> {
  writeFileSync(configFile, configYaml);
  const child = track(
    spawn(process.execPath, [SKALD, 'server', '--config', configFile, '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor('server', child, async () => (await fetch(`${url}/ready`).catch(() => undefined))?.status === 200);
  return { ...child, url };
}

/** `skald agent --config FILE` with NODE_NAME; resolves once it logged "agent started" and /ready answers 200. */
export async function spawnAgent(configFile: string, nodeName: string): Promise<Child & { url: string }> {
  const child = track(
    spawn(process.execPath, [SKALD, 'agent', '--config', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_NAME: nodeName },
    }),
  );
  let url = '';
  await waitFor('agent', child, () => {
    const match = /msg="agent started".*http="(127\.0\.0\.1:\d+)"/.exec(child.output());
    if (match) url = `http://${match[1]}`;
    return url !== '';
  });
  await waitFor('agent', child, async () => (await fetch(`${url}/ready`).catch(() => undefined))?.status === 200);
  return { ...child, url };
}
