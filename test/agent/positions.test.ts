import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Positions, matchesIdentity, parsePositions, readIdentity, serializePositions } from '../../agent/positions.js';
import { REPO, tempDir } from '../helpers/server.js';

const opened: Positions[] = [];
async function openPositions(filename: string, syncPeriodMs = 0, warnings: string[] = []): Promise<Positions> {
  const positions = await Positions.open({ filename, syncPeriodMs, onWarning: (m) => warnings.push(m) });
  opened.push(positions);
  return positions;
}
afterEach(async () => {
  for (const p of opened.splice(0)) await p.close().catch(() => undefined);
});

describe('positions file', () => {
  it('starts empty without a file, persists only acknowledged offsets, and reloads them with identities', async () => {
    const dir = tempDir();
    const filename = join(dir, 'positions.yaml');
    const logFile = join(dir, '0.log');
    writeFileSync(logFile, 'hello\nworld\n');
    const positions = await openPositions(filename);
    expect(positions.loadReport.status).toBe('missing');
    expect(positions.all()).toEqual([]);
    const identity = await readIdentity(logFile);
    const file = positions.track(logFile, identity);
    positions.markSent(file, 12);
    expect(positions.commit(file, 6)).toBe(true);
    expect(file.sent).toBe(12);
    await positions.save();
    const onDisk = parse(readFileSync(filename, 'utf8')) as { positions: Record<string, Record<string, unknown>> };
    expect(onDisk.positions[logFile]).toEqual({ offset: '6', dev: identity.dev, ino: identity.ino, head_length: 12, head_sha1: identity.headSha1 });
    await positions.close();

    const reloaded = await openPositions(filename);
    expect(reloaded.loadReport.status).toBe('loaded');
    const entry = reloaded.get(logFile)!;
    expect(entry.acked).toBe(6);
    expect(entry.sent).toBe(6); // the unacknowledged window is re-sent after a restart
    expect(entry.identity).toEqual(identity);
    // Tracking the same file again keeps its offset.
    expect(reloaded.track(logFile, await readIdentity(logFile))).toBe(entry);
  });

  it('moves offsets forward only, ignores commits to replaced handles, and follows renames', async () => {
    const dir = tempDir();
    const positions = await openPositions(join(dir, 'p.yaml'));
    const a = positions.track('/logs/0.log', undefined);
    positions.commit(a, 100);
    positions.commit(a, 50);
    expect(a.acked).toBe(100);
    positions.move(a, '/logs/0.log.20260101-000000');
    expect(positions.get('/logs/0.log')).toBeUndefined();
    expect(positions.get('/logs/0.log.20260101-000000')!.acked).toBe(100);
    positions.commit(a, 150);
    expect(positions.get('/logs/0.log.20260101-000000')!.acked).toBe(150);
    // The path now holds a new file; a late ack for the old handle must not touch it.
    const fresh = positions.replace('/logs/0.log.20260101-000000', undefined, 0);
    expect(positions.commit(a, 999)).toBe(false);
    expect(fresh.acked).toBe(0);
    positions.remove(fresh);
    expect(positions.all()).toEqual([]);
  });

  it('writes YAML that reads back exactly, for awkward paths and hashes that look like numbers', () => {
    const identity = (headSha1: string) => ({ dev: '2049', ino: '1234567890123', headLength: 1024, headSha1 });
    const entries = [
      { path: '/var/log/pods/a_b_c/app/0.log', identity: identity('1'.repeat(30) + '1234567e10'), acked: 42, sent: 42 },
      { path: '/p/with "quotes" and \\ back: colon #hash', identity: identity('0000000000000000000000000000000000000001'), acked: 0, sent: 0 },
      { path: '/p/ünïcödé/日本/0.log', identity: undefined, acked: 9_007_199_254_740_991, sent: 0 },
      { path: '/p/new\nline\ttab', identity: identity('deadbeef'.repeat(5)), acked: 7, sent: 7 },
    ];
    const parsed = parsePositions(serializePositions(entries));
    expect([...parsed.keys()]).toEqual(entries.map((e) => e.path));
    for (const e of entries) {
      expect(parsed.get(e.path)!.acked).toBe(e.acked);
      expect(parsed.get(e.path)!.identity).toEqual(e.identity);
    }
    expect(parsePositions(serializePositions([])).size).toBe(0);
  });

  it('reports a corrupt file, keeps it aside and starts fresh', async () => {
    for (const content of ['positions:\n  /a: "12\u0000\u0000\u0000', 'positions: [1, 2', 'positions:\n  /a: "-5"\n', '']) {
      const dir = tempDir();
      const filename = join(dir, 'positions.yaml');
      writeFileSync(filename, content);
      const warnings: string[] = [];
      const positions = await openPositions(filename, 0, warnings);
      expect(positions.loadReport.status).toBe('corrupt');
      expect(positions.all()).toEqual([]);
      expect(existsSync(filename)).toBe(false);
      expect(readFileSync(positions.loadReport.movedTo!, 'utf8')).toBe(content);
      expect(warnings.join('\n')).toContain('corrupt');
    }
  });

  it('loads a Promtail positions file (path: "offset")', async () => {
    const dir = tempDir();
    const filename = join(dir, 'positions.yaml');
    writeFileSync(filename, 'positions:\n  /var/log/pods/a/c/0.log: "4096"\n');
    const positions = await openPositions(filename);
    expect(positions.get('/var/log/pods/a/c/0.log')).toMatchObject({ acked: 4096, identity: undefined });
  });

  it('ignores and removes a temporary file left by an interrupted save', async () => {
    const dir = tempDir();
    const filename = join(dir, 'positions.yaml');
    const first = await openPositions(filename);
    first.commit(first.track('/x.log', undefined), 42);
    await first.close();
    const temp = join(dir, '.positions.yaml.tmp');
    writeFileSync(temp, 'positions:\n  /x.log:\n    offset: "9'); // a partial write
    const positions = await openPositions(filename);
    expect(positions.loadReport).toMatchObject({ status: 'loaded', removedTempFile: temp });
    expect(positions.get('/x.log')!.acked).toBe(42);
    expect(existsSync(temp)).toBe(false);
  });

  it('saves periodically when something changed', async () => {
    const dir = tempDir();
    const filename = join(dir, 'positions.yaml');
    const positions = await openPositions(filename, 30);
    positions.commit(positions.track('/y.log', undefined), 7);
    await new Promise((r) => setTimeout(r, 200));
    expect(readFileSync(filename, 'utf8')).toContain('offset: "7"');
    expect(positions.isDirty).toBe(false);
  });

  it('tells a renamed file from a new file at the same path and from a rewritten one', async () => {
    const dir = tempDir();
    const live = join(dir, '0.log');
    writeFileSync(live, 'first file content\n');
    const identity = await readIdentity(live);
    const positions = await openPositions(join(dir, 'p.yaml'));
    const tracked = positions.track(live, identity);
    positions.commit(tracked, 19);
    renameSync(live, `${live}.20260101-000000`);
    writeFileSync(live, 'second file\n');
    expect(await matchesIdentity(live, identity)).toBe(false);
    expect(await matchesIdentity(`${live}.20260101-000000`, identity)).toBe(true);
    expect(positions.findByIdentity(await readIdentity(`${live}.20260101-000000`))).toBe(tracked);
    expect(positions.findByIdentity(await readIdentity(live))).toBeUndefined();
    // Same inode, rewritten from the start with other bytes (truncate + write): no longer the same file.
    writeFileSync(`${live}.20260101-000000`, 'XXXXX file content\n');
    expect(await matchesIdentity(`${live}.20260101-000000`, identity)).toBe(false);
  });
});

