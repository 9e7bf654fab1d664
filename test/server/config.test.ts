import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configFromObject } from '../../server/config.js';
import { resolveConfig } from '../../server/main.js';
import { REPO, tempDir } from '../helpers/server.js';

describe('server configuration', () => {
  it("reads Loki's limits_config keys and units", () => {
    const config = configFromObject({
      auth_enabled: true,
      limits_config: {
        ingestion_rate_mb: 16,
        ingestion_burst_size_mb: 32,
        per_stream_rate_limit: '5MB',
        max_line_size: '512KB',
        max_label_names_per_series: 30,
        reject_old_samples_max_age: '168h',
        creation_grace_period: '15m',
        retention_period: '744h',
        max_entries_limit_per_query: 10000,
        max_query_series: 1000,
        query_timeout: '2m',
      },
    });
    expect(config.auth_enabled).toBe(true);
    expect(config.limits_config).toMatchObject({
      ingestion_rate_mb: 16,
      per_stream_rate_limit: 5 * 1024 * 1024,
      max_line_size: 512 * 1024,
      reject_old_samples_max_age: 168 * 3_600_000,
      creation_grace_period: 15 * 60_000,
      retention_period: 744 * 3_600_000,
      query_timeout: 120_000,
    });
    // Defaults are Loki's.
    expect(configFromObject({}).limits_config).toMatchObject({ ingestion_rate_mb: 4, ingestion_burst_size_mb: 6, max_line_size: 262_144, max_label_names_per_series: 15 });
  });

  it.each([
    [{ limits_config: { max_line_size: 'huge' } }, 'limits_config.max_line_size: invalid size'],
    [{ limits_config: { retention_period: '3 days' } }, 'limits_config.retention_period: invalid duration'],
    [{ limits_config: { no_such_limit: 1 } }, 'limits_config.no_such_limit: unknown key'],
    [{ auth_enabled: 'yes' }, 'auth_enabled: must be true or false'],
    [{ server: { http_listen_port: 70000 } }, 'server.http_listen_port: must be a port number'],
    [{ ingester: { wal: { sync: 'sometimes' } } }, 'ingester.wal.sync: must be one of batch, interval'],
  ])('rejects %j naming the key and the reason', (input, message) => {
    expect(() => configFromObject(input)).toThrow(ConfigError);
    expect(() => configFromObject(input)).toThrow(message);
  });

  it("reads Loki's ruler keys, with Loki's defaults", () => {
    expect(configFromObject({}).ruler).toMatchObject({
      alertmanager_url: [],
      evaluation_interval: 60_000,
      poll_interval: 60_000,
      resend_delay: 60_000,
      enable_api: true,
      remote_write: { enabled: false, add_org_id_header: true, clients: {} },
    });
    const ruler = configFromObject({
      ruler: {
        storage: { type: 'local', local: { directory: '/rules' } },
        alertmanager_url: 'http://am-0:9093, http://user:pw@am-1:9093/prefix',
        evaluation_interval: '15s',
        resend_delay: '2m',
        remote_write: {
          enabled: true,
          clients: { prom: { url: 'http://prom:9090/api/v1/write', headers: { 'X-Team': 'a' }, basic_auth: { username: 'u', password: 'p' }, remote_timeout: '5s' } },
        },
      },
    }).ruler;
    expect(ruler.storage.local.directory).toBe('/rules');
    expect(ruler.alertmanager_url).toEqual(['http://am-0:9093', 'http://user:pw@am-1:9093/prefix']);
    expect(ruler.evaluation_interval).toBe(15_000);
    expect(ruler.resend_delay).toBe(120_000);
    expect(ruler.remote_write.clients.prom).toEqual({
      url: 'http://prom:9090/api/v1/write',
      headers: { 'X-Team': 'a' },
      basic_auth: { username: 'u', password: 'p' },
      remote_timeout: 5_000,
    });
  });

  it('names the ruler key and the reason for a bad value', () => {
    const fails = (ruler: unknown) => () => configFromObject({ ruler });
    expect(fails({ alertmanager_url: 'http://ok:9093,not a url' })).toThrow('ruler.alertmanager_url: invalid URL "not a url"');
    expect(fails({ alertmanager_url: 'ftp://am:21' })).toThrow('ruler.alertmanager_url: URL "ftp://am:21" must be http or https');
    expect(fails({ storage: { type: 's3' } })).toThrow('ruler.storage.type: must be one of local');
    expect(fails({ resend_delay: 'soon' })).toThrow('ruler.resend_delay: invalid duration');
    expect(fails({ remote_write: { clients: { prom: { url: 'http://p', queue_config: {} } } } })).toThrow('ruler.remote_write.clients.prom.queue_config: unknown key');
    expect(fails({ remote_write: { clients: { prom: {} } } })).toThrow('ruler.remote_write.clients.prom.url: required');
    expect(fails({ enable_apis: true })).toThrow('ruler.enable_apis: unknown key');
  });

  it('lets flags override the file', () => {
    const dir = tempDir();
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'server:\n  http_listen_port: 3200\ncommon:\n  path_prefix: /var/lib/skald\n');
    expect(resolveConfig({ config: file })).toMatchObject({ server: { http_listen_port: 3200 }, common: { path_prefix: '/var/lib/skald' } });
    const overridden = resolveConfig({ config: file, listen: '0.0.0.0:4100', dataDir: '/tmp/x' });
    expect(overridden.server).toEqual({ http_listen_address: '0.0.0.0', http_listen_port: 4100 });
    expect(overridden.common.path_prefix).toBe('/tmp/x');
    expect(() => resolveConfig({ listen: 'nope' })).toThrow('--listen: expected HOST:PORT');
  });

  it('stops `skald server` at start with the file, the key and the reason', () => {
    const dir = tempDir();
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'limits_config:\n  max_line_size: lots\n');
    const result = spawnSync(process.execPath, [join(REPO, 'dist/bin/skald.js'), 'server', '--config', file, '--data-dir', join(dir, 'data')], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${file}: limits_config.max_line_size: invalid size`);
    writeFileSync(file, 'limits_config: [unclosed\n');
    const yaml = spawnSync(process.execPath, [join(REPO, 'dist/bin/skald.js'), 'server', '--config', file], { encoding: 'utf8', timeout: 20_000 });
    expect(yaml.status).toBe(1);
    expect(yaml.stderr).toContain('invalid YAML');
  });
});
