/**
 * deploy/alerting/: the example rules load in the ruler and evaluate without error on a real
 * server; the Alertmanager configuration passes the real `amtool check-config` and routes to
 * Slack grouped by namespace, with a repeat interval and resolved notices.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseRuleFile } from '../../server/ruler/rule-file.js';
import { getJson } from '../helpers/push.js';
import { rulesDirWith } from '../helpers/rules.js';
import { REPO, removeDir, startServer } from '../helpers/server.js';

const RULES = join(REPO, 'deploy/alerting/rules.yaml');
const ALERTMANAGER = join(REPO, 'deploy/alerting/alertmanager.yaml');
const AMTOOL = '/usr/bin/amtool';

describe('deploy/alerting rules', () => {
  it('load without errors and hold the three alerts and a recording rule', () => {
    const { groups, errors } = parseRuleFile(readFileSync(RULES, 'utf8'), RULES, 'fake');
    expect(errors).toEqual([]);
    const rules = groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert ?? r.record)).toEqual(['NamespaceErrorRate', 'PodStoppedLogging', 'DatabaseDiskFilling', 'namespace:log_lines:rate1m']);
    expect(rules[1]!.expr).toContain('absent_over_time(');
    expect(rules[2]!.expr).toContain('unwrap disk_used_percent');
  });

  it('evaluate on a real server with health ok', async () => {
    // Every group each second, so the test need not wait a minute.
    const rulesDir = rulesDirWith({ 'kubernetes.yaml': readFileSync(RULES, 'utf8').replaceAll('interval: 1m', 'interval: 1s') });
    const server = await startServer({ ruler: { storage: { type: 'local', local: { directory: rulesDir } } } });
    try {
      let rules: Array<{ name: string; health: string; lastError: string }> = [];
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const res = await getJson(`${server.url}/prometheus/api/v1/rules`);
        rules = res.json.data.groups.flatMap((g: { rules: unknown[] }) => g.rules);
        if (rules.length === 4 && rules.every((r) => r.health !== 'unknown')) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(rules.map((r) => [r.name, r.health, r.lastError])).toEqual([
        ['NamespaceErrorRate', 'ok', ''],
        ['PodStoppedLogging', 'ok', ''],
        ['DatabaseDiskFilling', 'ok', ''],
        ['namespace:log_lines:rate1m', 'ok', ''],
      ]);
    } finally {
      await server.close();
      removeDir(rulesDir);
    }
  });
});

describe('deploy/alerting Alertmanager configuration', () => {
  it('passes amtool check-config', () => {
    if (!existsSync(AMTOOL)) throw new Error('amtool not found: install the Debian package `prometheus-alertmanager` (apt-get install -y prometheus-alertmanager)');
    const output = execFileSync(AMTOOL, ['check-config', ALERTMANAGER], { encoding: 'utf8' });
    expect(output).toContain('SUCCESS');
  });

  it('sends to Slack grouped by namespace, repeats, and sends resolved notices', () => {
    const config = parseYaml(readFileSync(ALERTMANAGER, 'utf8'));
    expect(config.route.group_by).toEqual(['namespace']);
    expect(config.route.repeat_interval).toMatch(/^\d+[smh]$/);
    const receivers = config.receivers as Array<{ name: string; slack_configs?: Array<{ send_resolved: boolean; channel: string }> }>;
    const routed = [config.route.receiver, ...config.route.routes.map((r: { receiver: string }) => r.receiver)];
    for (const name of routed) {
      const receiver = receivers.find((r) => r.name === name);
      expect(receiver?.slack_configs?.length, name).toBeGreaterThan(0);
      for (const slack of receiver!.slack_configs!) expect(slack.send_resolved, name).toBe(true);
    }
    expect(config.global.slack_api_url).toMatch(/^https:\/\/hooks\.slack\.com\//);
  });
});
