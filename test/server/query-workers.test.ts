import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { push } from '../helpers/push.js';
import { seededRandom } from '../helpers/random.js';
import { startServer, type InProcessServer } from '../helpers/server.js';

const SEC = 1_000_000_000n;
const T0 = (BigInt(Date.now()) / 1000n - 7200n) * SEC;

describe('metric queries extracted on worker threads', () => {
  // The same data in two servers: one extracts stored blocks on its workers, one on its main thread.
  let threaded: InProcessServer;
  let inline: InProcessServer;
  beforeAll(async () => {
    const config = (workers: number) => ({ limits_config: { reject_old_samples: false }, ingester: { chunk_block_size: '2KB' }, querier: { worker_threads: workers } });
    threaded = await startServer(config(2));
    inline = await startServer(config(0));
    const random = seededRandom(5);
    const levels = ['info', 'warn', 'error'];
    for (let first = 0; first < 3000; first += 100) {
      const streams = ['a', 'b', 'c'].map((app) => ({
        labels: { app, env: 'prod' },
        entries: Array.from({ length: 100 }, (_, k) => {
          const i = first + k;
          const level = levels[Math.floor(random() * 3)]!;
          const line =
            app === 'c'
              ? `{"level":"${level}","status":${200 + Math.floor(random() * 4) * 100},"took":"${Math.floor(random() * 900)}ms"}`
              : `level=${level} status=${random() < 0.1 ? 'oops' : 200 + Math.floor(random() * 4) * 100} bytes=${Math.floor(random() * 5000)}`;
          return { ts: T0 + BigInt(i) * SEC, line, ...(random() < 0.1 ? { metadata: [['trace', `t${i % 7}`]] as Array<[string, string]> } : {}) };
        }),
      }));
      for (const srv of [threaded, inline]) expect((await push(srv.url, streams)).status).toBe(204);
    }
    await threaded.store.persisted();
    await inline.store.persisted();
  });
  afterAll(async () => {
    await threaded.close();
    await inline.close();
  });

  const queries = [
    'sum by (level) (count_over_time({env="prod"} | logfmt [5m]))',
    'sum by (status) (count_over_time({app="c"} | json [10m]))',
    'count_over_time({env="prod"} |= "error" [5m])',
    'sum without (app) (rate({env="prod"} | logfmt | status=~"[0-9]+" [5m]))',
    'avg_over_time({app=~"a|b"} | logfmt | status=~"[0-9]+" | unwrap bytes [10m])',
    'quantile_over_time(0.9, {app="c"} | json | unwrap duration(took) [15m]) by (level)',
    'sum by (trace) (bytes_over_time({env="prod"}[10m]))',
    'sum(count_over_time({env="prod"} | logfmt | unwrap status [10m]))',
  ];
  for (const query of queries) {
    it(`answers ${query} the same`, async () => {
      const qs = new URLSearchParams({ query, start: String(T0), end: String(T0 + 3000n * SEC), step: '300' }).toString();
      const [a, b] = await Promise.all([threaded, inline].map(async (srv) => {
        const res = await fetch(`${srv.url}/loki/api/v1/query_range?${qs}`);
        const text = await res.text();
        return { status: res.status, body: res.status === 200 ? (JSON.parse(text) as { data: { result: unknown } }).data.result : text };
      }));
      expect(a).toEqual(b);
      if (a!.status === 200) expect(a!.body).not.toEqual([]);
    });
  }
});
