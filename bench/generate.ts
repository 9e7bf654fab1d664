/**
 * Realistic Kubernetes push batches for benchmarks: ~100 streams labelled like Promtail
 * labels pods (namespace, pod, container, job, stream), each stream logging one format
 * (logfmt, JSON or nginx access lines, 80–400 bytes). Deterministic for a given seed, and
 * the caller passes the timestamps in so a benchmark can keep time moving forward.
 */
import { formatLabelString, type PushEntryInput, type PushStreamInput } from '../proto/index.js';

export interface KubernetesBatchOptions {
  seed: number;
  /**
   * Seed of the stream set (labels and formats); defaults to `seed`. Give every batch of a run
   * the same streamSeed and a different seed, as a node's agent keeps sending the same pods.
   */
  streamSeed?: number;
  /** Timestamp of the first entry; later entries are `entryIntervalNanos` apart across the batch. */
  startSeconds: number;
  startNanos?: number;
  entryIntervalNanos?: number;
  streamCount?: number;
  /** Approximate uncompressed protobuf size of the batch; Promtail's default batch is 1 MiB. */
  targetBytes?: number;
  /** Fraction of entries carrying structured metadata (trace_id, span_id); Promtail sends none by default. */
  metadataFraction?: number;
  /** Range of line lengths drawn (uniformly) before formatting; nginx lines cannot be shorter than their fields. */
  minLineBytes?: number;
  maxLineBytes?: number;
  /**
   * Levels of logfmt and JSON lines, drawn uniformly from this list (repeat a level to weight
   * it). The default (debug 1, info 4, warn 1, error 1 in 7) has far more errors than real
   * services log; query benchmarks pass a realistic mix.
   */
  levels?: readonly string[];
  /**
   * A rare token for selective line-filter benchmarks: about `needleFraction` of the lines get
   * ` marker=<needleWord>` (`"marker":"<needleWord>"` in JSON). No randomness is drawn for it
   * unless `needleFraction` > 0, so callers without a needle keep their exact output.
   */
  needleWord?: string;
  needleFraction?: number;
}

type LineFormat = 'logfmt' | 'json' | 'nginx';

interface StreamShape {
  labels: string;
  format: LineFormat;
  component: string;
}

