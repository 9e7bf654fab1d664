#!/usr/bin/env node
/**
 * The `skald` command. Subcommands load their component on demand, so the CLI does not
 * pull in the server and the server does not pull in the agent.
 */
import { Command } from 'commander';
import { registerCliCommands } from '../cli/commands.js';

const program = new Command();
program.name('skald').description('Skald: a lightweight, Loki-compatible log stack').showHelpAfterError();

registerCliCommands(program);

program
  .command('server')
  .description('run the log server (Loki push and query API)')
  .option('--config <file>', 'YAML configuration file (Loki key names)')
  .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:3100)')
  .option('--data-dir <dir>', 'directory for the index, chunks and WAL (default ./data)')
  .action(async (options: { config?: string; listen?: string; dataDir?: string }) => {
    const { runServer } = await import('../server/main.js');
    const { ConfigError } = await import('../server/config.js');
    try {
      await runServer(options);
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`skald server: invalid configuration: ${err.message}\n`);
        process.exit(1);
      }
      throw err;
    }
  });

program
  .command('agent')
  .description('run the log shipping agent (tails /var/log/pods, pushes to Skald or Loki)')
  .requiredOption('--config <file>', 'YAML configuration file (Promtail key names)')
  .action(async (options: { config: string }) => {
    const { runAgent } = await import('../agent/main.js');
    const { AgentConfigError } = await import('../agent/config.js');
    try {
      await runAgent(options);
      process.exit(0);
    } catch (err) {
      if (err instanceof AgentConfigError) {
        process.stderr.write(`skald agent: invalid configuration: ${err.message}\n`);
        process.exit(1);
      }
      throw err;
    }
  });

await program.parseAsync(process.argv);
