/** `skald server`: loads the configuration, starts listening, replays the WAL, stops cleanly on SIGTERM. */
import { ConfigError, defaultConfig, loadConfigFile, type ServerConfig } from './config.js';
import { createServer } from './app.js';

export interface ServerFlags {
  config?: string;
  listen?: string;
  dataDir?: string;
}

/** Flags override the file, as the issue and Loki's own `-config.file` plus flags do. */
export function resolveConfig(flags: ServerFlags): ServerConfig {
  const config = flags.config ? loadConfigFile(flags.config) : defaultConfig();
  if (flags.listen !== undefined) {
    const match = /^(.*):(\d+)$/.exec(flags.listen);
    const port = match ? Number(match[2]) : NaN;
    if (!match || !match[1] || port > 65535) throw new ConfigError(`--listen: expected HOST:PORT, got ${JSON.stringify(flags.listen)}`);
    config.server.http_listen_address = match[1].replace(/^\[(.*)\]$/, '$1');
    config.server.http_listen_port = port;
  }
  if (flags.dataDir !== undefined) config.common.path_prefix = flags.dataDir;
  return config;
}

export async function runServer(flags: ServerFlags): Promise<void> {
  const config = resolveConfig(flags);
  const server = createServer({ config, logger: true });
  const stop = (signal: string) => {
    server.app.log.info({ signal }, 'shutting down: cutting heads into chunks');
    server
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        server.app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  await server.app.listen({ host: config.server.http_listen_address, port: config.server.http_listen_port });
  await server.ready;
  server.app.log.info('ready');
}