describe('positions file under kill -9', () => {
  // The child runs the build in dist/ (`npm test` builds first, as for the server's child processes).
  const positionsModule = join(REPO, 'dist/agent/positions.js');

  it('always leaves a complete file on disk', async () => {
    const dir = tempDir();
    const filename = join(dir, 'positions.yaml');
    const script = `
      import { Positions } from ${JSON.stringify(positionsModule)};
      const p = await Positions.open({ filename: ${JSON.stringify(filename)}, syncPeriodMs: 0 });
      const files = Array.from({ length: 500 }, (_, i) => p.track('/var/log/pods/ns_pod_' + i + '/c/0.log', undefined));
      let n = 0;
      for (;;) { n++; if (n === 2) process.stdout.write('ready\\n'); for (const f of files) p.commit(f, n * 1000); await p.save(); }
    `;
    for (let round = 0; round < 4; round++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      // What a concurrent reader sees is what a crash at that instant would leave: it must always be complete.
      try {
      const until = Date.now() + 150 + Math.random() * 200;
      let reads = 0;
      while (Date.now() < until) {
        let text: string;
        try {
          text = readFileSync(filename, 'utf8');
        } catch {
          continue; // not written yet
        }
        const seen = parsePositions(text);
        expect(seen.size).toBe(500);
        expect(new Set([...seen.values()].map((p) => p.acked)).size).toBe(1);
        reads++;
      }
      expect(reads).toBeGreaterThan(0);
      } finally {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      const positions = await openPositions(filename);
      expect(positions.loadReport.status).toBe('loaded');
      const offsets = new Set(positions.all().map((p) => p.acked));
      expect(positions.all().length).toBe(500);
      expect(offsets.size).toBe(1); // one complete version, never a mix
      await positions.close();
      opened.splice(opened.indexOf(positions), 1);
    }
    expect(readdirSync(dir).filter((name) => name.includes('corrupt'))).toEqual([]);
  });
});
