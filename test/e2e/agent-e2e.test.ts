/**
 * End to end: a real pods directory, a real `skald server` and a real `skald agent` (dist/).
 * 20 containers in 10 pods write ~200,000 CRI lines while the test rotates files as kubelet
 * does (rename, new file, gzip of the rotated file later), truncates one file (copytruncate),
 * adds and deletes pods, kill -9s the agent twice and takes the server away for 20 s (kill -9,
 * back on the same port and data directory). At the end every line must be on the server
 * exactly once, in order within its stream, with the right labels.
 *
 * Each agent kill -9 lands right after every container wrote a chunk and had its file rotated,
 * so the agent restarts with unread or unacknowledged lines in rotated files it must find again
 * by identity (the truncated file among them). Before the server's kill -9, the test notes what
 * the server returns, and checks after the restart that it still does.
 *
 * What the test takes care not to do, because no tailer could survive it: gzip (= remove) a
 * rotated file before the agent has opened it, or truncate a file before the agent has read it.
 * A rotated file is gzipped either once the server holds its first line (the agent has it open;
 * only in phases without agent kills) or once the server holds all of its lines (plus 1 s for
 * the positions file to catch up). The file truncated is truncated once the server holds all
 * of its lines.
 *
 * SKALD_E2E_KEEP=1 keeps the temporary directory (pods, positions file, data, agent and server
 * logs, timeline). SKALD_E2E_KILL2_AFTER_SERVER_MS=N moves the second kill from the outage to
 * N ms after the server is back, while the agent catches up.
 */
import { appendFileSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, sleep, spawnAgent, spawnServerOnPort, type Child } from '../helpers/agent-process.js';
import { tempDir } from '../helpers/server.js';

const NODE = 'e2e-node-1';
const ROUNDS = 200;
const LINES_PER_ROUND = 68;
const ROUND_MS = 230;

const EVENTS = {
  truncate: 30,
  deletePods: 50,
  killAgent1: 60,
  addPods: 76,
  stopServer: 90,
  killAgent2: 120,
  earlyGzipAgain: 175,
};
const SERVER_DOWN_MS = 20_000;
/**
 * When the second kill -9 lands: while the server is away (at round EVENTS.killAgent2), or this
 * many ms after it came back, while the agent catches up on its backlog.
 */
const KILL2_AFTER_SERVER_BACK_MS = process.env['SKALD_E2E_KILL2_AFTER_SERVER_MS'] === undefined ? undefined : Number(process.env['SKALD_E2E_KILL2_AFTER_SERVER_MS']);

interface PodSpec {
  ns: string;
  pod: string;
  containers: string[];
  startRound?: number;
  endRound?: number;
}

const PODS: PodSpec[] = [
  { ns: 'shop', pod: 'web-7f9c4-abcde', containers: ['nginx', 'app'] },
  { ns: 'shop', pod: 'web-7f9c4-fghij', containers: ['nginx', 'app'] },
  { ns: 'shop', pod: 'db-0', containers: ['postgres', 'exporter'] },
  { ns: 'infra', pod: 'coredns-5d8b-xk2p', containers: ['coredns'] },
  { ns: 'infra', pod: 'ingress-6b4-q9w8', containers: ['controller', 'sidecar'] },
  { ns: 'infra', pod: 'metrics-0', containers: ['exporter'] },
  // Deleted: they stop writing, and their directory goes once the server holds all their lines.
  { ns: 'batch', pod: 'report-29301-7hq2m', containers: ['worker', 'uploader'], endRound: EVENTS.deletePods },
  { ns: 'batch', pod: 'cleanup-29302-k8d4s', containers: ['worker', 'logger'], endRound: EVENTS.deletePods },
  // Added midway.
  { ns: 'batch', pod: 'report-29310-n2v5c', containers: ['worker', 'uploader', 'logger'], startRound: EVENTS.addPods },
  { ns: 'infra', pod: 'canary-1', containers: ['probe', 'app', 'envoy'], startRound: EVENTS.addPods },
];
const TRUNCATED = 'shop/db-0/postgres';

