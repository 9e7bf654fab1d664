import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuleStore } from '../../server/ruler/rule-store.js';
import { startServer, tempDir, type InProcessServer } from '../helpers/server.js';

const ACCEPTED = { status: 'success', data: null, errorType: '', error: '' };

const GROUP = `name: errors
interval: 1m
rules:
  - alert: HighErrors
    expr: sum by (app) (count_over_time({app="api"} |= "error" [5m])) > 10
    for: 5m
    labels:
      severity: page
    annotations:
      summary: "{{ $labels.app }} is failing"
`;

interface Answer {
  status: number;
  text: string;
  type: string;
}

async function call(method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...(body !== undefined ? { 'content-type': 'application/yaml' } : {}), ...headers } };
  if (body !== undefined) init.body = body;
  const res = await fetch(url, init);
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
}

/** A POST whose path is sent byte for byte; resolves to `<status> <body>`. */
function rawPost(url: string, body: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const path = url.slice(url.indexOf('/', 'http://'.length));
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'POST', headers: { 'content-type': 'application/yaml' } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve(`${res.statusCode} ${text}`));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('ruler config API (single tenant)', () => {
  let srv: InProcessServer;
  let rulesDir: string;
  beforeAll(async () => {
    rulesDir = tempDir('skald-rules-');
    srv = await startServer({ ruler: { storage: { type: 'local', local: { directory: rulesDir } } } });
  });
  afterAll(() => srv.close());

  it.each(['/loki/api/v1/rules', '/api/prom/rules', '/prometheus/config/v1/rules'])('round-trips a group under %s', async (prefix) => {
    const ns = `ns-${prefix.split('/')[1]}`;
    const posted = await call('POST', `${srv.url}${prefix}/${ns}`, GROUP);
    expect(posted.status).toBe(202);
    expect(JSON.parse(posted.text)).toEqual(ACCEPTED);

    const group = await call('GET', `${srv.url}${prefix}/${ns}/errors`);
    expect(group.status).toBe(200);
    expect(group.type).toMatch(/^application\/yaml/);
    expect(group.text).toBe(`name: errors
interval: 1m
rules:
  - alert: HighErrors
    expr: sum by (app) (count_over_time({app="api"} |= "error" [5m])) > 10
    for: 5m
    labels:
      severity: page
    annotations:
      summary: "{{ $labels.app }} is failing"
`);

    const namespace = await call('GET', `${srv.url}${prefix}/${ns}`);
    expect(namespace.status).toBe(200);
    expect(namespace.text.startsWith(`${ns}:\n  - name: errors\n`)).toBe(true);

    const all = await call('GET', `${srv.url}${prefix}`);
    expect(all.status).toBe(200);
    expect(all.text).toContain(`${ns}:\n`);

    expect(existsSync(join(rulesDir, 'fake', ns))).toBe(true);
    const deleted = await call('DELETE', `${srv.url}${prefix}/${ns}/errors`);
    expect(deleted.status).toBe(202);
    expect(JSON.parse(deleted.text)).toEqual(ACCEPTED);
    // The last group gone, the file goes too.
    expect(existsSync(join(rulesDir, 'fake', ns))).toBe(false);
    expect(await call('GET', `${srv.url}${prefix}/${ns}`)).toMatchObject({ status: 404, text: 'no rule groups found' });
  });

  it('answers 404 "no rule groups found" when there are none', async () => {
    expect(await call('GET', `${srv.url}/loki/api/v1/rules`)).toMatchObject({ status: 404, text: 'no rule groups found' });
    expect(await call('GET', `${srv.url}/loki/api/v1/rules/nothing`)).toMatchObject({ status: 404, text: 'no rule groups found' });
  });

  it("answers Grafana's rules/test/test probe with 404 \"group does not exist\"", async () => {
    expect(await call('GET', `${srv.url}/api/prom/rules/test/test`)).toMatchObject({ status: 404, text: 'group does not exist' });
    expect(await call('GET', `${srv.url}/loki/api/v1/rules/test/test`)).toMatchObject({ status: 404, text: 'group does not exist' });
  });

  it('refuses invalid groups with 400 and the validation text', async () => {
    const url = `${srv.url}/loki/api/v1/rules/bad`;
    expect(await call('POST', url, 'name: [oops\n')).toMatchObject({ status: 400, text: 'unable to decoded rule group' });
    expect(await call('POST', url, 'rules: []\n')).toMatchObject({ status: 400, text: 'Groupname must not be empty' });
    const logQuery = await call('POST', url, 'name: g\nrules:\n  - alert: A\n    expr: \'{app="x"}\'\n');
    expect(logQuery.status).toBe(400);
    expect(logQuery.text).toContain('group "g", rule 1, "A": rule result is not a vector or scalar');
    const template = await call('POST', url, 'name: g\nrules:\n  - alert: A\n    expr: vector(1)\n    annotations:\n      summary: "{{ .Labels.x "\n');
    expect(template.status).toBe(400);
    expect(template.text).toMatch(/^group "g", rule 1, "A": annotation "summary": template: __alert_A:1: /);
    expect(existsSync(join(rulesDir, 'fake', 'bad'))).toBe(false);
  });

  it('refuses unsafe namespaces with 400', async () => {
    for (const ns of ['.hidden', 'a%2Fb']) {
      const res = await call('POST', `${srv.url}/loki/api/v1/rules/${ns}`, GROUP);
      expect(res.status).toBe(400);
      expect(res.text).toMatch(/^invalid namespace: /);
    }
    // fetch resolves `..` and `%2E%2E` itself; a raw request sends them as they are.
    for (const ns of ['..', '%2E%2E', '.']) {
      expect(await rawPost(`${srv.url}/loki/api/v1/rules/${ns}`, GROUP)).toMatch(/^400 invalid namespace: /);
    }
  });

  it('unescapes namespace and group names', async () => {
    const body = GROUP.replace('name: errors', 'name: my group');
    expect((await call('POST', `${srv.url}/loki/api/v1/rules/my%20ns`, body)).status).toBe(202);
    expect(existsSync(join(rulesDir, 'fake', 'my ns'))).toBe(true);
    expect((await call('GET', `${srv.url}/loki/api/v1/rules/my%20ns/my%20group`)).status).toBe(200);
    expect((await call('DELETE', `${srv.url}/loki/api/v1/rules/my%20ns`)).status).toBe(202);
  });

  it('takes the body whatever its content type, as Loki does', async () => {
    const res = await call('POST', `${srv.url}/loki/api/v1/rules/form`, GROUP, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(202);
    expect((await call('GET', `${srv.url}/loki/api/v1/rules/form/errors`)).text).toContain('summary: "{{ $labels.app }} is failing"');
    expect((await call('DELETE', `${srv.url}/loki/api/v1/rules/form`)).status).toBe(202);
  });

  it('replaces a group by name and keeps the others', async () => {
    const url = `${srv.url}/loki/api/v1/rules/multi`;
    expect((await call('POST', url, GROUP)).status).toBe(202);
    expect((await call('POST', url, GROUP.replace('name: errors', 'name: second'))).status).toBe(202);
    expect((await call('POST', url, GROUP.replace('for: 5m', 'for: 10m'))).status).toBe(202);
    const text = (await call('GET', url)).text;
    expect(text.indexOf('name: errors')).toBeLessThan(text.indexOf('name: second'));
    expect(text).toContain('for: 10m');
    expect((await call('DELETE', `${url}/errors`)).status).toBe(202);
    expect((await call('GET', url)).text).not.toContain('name: errors');
    expect((await call('DELETE', url)).status).toBe(202);
  });

  it('answers 404 for deleting what does not exist', async () => {
    expect(await call('DELETE', `${srv.url}/loki/api/v1/rules/none/none`)).toMatchObject({ status: 404, text: 'group does not exist' });
    expect(await call('DELETE', `${srv.url}/loki/api/v1/rules/none`)).toMatchObject({ status: 404, text: 'group namespace does not exist' });
  });

  it('keeps written groups on disk for a fresh store, in the hand-written format', async () => {
    expect((await call('POST', `${srv.url}/loki/api/v1/rules/durable`, GROUP)).status).toBe(202);
    const fresh = new LocalRuleStore(rulesDir);
    expect(fresh.tenants()).toEqual(['fake']);
    const { namespaces, errors } = fresh.load('fake');
    expect(errors).toEqual([]);
    expect(namespaces.find((ns) => ns.namespace === 'durable')?.groups).toEqual([
      {
        name: 'errors',
        intervalMs: 60_000,
        limit: 0,
        rules: [
          {
            alert: 'HighErrors',
            expr: 'sum by (app) (count_over_time({app="api"} |= "error" [5m])) > 10',
            forMs: 300_000,
            keepFiringForMs: 0,
            labels: { severity: 'page' },
            annotations: { summary: '{{ $labels.app }} is failing' },
          },
        ],
      },
    ]);
    expect(readFileSync(join(rulesDir, 'fake', 'durable'), 'utf8')).toMatch(/^groups:\n {2}- name: errors\n/);
    expect((await call('DELETE', `${srv.url}/loki/api/v1/rules/durable`)).status).toBe(202);
  });

  it('shows hand-written files and refuses to rewrite one with broken groups', async () => {
    const dir = join(rulesDir, 'fake');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'hand'), 'groups:\n  - name: ok\n    rules: []\n  - name: broken\n    rules:\n      - record: x y\n        expr: vector(1)\n');
    writeFileSync(join(dir, '.hidden'), 'not: rules\n');
    mkdirSync(join(dir, 'subdir'), { recursive: true });
    symlinkSync(join(dir, 'hand'), join(dir, 'linked'));
    const all = await call('GET', `${srv.url}/loki/api/v1/rules`);
    expect(all.text).toBe('hand:\n  - name: ok\n    rules: []\nlinked:\n  - name: ok\n    rules: []\n');
    const refused = await call('POST', `${srv.url}/loki/api/v1/rules/hand`, GROUP);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('group "broken"');
    expect((await call('DELETE', `${srv.url}/loki/api/v1/rules/linked`)).status).toBe(202);
    expect((await call('DELETE', `${srv.url}/loki/api/v1/rules/hand`)).status).toBe(202);
    expect(await call('GET', `${srv.url}/loki/api/v1/rules`)).toMatchObject({ status: 404 });
  });
});

