/**
 * `skald agent --config FILE`: loads and checks the configuration, starts the agent and its HTTP
 * endpoints, and stops cleanly on SIGTERM/SIGINT (sending what was read, saving positions).
 */
import { setFlagsFromString } from 'node:v8';
import { Agent } from './agent.js';
import { AgentConfigError, loadAgentConfig } from './config.js';
import { startAgentHttp } from './http.js';
import { StageConfigError } from './stages/types.js';

/**
 * How much V8 lets the old generation grow past what survived the last full collection, in
 * percent (by default up to 300%). The agent's live heap is small and steady — per-target state —
 * while catching up allocates fast, so at V8's factor the heap grew to several times the live
 * data between collections: tens of MB of an RSS budget of 100 MB (issue 5). V8 reads this at
 * each collection, so it can be set here (NODE_OPTIONS refuses it). The young generation's size,
 * fixed when V8 starts, comes from NODE_OPTIONS in the DaemonSet (deploy/kubernetes/agent.yaml).
 */
export const AGENT_HEAP_GROWING_PERCENT = 5;

export interface RunAgentOptions {
  config: string;
}

/** Runs until a signal; resolves after the clean stop. Throws AgentConfigError for a bad configuration. */
export async function runAgent(options: RunAgentOptions): Promise<void> {
  setFlagsFromString(`--heap-growing-percent=${AGENT_HEAP_GROWING_PERCENT}`);
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
