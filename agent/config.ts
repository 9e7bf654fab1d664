/**
 * The agent's YAML configuration (`skald agent --config agent.yaml`), with Promtail's key names
 * where Promtail has the setting. Every key is checked: an unknown key or a bad value throws an
 * AgentConfigError naming the key's path and the reason, e.g.
 * `clients[0].batchwait: invalid duration "x"`. Durations are held in milliseconds, sizes in bytes.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ParseError, RegexSyntaxError, compileRegex } from '../logql/index.js';
import { compileJmesPath } from './stages/json.js';
import { parseMatchSelector } from './stages/match.js';
import { checkLocation } from './stages/timelayout.js';
import { StageConfigError } from './stages/types.js';
import { parseDuration, parseSize } from './units.js';

export class AgentConfigError extends Error {
  override readonly name = 'AgentConfigError';
}

export interface BackoffConfig {
  min_period: number;
  max_period: number;
  /** 0 retries forever (as dskit's backoff does). */
  max_retries: number;
}

export interface ClientConfig {
  url: string;
  /** Sent as X-Scope-OrgID; empty = header omitted. */
  tenant_id: string;
  batchwait: number;
  batchsize: number;
  backoff_config: BackoffConfig;
  timeout: number;
  external_labels: Record<string, string>;
  headers: Record<string, string>;
}

/** Options of the `cri` and `docker` stages (the last two keys are Skald's own). */
export interface JoinStageConfig {
  max_partial_lines: number;
  max_partial_line_size: number;
  max_partial_line_size_truncate: boolean;
  /** Skald: flush a partial line whose final part has not come for this long. */
  max_wait_time: number;
}

export interface JsonStageConfig {
  /** extracted name → JMESPath-like expression; an empty expression means the name itself. */
  expressions: Record<string, string>;
  source?: string;
  drop_malformed: boolean;
}

export interface LogfmtStageConfig {
  mapping: Record<string, string>;
  source?: string;
}

export interface RegexStageConfig {
  expression: string;
  source?: string;
}

export interface TimestampStageConfig {
  source: string;
  format: string;
  fallback_formats: string[];
  location?: string;
  action_on_failure: 'fudge' | 'skip';
}

export interface OutputStageConfig {
  source: string;
}

export interface MatchStageConfig {
  selector: string;
  pipeline_name?: string;
  action: 'keep' | 'drop';
  drop_counter_reason: string;
  stages: PipelineStage[];
}

export interface DropStageConfig {
  source?: string | string[];
  separator: string;
  expression?: string;
  value?: string;
  older_than?: number;
  longer_than?: number;
  drop_counter_reason: string;
}

export interface MultilineStageConfig {
  firstline: string;
  max_wait_time: number;
  max_lines: number;
}

export type PipelineStage =
  | { cri: JoinStageConfig }
  | { docker: JoinStageConfig }
  | { json: JsonStageConfig }
  | { logfmt: LogfmtStageConfig }
  | { regex: RegexStageConfig }
  /** label name → extracted name (empty: the label's own name). */
  | { labels: Record<string, string> }
  | { static_labels: Record<string, string> }
  | { labeldrop: string[] }
  | { labelallow: string[] }
  | { timestamp: TimestampStageConfig }
  | { output: OutputStageConfig }
  | { match: MatchStageConfig }
  | { drop: DropStageConfig }
  | { multiline: MultilineStageConfig };

export type StageName = PipelineStage extends infer S ? (S extends unknown ? keyof S : never) : never;

export const STAGE_NAMES: readonly StageName[] = [
  'cri', 'docker', 'json', 'logfmt', 'regex', 'labels', 'static_labels', 'labeldrop', 'labelallow',
  'timestamp', 'output', 'match', 'drop', 'multiline',
];

