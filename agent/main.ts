/**
 * `skald agent --config FILE`: loads and checks the configuration, starts the agent and its HTTP
 * endpoints, and stops cleanly on SIGTERM/SIGINT (sending what was read, saving positions).
 */
import { Agent } from './agent.js';
import { AgentConfigError, loadAgentConfig } from './config.js';
import { startAgentHttp } from './http.js';
import { StageConfigError } from './stages/types.js';

export interface RunAgentOptions {
  config: string;
}

/** Runs until a signal; resolves after the clean stop. Throws AgentConfigError for a bad configuration. */
export async function runAgent(options: RunAgentOptions): Promise<void> {
  const config = loadAgentConfig(options.config);
  const nodeName = process.env['NODE_NAME'];
  let agent: Agent;
  try {
    agent = new Agent({ config, nodeName: nodeName === '' ? undefined : nodeName });
  } catch (err) {
    if (err instanceof StageConfigError) throw new AgentConfigError(`${options.config}: ${err.message}`);
    throw err;
  }
  const http = await startAgentHttp({ host: config.server.http_listen_address, port: config.server.http_listen_port, registry: agent.registry, ready: () => agent.ready });
  await agent.start();
  process.stderr.write(`level=info component=agent msg="agent started" pods_dir=${JSON.stringify(config.pods_dir)} http=${JSON.stringify(`${http.address.address}:${http.address.port}`)} clients=${config.clients.length}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  process.stderr.write('level=info component=agent msg="stopping: sending what was read, saving positions"\n');
  await agent.stop();
  await http.close();
}
