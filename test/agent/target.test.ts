/**
 * TargetReader between a real tailer on real files and a sink standing in for the batchers, so
 * the test controls when there is room.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentEntry } from '../../agent/batcher.js';
import { agentConfigFromObject } from '../../agent/config.js';
import type { Target } from '../../agent/discovery.js';
import { Positions } from '../../agent/positions.js';
import { TargetReader, type TargetSink } from '../../agent/target.js';
import { tempDir } from '../helpers/server.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

class GatedSink implements TargetSink {
  readonly shipped: Array<{ labels: string; entry: AgentEntry }> = [];
  full = false;
  private waiters: Array<() => void> = [];

  ship(_target: TargetReader, labels: string, entry: AgentEntry): void {
    this.shipped.push({ labels, entry });
  }

  shipBytes(_target: TargetReader, labels: string, seconds: number, nanos: number, source: Buffer, start: number, end: number): void {
    this.shipped.push({ labels, entry: { ts: BigInt(seconds) * 1_000_000_000n + BigInt(nanos), line: source.toString('utf8', start, end) } });
  }

  advance(): void {}

  room(): Promise<void> | undefined {
    if (!this.full) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  open(): void {
    this.full = false;
    for (const wake of this.waiters.splice(0)) wake();
  }
}

async function reader(sink: GatedSink, stages: unknown[]): Promise<{ reader: TargetReader; path: string }> {
  const dir = join(tempDir(), 'ns_pod_uid', 'app');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, '0.log');
  writeFileSync(path, '');
  const positions = await Positions.open({ filename: join(tempDir(), 'positions.yaml'), syncPeriodMs: 0 });
  const target: Target = {
    path,
    namespace: 'ns',
    pod: 'pod',
    uid: 'uid',
    container: 'app',
    restartCount: 0,
    labels: { namespace: 'ns', pod: 'pod', container: 'app', job: 'ns/app', service_name: 'app', filename: path },
  };
  const config = agentConfigFromObject({ clients: [{ url: 'http://127.0.0.1:1/loki/api/v1/push' }], pipeline_stages: stages });
  const r = new TargetReader({ target, positions, sink, stages: config.pipeline_stages, clients: 1, onWarning: () => undefined, pollIntervalMs: 20 });
  closers.push(async () => {
    sink.open(); // a tailer waiting for room would hold close() up
    await r.close();
    await positions.close();
  });
  await r.start();
  return { reader: r, path };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const T = '2026-11-27T10:00:00.000000001Z';

describe('TargetReader', () => {
  it('does not time out a partial line while its final part waits unread behind backpressure', async () => {
    const sink = new GatedSink();
    const { reader: r, path } = await reader(sink, [{ cri: { max_wait_time: '300ms' } }]);
    appendFileSync(path, `${T} stdout F first\n${T} stdout P half \n`);
    await until(() => sink.shipped.length === 1, 'the first line');
    sink.full = true;
    appendFileSync(path, `${T} stdout F and half\n`);
    await sleep(150); // the tailer sees the new bytes and waits for room
    r.tick(Date.now() + 60_000);
    expect(sink.shipped.map((s) => s.entry.line)).toEqual(['first']);
    sink.open();
    await until(() => sink.shipped.length === 2, 'the joined line');
    expect(sink.shipped[1]!.entry.line).toBe('half and half');
  });

  it('times out a partial line whose final part is not in the file', async () => {
    const sink = new GatedSink();
    const { reader: r, path } = await reader(sink, [{ cri: { max_wait_time: '300ms' } }]);
    appendFileSync(path, `${T} stdout P alone`);
    appendFileSync(path, `\n`);
    await sleep(150);
    r.tick(Date.now());
    expect(sink.shipped).toEqual([]); // not yet: 300 ms have not passed
    await sleep(300);
    r.tick(Date.now());
    expect(sink.shipped.map((s) => s.entry.line)).toEqual(['alone']);
  });

  it('times out an orphaned partial line in a file that is written all the time', async () => {
    const sink = new GatedSink();
    const { reader: r, path } = await reader(sink, [{ cri: { max_wait_time: '300ms' } }]);
    appendFileSync(path, `${T} stderr P orphan\n`);
    const until = Date.now() + 700;
    for (let i = 0; Date.now() < until; i++) {
      appendFileSync(path, `${T} stdout F busy ${i}\n`);
      await sleep(20);
      r.tick(Date.now());
    }
    await sleep(100);
    r.tick(Date.now());
    expect(sink.shipped.map((s) => s.entry.line)).toContain('orphan');
  });

  it('does not release a multiline block early while its next lines wait unread', async () => {
    const sink = new GatedSink();
    const { reader: r, path } = await reader(sink, [{ cri: {} }, { multiline: { firstline: '^START', max_wait_time: '300ms' } }]);
    appendFileSync(path, `${T} stdout F START one\n${T} stdout F   more\n`);
    await sleep(150);
    sink.full = true;
    appendFileSync(path, `${T} stdout F   last\n${T} stdout F START two\n`);
    await sleep(150);
    r.tick(Date.now() + 60_000);
    expect(sink.shipped).toEqual([]);
    sink.open();
    await until(() => sink.shipped.length === 1, 'the first block');
    expect(sink.shipped[0]!.entry.line).toBe('START one\n  more\n  last');
  });
});