export interface AgentConfig {
  server: { http_listen_address: string; http_listen_port: number };
  positions: { filename: string; sync_period: number; ignore_invalid_yaml: boolean };
  pods_dir: string;
  clients: ClientConfig[];
  pipeline_stages: PipelineStage[];
}

// ---------------------------------------------------------------------------------------------
// Field readers. Each takes the value and its key path and returns the checked value or throws.

type Obj = Record<string, unknown>;

function fail(path: string, reason: string): never {
  throw new AgentConfigError(`${path || 'top level'}: ${reason}`);
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function mapping(value: unknown, path: string): Obj {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) fail(path, `must be a mapping (got ${show(value)})`);
  return value as Obj;
}

/** Checks that `obj` has only `allowed` keys. */
function onlyKeys(obj: Obj, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) fail(join(path, key), `unknown key (allowed: ${allowed.join(', ')})`);
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function str(value: unknown, path: string, allowEmpty = false): string {
  if (typeof value !== 'string' || (!allowEmpty && value.length === 0)) {
    fail(path, `must be a${allowEmpty ? '' : ' non-empty'} string (got ${show(value)})`);
  }
  return value;
}

function bool(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') fail(path, `must be true or false (got ${show(value)})`);
  return value;
}

function int(value: unknown, path: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(path, `must be a whole number from ${min} to ${max} (got ${show(value)})`);
  }
  return value;
}

function duration(value: unknown, path: string): number {
  const ms = typeof value === 'string' ? parseDuration(value) : value === 0 ? 0 : undefined;
  if (ms === undefined) fail(path, `invalid duration ${show(value)} (expected e.g. 500ms, 10s, 1m30s)`);
  return ms;
}

function size(value: unknown, path: string): number {
  const bytes = typeof value === 'string' || typeof value === 'number' ? parseSize(value) : undefined;
  if (bytes === undefined) fail(path, `invalid size ${show(value)} (expected bytes or e.g. 512KB, 1MiB)`);
  return bytes;
}

function oneOf<T extends string>(value: unknown, choices: readonly T[], path: string): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    fail(path, `must be one of ${choices.join(', ')} (got ${show(value)})`);
  }
  return value as T;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function labelName(value: string, path: string): string {
  if (!LABEL_NAME.test(value)) fail(path, `invalid label name ${show(value)}`);
  return value;
}

/** A mapping of strings; numbers and booleans are taken as their text, as YAML users expect. */
function stringMap(value: unknown, path: string, keys: 'labels' | 'any', nullAs?: 'key'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(mapping(value, path))) {
    const keyPath = join(path, key);
    if (keys === 'labels') labelName(key, keyPath);
    if (v === null || v === undefined || v === '') {
      if (nullAs === 'key') {
        out[key] = '';
        continue;
      }
      fail(keyPath, 'must have a value');
    }
    if (typeof v === 'number' || typeof v === 'boolean') out[key] = String(v);
    else out[key] = str(v, keyPath, true);
  }
  return out;
}

function stringList(value: unknown, path: string): string[] {
  if (!Array.isArray(value)) fail(path, `must be a list of strings (got ${show(value)})`);
  return value.map((v, i) => str(v, `${path}[${i}]`));
}

function regex(value: unknown, path: string): string {
  const pattern = str(value, path);
  try {
    compileRegex(pattern, { anchored: false });
  } catch (err) {
    if (err instanceof RegexSyntaxError || err instanceof SyntaxError) fail(path, `invalid regular expression: ${err.message}`);
    throw err;
  }
  return pattern;
}

