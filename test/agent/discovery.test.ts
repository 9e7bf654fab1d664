import { appendFileSync, mkdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { Tailer } from '../../agent/tailer.js';
import { Discovery, parsePodDir, type DiscoveryOptions, type Target } from '../../agent/discovery.js';
import { tempDir } from '../helpers/tmp.js';

const running: Discovery[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.close();
});

function discover(podsDir: string, extra: Partial<DiscoveryOptions> = {}) {
  const added: Target[] = [];
  const removed: Target[] = [];
  const warnings: string[] = [];
  const discovery = new Discovery({
    podsDir,
    nodeName: 'node-a',
    rescanIntervalMs: 0,
    onAdd: (t) => added.push(t),
    onRemove: (t) => removed.push(t),
    onWarning: (m) => warnings.push(m),
    ...extra,
  });
  running.push(discovery);
  return { discovery, added, removed, warnings };
}

function writeLog(podsDir: string, podDir: string, container: string, name: string, text = 'x\n'): string {
  mkdirSync(join(podsDir, podDir, container), { recursive: true });
  const path = join(podsDir, podDir, container, name);
  writeFileSync(path, text);
  return path;
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('parsePodDir', () => {
  it('splits <namespace>_<pod>_<uid> and rejects other shapes', () => {
    expect(parsePodDir('kube-system_coredns-5d78c9869d-abcde_0d2c1b9e-1111-2222-3333-444455556666')).toEqual({
      namespace: 'kube-system',
      pod: 'coredns-5d78c9869d-abcde',
      uid: '0d2c1b9e-1111-2222-3333-444455556666',
    });
    expect(parsePodDir('nouid_pod')).toBeUndefined();
    expect(parsePodDir('a_b_c_d')).toBeUndefined();
    expect(parsePodDir('a__c')).toBeUndefined();
  });
});

describe('Discovery', () => {
  it('finds live N.log files at start with their labels, ignoring rotated, compressed and temporary files', async () => {
    const pods = tempDir();
    const live = writeLog(pods, 'default_web-1_uid-1', 'nginx', '0.log');
    writeLog(pods, 'default_web-1_uid-1', 'nginx', '0.log.20260101-120000');
    writeLog(pods, 'default_web-1_uid-1', 'nginx', '0.log.20260101-110000.gz');
    writeLog(pods, 'default_web-1_uid-1', 'nginx', '0.log.20260101-100000.tmp');
    const restarted = writeLog(pods, 'default_web-1_uid-1', 'sidecar', '3.log');
    const { discovery, added, warnings } = discover(pods);
    await discovery.start();
    expect(added.map((t) => t.path).sort()).toEqual([live, restarted].sort());
    const nginx = added.find((t) => t.path === live)!;
    expect(nginx.labels).toEqual({
      namespace: 'default',
      pod: 'web-1',
      container: 'nginx',
      node_name: 'node-a',
      job: 'default/nginx',
      service_name: 'nginx',
      filename: live,
    });
    expect(nginx.uid).toBe('uid-1');
    expect(added.find((t) => t.path === restarted)!.restartCount).toBe(3);
    expect(warnings).toEqual([]);
  });

  it('warns about and ignores paths of unexpected shapes', async () => {
    const pods = tempDir();
    writeLog(pods, 'not-a-pod-dir', 'c', '0.log');
    writeLog(pods, 'ns_pod_uid', 'c', 'notes.txt');
    writeFileSync(join(pods, 'stray-file'), '');
    const { discovery, added, warnings } = discover(pods);
    await discovery.start();
    expect(added).toEqual([]);
    expect(warnings).toHaveLength(3);
    expect(warnings.some((w) => w.includes('not-a-pod-dir') && w.includes('<namespace>_<pod>_<uid>'))).toBe(true);
    expect(warnings.some((w) => w.includes('notes.txt'))).toBe(true);
    expect(warnings.some((w) => w.includes('stray-file'))).toBe(true);
  });

  it('adds targets of new pods as they appear and removes them when the pod directory is deleted', async () => {
    const pods = tempDir();
    const { discovery, added, removed } = discover(pods);
    await discovery.start();
    const a = writeLog(pods, 'shop_cart-7_uid-a', 'app', '0.log');
    const b = writeLog(pods, 'shop_cart-7_uid-a', 'istio-proxy', '0.log');
    await until(() => added.length === 2, 'two targets from the watcher');
    expect(added.map((t) => t.path).sort()).toEqual([a, b].sort());
    rmSync(join(pods, 'shop_cart-7_uid-a'), { recursive: true });
    await until(() => removed.length === 2, 'both removed');
    expect(removed.map((t) => t.path).sort()).toEqual([a, b].sort());
    expect(discovery.list()).toEqual([]);
  });

  it('keeps a target across a rotation (rename then reopen) while the pod exists', async () => {
    const pods = tempDir();
    const path = writeLog(pods, 'ns_p_u', 'c', '0.log');
    const { discovery, added, removed } = discover(pods);
    await discovery.start();
    renameSync(path, `${path}.20260101-120000`);
    await sleep(50);
    writeFileSync(path, 'new\n');
    await sleep(300);
    await discovery.rescan();
    expect(added).toHaveLength(1);
    expect(removed).toEqual([]);
    expect(discovery.list().map((t) => t.path)).toEqual([path]);
  });

  it('rescans find what the watcher is not told about, and drop a file missing at two rescans in a row', async () => {
    const pods = tempDir();
    const { discovery, added, removed } = discover(pods, { watch: false });
    await discovery.start();
    const path = writeLog(pods, 'ns_p_u', 'c', '0.log');
    await sleep(50);
    expect(added).toEqual([]);
    await discovery.rescan();
    expect(added.map((t) => t.path)).toEqual([path]);
    // The old restart's log is garbage-collected while the pod lives on with 1.log.
    unlinkSync(path);
    const next = writeLog(pods, 'ns_p_u', 'c', '1.log');
    await discovery.rescan();
    expect(removed).toEqual([]);
    expect(added.map((t) => t.path)).toEqual([path, next]);
    await discovery.rescan();
    expect(removed.map((t) => t.path)).toEqual([path]);
  });

  it('runs the periodic rescan on its own', async () => {
    const pods = tempDir();
    const { discovery, added } = discover(pods, { watch: false, rescanIntervalMs: 50 });
    await discovery.start();
    const path = writeLog(pods, 'ns_p_u', 'c', '0.log');
    await until(() => added.length === 1, 'the periodic rescan');
    expect(added[0]!.path).toBe(path);
  });

  it('omits node_name when no node name is given', async () => {
    const pods = tempDir();
    writeLog(pods, 'ns_p_u', 'c', '0.log');
    const { discovery, added } = discover(pods, { nodeName: '' });
    await discovery.start();
    expect(added[0]!.labels.node_name).toBeUndefined();
  });

  it('a deleted pod\'s file is finished by its tailer before being released', async () => {
    const pods = tempDir();
    const path = writeLog(pods, 'ns_gone_u', 'c', '0.log', 'one\n');
    const lines: string[] = [];
    const tailers = new Map<string, Tailer>();
    const finished: Promise<void>[] = [];
    const { discovery } = discover(pods, {
      onAdd: (t) => {
        const tailer = new Tailer({ path: t.path, pollIntervalMs: 60_000, watch: false, onLines: (_f, ls) => void lines.push(...ls.map((l) => l.bytes.toString())) });
        tailers.set(t.path, tailer);
        void tailer.start();
      },
      onRemove: (t) => {
        finished.push(tailers.get(t.path)!.finish());
        tailers.delete(t.path);
      },
    });
    await discovery.start();
    await until(() => tailers.size === 1, 'the tailer');
    // Written just before the pod is deleted; the tailer has not polled since (60 s interval).
    appendFileSync(path, 'two\nthree');
    rmSync(join(pods, 'ns_gone_u'), { recursive: true });
    await until(() => finished.length === 1, 'removal');
    await Promise.all(finished);
    expect(lines).toEqual(['one', 'two', 'three']);
  });
});
