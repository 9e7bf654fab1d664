/**
 * A real Alertmanager (the Debian package `prometheus-alertmanager`) for end-to-end tests of the
 * ruler, and a local HTTP server standing in for Slack's incoming webhook.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { startDaemon, type Daemon } from './daemon.js';

export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';

export type AlertmanagerProcess = Daemon;

/** Starts Alertmanager with `configYaml`, clustering off, and waits for /-/ready. */
export function startAlertmanager(configYaml: string, timeoutMs = 30_000): Promise<AlertmanagerProcess> {
  return startDaemon({
    name: 'Alertmanager',
    bin: ALERTMANAGER_BIN,
    debianPackage: 'prometheus-alertmanager',
    timeoutMs,
    args(dir, port) {
      const configFile = join(dir, 'alertmanager.yml');
      writeFileSync(configFile, configYaml);
      return [`--config.file=${configFile}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='];
    },
  });
}

export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** Records every request and answers 200 `ok`, as Slack's incoming webhooks do; `port` 0 = any free one. */
export async function startWebhookReceiver(port = 0): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({ path: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolveListen) => server.listen(port, '127.0.0.1', resolveListen));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: () => new Promise<void>((resolveClose) => server.close(() => resolveClose())),
  };
}
