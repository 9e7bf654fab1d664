import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';
import snappy from 'snappyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSnappyWriteRequest, encodeWriteRequest, type RemoteWriteSeries } from '../../proto/index.js';
import type { RemoteWriteClientConfig, RulerConfig } from '../../server/config.js';
import { REMOTE_WRITE_USER_AGENT, RemoteWriter, type RemoteWriteFailureReason, type RemoteWriteObserver } from '../../server/ruler/remote-write.js';
import { startPrometheus, type PrometheusProcess } from '../helpers/prometheus.js';

/** prometheus/prompb's schema, reduced to the fields remote write 1.0 uses: an independent decoder. */
const writeRequestType = protobuf
  .parse(`
    syntax = "proto3";
    package prometheus;
    message WriteRequest { repeated TimeSeries timeseries = 1; }
    message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
    message Label { string name = 1; string value = 2; }
    message Sample { double value = 1; int64 timestamp = 2; }
  `)
  .root.lookupType('prometheus.WriteRequest');

interface DecodedSeries {
  labels: Array<[string, string]>;
  samples: Array<{ t: bigint; v: number }>;
}

function decodeWriteRequest(bytes: Uint8Array): DecodedSeries[] {
  const decoded = writeRequestType.toObject(writeRequestType.decode(bytes), { longs: String, defaults: true, arrays: true }) as {
    timeseries: Array<{ labels: Array<{ name: string; value: string }>; samples: Array<{ value: number; timestamp: string }> }>;
  };
  return decoded.timeseries.map((series) => ({
    labels: series.labels.map((label): [string, string] => [label.name, label.value]),
    samples: series.samples.map((sample) => ({ t: BigInt(sample.timestamp), v: sample.value })),
  }));
}

describe('encodeWriteRequest', () => {
  it('produces a WriteRequest protobufjs decodes to the same labels, values and timestamps', () => {
    const series: RemoteWriteSeries[] = [
      {
        labels: [['job', 'api'], ['__name__', 'job:errors:rate5m'], ['cluster', 'eu-1'], ['note', 'größe ✓']],
        samples: [
          { t: 1_700_000_000_123, v: 1.5 },
          { t: 2 ** 32 + 7, v: -2.25 },
          { t: 8_640_000_000_000_000, v: Number.NaN },
          { t: 0, v: Number.POSITIVE_INFINITY },
          { t: -1, v: Number.NEGATIVE_INFINITY },
          { t: -1_700_000_000_000, v: -0 },
          { t: 1_700_000_000_000.9, v: Number.MAX_VALUE },
          { t: 5, v: 5e-324 },
        ],
      },
      { labels: [['__name__', 'empty']], samples: [] },
      { labels: [['__name__', 'dropped_empty_label'], ['a', '']], samples: [{ t: 1, v: 0 }] },
    ];
    const decoded = decodeWriteRequest(encodeWriteRequest(series));
    expect(decoded).toHaveLength(3);
    expect(decoded[0]!.labels).toEqual([['__name__', 'job:errors:rate5m'], ['cluster', 'eu-1'], ['job', 'api'], ['note', 'größe ✓']]);
    expect(decoded[0]!.samples.map((sample) => sample.t)).toEqual([
      1_700_000_000_123n, 4_294_967_303n, 8_640_000_000_000_000n, 0n, -1n, -1_700_000_000_000n, 1_700_000_000_000n, 5n,
    ]);
    const values = decoded[0]!.samples.map((sample) => sample.v);
    expect(values[0]).toBe(1.5);
    expect(values[1]).toBe(-2.25);
    expect(Number.isNaN(values[2])).toBe(true);
    expect(values[3]).toBe(Number.POSITIVE_INFINITY);
    expect(values[4]).toBe(Number.NEGATIVE_INFINITY);
    expect(Object.is(values[5], -0)).toBe(true);
    expect(values[6]).toBe(Number.MAX_VALUE);
    expect(values[7]).toBe(5e-324);
    expect(decoded[1]).toEqual({ labels: [['__name__', 'empty']], samples: [] });
    // Prometheus reads an empty label value as "no such label"; it is not sent.
    expect(decoded[2]).toEqual({ labels: [['__name__', 'dropped_empty_label']], samples: [{ t: 1n, v: 0 }] });
  });

  it('encodes an empty request as zero bytes and leaves the caller\'s label order alone', () => {
    expect(encodeWriteRequest([]).length).toBe(0);
    const labels: Array<readonly [string, string]> = [['b', '1'], ['__name__', 'x']];
    encodeWriteRequest([{ labels, samples: [{ t: 1, v: 1 }] }]);
    expect(labels).toEqual([['b', '1'], ['__name__', 'x']]);
  });

  it('snappy-compresses into one block an independent decompressor reads back', () => {
    const series: RemoteWriteSeries[] = Array.from({ length: 200 }, (_, index) => ({
      labels: [['__name__', 'many'], ['index', String(index)]],
      samples: [{ t: 1_700_000_000_000 + index, v: index / 3 }],
    }));
    const compressed = encodeSnappyWriteRequest(series);
    const raw = encodeWriteRequest(series);
    expect(compressed.length).toBeLessThan(raw.length);
    expect(Buffer.from(snappy.uncompress(compressed))).toEqual(raw);
    expect(decodeWriteRequest(raw)[199]).toEqual({ labels: [['__name__', 'many'], ['index', '199']], samples: [{ t: 1_700_000_000_199n, v: 199 / 3 }] });
  });

  it('rejects a non-finite timestamp instead of looping', () => {
    expect(() => encodeWriteRequest([{ labels: [['__name__', 'x']], samples: [{ t: Number.POSITIVE_INFINITY, v: 1 }] }])).toThrow(RangeError);
    expect(() => encodeWriteRequest([{ labels: [['__name__', 'x']], samples: [{ t: Number.NaN, v: 1 }] }])).toThrow(RangeError);
  });
});