/** mulberry32: tiny, fast, and good enough to make test data look varied. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMESPACES = ['default', 'kube-system', 'monitoring', 'payments', 'checkout', 'search', 'auth', 'ingress-nginx'];
const APPS = ['api', 'worker', 'frontend', 'gateway', 'scheduler', 'indexer', 'billing', 'cache', 'ingress-nginx-controller'];
const CONTAINERS: Record<LineFormat, string[]> = {
  logfmt: ['app', 'worker', 'sidecar'],
  json: ['server', 'consumer'],
  nginx: ['nginx', 'controller'],
};
const MESSAGES = [
  'request completed', 'cache miss, fetching from upstream', 'retrying after transient error',
  'connection pool exhausted', 'user session refreshed', 'job finished', 'flushing batch to storage',
  'received shutdown signal', 'config reloaded', 'slow query detected',
];
const LEVELS = ['debug', 'info', 'info', 'info', 'info', 'warn', 'error'];
const PATHS = ['/api/v1/users', '/api/v1/orders', '/healthz', '/metrics', '/api/v2/search', '/login', '/static/app.js', '/api/v1/cart/items'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const STATUSES = [200, 200, 200, 200, 201, 204, 301, 304, 400, 404, 500, 503];
const PADDING_KEYS = ['user_id', 'tenant', 'region', 'shard', 'upstream', 'cache', 'attempt'];
const PADDING_VALUES = ['eu-west-1', 'us-east-2', 'acme', 'globex', 'initech', 'hit', 'miss', '1', '2', '3', '10.0.4.17:8080', 'shard-07'];
const AGENTS = [
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  'curl/8.5.0', 'kube-probe/1.29', 'Go-http-client/1.1', 'Prometheus/2.48.0',
];

function randomHelpers(random: () => number) {
  return {
    pick: <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)],
    hex: (length: number): string => {
      let out = '';
      for (let index = 0; index < length; index++) out += '0123456789abcdef'[Math.floor(random() * 16)];
      return out;
    },
  };
}

function streamShapes(seed: number, streamCount: number): StreamShape[] {
  const random = createRandom(seed);
  const { pick, hex } = randomHelpers(random);
  const shapes: StreamShape[] = [];
  for (let index = 0; index < streamCount; index++) {
    const format = pick<LineFormat>(['logfmt', 'logfmt', 'json', 'json', 'nginx']);
    const namespace = pick(NAMESPACES);
    const app = pick(APPS);
    const container = pick(CONTAINERS[format]);
    shapes.push({
      format,
      component: app,
      labels: formatLabelString([
        ['namespace', namespace],
        ['pod', `${app}-${hex(10)}-${hex(5)}`],
        ['container', container],
        ['job', `${namespace}/${app}`],
        ['stream', random() < 0.85 ? 'stdout' : 'stderr'],
      ]),
    });
  }
  return shapes;
}

export function generateKubernetesBatch(options: KubernetesBatchOptions): PushStreamInput[] {
  const random = createRandom(options.seed);
  const { pick, hex } = randomHelpers(random);
  const streamCount = options.streamCount ?? 100;
  const targetBytes = options.targetBytes ?? 1024 * 1024;
  const metadataFraction = options.metadataFraction ?? 0;
  const intervalNanos = options.entryIntervalNanos ?? 1_000_000;
  const minLine = options.minLineBytes ?? 80;
  const maxLine = options.maxLineBytes ?? 400;
  const levels = options.levels ?? LEVELS;
  const needleFraction = options.needleWord === undefined ? 0 : options.needleFraction ?? 0;
  if (levels.length === 0) throw new Error('generateKubernetesBatch: levels must not be empty');

  const shapes = streamShapes(options.streamSeed ?? options.seed, streamCount);

  const isoTime = (seconds: number, nanos: number): string =>
    `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${String(nanos).padStart(9, '0')}Z`;
  const makeLine = (shape: StreamShape, seconds: number, nanos: number, targetLength: number): string => {
    let line: string;
    if (targetLength < 150 && shape.format !== 'nginx') {
      // Short lines exist too: probes, heartbeats, one-word status messages.
      line = shape.format === 'json'
        ? `{"level":"${pick(levels)}","msg":"${pick(MESSAGES)}"`
        : `level=${pick(levels)} msg="${pick(MESSAGES)}"`;
    } else if (shape.format === 'nginx') {
      const date = new Date(seconds * 1000).toUTCString();
      line = `10.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)} - - [${date}] ` +
        `"${pick(METHODS)} ${pick(PATHS)}/${Math.floor(random() * 100000)} HTTP/1.1" ${pick(STATUSES)} ${Math.floor(random() * 50000)} ` +
        `"-" "${pick(AGENTS)}" ${(random() * 2).toFixed(3)} req_id=${hex(16)}`;
    } else if (shape.format === 'json') {
      line = `{"ts":"${isoTime(seconds, nanos)}","level":"${pick(levels)}","component":"${shape.component}",` +
        `"msg":"${pick(MESSAGES)}","path":"${pick(PATHS)}","status":${pick(STATUSES)},"latency_ms":${(random() * 900).toFixed(2)},` +
        `"request_id":"${hex(32)}"`;
    } else {
      line = `ts=${isoTime(seconds, nanos)} level=${pick(levels)} caller=${shape.component}/handler.go:${Math.floor(random() * 900) + 10} ` +
        `msg="${pick(MESSAGES)}" duration=${(random() * 900).toFixed(3)}ms trace_id=${hex(32)}`;
    }
    // Pad with whole key/values (drawn from small vocabularies, like real fields) up to the drawn length.
    while (line.length < targetLength) {
      const key = pick(PADDING_KEYS);
      const value = key === 'user_id' ? String(Math.floor(random() * 5000)) : pick(PADDING_VALUES);
      line += shape.format === 'json' ? `,"${key}":"${value}"` : ` ${key}=${value}`;
    }
    if (needleFraction > 0 && random() < needleFraction) {
      line += shape.format === 'json' ? `,"marker":"${options.needleWord!}"` : ` marker=${options.needleWord!}`;
    }
    return shape.format === 'json' ? `${line}}` : line;
  };

  const entriesByStream: PushEntryInput[][] = shapes.map(() => []);
  let seconds = options.startSeconds;
  let nanos = options.startNanos ?? 0;
  let bytes = 0;
  while (bytes < targetBytes) {
    const streamIndex = Math.floor(random() * streamCount);
    const shape = shapes[streamIndex];
    const line = makeLine(shape, seconds, nanos, minLine + Math.floor(random() * (maxLine - minLine + 1)));
    const entry: PushEntryInput = { seconds, nanos, line };
    if (random() < metadataFraction) entry.metadata = [['trace_id', hex(32)], ['span_id', hex(16)]];
    entriesByStream[streamIndex].push(entry);
    // Line bytes plus framing: entry tag/length, timestamp, line tag/length (~16 bytes).
    bytes += line.length + 16 + (entry.metadata === undefined ? 0 : 80);
    nanos += intervalNanos;
    while (nanos >= 1_000_000_000) {
      nanos -= 1_000_000_000;
      seconds++;
    }
  }
  return shapes
    .map((shape, index) => ({ labels: shape.labels, entries: entriesByStream[index] }))
    .filter((stream) => stream.entries.length > 0);
}
