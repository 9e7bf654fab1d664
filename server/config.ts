/**
 * The server's YAML configuration. Keys follow Loki's configuration file so that a Loki
 * user can carry settings over; every key is checked, and an unknown key or a bad value
 * stops the server at start with the key's path and the reason.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { parseByteSize, parseDurationMs } from './units.js';

export interface LimitsConfig {
  ingestion_rate_mb: number;
  ingestion_burst_size_mb: number;
  per_stream_rate_limit: number;
  per_stream_rate_limit_burst: number;
  max_line_size: number;
  max_line_size_truncate: boolean;
  max_label_name_length: number;
  max_label_value_length: number;
  max_label_names_per_series: number;
  max_global_streams_per_user: number;
  reject_old_samples: boolean;
  reject_old_samples_max_age: number;
  creation_grace_period: number;
  retention_period: number;
  max_entries_limit_per_query: number;
  max_query_series: number;
  max_query_length: number;
  query_timeout: number;
  /** Adds `detected_level` structured metadata to entries at ingest (Loki's default: on). */
  discover_log_levels: boolean;
  /** Labels whose value becomes `service_name` when a stream has none, in order; empty = off. */
  discover_service_name: string[];
}

export type WalSyncMode = 'batch' | 'interval';

/** One of `ruler.remote_write.clients`: a Prometheus remote-write endpoint. */
export interface RemoteWriteClientConfig {
  url: string;
  headers: Record<string, string>;
  basic_auth?: { username: string; password: string };
  remote_timeout: number;
}

/** Loki's `ruler` block (pkg/ruler/base/ruler.go, pkg/ruler/config.go), the keys Skald uses. */
export interface RulerConfig {
  /** Rule files live in `<directory>/<tenant>/<namespace>`; '' = `<common.path_prefix>/rules`. */
  storage: { type: 'local'; local: { directory: string } };
  /** Parsed from Loki's comma-separated `alertmanager_url`; each URL is its own Alertmanager. */
  alertmanager_url: string[];
  /** Base URL of the Grafana instance, for alerts' generatorURL; '' = none. */
  external_url: string;
  evaluation_interval: number;
  poll_interval: number;
  resend_delay: number;
  notification_timeout: number;
  enable_api: boolean;
  remote_write: { enabled: boolean; add_org_id_header: boolean; clients: Record<string, RemoteWriteClientConfig> };
}

export interface ServerConfig {
  auth_enabled: boolean;
  server: { http_listen_address: string; http_listen_port: number };
  common: { path_prefix: string };
  distributor: { max_recv_msg_size: number };
  ingester: {
    chunk_block_size: number;
    chunk_target_size: number;
    chunk_idle_period: number;
    max_chunk_age: number;
    /** Threads that decode pushes and compress blocks beside the event loop; 0 = all inline. */
    worker_threads: number;
    /** Above this many bytes in all heads together, the largest heads are cut early (Skald's own key). */
    head_memory_limit: number;
    wal: { sync: WalSyncMode; sync_period: number; checkpoint_duration: number; segment_size: number };
  };
  compactor: { compaction_interval: number };
  /** Skald's own key: threads that extract metric queries' samples, apart from ingestion's. */
  querier: { worker_threads: number };
  limits_config: LimitsConfig;
  ruler: RulerConfig;
}

