import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgentConfigError, agentConfigFromObject, loadAgentConfig } from '../../agent/config.js';
import { tempDir } from '../helpers/tmp.js';

const MINIMAL = { clients: [{ url: 'http://skald:3100/loki/api/v1/push' }] };

function errorOf(input: unknown): string {
  try {
    agentConfigFromObject(input);
  } catch (err) {
    expect(err).toBeInstanceOf(AgentConfigError);
    return (err as Error).message;
  }
  throw new Error('no error thrown');
}

function withClient(extra: Record<string, unknown>): unknown {
  return { clients: [{ url: 'http://skald:3100/loki/api/v1/push', ...extra }] };
}

function withStages(stages: unknown): unknown {
  return { ...MINIMAL, pipeline_stages: stages };
}

describe('agent configuration', () => {
  it("fills in Promtail's client defaults", () => {
    const config = agentConfigFromObject(MINIMAL);
    expect(config.clients[0]).toEqual({
      url: 'http://skald:3100/loki/api/v1/push',
      tenant_id: '',
      batchwait: 1000,
      batchsize: 1_048_576,
      backoff_config: { min_period: 500, max_period: 300_000, max_retries: 10 },
      timeout: 10_000,
      external_labels: {},
      headers: {},
    });
    expect(config.pods_dir).toBe('/var/log/pods');
    expect(config.positions).toEqual({ filename: '/var/log/positions.yaml', sync_period: 10_000, ignore_invalid_yaml: false });
    expect(config.server.http_listen_port).toBe(3101);
    expect(config.pipeline_stages).toEqual([]);
  });

  it('reads every key of a full Promtail-style file', () => {
    const dir = tempDir();
    const file = join(dir, 'agent.yaml');
    writeFileSync(
      file,
      `server:
  http_listen_port: 9080
  http_listen_address: 127.0.0.1
positions:
  filename: /run/skald/positions.yaml
  sync_period: 5s
pods_dir: /tmp/pods
clients:
  - url: https://loki.example/loki/api/v1/push
    tenant_id: team-a
    batchwait: 1m30s
    batchsize: 2MiB
    backoff_config:
      min_period: 250ms
      max_period: 1m
      max_retries: 0
    timeout: 30s
    external_labels:
      cluster: prod
      region: 1
    headers:
      Authorization: Bearer abc
  - url: http://second:3100/loki/api/v1/push
    batchsize: 1MB
pipeline_stages:
  - cri:
      max_partial_lines: 50
      max_partial_line_size: 128KB
      max_partial_line_size_truncate: true
      max_wait_time: 2s
  - json:
      expressions:
        level:
        msg: message
  - labels:
      level:
  - match:
      selector: '{app="nginx"}'
      stages:
        - regex:
            expression: '^(?P<ip>\\S+) '
        - drop:
            source: ip
            value: 10.0.0.1
  - match:
      selector: '{namespace="noisy"}'
      action: drop
  - multiline:
      firstline: '^\\d{4}-'
  - timestamp:
      source: time
      format: RFC3339Nano
  - output:
      source: msg
  - static_labels:
      env: prod
  - labeldrop: [filename]
  - labelallow: [namespace, pod]
  - logfmt:
      mapping:
        lvl: level
  - docker: {}
`,
    );
    const config = loadAgentConfig(file);
    expect(config.server).toEqual({ http_listen_port: 9080, http_listen_address: '127.0.0.1' });
    expect(config.positions.filename).toBe('/run/skald/positions.yaml');
    expect(config.positions.sync_period).toBe(5000);
    expect(config.pods_dir).toBe('/tmp/pods');
    expect(config.clients[0]).toEqual({
      url: 'https://loki.example/loki/api/v1/push',
      tenant_id: 'team-a',
      batchwait: 90_000,
      batchsize: 2 * 1_048_576,
      backoff_config: { min_period: 250, max_period: 60_000, max_retries: 0 },
      timeout: 30_000,
      external_labels: { cluster: 'prod', region: '1' },
      headers: { Authorization: 'Bearer abc' },
    });
    expect(config.clients[1]!.batchsize).toBe(1_048_576);
    expect(config.pipeline_stages.map((s) => Object.keys(s)[0])).toEqual([
      'cri', 'json', 'labels', 'match', 'match', 'multiline', 'timestamp', 'output', 'static_labels', 'labeldrop', 'labelallow', 'logfmt', 'docker',
    ]);
    expect(config.pipeline_stages[0]).toEqual({
      cri: { max_partial_lines: 50, max_partial_line_size: 131_072, max_partial_line_size_truncate: true, max_wait_time: 2000 },
    });
    expect(config.pipeline_stages[1]).toEqual({ json: { expressions: { level: '', msg: 'message' }, source: undefined, drop_malformed: false } });
    expect(config.pipeline_stages[3]).toMatchObject({
      match: { selector: '{app="nginx"}', action: 'keep', stages: [{ regex: { expression: '^(?P<ip>\\S+) ' } }, { drop: { source: 'ip', value: '10.0.0.1' } }] },
    });
    expect(config.pipeline_stages[5]).toEqual({ multiline: { firstline: '^\\d{4}-', max_wait_time: 3000, max_lines: 128 } });
    expect(config.pipeline_stages[12]).toEqual({
      docker: { max_partial_lines: 100, max_partial_line_size: 262_144, max_partial_line_size_truncate: false, max_wait_time: 5000 },
    });
  });

  it('names the key path and the reason of a bad value', () => {
    expect(errorOf(withClient({ batchwait: 'x' }))).toBe('clients[0].batchwait: invalid duration "x" (expected e.g. 500ms, 10s, 1m30s)');
    expect(errorOf(withClient({ batchsize: '1XB' }))).toMatch(/^clients\[0\]\.batchsize: invalid size "1XB"/);
    expect(errorOf(withClient({ backoff_config: { max_retries: -1 } }))).toMatch(/^clients\[0\]\.backoff_config\.max_retries: must be a whole number/);
    expect(errorOf(withClient({ backoff_config: { min_period: '10m' } }))).toMatch(/^clients\[0\]\.backoff_config\.min_period: must not exceed max_period/);
    expect(errorOf(withClient({ timeout: 0 }))).toMatch(/^clients\[0\]\.timeout: must be greater than 0/);
    expect(errorOf(withClient({ url: 'ftp://x' }))).toMatch(/^clients\[0\]\.url: URL must be http or https/);
    expect(errorOf(withClient({ url: 'not a url' }))).toMatch(/^clients\[0\]\.url: invalid URL/);
    expect(errorOf(withClient({ external_labels: { 'bad-name': 'x' } }))).toMatch(/^clients\[0\]\.external_labels\.bad-name: invalid label name/);
    expect(errorOf(withClient({ headers: { X: ['a'] } }))).toMatch(/^clients\[0\]\.headers\.X: must be a string/);
    expect(errorOf({ clients: [{ tenant_id: 'a' }] })).toBe('clients[0].url: is required');
    expect(errorOf({})).toMatch(/^clients: at least one client/);
    expect(errorOf({ ...MINIMAL, server: { http_listen_port: 70000 } })).toMatch(/^server\.http_listen_port: must be a whole number from 0 to 65535/);
    expect(errorOf({ ...MINIMAL, positions: { sync_period: '10' } })).toMatch(/^positions\.sync_period: invalid duration "10"/);
    expect(errorOf({ ...MINIMAL, pods_dir: 5 })).toMatch(/^pods_dir: must be a non-empty string/);
    expect(errorOf('just a string')).toMatch(/^top level: must be a mapping/);
  });

  it('rejects unknown keys at every level', () => {
    expect(errorOf({ ...MINIMAL, scrape_configs: [] })).toMatch(/^scrape_configs: unknown key/);
    expect(errorOf(withClient({ batch_wait: '1s' }))).toMatch(/^clients\[0\]\.batch_wait: unknown key/);
    expect(errorOf(withClient({ backoff_config: { min: '1s' } }))).toMatch(/^clients\[0\]\.backoff_config\.min: unknown key/);
    expect(errorOf({ ...MINIMAL, server: { grpc_listen_port: 0 } })).toMatch(/^server\.grpc_listen_port: unknown key/);
    expect(errorOf(withStages([{ cri: { max_partial_line: 5 } }]))).toMatch(/^pipeline_stages\[0\]\.cri\.max_partial_line: unknown key/);
  });

  it('checks pipeline stages', () => {
    expect(errorOf(withStages([{ geoip: {} }]))).toMatch(/^pipeline_stages\[0\]\.geoip: unknown stage/);
    expect(errorOf(withStages([{ cri: {}, docker: {} }]))).toMatch(/^pipeline_stages\[0\]: a stage must be a mapping with exactly one stage name/);
    expect(errorOf(withStages({ cri: {} }))).toMatch(/^pipeline_stages: must be a list/);
    expect(errorOf(withStages([{ regex: {} }]))).toBe('pipeline_stages[0].regex.expression: is required');
    expect(errorOf(withStages([{ regex: { expression: '(unclosed' } }]))).toMatch(/^pipeline_stages\[0\]\.regex\.expression: invalid regular expression/);
    expect(errorOf(withStages([{ match: { selector: '{app=}', stages: [{ docker: {} }] } }]))).toMatch(/^pipeline_stages\[0\]\.match\.selector: invalid selector/);
    expect(errorOf(withStages([{ match: { selector: '{app="a"}' } }]))).toMatch(/^pipeline_stages\[0\]\.match\.stages: is required when action is keep/);
    expect(errorOf(withStages([{ match: { selector: '{app="a"}', stages: [{ nope: {} }] } }]))).toMatch(/^pipeline_stages\[0\]\.match\.stages\[0\]\.nope: unknown stage/);
    expect(errorOf(withStages([{ timestamp: { source: 'time' } }]))).toBe('pipeline_stages[0].timestamp.format: is required');
    expect(errorOf(withStages([{ timestamp: { source: 't', format: 'x', action_on_failure: 'panic' } }]))).toMatch(/action_on_failure: must be one of fudge, skip/);
    expect(errorOf(withStages([{ labels: { 'a-b': null } }]))).toMatch(/^pipeline_stages\[0\]\.labels\.a-b: invalid label name/);
    expect(errorOf(withStages([{ labeldrop: 'filename' }]))).toMatch(/^pipeline_stages\[0\]\.labeldrop: must be a list of strings/);
    expect(errorOf(withStages([{ drop: {} }]))).toMatch(/^pipeline_stages\[0\]\.drop: needs at least one of/);
    expect(errorOf(withStages([{ drop: { value: 'x' } }]))).toMatch(/^pipeline_stages\[0\]\.drop\.source: is required with value/);
    expect(errorOf(withStages([{ drop: { longer_than: 'big' } }]))).toMatch(/^pipeline_stages\[0\]\.drop\.longer_than: invalid size/);
    expect(errorOf(withStages([{ multiline: { firstline: 'x', max_lines: 0 } }]))).toMatch(/^pipeline_stages\[0\]\.multiline\.max_lines: must be a whole number from 1/);
    expect(errorOf(withStages([{ json: {} }]))).toBe('pipeline_stages[0].json.expressions: is required');
    expect(errorOf(withStages([{ cri: { max_partial_line_size: '1 parsec' } }]))).toMatch(/^pipeline_stages\[0\]\.cri\.max_partial_line_size: invalid size/);
  });

  it("reads Promtail's 0 for the cri bounds as the default, keeping a bound", () => {
    const config = agentConfigFromObject(withStages([{ cri: { max_partial_lines: 0, max_partial_line_size: 0 } }]));
    expect(config.pipeline_stages[0]).toMatchObject({ cri: { max_partial_lines: 100, max_partial_line_size: 262_144 } });
  });

  it('names the file in errors from loadAgentConfig', () => {
    const dir = tempDir();
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'clients:\n  - url: http://x:3100\n    batchwait: soon\n');
    expect(() => loadAgentConfig(bad)).toThrow(`${bad}: clients[0].batchwait: invalid duration "soon"`);
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'clients: [\n');
    expect(() => loadAgentConfig(broken)).toThrow(/invalid YAML/);
    const dup = join(dir, 'dup.yaml');
    writeFileSync(dup, 'pods_dir: /a\npods_dir: /b\nclients: [{url: "http://x"}]\n');
    expect(() => loadAgentConfig(dup)).toThrow(AgentConfigError);
    expect(() => loadAgentConfig(join(dir, 'missing.yaml'))).toThrow(/cannot read config file/);
  });
});
