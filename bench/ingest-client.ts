/**
 * The load side of the ingest benchmark: N clients, each sending its own pre-built
 * snappy-protobuf batches in order with one request in flight, over keep-alive
 * connections. Nothing is encoded or compressed here, so the client's CPU share on a
 * small machine is only the HTTP framing and socket writes.
 */
import http from 'node:http';
import os from 'node:os';
import { Worker } from 'node:worker_threads';

export interface PreparedBatch {
  /** The snappy-compressed PushRequest, exactly as Promtail would send it. */
  body: Buffer;
  lines: number;
  lineBytes: number;
}

/** What a generator worker posts back for one client: its batches, as transferable buffers. */
export interface GeneratedBatches {
  client: number;
  bodies: ArrayBuffer[];
  lines: number[];
  lineBytes: number[];
}

/**
 * Runs `workerFile` in up to one worker thread per core, each given (as workerData) the jobs whose
 * `client` falls to it, and collects the batches every worker posts back, one message per client.
 * `onGenerated` sees each message first, for whatever else it carries. Resolves to one list of
 * batches per job, indexed by client (so `jobs[i].client` must be `i`).
 */
export async function runGeneratorWorkers<Generated extends GeneratedBatches>(
  workerFile: string | URL,
  jobs: ReadonlyArray<{ client: number }>,
  onGenerated: (generated: Generated) => void = () => {},
): Promise<PreparedBatch[][]> {
  const workerCount = Math.min(jobs.length, os.availableParallelism());
  const batches: PreparedBatch[][] = jobs.map(() => []);
  await Promise.all(
    Array.from({ length: workerCount }, (_, worker) =>
      new Promise<void>((resolve, reject) => {
        const assigned = jobs.filter((job) => job.client % workerCount === worker);
        const thread = new Worker(workerFile, { workerData: assigned });
        thread.on('message', (generated: Generated) => {
          onGenerated(generated);
          batches[generated.client] = generated.lines.map((lines, index) => ({
            body: Buffer.from(generated.bodies[index]!),
            lines,
            lineBytes: generated.lineBytes[index]!,
          }));
        });
        thread.on('error', reject);
        thread.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`generator worker exited with ${code}`))));
      })),
  );
  return batches;
}

export interface PushFailure {
  client: number;
  batch: number;
  /** HTTP status, or 0 when the request itself failed (connection refused, reset). */
  status: number;
  message: string;
}

export interface LoadResult {
  /** Push latency of every request in ms, in completion order. */
  latenciesMs: Float64Array;
  elapsedSeconds: number;
  failureCount: number;
  firstFailure: PushFailure | undefined;
}

export interface LoadOptions {
  host: string;
  port: number;
  /** One list per client; a client sends its list in order, so each stream's entries arrive in time order. */
  batchesPerClient: ReadonlyArray<ReadonlyArray<PreparedBatch>>;
  /** Called after every completed request, with the running totals; keep it cheap. */
  onProgress?: (linesDone: number) => void;
}

interface PushResponse {
  status: number;
  body: string;
}

function push(agent: http.Agent, host: string, port: number, body: Buffer): Promise<PushResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host,
        port,
        agent,
        method: 'POST',
        path: '/loki/api/v1/push',
        headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': body.length },
      },
      (response) => {
        const status = response.statusCode ?? 0;
        // Only error bodies are kept; a 204 has none, and reading it is what frees the socket.
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => {
          if (status !== 204) chunks.push(chunk);
        });
        response.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

export async function runPushLoad(options: LoadOptions): Promise<LoadResult> {
  const clientCount = options.batchesPerClient.length;
  // One socket per client: each client has one request in flight, like one Promtail per node.
  const agent = new http.Agent({ keepAlive: true, maxSockets: clientCount, maxFreeSockets: clientCount });
  const total = options.batchesPerClient.reduce((sum, batches) => sum + batches.length, 0);
  const latenciesMs = new Float64Array(total);
  let completed = 0;
  let linesDone = 0;
  let failureCount = 0;
  let firstFailure: PushFailure | undefined;

  const runClient = async (client: number, batches: ReadonlyArray<PreparedBatch>): Promise<void> => {
    for (let index = 0; index < batches.length; index++) {
      const batch = batches[index]!;
      const started = process.hrtime.bigint();
      let failure: PushFailure | undefined;
      try {
        const response = await push(agent, options.host, options.port, batch.body);
        if (response.status !== 204) failure = { client, batch: index, status: response.status, message: response.body };
      } catch (err) {
        failure = { client, batch: index, status: 0, message: (err as Error).message };
      }
      latenciesMs[completed++] = Number(process.hrtime.bigint() - started) / 1e6;
      if (failure !== undefined) {
        failureCount++;
        firstFailure ??= failure;
      } else {
        linesDone += batch.lines;
      }
      options.onProgress?.(linesDone);
    }
  };

  const started = process.hrtime.bigint();
  await Promise.all(options.batchesPerClient.map((batches, client) => runClient(client, batches)));
  const elapsedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  return { latenciesMs, elapsedSeconds, failureCount, firstFailure };
}