/** Thrown for a configuration that cannot be used; the message names the key and the reason. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type FieldKind =
  | 'bool'
  | 'int'
  | 'float'
  | 'duration'
  | 'bytes'
  | 'string'
  | 'optional_string'
  | 'string_list'
  | 'url_list'
  | 'remote_write_clients'
  | 'port'
  | string[];
interface Section { [key: string]: FieldKind | Section }

// Durations are held in milliseconds, sizes in bytes.
const SCHEMA: Section = {
  auth_enabled: 'bool',
  server: { http_listen_address: 'string', http_listen_port: 'port' },
  common: { path_prefix: 'string' },
  distributor: { max_recv_msg_size: 'bytes' },
  ingester: {
    chunk_block_size: 'bytes',
    chunk_target_size: 'bytes',
    chunk_idle_period: 'duration',
    max_chunk_age: 'duration',
    worker_threads: 'int',
    head_memory_limit: 'bytes',
    wal: { sync: ['batch', 'interval'], sync_period: 'duration', checkpoint_duration: 'duration', segment_size: 'bytes' },
  },
  compactor: { compaction_interval: 'duration' },
  querier: { worker_threads: 'int' },
  limits_config: {
    ingestion_rate_mb: 'float',
    ingestion_burst_size_mb: 'float',
    per_stream_rate_limit: 'bytes',
    per_stream_rate_limit_burst: 'bytes',
    max_line_size: 'bytes',
    max_line_size_truncate: 'bool',
    max_label_name_length: 'int',
    max_label_value_length: 'int',
    max_label_names_per_series: 'int',
    max_global_streams_per_user: 'int',
    reject_old_samples: 'bool',
    reject_old_samples_max_age: 'duration',
    creation_grace_period: 'duration',
    retention_period: 'duration',
    max_entries_limit_per_query: 'int',
    max_query_series: 'int',
    max_query_length: 'duration',
    query_timeout: 'duration',
    discover_log_levels: 'bool',
    discover_service_name: 'string_list',
  },
  ruler: {
    storage: { type: ['local'], local: { directory: 'optional_string' } },
    alertmanager_url: 'url_list',
    external_url: 'optional_string',
    evaluation_interval: 'duration',
    poll_interval: 'duration',
    resend_delay: 'duration',
    notification_timeout: 'duration',
    enable_api: 'bool',
    remote_write: { enabled: 'bool', add_org_id_header: 'bool', clients: 'remote_write_clients' },
  },
};

/** Loki's defaults (docs/sources/shared/configuration.md), except where noted. */
export function defaultConfig(): ServerConfig {
  return {
    auth_enabled: false,
    server: { http_listen_address: '127.0.0.1', http_listen_port: 3100 },
    common: { path_prefix: './data' },
    distributor: { max_recv_msg_size: 100 * 1024 * 1024 },
    ingester: {
      chunk_block_size: 262_144,
      chunk_target_size: 1_572_864,
      chunk_idle_period: 30 * 60_000,
      max_chunk_age: 2 * 3_600_000,
      worker_threads: Math.min(4, availableParallelism()),
      head_memory_limit: 32 * 1024 * 1024,
      // Skald's WAL: `sync` chooses fsync per acknowledged batch or every `sync_period`;
      // either way a write is in the OS before the 204, so it survives kill -9.
      wal: { sync: 'interval', sync_period: 1000, checkpoint_duration: 5 * 60_000, segment_size: 64 * 1024 * 1024 },
    },
    compactor: { compaction_interval: 10 * 60_000 },
    // A query's threads of its own: a heavy query must not hold up the decoding of pushes.
    querier: { worker_threads: Math.min(4, availableParallelism()) },
    limits_config: {
      ingestion_rate_mb: 4,
      ingestion_burst_size_mb: 6,
      per_stream_rate_limit: 3 * 1024 * 1024,
      per_stream_rate_limit_burst: 15 * 1024 * 1024,
      max_line_size: 256 * 1024,
      max_line_size_truncate: false,
      max_label_name_length: 1024,
      max_label_value_length: 2048,
      max_label_names_per_series: 15,
      max_global_streams_per_user: 5000,
      reject_old_samples: true,
      reject_old_samples_max_age: 7 * 86_400_000,
      creation_grace_period: 10 * 60_000,
      retention_period: 0,
      max_entries_limit_per_query: 5000,
      max_query_series: 500,
      max_query_length: 721 * 3_600_000,
      query_timeout: 60_000,
      discover_log_levels: true,
      // Loki's default list (pkg/validation/limits.go, validation.discover-service-name).
      discover_service_name: [
        'service',
        'app',
        'application',
        'app_name',
        'name',
        'app_kubernetes_io_name',
        'container',
        'container_name',
        'k8s_container_name',
        'component',
        'workload',
        'job',
        'k8s_job_name',
      ],
    },
    ruler: {
      storage: { type: 'local', local: { directory: '' } },
      alertmanager_url: [],
      external_url: '',
      evaluation_interval: 60_000,
      poll_interval: 60_000,
      resend_delay: 60_000,
      notification_timeout: 10_000,
      enable_api: true,
      remote_write: { enabled: false, add_org_id_header: true, clients: {} },
    },
  };
}

