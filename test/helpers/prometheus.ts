/**
 * A real Prometheus (the Debian package's /usr/bin/prometheus) with the remote-write receiver
 * on, for end-to-end tests of what the ruler ships.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon } from './daemon.js';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface PrometheusProcess {
  url: string;
  /** `${url}/api/v1/write`. */
  writeUrl: string;
  /** Instant query; returns the `data.result` vector. */
  query(expr: string, timeMs: number): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  close(): Promise<void>;
}

export async function startPrometheus(timeoutMs = 30_000): Promise<PrometheusProcess> {
  const { url, close } = await startDaemon({
    name: 'prometheus',
    bin: PROMETHEUS_BIN,
    debianPackage: 'prometheus',
    timeoutMs,
    args(dir, port) {
      const configFile = join(dir, 'prometheus.yml');
      // No scrape jobs: the only series are the ones the test writes.
      writeFileSync(configFile, 'global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\n');
      return ['--web.enable-remote-write-receiver', `--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`];
    },
  });

  return {
    url,
    writeUrl: `${url}/api/v1/write`,
    async query(expr, timeMs) {
      const params = new URLSearchParams({ query: expr, time: String(timeMs / 1000) });
      const response = await fetch(`${url}/api/v1/query?${params}`);
      const body = (await response.json()) as { status: string; error?: string; data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      if (body.status !== 'success' || body.data === undefined) throw new Error(`prometheus query ${expr} failed: ${body.error ?? response.status}`);
      if (body.data.resultType !== 'vector') throw new Error(`prometheus query ${expr}: expected a vector, got ${body.data.resultType}`);
      return body.data.result;
    },
    close,
  };
}
