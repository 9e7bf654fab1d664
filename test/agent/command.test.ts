/** `skald agent` as a process: configuration errors at start, and a clean stop on SIGTERM. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePositions } from '../../agent/positions.js';
import { REPO, nowNs, readAllEntries, startServer, tempDir } from '../helpers/server.js';

const SKALD = join(REPO, 'dist/bin/skald.js');

function configFile(text: string): string {
  const file = join(tempDir(), 'agent.yaml');
  writeFileSync(file, text);
  return file;
}

describe('skald agent', () => {
  it('refuses an unknown key and a bad value at start, naming the key and the reason', () => {
    const unknown = spawnSync(process.execPath, [SKALD, 'agent', '--config', configFile('clients: [{url: http://127.0.0.1:1/loki/api/v1/push, batchwiat: 1s}]\n')], { encoding: 'utf8' });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('skald agent: invalid configuration:');
    expect(unknown.stderr).toContain('clients[0].batchwiat: unknown key');
    const bad = spawnSync(process.execPath, [SKALD, 'agent', '--config', configFile('clients: [{url: http://127.0.0.1:1/loki/api/v1/push, batchwait: soon}]\n')], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/clients\[0\]\.batchwait: invalid duration "soon"/);
    const missing = spawnSync(process.execPath, [SKALD, 'agent', '--config', '/nonexistent/agent.yaml'], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('cannot read config file /nonexistent/agent.yaml');
  });

  it('ships, then on SIGTERM stops cleanly with the positions saved', async () => {
    const server = await startServer();
    try {
      const podsDir = tempDir();
      const dir = join(podsDir, 'ns_pod-a_uid-1', 'app');
      mkdirSync(dir, { recursive: true });
      const log = join(dir, '0.log');
      const time = new Date(Number(nowNs(-5000) / 1_000_000n)).toISOString();
      writeFileSync(log, `${time} stdout F from a process\n`);
      const positions = join(tempDir(), 'positions.yaml');
      const file = configFile(
        [
          'server: {http_listen_address: 127.0.0.1, http_listen_port: 0}',
          `positions: {filename: ${positions}, sync_period: 10s}`,
          `pods_dir: ${podsDir}`,
          `clients: [{url: ${server.url}/loki/api/v1/push, batchwait: 50ms}]`,
          '',
        ].join('\n'),
      );
      const child = spawn(process.execPath, [SKALD, 'agent', '--config', file], { env: { ...process.env, NODE_NAME: 'node-x' }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const deadline = Date.now() + 15_000;
      while (readAllEntries(server.store).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const entries = readAllEntries(server.store);
      expect(entries.map((e) => e.line)).toEqual(['from a process']);
      expect(entries[0]!.labels).toContain('node_name="node-x"');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).toContain('agent started');
      // Saved at the stop, although the 10 s sync period had not come round.
      expect(parsePositions(readFileSync(positions, 'utf8')).get(log)?.acked).toBe(readFileSync(log).length);
    } finally {
      await server.close();
    }
  });
});