function convert(kind: FieldKind, value: unknown, path: string): unknown {
  const fail = (reason: string): never => {
    throw new ConfigError(`${path}: ${reason} (got ${JSON.stringify(value)})`);
  };
  if (Array.isArray(kind)) {
    if (typeof value !== 'string' || !kind.includes(value)) fail(`must be one of ${kind.join(', ')}`);
    return value;
  }
  switch (kind) {
    case 'bool':
      if (typeof value !== 'boolean') fail('must be true or false');
      return value;
    case 'string':
      if (typeof value !== 'string' || value.length === 0) fail('must be a non-empty string');
      return value;
    case 'optional_string':
      if (value === null) return '';
      if (typeof value !== 'string') fail('must be a string');
      return value;
    case 'url_list': {
      if (value === null || value === '') return [];
      if (typeof value !== 'string') fail('must be a comma-separated list of URLs');
      return (value as string).split(',').map((url) => checkUrl(url.trim(), path));
    }
    case 'remote_write_clients':
      return remoteWriteClients(value, path);
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) fail('must be a whole number ≥ 0');
      return value;
    case 'string_list':
      // YAML `key:` (null) is an empty list, as Loki reads it.
      if (value === null) return [];
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) fail('must be a list of non-empty strings');
      return [...(value as string[])];
    case 'port':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) fail('must be a port number 0–65535');
      return value;
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail('must be a number ≥ 0');
      return value;
    case 'duration': {
      const ms = typeof value === 'string' ? parseDurationMs(value) : value === 0 ? 0 : undefined;
      if (ms === undefined) fail('invalid duration, expected e.g. 30s, 10m, 1h30m, 1w');
      return ms;
    }
    case 'bytes': {
      const bytes = typeof value === 'string' || typeof value === 'number' ? parseByteSize(value) : undefined;
      if (bytes === undefined) fail('invalid size, expected bytes or e.g. 256KB, 3MB');
      return bytes;
    }
  }
}

function checkUrl(url: string, path: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${path}: invalid URL ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`${path}: URL ${JSON.stringify(url)} must be http or https`);
  return url;
}

const REMOTE_WRITE_CLIENT_KEYS = new Set(['url', 'headers', 'basic_auth', 'remote_timeout']);

/** `clients: {<id>: {url, headers, basic_auth: {username, password}, remote_timeout}}`, as Prometheus's remote_write entries. */
function remoteWriteClients(value: unknown, path: string): Record<string, RemoteWriteClientConfig> {
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${path}: must be a mapping of client id to remote-write config`);
  const clients: Record<string, RemoteWriteClientConfig> = {};
  for (const [id, raw] of Object.entries(value as Record<string, unknown>)) {
    const at = `${path}.${id}`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${at}: must be a mapping`);
    const entry = raw as Record<string, unknown>;
    for (const key of Object.keys(entry)) if (!REMOTE_WRITE_CLIENT_KEYS.has(key)) throw new ConfigError(`${at}.${key}: unknown key`);
    if (typeof entry.url !== 'string') throw new ConfigError(`${at}.url: required`);
    const client: RemoteWriteClientConfig = { url: checkUrl(entry.url, `${at}.url`), headers: {}, remote_timeout: 30_000 };
    if (entry.headers !== undefined && entry.headers !== null) {
      if (typeof entry.headers !== 'object' || Array.isArray(entry.headers) || Object.values(entry.headers).some((v) => typeof v !== 'string')) {
        throw new ConfigError(`${at}.headers: must be a mapping of header names to strings`);
      }
      client.headers = { ...(entry.headers as Record<string, string>) };
    }
    if (entry.basic_auth !== undefined) {
      const auth = entry.basic_auth as Record<string, unknown> | null;
      if (auth === null || typeof auth !== 'object' || typeof auth.username !== 'string' || typeof auth.password !== 'string') {
        throw new ConfigError(`${at}.basic_auth: needs username and password strings`);
      }
      client.basic_auth = { username: auth.username, password: auth.password };
    }
    if (entry.remote_timeout !== undefined) client.remote_timeout = convert('duration', entry.remote_timeout, `${at}.remote_timeout`) as number;
    clients[id] = client;
  }
  return clients;
}

function applySection(target: Record<string, unknown>, schema: Section, input: unknown, path: string): void {
  if (input === null || input === undefined) return;
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError(`${path || 'top level'}: must be a mapping (got ${JSON.stringify(input)})`);
  }
  for (const [key, value] of Object.entries(input)) {
    const keyPath = path ? `${path}.${key}` : key;
    const kind = schema[key];
    if (kind === undefined) throw new ConfigError(`${keyPath}: unknown key`);
    if (typeof kind === 'object' && !Array.isArray(kind)) {
      applySection(target[key] as Record<string, unknown>, kind, value, keyPath);
    } else {
      target[key] = convert(kind, value, keyPath);
    }
  }
}

/** Merges a parsed YAML document over the defaults, checking every key. */
export function configFromObject(input: unknown): ServerConfig {
  const config = defaultConfig();
  applySection(config as unknown as Record<string, unknown>, SCHEMA, input, '');
  return config;
}

export function loadConfigFile(file: string): ServerConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file}: invalid YAML: ${(err as Error).message}`);
  }
  try {
    return configFromObject(document);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${file}: ${err.message}`);
    throw err;
  }
}
