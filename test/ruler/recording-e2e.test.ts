/**
 * Recording rules end to end: the server evaluates a LogQL recording rule and remote-writes the
 * samples, with the `ALERTS` series of an alerting rule, to a real Prometheus, where PromQL reads them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrometheus, type PrometheusProcess } from '../helpers/prometheus.js';
import { push } from '../helpers/push.js';
import { rulesDirWith } from '../helpers/rules.js';
import { removeDir, startServer, type InProcessServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const RULES = `groups:
  - name: shop-recording
    interval: 1s
    rules:
      - record: namespace:log_lines:count1m
        expr: sum by (namespace) (count_over_time({namespace="shop"}[1m]))
        labels:
          source: skald
      - alert: ShopLogging
        expr: sum by (namespace) (count_over_time({namespace="shop"}[1m])) > 0
`;

describe('recording rules with a real Prometheus', () => {
  let prometheus: PrometheusProcess;
  let server: InProcessServer;
  let rulesDir: string;

  beforeAll(async () => {
    prometheus = await startPrometheus();
    rulesDir = rulesDirWith({ 'recording.yaml': RULES }, 'team-a');
    server = await startServer({
      auth_enabled: true,
      ruler: {
        storage: { type: 'local', local: { directory: rulesDir } },
        evaluation_interval: '1s',
        remote_write: { enabled: true, clients: { prom: { url: prometheus.writeUrl } } },
      },
    });
  });

  afterAll(async () => {
    await server?.close();
    await prometheus?.close();
    if (rulesDir) removeDir(rulesDir);
  });

  it('remote-writes recorded samples and ALERTS series for the rule tenant', async () => {
    const ts = BigInt(Date.now()) * 1_000_000n;
    const entries = Array.from({ length: 7 }, (_, i) => ({ ts: ts + BigInt(i), line: `line ${i}` }));
    const pushed = await push(server.url, [{ labels: { namespace: 'shop', pod: 'p1' }, entries }], 'protobuf', { 'x-scope-orgid': 'team-a' });
    expect(pushed.status).toBe(204);

    const recorded = await waitFor('the recorded series in Prometheus', async () => {
      const result = await prometheus.query('namespace:log_lines:count1m', Date.now());
      return result.length > 0 ? result : undefined;
    });
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.metric).toEqual({ __name__: 'namespace:log_lines:count1m', namespace: 'shop', source: 'skald' });
    expect(recorded[0]!.value[1]).toBe('7');

    const alerts = await waitFor('ALERTS in Prometheus', async () => {
      const result = await prometheus.query('ALERTS', Date.now());
      return result.length > 0 ? result : undefined;
    });
    expect(alerts[0]!.metric).toEqual({ __name__: 'ALERTS', alertname: 'ShopLogging', alertstate: 'firing', namespace: 'shop' });

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/skald_ruler_remote_write_samples_total\{client="prom",outcome="sent"\} [1-9]/);
  });
});