/** Reads the fields of a mapping with `readers`, which also names the allowed keys. */
function fields<T>(
  value: unknown,
  path: string,
  defaults: T,
  readers: { [K in keyof T]-?: (v: unknown, path: string) => T[K] },
  required: readonly (keyof T & string)[] = [],
): T {
  const obj = mapping(value, path);
  onlyKeys(obj, Object.keys(readers), path);
  const out = { ...defaults };
  for (const key of Object.keys(obj) as (keyof T & string)[]) {
    const v = obj[key];
    if (v === null || v === undefined) continue;
    out[key] = readers[key](v, join(path, key));
  }
  for (const key of required) {
    if (out[key] === undefined) fail(join(path, key), 'is required');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Pipeline stages.

/** Defaults of the joining stages: Promtail's 100 parts; see agent/partial.ts for the rest. */
function joinStage(value: unknown, path: string): JoinStageConfig {
  const stage = fields<JoinStageConfig>(
    value,
    path,
    { max_partial_lines: 100, max_partial_line_size: 256 * 1024, max_partial_line_size_truncate: false, max_wait_time: 5000 },
    { max_partial_lines: (v, p) => int(v, p), max_partial_line_size: size, max_partial_line_size_truncate: bool, max_wait_time: duration },
  );
  // Promtail reads 0 as "use the default" (100 lines) and "no size limit"; Skald keeps a bound.
  if (stage.max_partial_lines === 0) stage.max_partial_lines = 100;
  if (stage.max_partial_line_size === 0) stage.max_partial_line_size = 256 * 1024;
  return stage;
}

const STAGE_READERS: { [K in StageName]: (value: unknown, path: string) => unknown } = {
  cri: joinStage,
  docker: joinStage,
  json: (value, path) => {
    const stage = fields<JsonStageConfig>(
      value,
      path,
      { expressions: {}, source: undefined, drop_malformed: false },
      { expressions: (v, p) => stringMap(v, p, 'any', 'key'), source: (v, p) => str(v, p), drop_malformed: bool },
      ['expressions'],
    );
    if (Object.keys(stage.expressions).length === 0) fail(join(path, 'expressions'), 'is required');
    for (const [name, expression] of Object.entries(stage.expressions)) {
      try {
        compileJmesPath(expression || name);
      } catch (err) {
        if (err instanceof StageConfigError) fail(join(join(path, 'expressions'), name), err.message);
        throw err;
      }
    }
    return stage;
  },
  logfmt: (value, path) => {
    const stage = fields<LogfmtStageConfig>(
      value,
      path,
      { mapping: {}, source: undefined },
      { mapping: (v, p) => stringMap(v, p, 'any', 'key'), source: (v, p) => str(v, p) },
    );
    if (Object.keys(stage.mapping).length === 0) fail(join(path, 'mapping'), 'is required');
    return stage;
  },
  regex: (value, path) =>
    fields<RegexStageConfig>(value, path, { expression: '', source: undefined }, { expression: regex, source: (v, p) => str(v, p) }, []),
  labels: (value, path) => {
    const labels = stringMap(value, path, 'labels', 'key');
    if (Object.keys(labels).length === 0) fail(path, 'must name at least one label');
    return labels;
  },
  static_labels: (value, path) => {
    const labels = stringMap(value, path, 'labels');
    if (Object.keys(labels).length === 0) fail(path, 'must name at least one label');
    return labels;
  },
  labeldrop: (value, path) => stringList(value, path).map((name, i) => labelName(name, `${path}[${i}]`)),
  labelallow: (value, path) => stringList(value, path).map((name, i) => labelName(name, `${path}[${i}]`)),
  timestamp: (value, path) =>
    fields<TimestampStageConfig>(
      value,
      path,
      { source: '', format: '', fallback_formats: [], location: undefined, action_on_failure: 'fudge' },
      {
        source: (v, p) => str(v, p),
        format: (v, p) => str(v, p),
        fallback_formats: stringList,
        location: (v, p) => {
          const name = str(v, p);
          try {
            checkLocation(name);
          } catch {
            fail(p, `unknown time zone ${show(name)} (expected an IANA name such as Europe/Berlin)`);
          }
          return name;
        },
        action_on_failure: (v, p) => oneOf(v, ['fudge', 'skip'] as const, p),
      },
    ),
  output: (value, path) => fields<OutputStageConfig>(value, path, { source: '' }, { source: (v, p) => str(v, p) }),
  match: (value, path) => {
    const stage = fields<MatchStageConfig>(
      value,
      path,
      { selector: '', pipeline_name: undefined, action: 'keep', drop_counter_reason: 'match_stage', stages: [] },
      {
        selector: (v, p) => {
          const selector = str(v, p);
          try {
            parseMatchSelector(selector);
          } catch (err) {
            if (err instanceof ParseError || err instanceof RegexSyntaxError) fail(p, `invalid selector: ${err.message}`);
            throw err;
          }
          return selector;
        },
        pipeline_name: (v, p) => str(v, p),
        action: (v, p) => oneOf(v, ['keep', 'drop'] as const, p),
        drop_counter_reason: (v, p) => str(v, p),
        stages: pipelineStages,
      },
    );
    if (stage.action === 'keep' && stage.stages.length === 0) fail(join(path, 'stages'), 'is required when action is keep');
    if (stage.action === 'drop' && stage.stages.length > 0) fail(join(path, 'stages'), 'must be empty when action is drop');
    return stage;
  },
  drop: (value, path) => {
    const stage = fields<DropStageConfig>(
      value,
      path,
      { source: undefined, separator: ';', expression: undefined, value: undefined, older_than: undefined, longer_than: undefined, drop_counter_reason: 'drop_stage' },
      {
        source: (v, p) => (Array.isArray(v) ? stringList(v, p) : str(v, p)),
        separator: (v, p) => str(v, p, true),
        expression: regex,
        value: (v, p) => str(v, p, true),
        older_than: duration,
        longer_than: size,
        drop_counter_reason: (v, p) => str(v, p),
      },
    );
    if (stage.expression !== undefined && stage.value !== undefined) fail(join(path, 'value'), 'cannot be used with expression');
    if (stage.value !== undefined && stage.source === undefined) fail(join(path, 'source'), 'is required with value');
    if (stage.source === undefined && stage.expression === undefined && stage.older_than === undefined && stage.longer_than === undefined) {
      fail(path, 'needs at least one of source, expression, older_than, longer_than');
    }
    return stage;
  },
  multiline: (value, path) => {
    const stage = fields<MultilineStageConfig>(
      value,
      path,
      { firstline: '', max_wait_time: 3000, max_lines: 128 },
      { firstline: regex, max_wait_time: duration, max_lines: (v, p) => int(v, p, 1) },
    );
    if (stage.firstline === '') fail(join(path, 'firstline'), 'is required');
    return stage;
  },
};

const REQUIRED_STRING_FIELDS: Partial<Record<StageName, readonly string[]>> = {
  regex: ['expression'],
  timestamp: ['source', 'format'],
  output: ['source'],
  match: ['selector'],
};

function pipelineStages(value: unknown, path: string): PipelineStage[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) fail(path, `must be a list of stages (got ${show(value)})`);
  return value.map((item, i) => {
    const itemPath = `${path}[${i}]`;
    const obj = mapping(item, itemPath);
    const keys = Object.keys(obj);
    if (keys.length !== 1) fail(itemPath, `a stage must be a mapping with exactly one stage name (got ${keys.length} keys)`);
    const name = keys[0]!;
    if (!(STAGE_NAMES as readonly string[]).includes(name)) fail(join(itemPath, name), `unknown stage (known: ${STAGE_NAMES.join(', ')})`);
    const stageName = name as StageName;
    const stagePath = join(itemPath, name);
    const options = STAGE_READERS[stageName](obj[name], stagePath) as Record<string, unknown>;
    for (const key of REQUIRED_STRING_FIELDS[stageName] ?? []) {
      if (options[key] === '' || options[key] === undefined) fail(join(stagePath, key), 'is required');
    }
    return { [stageName]: options } as PipelineStage;
  });
}

// ---------------------------------------------------------------------------------------------
// Top level.

function clientConfig(value: unknown, path: string): ClientConfig {
  const client = fields<ClientConfig>(
    value,
    path,
    {
      url: '',
      tenant_id: '',
      batchwait: 1000,
      batchsize: 1024 * 1024,
      backoff_config: { min_period: 500, max_period: 300_000, max_retries: 10 },
      timeout: 10_000,
      external_labels: {},
      headers: {},
    },
    {
      url: (v, p) => {
        const text = str(v, p);
        let url: URL;
        try {
          url = new URL(text);
        } catch {
          fail(p, `invalid URL ${show(text)}`);
        }
        if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(p, `URL must be http or https (got ${show(text)})`);
        return text;
      },
      tenant_id: (v, p) => str(v, p, true),
      batchwait: duration,
      batchsize: (v, p) => {
        const bytes = size(v, p);
        if (bytes < 1) fail(p, 'must be at least 1 byte');
        return bytes;
      },
      backoff_config: (v, p) =>
        fields<BackoffConfig>(
          v,
          p,
          { min_period: 500, max_period: 300_000, max_retries: 10 },
          { min_period: duration, max_period: duration, max_retries: (x, q) => int(x, q) },
        ),
      timeout: duration,
      external_labels: (v, p) => stringMap(v, p, 'labels'),
      headers: (v, p) => stringMap(v, p, 'any'),
    },
  );
  if (client.url === '') fail(join(path, 'url'), 'is required');
  const backoff = client.backoff_config;
  if (backoff.min_period > backoff.max_period) {
    fail(join(path, 'backoff_config.min_period'), `must not exceed max_period (${backoff.min_period}ms > ${backoff.max_period}ms)`);
  }
  if (client.timeout <= 0) fail(join(path, 'timeout'), 'must be greater than 0');
  return client;
}

export function defaultAgentConfig(): AgentConfig {
  return {
    // Promtail's chart listens on 3101; on all addresses so that the kubelet's readiness probe
    // can reach /ready on the pod IP.
    server: { http_listen_address: '0.0.0.0', http_listen_port: 3101 },
    // Promtail's defaults: /var/log/positions.yaml, sync every 10s, corrupt file = error.
    positions: { filename: '/var/log/positions.yaml', sync_period: 10_000, ignore_invalid_yaml: false },
    pods_dir: '/var/log/pods',
    clients: [],
    pipeline_stages: [],
  };
}

/** Checks a parsed YAML document and fills in the defaults. */
export function agentConfigFromObject(input: unknown): AgentConfig {
  const defaults = defaultAgentConfig();
  const config = fields<AgentConfig>(input, '', defaults, {
    server: (v, p) =>
      fields(v, p, defaults.server, {
        http_listen_address: (x, q) => str(x, q),
        http_listen_port: (x, q) => int(x, q, 0, 65535),
      }),
    positions: (v, p) =>
      fields(v, p, defaults.positions, {
        filename: (x, q) => str(x, q),
        sync_period: duration,
        ignore_invalid_yaml: bool,
      }),
    pods_dir: (v, p) => str(v, p),
    clients: (v, p) => {
      if (!Array.isArray(v)) fail(p, `must be a list of clients (got ${show(v)})`);
      return v.map((item, i) => clientConfig(item, `${p}[${i}]`));
    },
    pipeline_stages: pipelineStages,
  });
  if (config.clients.length === 0) fail('clients', 'at least one client with a url is required');
  return config;
}

/** Reads, parses and checks an agent configuration file; errors name the file, the key and the reason. */
export function loadAgentConfig(file: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AgentConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    throw new AgentConfigError(`${file}: invalid YAML: ${(err as Error).message}`);
  }
  try {
    return agentConfigFromObject(document);
  } catch (err) {
    if (err instanceof AgentConfigError) throw new AgentConfigError(`${file}: ${err.message}`);
    throw err;
  }
}
