/**
 * The ruler's loading on a real server: a refused group does not stop the others (and shows in
 * `loki_ruler_config_last_reload_successful`), groups posted through the rules API run at once
 * without waiting for the next poll, deleted groups stop, and tenants stay apart.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, push } from '../helpers/push.js';
import { rulesDirWith } from '../helpers/rules.js';
import { removeDir, spawnServer, startServer, tempDir, type InProcessServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const GOOD_AND_BAD = `groups:
  - name: good
    interval: 1s
    rules:
      - alert: Fine
        expr: vector(1) > 0
  - name: bad
    rules:
      - alert: LogQuery
        expr: '{app="api"} |= "error"'
`;

interface GroupJson {
  name: string;
  file: string;
  rules: Array<{ name: string; health: string; state?: string }>;
}

describe('ruler loading', () => {
  let server: InProcessServer;
  let rulesDir: string;

  beforeAll(async () => {
    rulesDir = rulesDirWith({ 'mixed.yaml': GOOD_AND_BAD, 'broken.yaml': 'groups: [unclosed\n' }, 'team-a');
    // Poll rarely: anything the test sees within seconds came from the API's immediate reload.
    server = await startServer({ auth_enabled: true, ruler: { storage: { type: 'local', local: { directory: rulesDir } }, poll_interval: '10m' } });
  });

  afterAll(async () => {
    await server?.close();
    if (rulesDir) removeDir(rulesDir);
  });

  const groups = async (tenant: string): Promise<GroupJson[]> => (await getJson(`${server.url}/prometheus/api/v1/rules`, { 'x-scope-orgid': tenant })).json.data.groups;

  it('runs the good group of a file whose other group is refused, and reports the failed load', async () => {
    const loaded = await waitFor('the good group to evaluate', async () => {
      const list = await groups('team-a');
      return list.length === 1 && list[0]!.rules[0]!.health === 'ok' ? list : undefined;
    });
    expect(loaded.map((g) => [g.file, g.name, g.rules[0]!.state])).toEqual([['mixed.yaml', 'good', 'firing']]);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('loki_ruler_config_last_reload_successful{user="team-a"} 0');
    expect(await groups('team-b')).toEqual([]);
  });

  it('runs a group posted through the API at once, and stops it when deleted', async () => {
    const body = 'name: posted\ninterval: 1s\nrules:\n  - record: one\n    expr: vector(1)\n';
    const posted = await fetch(`${server.url}/loki/api/v1/rules/api-ns`, {
      method: 'POST',
      headers: { 'x-scope-orgid': 'team-b', 'content-type': 'application/yaml' },
      body,
    });
    expect(posted.status).toBe(202);
    const running = await waitFor('the posted group to evaluate', async () => {
      const list = await groups('team-b');
      return list.find((g) => g.name === 'posted' && g.rules[0]!.health === 'ok');
    }, 15_000);
    expect(running.file).toBe('api-ns');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('loki_ruler_config_last_reload_successful{user="team-b"} 1');

    const deleted = await fetch(`${server.url}/loki/api/v1/rules/api-ns/posted`, { method: 'DELETE', headers: { 'x-scope-orgid': 'team-b' } });
    expect(deleted.status).toBe(202);
    expect(await groups('team-b')).toEqual([]);
    expect((await groups('team-a')).map((g) => g.name)).toEqual(['good']);
  });
});

describe('ruler after a restart', () => {
  it("rebuilds `for` from the stored logs, so an alert active for longer than `for` fires at the first evaluation", async () => {
    const dataDir = tempDir();
    const rulesDir = rulesDirWith({
      'restore.yaml': `groups:
  - name: restore
    interval: 1s
    rules:
      - alert: Busy
        expr: sum by (app) (count_over_time({app="busy"}[5s])) > 0
        for: 1m
`,
    });
    const ruler = { storage: { type: 'local', local: { directory: rulesDir } } };
    // Before the restart: 90 s of lines, one every 2 s, ending now.
    const before = await startServer({ ruler }, dataDir);
    const now = Date.now();
    const entries = [];
    for (let t = now - 90_000; t <= now; t += 2_000) entries.push({ ts: BigInt(t) * 1_000_000n, line: 'working' });
    expect((await push(before.url, [{ labels: { app: 'busy' }, entries }])).status).toBe(204);
    await before.close();

    const after = await startServer({ ruler }, dataDir);
    try {
      const rule = await waitFor('the first evaluation', async () => {
        const res = await getJson(`${after.url}/prometheus/api/v1/rules`);
        const r = res.json.data.groups[0]?.rules[0];
        return r !== undefined && r.health !== 'unknown' ? r : undefined;
      });
      expect(rule.health).toBe('ok');
      expect(rule.state).toBe('firing');
      expect(Date.parse(rule.alerts[0].activeAt)).toBeLessThanOrEqual(now - 60_000);
    } finally {
      await after.close();
      removeDir(rulesDir);
      removeDir(dataDir);
    }
  });
});

describe('ruler load errors in the server log', () => {
  it('names the file, the group and the reason of each refused group', async () => {
    const dataDir = tempDir();
    const rulesDir = rulesDirWith({ 'mixed.yaml': GOOD_AND_BAD });
    const child = await spawnServer(dataDir, `ruler:\n  storage:\n    type: local\n    local:\n      directory: ${rulesDir}\n`);
    try {
      const logged = await waitFor('the load error in the log', () =>
        child
          .output()
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as { msg: string; file?: string; group?: string; reason?: string })
          .find((entry) => entry.msg === 'rule group not loaded'),
      );
      expect(logged.file).toBe(join(rulesDir, 'fake', 'mixed.yaml'));
      expect(logged.group).toBe('bad');
      expect(logged.reason).toContain('rule result is not a vector or scalar');
    } finally {
      await child.stop();
      removeDir(rulesDir);
      removeDir(dataDir);
    }
  });
});