describe('ruler config API with auth_enabled', () => {
  let srv: InProcessServer;
  let rulesDir: string;
  beforeAll(async () => {
    rulesDir = tempDir('skald-rules-');
    srv = await startServer({ auth_enabled: true, ruler: { storage: { type: 'local', local: { directory: rulesDir } } } });
  });
  afterAll(() => srv.close());

  it('keeps each tenant to its own rules', async () => {
    const a = { 'X-Scope-OrgID': 'tenant-a' };
    const b = { 'X-Scope-OrgID': 'tenant-b' };
    expect(await call('GET', `${srv.url}/loki/api/v1/rules`)).toMatchObject({ status: 401, text: 'no org id' });
    expect(await call('GET', `${srv.url}/prometheus/config/v1/rules`)).toMatchObject({ status: 401, text: 'no org id' });
    expect((await call('POST', `${srv.url}/api/prom/rules/ns`, GROUP, a)).status).toBe(202);
    expect(existsSync(join(rulesDir, 'tenant-a', 'ns'))).toBe(true);
    expect((await call('GET', `${srv.url}/loki/api/v1/rules/ns/errors`, undefined, a)).status).toBe(200);
    expect(await call('GET', `${srv.url}/loki/api/v1/rules`, undefined, b)).toMatchObject({ status: 404, text: 'no rule groups found' });
    expect(await call('GET', `${srv.url}/loki/api/v1/rules/ns/errors`, undefined, b)).toMatchObject({ status: 404, text: 'group does not exist' });
    expect((await call('DELETE', `${srv.url}/loki/api/v1/rules/ns`, undefined, b)).status).toBe(404);
    expect((await call('GET', `${srv.url}/prometheus/config/v1/rules`, undefined, a)).text).toContain('ns:\n');
  });
});

describe('ruler config API with enable_api: false', () => {
  it('serves no rule routes', async () => {
    const srv = await startServer({ ruler: { enable_api: false, storage: { type: 'local', local: { directory: tempDir('skald-rules-') } } } });
    try {
      // Loki registers the Prometheus-style state routes under the same switch.
      for (const path of ['/loki/api/v1/rules', '/api/prom/rules', '/prometheus/api/v1/rules', '/prometheus/api/v1/alerts']) {
        const res = await call('GET', `${srv.url}${path}`);
        expect(res.status, path).toBe(404);
        expect(res.text).toMatch(/^404 page not found/);
      }
    } finally {
      await srv.close();
    }
  });
});
