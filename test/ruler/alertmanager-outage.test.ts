/**
 * Alertmanager away: a firing alert's notifications fail, are counted, and never stop the ruler;
 * once something answers on the Alertmanager's address, the next resend delivers the alert.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/alertmanager.js';
import { freePort } from '../helpers/port.js';
import { push } from '../helpers/push.js';
import { rulesDirWith } from '../helpers/rules.js';
import { removeDir, startServer, type InProcessServer } from '../helpers/server.js';

describe('ruler with its Alertmanager down', () => {
  let server: InProcessServer | undefined;
  let standIn: WebhookReceiver | undefined;
  const rulesDir = rulesDirWith({
    'always.yaml': `groups:
  - name: always
    interval: 1s
    rules:
      - alert: ShopLogs
        expr: sum by (namespace) (count_over_time({namespace="shop"}[1m])) > 0
`,
  });

  afterAll(async () => {
    await server?.close();
    await standIn?.close();
    removeDir(rulesDir);
  });

  it('counts failed notifications, keeps evaluating, and delivers at the next resend', async () => {
    const port = await freePort();
    server = await startServer({
      ruler: {
        storage: { type: 'local', local: { directory: rulesDir } },
        alertmanager_url: `http://127.0.0.1:${port}`,
        resend_delay: '1s',
        notification_timeout: '1s',
      },
    });
    expect((await push(server.url, [{ labels: { namespace: 'shop' }, entries: [{ ts: BigInt(Date.now()) * 1_000_000n, line: 'hello' }] }])).status).toBe(204);

    const errorsCounted = async () => {
      const text = await (await fetch(`${server!.url}/metrics`)).text();
      const match = /loki_prometheus_notifications_errors_total\{alertmanager="[^"]+"\} (\d+)/.exec(text);
      return match ? Number(match[1]) : 0;
    };
    const deadline = Date.now() + 15_000;
    while ((await errorsCounted()) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    // At least two resends failed, and the ruler is still evaluating.
    expect(await errorsCounted()).toBeGreaterThanOrEqual(2);

    standIn = await startWebhookReceiver(port);
    while (standIn.requests.length === 0 && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 200));
    const delivered = standIn.requests.find((r) => r.path === '/api/v2/alerts');
    expect(delivered).toBeDefined();
    expect(JSON.parse(delivered!.body)[0].labels).toEqual({ alertname: 'ShopLogs', namespace: 'shop' });
  });
});
