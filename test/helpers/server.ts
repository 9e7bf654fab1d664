/**
 * Test harness: real Skald servers on 127.0.0.1 with real data directories, either in
 * this process (to inspect the store after HTTP round trips) or as a child process
 * (to kill it with SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createServer, type SkaldServer } from '../../server/app.js';
import { configFromObject } from '../../server/config.js';
import type { Store } from '../../server/store/store.js';
import { tempDir } from './tmp.js';

export const REPO = resolve(import.meta.dirname, '../..');

export { tempDir };

export interface InProcessServer {
  url: string;
  server: SkaldServer;
  store: Store;
  dataDir: string;
  close(): Promise<void>;
}

/** Starts a server in this process on an ephemeral port; `config` uses Loki's YAML keys. */
export async function startServer(
  config: Record<string, unknown> = {},
  dataDir = tempDir(),
  { awaitReady = true }: { awaitReady?: boolean } = {},
): Promise<InProcessServer> {
  const full = configFromObject({ ...config, common: { path_prefix: dataDir } });
  const server = createServer({ config: full });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  if (awaitReady) await server.ready;
  const address = server.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    server,
    store: server.context.store,
    dataDir,
    close: () => server.close(),
  };
}

export interface ChildServer {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `node dist/bin/skald.js server` (built by `npm test`) and waits until it is ready. */
export async function spawnServer(dataDir: string, configYaml = ''): Promise<ChildServer> {
  const configFile = join(dataDir, '..', `${dataDir.split('/').pop()}-config.yaml`);
  writeFileSync(configFile, configYaml);
  const child = spawn(
    process.execPath,
    [join(REPO, 'dist/bin/skald.js'), 'server', '--config', configFile, '--listen', '127.0.0.1:0', '--data-dir', dataDir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    const check = () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(match[1]!);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', () => reject(new Error(`server exited:\n${output}`)));
  });
  for (let i = 0; i < 300; i++) {
    const res = await fetch(`${url}/ready`).catch(() => undefined);
    if (res?.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface StoredEntry {
  labels: string;
  ts: bigint;
  line: string;
  metadata: Array<[string, string]>;
}

/** Every entry of a tenant, read through the store's read interface, oldest first per stream. */
export function readAllEntries(store: Store, tenant = 'fake', start = 0n, end = 2n ** 62n): StoredEntry[] {
  const out: StoredEntry[] = [];
  for (const stream of store.streamsInRange(tenant, start, end)) {
    for (const batch of store.readEntries(stream, start, end, 'forward')) {
      for (let i = batch.from; i < batch.to; i++) {
        out.push({ labels: stream.labels, ts: batch.timestamp(i), line: batch.lineText(i), metadata: batch.metadata(i) });
      }
    }
  }
  return out;
}

export function nowNs(offsetMs = 0): bigint {
  return BigInt(Date.now() + offsetMs) * 1_000_000n;
}