type ObserverEvent = ['sent', string, number] | ['failed', string, number, RemoteWriteFailureReason];

function recordingObserver(): { events: ObserverEvent[]; observer: RemoteWriteObserver } {
  const events: ObserverEvent[] = [];
  return {
    events,
    observer: {
      samplesSent: (client, samples) => events.push(['sent', client, samples]),
      samplesFailed: (client, samples, reason) => events.push(['failed', client, samples, reason]),
    },
  };
}

function remoteWriteConfig(clients: Record<string, Partial<RemoteWriteClientConfig> & { url: string }>, addOrgIdHeader = true): RulerConfig['remote_write'] {
  const full: Record<string, RemoteWriteClientConfig> = {};
  for (const [id, client] of Object.entries(clients)) full[id] = { headers: {}, remote_timeout: 5_000, ...client };
  return { enabled: true, add_org_id_header: addOrgIdHeader, clients: full };
}

interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

type Answer = { status: number; text?: string } | 'hang';

/** A local HTTP endpoint that records requests and answers the n-th (0-based) with `answer(n)`. */
async function fakeReceiver(answer: (index: number) => Answer): Promise<{ url: string; requests: ReceivedRequest[]; close(): Promise<void> }> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const index = requests.length;
      requests.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks), at: Date.now() });
      const reply = answer(index);
      if (reply === 'hang') return;
      response.writeHead(reply.status, { 'Content-Type': 'text/plain' });
      response.end(reply.text ?? '');
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolveClose) => server.close(() => resolveClose()));
    },
  };
}

const oneSeries: RemoteWriteSeries[] = [
  { labels: [['__name__', 'rule:metric'], ['job', 'x']], samples: [{ t: 1_700_000_000_000, v: 1 }, { t: 1_700_000_060_000, v: 2 }] },
];