interface Rotated {
  path: string;
  firstSeq: number;
  lastSeq: number;
  at: number;
  /** When the file was created as the live 0.log. */
  createdAt: number;
  firstSeenAt?: number;
  fullSeenAt?: number;
  gzipped?: 'early' | 'acked';
}

interface Container {
  id: string;
  index: number;
  ns: string;
  pod: string;
  uid: string;
  name: string;
  podDir: string;
  path: string;
  startRound: number;
  endRound: number;
  seq: number;
  fileFirstSeq: number;
  fileCreatedAt: number;
  linesInFile: number;
  rotateEvery: number;
  rotations: number;
  rotated: Rotated[];
  paused: boolean;
  deleting: boolean;
  deleted: boolean;
  complete: boolean;
}

// CRI timestamps: one hour ago, 1 µs apart within a container.
const BASE_NS = BigInt(Date.now() - 3_600_000) * 1_000_000n;
const tsOf = (seq: number): bigint => BASE_NS + BigInt(seq) * 1000n;

function criTime(ns: bigint): string {
  const iso = new Date(Number(ns / 1_000_000n)).toISOString();
  return `${iso.slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

const PAD = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(3);
const contentOf = (c: Container, seq: number): string => `c=${c.id} seq=${seq} ${PAD.slice(0, 10 + ((seq * 7919 + c.index) % 60))}`;
const streamOf = (seq: number): 'stdout' | 'stderr' => (seq % 5 === 2 ? 'stderr' : 'stdout');

function criLines(c: Container, seq: number): string {
  const time = criTime(tsOf(seq));
  const stream = streamOf(seq);
  const text = contentOf(c, seq);
  if (seq % 97 === 40) {
    // A partial line: two parts, `P` then `F`, joined by the agent.
    const cut = Math.floor(text.length / 2);
    return `${time} ${stream} P ${text.slice(0, cut)}\n${time} ${stream} F ${text.slice(cut)}\n`;
  }
  return `${time} ${stream} F ${text}\n`;
}

const selectorOf = (c: Container): string => `{namespace="${c.ns}",pod="${c.pod}",container="${c.name}"}`;

interface QueryStream {
  stream: Record<string, string>;
  values: Array<[string, string]>;
}

describe('agent end to end', () => {
  const root = realpathSync(tempDir('skald-e2e-'));
  const podsDir = join(root, 'pods');
  const dataDir = join(root, 'data');
  const positionsFile = join(root, 'agent', 'positions.yaml');
  const agentConfigFile = join(root, 'agent.yaml');
  const serverConfigFile = join(root, 'server.yaml');
  let server: (Child & { url: string }) | undefined;
  let agent: (Child & { url: string }) | undefined;
  const agentLogs: string[] = [];
  const serverLogs: string[] = [];
  const timeline: string[] = [];
  let t0 = Date.now();
  const note = (what: string): void => {
    timeline.push(`+${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
  };

  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await server?.stop('SIGKILL');
    if (process.env['SKALD_E2E_KEEP'] === '1') {
      writeFileSync(join(root, 'agent-logs.txt'), agentLogs.concat(agent ? [agent.output()] : []).join('\n==== next agent run ====\n'));
      writeFileSync(join(root, 'server-logs.txt'), serverLogs.concat(server ? [server.output()] : []).join('\n==== next server run ====\n'));
      writeFileSync(join(root, 'timeline.txt'), timeline.join('\n') + '\n');
      console.log(`kept ${root}`);
    } else {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('ships every line exactly once, in order, labelled, through rotations, truncation, pod churn, agent kill -9s and a server outage', async () => {
    mkdirSync(podsDir, { recursive: true });
    mkdirSync(dataDir, { recursive: true });
    const port = await freePort();
    const serverYaml = [
      'limits_config:',
      '  ingestion_rate_mb: 500',
      '  ingestion_burst_size_mb: 1000',
      '  per_stream_rate_limit: 200MB',
      '  per_stream_rate_limit_burst: 400MB',
      '  max_entries_limit_per_query: 200000',
      // The label check below is about what the agent sends; the server's own detected_level
      // (structured metadata, shown as a label in results) is tested in test/server/detect.test.ts.
      '  discover_log_levels: false',
      '',
    ].join('\n');
    const startServer = async (): Promise<void> => {
      server = await spawnServerOnPort(port, dataDir, serverConfigFile, serverYaml);
    };
    await startServer();
    const url = `http://127.0.0.1:${port}`;
    writeFileSync(
      agentConfigFile,
      [
        'server: {http_listen_address: 127.0.0.1, http_listen_port: 0}',
        `positions: {filename: ${JSON.stringify(positionsFile)}, sync_period: 200ms}`,
        `pods_dir: ${JSON.stringify(podsDir)}`,
        'clients:',
        `  - url: ${url}/loki/api/v1/push`,
        '    batchwait: 100ms',
        '    batchsize: 262144',
        '    backoff_config: {min_period: 100ms, max_period: 1s, max_retries: 0}',
        '',
      ].join('\n'),
    );

    const containers: Container[] = [];
    PODS.forEach((spec, p) => {
      const uid = `0000${p}a1b-2c3d-4e5f-8a9b-${String(p).padStart(12, '0')}`;
      const podDir = join(podsDir, `${spec.ns}_${spec.pod}_${uid}`);
      for (const name of spec.containers) {
        const index = containers.length;
        containers.push({
          id: `${spec.ns}/${spec.pod}/${name}`,
          index,
          ns: spec.ns,
          pod: spec.pod,
          uid,
          name,
          podDir,
          path: join(podDir, name, '0.log'),
          startRound: spec.startRound ?? 0,
          endRound: spec.endRound ?? ROUNDS,
          seq: 0,
          fileFirstSeq: 0,
          fileCreatedAt: 0,
          linesInFile: 0,
          rotateEvery: 2000 + ((index * 337) % 1000),
          rotations: 0,
          rotated: [],
          paused: false,
          deleting: false,
          deleted: false,
          complete: false,
        });
      }
    });
    expect(containers).toHaveLength(20);
    const byId = new Map(containers.map((c) => [c.id, c]));

    const queryRange = async (query: string, start: bigint, end: bigint, limit: number): Promise<QueryStream[]> => {
      const params = new URLSearchParams({ query, start: String(start), end: String(end), limit: String(limit), direction: 'forward' });
      const res = await fetch(`${url}/loki/api/v1/query_range?${params}`);
      if (res.status !== 200) throw new Error(`query_range ${query}: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { data: { result: QueryStream[] } };
      return body.data.result;
    };
    /** The first seq in a..b of `c` the server lacks (-1: none; -2: the query failed). */
    const firstMissing = async (c: Container, a: number, b: number): Promise<number> => {
      if (b < a) return -1;
      try {
        const result = await queryRange(selectorOf(c), tsOf(a), tsOf(b) + 1n, Math.min(200_000, (b - a + 1) * 3 + 10));
        const seen = new Set<number>();
        for (const s of result) {
          for (const [, line] of s.values) {
            const m = /^c=\S+ seq=(\d+) /.exec(line);
            if (m) seen.add(Number(m[1]));
          }
        }
        for (let s = a; s <= b; s++) if (!seen.has(s)) return s;
        return -1;
      } catch {
        return -2;
      }
    };
    /** Whether the server holds every line seq a..b of `c` (distinct; duplicates are judged at the end). */
    const serverHas = async (c: Container, a: number, b: number): Promise<boolean> => (await firstMissing(c, a, b)) === -1;
    const waitServerHas = async (c: Container, a: number, b: number, what: string, timeoutMs = 90_000): Promise<void> => {
      const deadline = Date.now() + timeoutMs;
      while (!(await serverHas(c, a, b))) {
        if (Date.now() > deadline) throw new Error(`${what}: server still lacks some of ${c.id} seq ${a}..${b} after ${timeoutMs} ms`);
        await sleep(200);
      }
    };
    const metric = async (base: string, name: string): Promise<number | undefined> => {
      try {
        const text = await (await fetch(`${base}/metrics`)).text();
        let sum = 0;
        for (const line of text.split('\n')) if (line.startsWith(name) && /^[a-z_]+(\{|\s)/.test(line)) sum += Number(line.split(' ').pop());
        return sum;
      } catch {
        return undefined;
      }
    };

    t0 = Date.now();
    let agentsStarted = 0;
    let agentStartedAt = 0;
    const startAgent = async (): Promise<void> => {
      if (agent) agentLogs.push(agent.output());
      agent = await spawnAgent(agentConfigFile, NODE);
      agentsStarted++;
      agentStartedAt = Date.now();
      note(`agent started at ${agent.url}`);
    };
    await startAgent();

    // --- Rotation and gzip, as kubelet does ---
    const rotate = (c: Container): void => {
      c.rotations++;
      const path = `${c.path}.20260101-${String(c.rotations).padStart(6, '0')}`;
      renameSync(c.path, path);
      writeFileSync(c.path, '');
      c.rotated.push({ path, firstSeq: c.fileFirstSeq, lastSeq: c.seq - 1, at: Date.now(), createdAt: c.fileCreatedAt });
      c.fileFirstSeq = c.seq;
      c.fileCreatedAt = Date.now();
      c.linesInFile = 0;
    };
    const gzip = (r: Rotated, how: 'early' | 'acked'): void => {
      writeFileSync(`${r.path}.tmp`, gzipSync(readFileSync(r.path)));
      renameSync(`${r.path}.tmp`, `${r.path}.gz`);
      unlinkSync(r.path);
      r.gzipped = how;
      note(`gzip (${how}) ${r.path.slice(podsDir.length + 1)} seq ${r.firstSeq}..${r.lastSeq}`);
    };
    const writeChunk = (c: Container): void => {
      if (c.seq === 0) {
        mkdirSync(join(c.podDir, c.name), { recursive: true });
        c.fileCreatedAt = Date.now();
      }
      let chunk = '';
      for (let k = 0; k < LINES_PER_ROUND; k++) chunk += criLines(c, c.seq++);
      appendFileSync(c.path, chunk);
      c.linesInFile += LINES_PER_ROUND;
    };
    const isWriting = (c: Container): boolean => round >= c.startRound && round < c.endRound && !c.paused;
    let round = 0;
    let serverUp = true;
    let kills = 0;
    const earlyGzipAllowed = (): boolean => round < EVENTS.deletePods || (round >= EVENTS.earlyGzipAgain && serverUp && kills === 2 && agentsStarted === 3 && writing);
    let writing = true;
    const gzipStats = { early: 0, acked: 0 };
    const gzipLoop = (async () => {
      while (writing) {
        for (const c of containers) {
          for (const r of c.rotated) {
            if (r.gzipped || c.deleting || Date.now() - r.at < 500) continue;
            if (r.firstSeenAt === undefined && (await serverHas(c, r.firstSeq, r.firstSeq))) r.firstSeenAt = Date.now();
            if (r.firstSeenAt === undefined) continue;
            if (earlyGzipAllowed() && r.createdAt > agentStartedAt && !c.deleting) {
              gzip(r, 'early');
              gzipStats.early++;
              continue;
            }
            if (r.fullSeenAt === undefined && (await serverHas(c, r.firstSeq, r.lastSeq))) r.fullSeenAt = Date.now();
            if (r.fullSeenAt !== undefined && Date.now() - r.fullSeenAt >= 1000 && !c.deleting) {
              gzip(r, 'acked');
              gzipStats.acked++;
            }
          }
        }
        await sleep(300);
      }
    })();

    const metricsLoop = (async () => {
      let last = '';
      while (writing) {
        const a = agent;
        if (a) {
          const dropped = await metric(a.url, 'skald_agent_dropped_entries_total');
          const line = `agent pid ${a.child.pid} dropped ${dropped}`;
          if (dropped !== undefined && dropped > 0 && line !== last) {
            note(line);
            last = line;
          }
        }
        await sleep(500);
      }
    })();

    // --- Background events ---
    const tasks: Promise<void>[] = [];
    const truncateTask = async (): Promise<void> => {
      const c = byId.get(TRUNCATED)!;
      c.paused = true;
      await waitServerHas(c, c.fileFirstSeq, c.seq - 1, 'before truncation');
      const lines = c.seq - c.fileFirstSeq;
      truncateSync(c.path, 0);
      note(`truncated ${c.path} after seq ${c.seq - 1} (${lines} lines in it)`);
      c.fileFirstSeq = c.seq;
      c.linesInFile = 0;
      c.paused = false;
    };
    const deleteTask = async (): Promise<void> => {
      const doomed = containers.filter((c) => c.endRound === EVENTS.deletePods);
      for (const c of doomed) c.deleting = true;
      for (const c of doomed) await waitServerHas(c, 0, c.seq - 1, 'before pod deletion');
      for (const dir of new Set(doomed.map((c) => c.podDir))) {
        rmSync(dir, { recursive: true, force: true });
        note(`deleted pod directory ${dir}`);
      }
      for (const c of doomed) c.deleted = true;
    };
    const killAgentTask = async (): Promise<void> => {
      // An early-gzipped file is readable only through the descriptor the agent holds: wait
      // until everything in it is on the server (and in the positions file) before killing.
      for (const c of containers) {
        for (const r of c.rotated) {
          if (r.gzipped !== 'early' || r.fullSeenAt !== undefined) continue;
          await waitServerHas(c, r.firstSeq, r.lastSeq, 'early gzipped file before agent kill');
          r.fullSeenAt ??= Date.now();
        }
      }
      await sleep(1000);
      const a = agent!;
      // The crash lands right after every container wrote a chunk and kubelet rotated its file:
      // those lines are in rotated files the agent has not read (or not had acknowledged) yet.
      // All synchronous, so nothing runs in between.
      let rotatedNow = 0;
      for (const c of containers) {
        if (!isWriting(c) || c.seq === 0) continue;
        writeChunk(c);
        rotate(c);
        rotatedNow++;
      }
      a.child.kill('SIGKILL');
      note(`rotated ${rotatedNow} files right after a write, then kill -9 agent (pid ${a.child.pid}); positions file:\n${readFileSync(positionsFile, 'utf8')}`);
      await a.stop('SIGKILL');
      kills++;
      await sleep(1000);
      await startAgent();
    };
    const serverProblems: string[] = [];
    const serverOutageTask = async (): Promise<void> => {
      note(`server duplicate entries dropped so far: ${await metric(url, 'skald_ingester_duplicate_entries_total')}`);
      // What the server holds now must still be there after its kill -9.
      const held = new Map<Container, number>();
      for (const c of containers) {
        const missing = await firstMissing(c, 0, c.seq - 1);
        held.set(c, missing === -1 ? c.seq : missing);
      }
      note(`server holds before its kill: ${[...held].map(([c, n]) => `${c.id}:0..${n - 1}`).join(' ')}`);
      // Only what was visible well before the kill counts (a push being handled may be visible before its 204).
      await sleep(1500);
      serverUp = false;
      note('kill -9 server');
      await server!.stop('SIGKILL');
      serverLogs.push(server!.output());
      await sleep(SERVER_DOWN_MS);
      await startServer();
      serverUp = true;
      note('server back');
      for (const [c, n] of held) {
        const missing = await firstMissing(c, 0, n - 1);
        if (missing !== -1) serverProblems.push(`server lost ${c.id} seq ${missing} (held 0..${n - 1} before its kill -9)`);
      }
      note(`server kept what it held: ${serverProblems.length === 0 ? 'yes' : serverProblems.join('; ')}`);
      if (KILL2_AFTER_SERVER_BACK_MS !== undefined) {
        await sleep(KILL2_AFTER_SERVER_BACK_MS);
        await killAgentTask();
      }
    };

    // --- The write phase ---
    for (round = 0; round < ROUNDS; round++) {
      const started = Date.now();
      if (round === EVENTS.truncate) tasks.push(truncateTask());
      if (round === EVENTS.deletePods) tasks.push(deleteTask());
      if (round === EVENTS.killAgent1 || (round === EVENTS.killAgent2 && KILL2_AFTER_SERVER_BACK_MS === undefined)) tasks.push(killAgentTask());
      if (round === EVENTS.stopServer) tasks.push(serverOutageTask());
      if (round === EVENTS.addPods) note('pods added');
      for (const c of containers) {
        if (!isWriting(c)) continue;
        if (c.linesInFile >= c.rotateEvery) rotate(c);
        writeChunk(c);
      }
      await sleep(Math.max(0, ROUND_MS - (Date.now() - started)));
    }
    writing = false;
    note(`write phase done: ${containers.reduce((n, c) => n + c.seq, 0)} lines`);
    await Promise.all(tasks);
    await gzipLoop;
    await metricsLoop;
    const total = containers.reduce((n, c) => n + c.seq, 0);
    note(`tasks done; gzipped early ${gzipStats.early}, after ack ${gzipStats.acked}; rotations ${containers.reduce((n, c) => n + c.rotations, 0)}`);
    expect(total).toBeGreaterThanOrEqual(195_000);

    // --- Wait for everything to arrive ---
    const deadline = Date.now() + 60_000;
    for (;;) {
      for (const c of containers) if (!c.complete) c.complete = await serverHas(c, 0, c.seq - 1);
      if (containers.every((c) => c.complete) || Date.now() > deadline) break;
      await sleep(1000);
    }
    note(`arrival wait done; incomplete: ${containers.filter((c) => !c.complete).map((c) => c.id).join(', ') || 'none'}`);

    // --- Exactly once, in order, labelled ---
    const problems: string[] = [];
    for (const c of containers) {
      const n = c.seq;
      const result = await queryRange(selectorOf(c), tsOf(0) - 1_000_000_000n, tsOf(n - 1) + 1_000_000_000n, 200_000);
      const counts = new Map<number, number>();
      const all: Array<{ ts: bigint; seq: number }> = [];
      const streamsSeen = new Set<string>();
      for (const s of result) {
        const streamLabel = s.stream['stream'] ?? '';
        streamsSeen.add(streamLabel);
        const expected = {
          namespace: c.ns,
          pod: c.pod,
          container: c.name,
          node_name: NODE,
          job: `${c.ns}/${c.name}`,
          service_name: c.name,
          filename: c.path,
          stream: streamLabel === 'stderr' ? 'stderr' : 'stdout',
        };
        const sortedLabels = (o: Record<string, string>): string => JSON.stringify(Object.keys(o).sort().map((k) => [k, o[k]]));
        if (sortedLabels(s.stream) !== sortedLabels(expected)) {
          problems.push(`${c.id}: stream labels ${JSON.stringify(s.stream)}, expected ${JSON.stringify(expected)}`);
        }
        let previous = -1;
        for (const [tsText, line] of s.values) {
          const m = /^c=(\S+) seq=(\d+) /.exec(line);
          if (!m || m[1] !== c.id) {
            problems.push(`${c.id}: foreign or malformed line in ${JSON.stringify(s.stream)}: ${JSON.stringify(line)}`);
            continue;
          }
          const seq = Number(m[2]);
          if (line !== contentOf(c, seq)) problems.push(`${c.id}: seq ${seq} content ${JSON.stringify(line)}, expected ${JSON.stringify(contentOf(c, seq))}`);
          if (BigInt(tsText) !== tsOf(seq)) problems.push(`${c.id}: seq ${seq} timestamp ${tsText}, expected ${tsOf(seq)}`);
          if (streamOf(seq) !== s.stream['stream']) problems.push(`${c.id}: seq ${seq} in stream ${s.stream['stream']}, expected ${streamOf(seq)}`);
          if (seq <= previous) problems.push(`${c.id}: ${s.stream['stream']} out of order: seq ${seq} after seq ${previous}`);
          previous = seq;
          counts.set(seq, (counts.get(seq) ?? 0) + 1);
          all.push({ ts: BigInt(tsText), seq });
        }
      }
      if (!(streamsSeen.has('stdout') && streamsSeen.has('stderr') && streamsSeen.size === 2)) {
        problems.push(`${c.id}: streams ${JSON.stringify([...streamsSeen])}, expected stdout and stderr`);
      }
      const missing: number[] = [];
      const duplicated: number[] = [];
      for (let s = 0; s < n; s++) {
        const k = counts.get(s) ?? 0;
        if (k === 0) missing.push(s);
        if (k > 1) duplicated.push(s);
      }
      const stray = [...counts.keys()].filter((s) => s < 0 || s >= n);
      const ranges = (xs: number[]): string => {
        const out: string[] = [];
        for (let i = 0; i < xs.length; ) {
          let j = i;
          while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
          out.push(i === j ? `${xs[i]}` : `${xs[i]}..${xs[j]}`);
          i = j + 1;
        }
        return out.slice(0, 20).join(',') + (out.length > 20 ? `,… (${out.length} ranges)` : '');
      };
      if (missing.length > 0) problems.push(`${c.id}: ${missing.length} of ${n} lines missing, first seq ${missing[0]} (seqs ${ranges(missing)})`);
      if (duplicated.length > 0) problems.push(`${c.id}: ${duplicated.length} lines more than once, first seq ${duplicated[0]} (seqs ${ranges(duplicated)})`);
      if (stray.length > 0) problems.push(`${c.id}: seqs never written: ${ranges(stray.sort((x, y) => x - y))}`);
      // Merged by timestamp, stdout and stderr give back the container's order.
      all.sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : 0));
      if (missing.length === 0 && duplicated.length === 0 && all.some((e, i) => e.seq !== i)) {
        const i = all.findIndex((e, k) => e.seq !== k);
        problems.push(`${c.id}: merged order broken at position ${i}: seq ${all[i]!.seq}`);
      }
    }

    // No stream other than the expected 40 (e.g. with a wrong or missing label).
    const seriesParams = new URLSearchParams({ 'match[]': '{filename=~".+"}', start: String(tsOf(0) - 60_000_000_000n), end: String(BigInt(Date.now() + 60_000) * 1_000_000n) });
    const series = (await (await fetch(`${url}/loki/api/v1/series?${seriesParams}`)).json()) as { data: Array<Record<string, string>> };
    if (series.data.length !== containers.length * 2) {
      problems.push(`series: ${series.data.length} streams, expected ${containers.length * 2}: ${JSON.stringify(series.data.map((s) => `${s['pod']}/${s['container']}/${s['stream']}`))}`);
    }

    // The deleted pods were finished and released: the positions file forgets them.
    const deletedDirs = [...new Set(containers.filter((c) => c.deleted).map((c) => c.podDir))];
    let positionsText = '';
    for (let i = 0; i < 60; i++) {
      positionsText = readFileSync(positionsFile, 'utf8');
      if (deletedDirs.every((d) => !positionsText.includes(d))) break;
      await sleep(250);
    }
    for (const d of deletedDirs) if (positionsText.includes(d)) problems.push(`positions file still lists deleted pod ${d}:\n${positionsText}`);

    problems.push(...serverProblems);
    const dropped = await metric(agent!.url, 'skald_agent_dropped_entries_total');
    if (dropped !== 0) problems.push(`agent (last run) skald_agent_dropped_entries_total = ${dropped}`);
    note(`server duplicate entries dropped since its restart: ${await metric(url, 'skald_ingester_duplicate_entries_total')}`);
    note(`agent last run: read ${await metric(agent!.url, 'skald_agent_read_lines_total')} lines, sent ${await metric(agent!.url, 'skald_agent_sent_entries_total')} entries`);
    note(`total lines written ${total}`);
    console.log(timeline.join('\n'));

    if (problems.length > 0) {
      const warnings = agentLogs
        .concat([agent!.output()])
        .flatMap((log, run) => log.split('\n').filter((l) => /level=(warn|error)/.test(l)).map((l) => `[agent run ${run + 1}] ${l}`));
      throw new Error(
        `${problems.length} problems:\n${problems.slice(0, 60).join('\n')}\n\ntimeline:\n${timeline.join('\n')}\n\nagent warnings (last 40):\n${warnings.slice(-40).join('\n')}`,
      );
    }
  }, 240_000);
});
