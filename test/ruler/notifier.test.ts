/** The Alertmanager notifier against local HTTP servers: the v2 request, tenants, auth, batching, failures. */
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { Notifier, type NotifierObserver } from '../../server/ruler/notifier.js';
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/alertmanager.js';
import { freePort } from '../helpers/port.js';

// fastify's logger when logging is off: a no-op with the logger interface the notifier takes.
const log = Fastify().log;

function observer() {
  const counts = { sent: 0, failed: 0, dropped: 0 };
  const o: NotifierObserver = {
    sent: (_am, n) => (counts.sent += n),
    failed: (_am, n) => (counts.failed += n),
    dropped: (n) => (counts.dropped += n),
    queueLength: () => undefined,
  };
  return { counts, o };
}

const alert = (n: number) => ({ labels: { alertname: 'A', n: String(n) }, annotations: { summary: `s${n}` }, startsAt: 1_800_000_000_000, endsAt: 1_800_000_240_000 });

describe('Alertmanager notifier', () => {
  let receiver: WebhookReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it('posts v2 alerts under the URL path prefix with the tenant and basic auth from the URL', async () => {
    receiver = await startWebhookReceiver();
    const { counts, o } = observer();
    const url = receiver.url.replace('http://', 'http://ruler:s%3Acret@') + '/am/';
    const notifier = new Notifier([url], 5_000, o, log);
    notifier.send('team-a', [alert(1)], 'http://grafana/explore');
    await notifier.drain();
    expect(receiver.requests).toHaveLength(1);
    const request = receiver.requests[0]!;
    expect(request.path).toBe('/am/api/v2/alerts');
    expect(request.headers['x-scope-orgid']).toBe('team-a');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers.authorization).toBe('Basic ' + Buffer.from('ruler:s:cret').toString('base64'));
    expect(JSON.parse(request.body)).toEqual([
      {
        labels: { alertname: 'A', n: '1' },
        annotations: { summary: 's1' },
        startsAt: new Date(1_800_000_000_000).toISOString(),
        endsAt: new Date(1_800_000_240_000).toISOString(),
        generatorURL: 'http://grafana/explore',
      },
    ]);
    expect(counts).toEqual({ sent: 1, failed: 0, dropped: 0 });
  });

  it('batches at most 256 alerts per request, one tenant per request, to every Alertmanager', async () => {
    receiver = await startWebhookReceiver();
    const second = await startWebhookReceiver();
    try {
      const { counts, o } = observer();
      const notifier = new Notifier([receiver.url, second.url], 5_000, o, log);
      notifier.send('a', Array.from({ length: 300 }, (_, i) => alert(i)), '');
      notifier.send('b', [alert(1000)], '');
      await notifier.drain();
      for (const r of [receiver, second]) {
        const batches = r.requests.map((q) => ({ tenant: q.headers['x-scope-orgid'], size: (JSON.parse(q.body) as unknown[]).length }));
        expect(batches.reduce((sum, b) => sum + b.size, 0)).toBe(301);
        expect(Math.max(...batches.map((b) => b.size))).toBe(256);
        expect(batches.filter((b) => b.tenant === 'b')).toEqual([{ tenant: 'b', size: 1 }]);
      }
      expect(counts.sent).toBe(602);
    } finally {
      await second.close();
    }
  });

  it('counts a failure when Alertmanager is down, without throwing, and reports it at the start-up check', async () => {
    const port = await freePort();
    const { counts, o } = observer();
    const notifier = new Notifier([`http://127.0.0.1:${port}`], 2_000, o, log);
    expect(await notifier.checkAlertmanagers()).toEqual([false]);
    notifier.send('fake', [alert(1), alert(2)], '');
    await notifier.drain();
    expect(counts).toEqual({ sent: 0, failed: 2, dropped: 0 });
  });

  it('says at start when the Alertmanager answers', async () => {
    receiver = await startWebhookReceiver();
    const notifier = new Notifier([receiver.url], 2_000, observer().o, log);
    expect(await notifier.checkAlertmanagers()).toEqual([true]);
    expect(receiver.requests[0]!.path).toBe('/api/v2/status');
  });
});