describe('RemoteWriter against local HTTP endpoints', () => {
  it('sends the remote-write headers, tenant, basic auth and configured headers', async () => {
    const receiver = await fakeReceiver(() => ({ status: 204 }));
    try {
      const { events, observer } = recordingObserver();
      const writer = new RemoteWriter(
        remoteWriteConfig({
          main: { url: `${receiver.url}/api/v1/write`, headers: { 'X-Custom': 'yes', 'x-scope-orgid': 'overridden' }, basic_auth: { username: 'ruler', password: 's3cret' } },
        }),
        observer,
      );
      await writer.write('tenant-a', oneSeries);
      expect(receiver.requests).toHaveLength(1);
      const [request] = receiver.requests;
      expect(request!.method).toBe('POST');
      expect(request!.path).toBe('/api/v1/write');
      expect(request!.headers['content-encoding']).toBe('snappy');
      expect(request!.headers['content-type']).toBe('application/x-protobuf');
      expect(request!.headers['x-prometheus-remote-write-version']).toBe('0.1.0');
      expect(request!.headers['user-agent']).toBe(REMOTE_WRITE_USER_AGENT);
      expect(request!.headers['x-scope-orgid']).toBe('tenant-a');
      expect(request!.headers['x-custom']).toBe('yes');
      expect(request!.headers.authorization).toBe(`Basic ${Buffer.from('ruler:s3cret').toString('base64')}`);
      expect(decodeWriteRequest(snappy.uncompress(request!.body))).toEqual([
        { labels: [['__name__', 'rule:metric'], ['job', 'x']], samples: [{ t: 1_700_000_000_000n, v: 1 }, { t: 1_700_000_060_000n, v: 2 }] },
      ]);
      expect(events).toEqual([['sent', 'main', 2]]);
    } finally {
      await receiver.close();
    }
  });

  it('takes basic auth from URL userinfo and leaves X-Scope-OrgID out when add_org_id_header is off', async () => {
    const receiver = await fakeReceiver(() => ({ status: 200 }));
    try {
      const url = new URL(`${receiver.url}/push`);
      url.username = encodeURIComponent('us@er');
      url.password = encodeURIComponent('p:ss');
      const writer = new RemoteWriter(remoteWriteConfig({ c: { url: url.toString() } }, false));
      await writer.write('tenant-a', oneSeries);
      expect(receiver.requests).toHaveLength(1);
      expect(receiver.requests[0]!.path).toBe('/push');
      expect(receiver.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('us@er:p:ss').toString('base64')}`);
      expect(receiver.requests[0]!.headers['x-scope-orgid']).toBeUndefined();
    } finally {
      await receiver.close();
    }
  });

  it('sends nothing for an empty write or when remote write is disabled', async () => {
    const receiver = await fakeReceiver(() => ({ status: 204 }));
    try {
      const { events, observer } = recordingObserver();
      const writer = new RemoteWriter(remoteWriteConfig({ c: { url: receiver.url } }), observer);
      await writer.write('t', []);
      await writer.write('t', [{ labels: [['__name__', 'x']], samples: [] }]);
      const disabled = new RemoteWriter({ ...remoteWriteConfig({ c: { url: receiver.url } }), enabled: false }, observer);
      expect(disabled.enabled).toBe(false);
      await disabled.write('t', oneSeries);
      expect(receiver.requests).toHaveLength(0);
      expect(events).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  it('drops a request answered 400 after one attempt and logs the response text', async () => {
    const receiver = await fakeReceiver(() => ({ status: 400, text: 'out of order sample' }));
    try {
      const { events, observer } = recordingObserver();
      const logged: Array<[string, Record<string, unknown>]> = [];
      const writer = new RemoteWriter(remoteWriteConfig({ bad: { url: receiver.url } }), observer, (msg, fields) => logged.push([msg, fields]));
      await writer.write('t', oneSeries);
      expect(receiver.requests).toHaveLength(1);
      expect(events).toEqual([['failed', 'bad', 2, 'rejected']]);
      expect(logged).toHaveLength(1);
      expect(logged[0]![1]).toMatchObject({ client: 'bad', tenant: 't', samples: 2, attempts: 1, reason: 'rejected', status: 400, error: 'out of order sample' });
    } finally {
      await receiver.close();
    }
  });

  it('retries a 500 with growing backoff, then reports the samples failed', async () => {
    const receiver = await fakeReceiver(() => ({ status: 500, text: 'storage unavailable' }));
    try {
      const { events, observer } = recordingObserver();
      const writer = new RemoteWriter(remoteWriteConfig({ flaky: { url: receiver.url } }), observer);
      await writer.write('t', oneSeries);
      expect(receiver.requests).toHaveLength(3);
      const [first, second, third] = receiver.requests.map((request) => request.at);
      expect(second! - first!).toBeGreaterThanOrEqual(25);
      expect(third! - second!).toBeGreaterThanOrEqual(55);
      expect(events).toEqual([['failed', 'flaky', 2, 'server_error']]);
    } finally {
      await receiver.close();
    }
  });

  it('delivers after a 429 once the receiver recovers', async () => {
    const receiver = await fakeReceiver((index) => (index === 0 ? { status: 429, text: 'slow down' } : { status: 204 }));
    try {
      const { events, observer } = recordingObserver();
      const writer = new RemoteWriter(remoteWriteConfig({ c: { url: receiver.url } }), observer);
      await writer.write('t', oneSeries);
      expect(receiver.requests).toHaveLength(2);
      expect(events).toEqual([['sent', 'c', 2]]);
    } finally {
      await receiver.close();
    }
  });

  it('reports connection errors and timeouts within remote_timeout, never rejecting', async () => {
    const closed = await fakeReceiver(() => ({ status: 204 }));
    await closed.close();
    const hanging = await fakeReceiver(() => 'hang');
    try {
      const { events, observer } = recordingObserver();
      const writer = new RemoteWriter(
        remoteWriteConfig({ refused: { url: closed.url, remote_timeout: 2_000 }, slow: { url: hanging.url, remote_timeout: 300 } }),
        observer,
      );
      const started = Date.now();
      await writer.write('t', oneSeries);
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(events).toHaveLength(2);
      expect(events).toContainEqual(['failed', 'refused', 2, 'network']);
      expect(events).toContainEqual(['failed', 'slow', 2, 'timeout']);
      // The whole budget went to the first attempt: no retry can fit after it.
      expect(hanging.requests).toHaveLength(1);
    } finally {
      await hanging.close();
    }
  });

  it('close() cuts a write short and later writes fail as closed', async () => {
    const receiver = await fakeReceiver(() => 'hang');
    try {
      const { events, observer } = recordingObserver();
      const writer = new RemoteWriter(remoteWriteConfig({ c: { url: receiver.url, remote_timeout: 30_000 } }), observer);
      const started = Date.now();
      const pending = writer.write('t', oneSeries);
      while (receiver.requests.length === 0) await new Promise((resolveWait) => setTimeout(resolveWait, 5));
      writer.close();
      await pending;
      await writer.write('t', oneSeries);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(receiver.requests).toHaveLength(1);
      expect(events).toEqual([['failed', 'c', 2, 'closed'], ['failed', 'c', 2, 'closed']]);
    } finally {
      await receiver.close();
    }
  });
});

describe('RemoteWriter against a real Prometheus', () => {
  let prometheus: PrometheusProcess;

  beforeAll(async () => {
    prometheus = await startPrometheus();
  });

  afterAll(async () => {
    await prometheus?.close();
  });

  it('writes samples Prometheus stores and answers queries with, next to a rejecting client', async () => {
    const rejecting = await fakeReceiver(() => ({ status: 400, text: 'nope' }));
    try {
      const { events, observer } = recordingObserver();
      const writer = new RemoteWriter(remoteWriteConfig({ prometheus: { url: prometheus.writeUrl }, rejecting: { url: rejecting.url } }), observer);
      // Recent timestamps: Prometheus rejects samples older than its head block allows.
      const t1 = Date.now() - 2_000;
      const t2 = t1 + 1_000;
      await writer.write('tenant-a', [
        { labels: [['job', 'ruler'], ['__name__', 'skald_e2e_recorded'], ['env', 'test']], samples: [{ t: t1, v: 42.5 }, { t: t2, v: -3.25 }] },
        { labels: [['__name__', 'skald_e2e_special']], samples: [{ t: t2, v: Number.POSITIVE_INFINITY }] },
      ]);
      expect(events).toContainEqual(['sent', 'prometheus', 3]);
      expect(events).toContainEqual(['failed', 'rejecting', 3, 'rejected']);
      expect(rejecting.requests).toHaveLength(1);

      const atT1 = await prometheus.query('skald_e2e_recorded', t1);
      expect(atT1).toEqual([{ metric: { __name__: 'skald_e2e_recorded', env: 'test', job: 'ruler' }, value: [t1 / 1000, '42.5'] }]);
      const atT2 = await prometheus.query('skald_e2e_recorded', t2);
      expect(atT2.map((sample) => sample.value[1])).toEqual(['-3.25']);
      const special = await prometheus.query('skald_e2e_special', t2);
      expect(special).toEqual([{ metric: { __name__: 'skald_e2e_special' }, value: [t2 / 1000, '+Inf'] }]);
    } finally {
      await rejecting.close();
    }
  });

  it('gets a 400 from Prometheus for an out-of-order sample and drops it', async () => {
    const { events, observer } = recordingObserver();
    const logged: Array<Record<string, unknown>> = [];
    const writer = new RemoteWriter(remoteWriteConfig({ prometheus: { url: prometheus.writeUrl } }), observer, (_msg, fields) => logged.push(fields));
    const t = Date.now() - 1_000;
    await writer.write('t', [{ labels: [['__name__', 'skald_e2e_order']], samples: [{ t, v: 1 }] }]);
    await writer.write('t', [{ labels: [['__name__', 'skald_e2e_order']], samples: [{ t: t - 500, v: 2 }] }]);
    expect(events).toEqual([['sent', 'prometheus', 1], ['failed', 'prometheus', 1, 'rejected']]);
    expect(logged[0]).toMatchObject({ status: 400, attempts: 1 });
    expect(String(logged[0]!.error)).toMatch(/out of order/);
    expect((await prometheus.query('skald_e2e_order', t))[0]!.value[1]).toBe('1');
  });
});
