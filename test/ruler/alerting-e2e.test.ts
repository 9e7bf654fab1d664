/**
 * End to end with real parts: error lines pushed to a real server make a LogQL alerting rule go
 * pending then firing; the real Alertmanager groups it and posts to a local stand-in for Slack's
 * webhook with the templated text; when the errors stop the resolved notice follows; a silence
 * created through Alertmanager's API suppresses the next firing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAlertmanager, startWebhookReceiver, type AlertmanagerProcess, type WebhookReceiver } from '../helpers/alertmanager.js';
import { getJson, push } from '../helpers/push.js';
import { rulesDirWith } from '../helpers/rules.js';
import { removeDir, startServer, type InProcessServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const RULES = `groups:
  - name: shop-errors
    interval: 1s
    rules:
      - alert: HighErrorRate
        expr: sum by (namespace) (count_over_time({namespace="shop"} |= "error" [4s])) > 5
        for: 2s
        labels:
          severity: page
        annotations:
          summary: '{{ $labels.namespace }} logged {{ $value }} errors in 4s'
          description: 'error rate {{ humanize $value }} in {{ $labels.namespace }}'
  - name: broken
    interval: 1s
    rules:
      - alert: NotJson
        expr: sum(count_over_time({namespace="shop"} | json [1m])) > 0
`;

interface SlackMessage {
  channel: string;
  attachments: Array<{ title: string; text: string; color: string }>;
}

function slackMessages(receiver: WebhookReceiver, since = 0): SlackMessage[] {
  return receiver.requests.filter((r) => r.path === '/slack' && r.at >= since).map((r) => JSON.parse(r.body) as SlackMessage);
}

describe('alerting rules with a real Alertmanager', () => {
  let receiver: WebhookReceiver;
  let alertmanager: AlertmanagerProcess;
  let server: InProcessServer;
  let rulesDir: string;
  let pushing = false;
  let pusher: Promise<void> = Promise.resolve();

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    alertmanager = await startAlertmanager(`route:
  receiver: slack
  group_by: [namespace]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: slack
    slack_configs:
      - api_url: ${receiver.url}/slack
        channel: '#alerts'
        send_resolved: true
        title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}'
        text: '{{ range .Alerts }}{{ .Annotations.summary }}{{ end }}'
`);
    rulesDir = rulesDirWith({ 'shop.yaml': RULES });
    server = await startServer({
      ruler: {
        storage: { type: 'local', local: { directory: rulesDir } },
        alertmanager_url: alertmanager.url,
        evaluation_interval: '1s',
        poll_interval: '1s',
        resend_delay: '1s',
      },
    });
  });

  afterAll(async () => {
    pushing = false;
    await pusher;
    await server?.close();
    await alertmanager?.close();
    await receiver?.close();
    if (rulesDir) removeDir(rulesDir);
  });

  function startErrors(): void {
    pushing = true;
    pusher = (async () => {
      let n = 0;
      while (pushing) {
        const ts = BigInt(Date.now()) * 1_000_000n;
        const entries = [0, 1, 2].map((i) => ({ ts: ts + BigInt(i), line: `level=error msg="payment failed" n=${n++}` }));
        await push(server.url, [
          { labels: { namespace: 'shop', pod: 'checkout-1' }, entries },
          { labels: { namespace: 'shop', pod: 'checkout-2' }, entries: [{ ts, line: 'level=info msg=ok' }] },
        ]);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
  }

  async function stopErrors(): Promise<void> {
    pushing = false;
    await pusher;
  }

  async function ruleAlerts(): Promise<Array<{ labels: Record<string, string>; annotations: Record<string, string>; state: string; value: string }>> {
    const res = await getJson(`${server.url}/prometheus/api/v1/alerts`);
    expect(res.status).toBe(200);
    return res.json.data.alerts;
  }

  it('goes pending, fires, notifies with templated text, resolves, and is silenced', async () => {
    startErrors();
    const states: string[] = [];
    const firing = await waitFor('the alert to fire', async () => {
      const alerts = await ruleAlerts();
      for (const a of alerts) if (states[states.length - 1] !== a.state) states.push(a.state);
      return alerts.find((a) => a.state === 'firing');
    });
    expect(states[0]).toBe('pending');
    expect(firing.labels).toEqual({ alertname: 'HighErrorRate', namespace: 'shop', severity: 'page' });
    expect(firing.annotations.summary).toMatch(/^shop logged \d+ errors in 4s$/);
    expect(Number(firing.value)).toBeGreaterThan(5);

    const inAlertmanager = await waitFor('Alertmanager to hold the alert', async () => {
      const res = await getJson(`${alertmanager.url}/api/v2/alerts`);
      return (res.json as Array<{ labels: Record<string, string>; annotations: Record<string, string>; status: { state: string } }>).find(
        (a) => a.labels.alertname === 'HighErrorRate',
      );
    });
    expect(inAlertmanager.labels).toEqual({ alertname: 'HighErrorRate', namespace: 'shop', severity: 'page' });
    expect(inAlertmanager.status.state).toBe('active');
    expect(inAlertmanager.annotations.description).toMatch(/^error rate \d+(\.\d+)? in shop$/);

    const fired = await waitFor('the firing Slack message', () => slackMessages(receiver).find((m) => m.attachments[0]!.title.startsWith('[FIRING')));
    expect(fired.channel).toBe('#alerts');
    expect(fired.attachments[0]!.title).toBe('[FIRING] HighErrorRate');
    expect(fired.attachments[0]!.text).toMatch(/^shop logged \d+ errors in 4s$/);

    // The failing rule reports its error and never reaches Alertmanager.
    const rules = await getJson(`${server.url}/prometheus/api/v1/rules`);
    const broken = rules.json.data.groups.find((g: { name: string }) => g.name === 'broken').rules[0];
    expect(broken.health).toBe('err');
    // The lines are logfmt: the json stage's error fails the metric query, as in Loki.
    expect(broken.lastError).toMatch(/^pipeline error: 'JSONParserErr'/);
    const amAlerts = (await getJson(`${alertmanager.url}/api/v2/alerts`)).json as Array<{ labels: Record<string, string> }>;
    expect(amAlerts.some((a) => a.labels.alertname === 'NotJson')).toBe(false);

    await stopErrors();
    const resolved = await waitFor(
      'the resolved Slack message',
      () => slackMessages(receiver).find((m) => m.attachments[0]!.title.startsWith('[RESOLVED')),
      30_000,
    );
    expect(resolved.attachments[0]!.title).toBe('[RESOLVED] HighErrorRate');
    expect(await ruleAlerts()).toEqual([]);

    const silence = await fetch(`${alertmanager.url}/api/v2/silences`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        matchers: [{ name: 'namespace', value: 'shop', isRegex: false, isEqual: true }],
        startsAt: new Date().toISOString(),
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
        createdBy: 'skald-test',
        comment: 'maintenance',
      }),
    });
    expect(silence.status).toBe(200);
    const { silenceID } = (await silence.json()) as { silenceID: string };
    const silencedAt = Date.now();

    startErrors();
    const suppressed = await waitFor('Alertmanager to suppress the new alert', async () => {
      const res = await getJson(`${alertmanager.url}/api/v2/alerts`);
      return (res.json as Array<{ labels: Record<string, string>; status: { state: string; silencedBy: string[] } }>).find(
        (a) => a.labels.alertname === 'HighErrorRate' && a.status.state === 'suppressed',
      );
    });
    expect(suppressed.status.silencedBy).toEqual([silenceID]);
    expect((await ruleAlerts()).some((a) => a.state === 'firing')).toBe(true);
    // Several group intervals pass with the alert firing; nothing reaches Slack.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(slackMessages(receiver, silencedAt)).toEqual([]);
    await stopErrors();

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/loki_prometheus_notifications_sent_total\{alertmanager="http:\/\/127\.0\.0\.1:\d+"\} [1-9]/);
    expect(metrics).toMatch(/loki_prometheus_rule_evaluation_failures_total\{user="fake",rule_group="shop\.yaml;broken"\} [1-9]/);
    expect(metrics).toMatch(/loki_prometheus_rule_evaluations_total\{user="fake",rule_group="shop\.yaml;shop-errors"\} [1-9]/);
    expect(metrics).toMatch(/loki_prometheus_rule_evaluation_duration_seconds_count\{user="fake"\} [1-9]/);
    expect(metrics).toMatch(/loki_prometheus_rule_group_last_duration_seconds\{user="fake",rule_group="shop\.yaml;shop-errors"\} \d/);
  });
});
