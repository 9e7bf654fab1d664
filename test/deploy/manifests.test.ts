/**
 * deploy/: the Kubernetes manifests and the Dockerfile cannot be applied or built here, so these
 * tests check what can go wrong by reading: YAML that does not parse, objects outside the
 * namespace, the agent's ConfigMap not accepted by agent/config.ts, and the places where one
 * file must agree with another (mount paths, ports, the Service the agents push to).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { agentConfigFromObject, type AgentConfig } from '../../agent/config.js';

type K8sObject = Record<string, any>;
type Container = Record<string, any>;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KUBE_DIR = posix.join(ROOT, 'deploy/kubernetes');
const NAMESPACE = 'skald';

interface LoadedObject {
  file: string;
  object: K8sObject;
}

function loadManifests(): LoadedObject[] {
  const files = readdirSync(KUBE_DIR).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
  const out: LoadedObject[] = [];
  for (const file of files) {
    const docs = parseAllDocuments(readFileSync(posix.join(KUBE_DIR, file), 'utf8'));
    // parseAllDocuments returns an EmptyStream (not an array) for a file with no documents.
    if (!Array.isArray(docs)) throw new Error(`${file}: no YAML documents`);
    for (const [i, doc] of docs.entries()) {
      if (doc.errors.length > 0) throw new Error(`${file} document ${i}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const object = doc.toJS() as unknown;
      if (object === null || object === undefined) continue; // an empty document, e.g. a trailing ---
      if (typeof object !== 'object' || Array.isArray(object)) throw new Error(`${file} document ${i}: not a mapping`);
      out.push({ file, object: object as K8sObject });
    }
  }
  return out;
}

const manifests = loadManifests();
const objects = manifests.map((m) => m.object);

function find(kind: string, name: string, namespace = NAMESPACE): K8sObject {
  const matches = objects.filter(
    (o) => o.kind === kind && o.metadata?.name === name && (kind === 'Namespace' || o.metadata?.namespace === namespace),
  );
  expect(matches, `${kind} ${namespace}/${name}`).toHaveLength(1);
  return matches[0]!;
}

function onlyContainer(workload: K8sObject): Container {
  const containers = workload.spec.template.spec.containers as Container[];
  expect(containers).toHaveLength(1);
  return containers[0]!;
}

/** The value of `--name value` or `--name=value` in a container's args. */
function flag(args: string[], name: string): string | undefined {
  for (const [i, arg] of args.entries()) {
    if (arg === name) return args[i + 1];
    if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
  }
  return undefined;
}

/** A probe's or Service's port, which may name a container port, as a number. */
function resolvePort(container: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return (container.ports as { name?: string; containerPort: number }[] | undefined)?.find((p) => p.name === port)?.containerPort;
}

function mountAt(container: Container, mountPath: string): { name: string; readOnly?: boolean } | undefined {
  const mounts = (container.volumeMounts ?? []) as { name: string; mountPath: string; readOnly?: boolean }[];
  return mounts.find((m) => posix.normalize(m.mountPath).replace(/\/$/, '') === posix.normalize(mountPath).replace(/\/$/, ''));
}

function volume(workload: K8sObject, name: string): K8sObject | undefined {
  return (workload.spec.template.spec.volumes as K8sObject[] | undefined)?.find((v) => v.name === name);
}

function agentConfigText(): string {
  const configMap = find('ConfigMap', 'skald-agent');
  const text = configMap.data?.['agent.yaml'] as unknown;
  expect(typeof text).toBe('string');
  return text as string;
}

function agentConfig(): AgentConfig {
  return agentConfigFromObject(parseYaml(agentConfigText()));
}

/** Container security settings, falling back to the pod's where Kubernetes does. */
function effective(workload: K8sObject, container: Container, key: string): unknown {
  return container.securityContext?.[key] ?? workload.spec.template.spec.securityContext?.[key];
}

function expectHardened(container: Container): void {
  expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
  expect(container.securityContext?.allowPrivilegeEscalation).toBe(false);
  expect(container.securityContext?.capabilities?.drop).toContain('ALL');
  expect(container.securityContext?.privileged ?? false).toBe(false);
  expect(container.securityContext?.capabilities?.add ?? []).toEqual([]);
}

describe('deploy/kubernetes manifests', () => {
  it('parse, and every document is a Kubernetes object', () => {
    expect(manifests.length).toBeGreaterThan(0);
    for (const { file, object } of manifests) {
      const where = `${file}: ${object.kind}/${object.metadata?.name}`;
      expect(typeof object.apiVersion, where).toBe('string');
      expect(typeof object.kind, where).toBe('string');
      expect(typeof object.metadata?.name, where).toBe('string');
      expect(object.metadata.name, where).not.toBe('');
    }
  });

  it('put every object in the skald namespace, and create it', () => {
    find('Namespace', NAMESPACE);
    for (const { file, object } of manifests) {
      if (object.kind === 'Namespace') continue;
      expect(object.metadata.namespace, `${file}: ${object.kind}/${object.metadata.name}`).toBe(NAMESPACE);
    }
  });

  it('name the namespace file so that `kubectl apply -f deploy/kubernetes/` creates it first', () => {
    const firstFile = manifests[0]!;
    expect(firstFile.object.kind).toBe('Namespace');
  });

  it('have no two objects of the same kind and name', () => {
    const keys = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('select their own pod template in every workload', () => {
    for (const workload of objects.filter((o) => o.kind === 'DaemonSet' || o.kind === 'StatefulSet' || o.kind === 'Deployment')) {
      const selector = workload.spec.selector.matchLabels as Record<string, string>;
      expect(Object.keys(selector).length).toBeGreaterThan(0);
      expect(workload.spec.template.metadata.labels).toMatchObject(selector);
    }
  });
});

describe('agent ConfigMap', () => {
  it('holds an agent.yaml that agent/config.ts accepts', () => {
    const config = agentConfig();
    expect(config.clients).toHaveLength(1);
    expect(config.pipeline_stages.map((s) => Object.keys(s)[0])).toEqual(['cri']);
    expect(config.server.http_listen_port).toBe(3101);
    // The probe comes from the kubelet on the pod IP, so the agent must not listen on loopback only.
    expect(config.server.http_listen_address).not.toMatch(/^(127\.|localhost$|::1$)/);
  });
});

describe('agent DaemonSet', () => {
  const daemonSet = find('DaemonSet', 'skald-agent');
  const container = onlyContainer(daemonSet);
  const podSpec = daemonSet.spec.template.spec as K8sObject;

  it('runs `agent --config` on the agent.yaml of the mounted ConfigMap', () => {
    const args = container.args as string[];
    expect(args[0]).toBe('agent');
    const configFile = flag(args, '--config');
    expect(configFile).toBeDefined();
    const mount = mountAt(container, posix.dirname(configFile!));
    expect(mount, `a volume mounted at ${posix.dirname(configFile!)}`).toBeDefined();
    const configVolume = volume(daemonSet, mount!.name);
    expect(configVolume?.configMap?.name).toBe('skald-agent');
    expect(posix.basename(configFile!)).toBe('agent.yaml');
    // The ConfigMap's key is the file name the mount gives it (no `items` renaming it).
    expect(configVolume?.configMap?.items).toBeUndefined();
    expect(agentConfigText().length).toBeGreaterThan(0);
  });

  it("mounts the node's /var/log/pods read-only at the config's pods_dir", () => {
    const config = agentConfig();
    const mount = mountAt(container, config.pods_dir);
    expect(mount, `a volume mounted at ${config.pods_dir}`).toBeDefined();
    expect(mount!.readOnly).toBe(true);
    expect(volume(daemonSet, mount!.name)?.hostPath?.path).toBe('/var/log/pods');
    expect(config.pods_dir).toBe('/var/log/pods');
  });

  it("keeps the positions file on a writable hostPath at the config's positions directory", () => {
    const config = agentConfig();
    const dir = posix.dirname(config.positions.filename);
    const mount = mountAt(container, dir);
    expect(mount, `a volume mounted at ${dir}`).toBeDefined();
    expect(mount!.readOnly ?? false).toBe(false);
    const hostPath = volume(daemonSet, mount!.name)?.hostPath;
    expect(hostPath?.path).toBe('/var/lib/skald-agent');
    expect(hostPath?.type).toBe('DirectoryOrCreate');
  });

  it('passes the node name from the downward API', () => {
    const env = (container.env ?? []) as K8sObject[];
    const nodeName = env.find((e) => e.name === 'NODE_NAME');
    expect(nodeName?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
    expect(nodeName?.value).toBeUndefined();
  });

  it('runs the agent with the memory settings its RSS target was measured with (bench/agent.ts reads them from here)', () => {
    const env = new Map(((container.env ?? []) as K8sObject[]).map((e) => [e.name as string, e.value as string | undefined]));
    expect(env.get('NODE_OPTIONS')).toMatch(/(^| )--max-semi-space-size=1( |$)/);
    expect(env.get('MALLOC_ARENA_MAX')).toBe('1');
    expect(env.get('MALLOC_MMAP_THRESHOLD_')).toMatch(/^\d+$/);
    expect(env.get('MALLOC_TRIM_THRESHOLD_')).toMatch(/^\d+$/);
  });

  it('tolerates every taint, so every node runs an agent', () => {
    const tolerations = (podSpec.tolerations ?? []) as K8sObject[];
    expect(tolerations.some((t) => t.operator === 'Exists' && t.key === undefined && t.effect === undefined)).toBe(true);
  });

  it('sets resource requests and a memory limit', () => {
    expect(container.resources?.requests?.cpu).toBe('100m');
    expect(container.resources?.requests?.memory).toBe('64Mi');
    expect(container.resources?.limits?.memory).toBe('128Mi');
  });

  it("probes /ready on the config's listen port, which the container declares", () => {
    const port = agentConfig().server.http_listen_port;
    expect(container.readinessProbe?.httpGet?.path).toBe('/ready');
    expect(resolvePort(container, container.readinessProbe.httpGet.port)).toBe(port);
    const declared = (container.ports as K8sObject[]).find((p) => p.containerPort === port);
    expect(declared?.name).toBe('http-metrics');
  });

  it('runs as root (to read the 0640 log files) but with nothing else', () => {
    expectHardened(container);
    expect(effective(daemonSet, container, 'runAsUser')).toBe(0);
  });

  it('uses its own ServiceAccount', () => {
    expect(podSpec.serviceAccountName).toBe('skald-agent');
    find('ServiceAccount', 'skald-agent');
  });

  it("pushes to the skald Service's port, which reaches the server's container", () => {
    const url = new URL(agentConfig().clients[0]!.url);
    expect(url.pathname).toBe('/loki/api/v1/push');
    // <service>.<namespace>.svc[.cluster.local]
    const [serviceName, namespace, svc, ...rest] = url.hostname.split('.');
    expect(svc).toBe('svc');
    expect(rest.join('.')).toMatch(/^(cluster\.local)?$/);
    expect(serviceName).toBe('skald');
    expect(namespace).toBe(NAMESPACE);
    const service = find('Service', serviceName!, namespace);
    const urlPort = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const servicePort = (service.spec.ports as K8sObject[]).find((p) => p.port === urlPort);
    expect(servicePort, `Service ${serviceName} port ${urlPort}`).toBeDefined();

    const statefulSet = find('StatefulSet', 'skald-server');
    const selector = service.spec.selector as Record<string, string>;
    expect(Object.keys(selector).length).toBeGreaterThan(0);
    expect(statefulSet.spec.template.metadata.labels).toMatchObject(selector);
    expect(service.spec.clusterIP).not.toBe('None');

    const server = onlyContainer(statefulSet);
    const targetPort = resolvePort(server, servicePort!.targetPort ?? servicePort!.port);
    const listen = flag(server.args as string[], '--listen');
    expect(listen).toBeDefined();
    expect(targetPort).toBe(Number(/:(\d+)$/.exec(listen!)?.[1]));
    expect((server.ports as K8sObject[]).map((p) => p.containerPort)).toContain(targetPort);
  });
});

describe('server StatefulSet', () => {
  const statefulSet = find('StatefulSet', 'skald-server');
  const container = onlyContainer(statefulSet);

  it('runs one `skald server` listening on all addresses on port 3100', () => {
    expect(statefulSet.spec.replicas).toBe(1);
    const args = container.args as string[];
    expect(args[0]).toBe('server');
    expect(flag(args, '--listen')).toBe('0.0.0.0:3100');
    expect((container.ports as K8sObject[]).map((p) => p.containerPort)).toContain(3100);
  });

  it('keeps --data-dir on a volumeClaimTemplate', () => {
    const dataDir = flag(container.args as string[], '--data-dir');
    expect(dataDir).toBe('/data');
    const mount = mountAt(container, dataDir!);
    expect(mount, `a volume mounted at ${dataDir}`).toBeDefined();
    expect(mount!.readOnly ?? false).toBe(false);
    const claim = (statefulSet.spec.volumeClaimTemplates as K8sObject[]).find((c) => c.metadata.name === mount!.name);
    expect(claim, `volumeClaimTemplate ${mount!.name}`).toBeDefined();
    expect(claim!.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(claim!.spec.resources.requests.storage).toBe('10Gi');
    // A pod volume of the same name would shadow the claim.
    expect(volume(statefulSet, mount!.name)).toBeUndefined();
  });

  it('probes /ready on the listen port and has a liveness probe', () => {
    expect(container.readinessProbe?.httpGet?.path).toBe('/ready');
    expect(resolvePort(container, container.readinessProbe.httpGet.port)).toBe(3100);
    expect(container.livenessProbe?.httpGet ?? container.livenessProbe?.tcpSocket).toBeDefined();
  });

  it('sets resource requests and limits', () => {
    expect(container.resources?.requests?.cpu).toBeDefined();
    expect(container.resources?.requests?.memory).toBeDefined();
    expect(container.resources?.limits?.memory).toBeDefined();
  });

  it("runs as the image's node user with a writable volume and nothing else", () => {
    expectHardened(container);
    expect(effective(statefulSet, container, 'runAsNonRoot')).toBe(true);
    expect(effective(statefulSet, container, 'runAsUser')).toBe(1000);
    expect(statefulSet.spec.template.spec.securityContext?.fsGroup).toBe(1000);
  });

  it('has a headless Service for its serviceName', () => {
    const headless = find('Service', statefulSet.spec.serviceName as string);
    expect(headless.spec.clusterIP).toBe('None');
    expect(statefulSet.spec.template.metadata.labels).toMatchObject(headless.spec.selector as Record<string, string>);
  });
});

// ---------------------------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
}

/** The Dockerfile's instructions, grouped by stage (comments dropped, continuations joined). */
function dockerfileStages(text: string): Instruction[][] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && current === '')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim() !== '') logical.push(current.trim());
    current = '';
  }
  if (current.trim() !== '') logical.push(current.trim());
  const stages: Instruction[][] = [];
  for (const line of logical) {
    const match = /^(\S+)\s*(.*)$/.exec(line)!;
    const instruction = { keyword: match[1]!.toUpperCase(), args: match[2]! };
    if (instruction.keyword === 'FROM') stages.push([]);
    if (stages.length === 0) {
      if (instruction.keyword === 'ARG') continue; // ARGs before the first FROM are allowed
      throw new Error(`Dockerfile: ${instruction.keyword} before the first FROM`);
    }
    stages[stages.length - 1]!.push(instruction);
  }
  return stages;
}

describe('deploy/Dockerfile', () => {
  const stages = dockerfileStages(readFileSync(posix.join(ROOT, 'deploy/Dockerfile'), 'utf8'));
  const finalStage = stages[stages.length - 1]!;
  const last = (keyword: string) => finalStage.filter((i) => i.keyword === keyword).at(-1);

  it('builds every stage on node:20-slim, in at least two stages', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      expect(stage[0]!.args).toMatch(/^(--platform=\S+\s+)?node:20-slim(\s+AS\s+\S+)?$/i);
    }
  });

  it('compiles with npm run build and drops the dev dependencies', () => {
    const build = stages.slice(0, -1).flat().filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');
    expect(build).toMatch(/npm ci\b/);
    expect(build).toMatch(/npm run build\b/);
    expect(build).toMatch(/npm prune --omit=dev\b/);
    expect(build).toMatch(/python3/);
  });

  it('runs the final stage as a user other than root', () => {
    const user = last('USER');
    expect(user, 'a USER in the final stage').toBeDefined();
    const name = user!.args.split(':')[0]!.trim();
    expect(name).not.toBe('');
    expect(['root', '0']).not.toContain(name);
  });

  it('runs dist/bin/skald.js, where tsconfig.json compiles bin/skald.ts to', () => {
    const entrypoint = JSON.parse(last('ENTRYPOINT')!.args) as string[];
    expect(entrypoint).toEqual(['node', 'dist/bin/skald.js']);
    const tsconfig = JSON.parse(readFileSync(posix.join(ROOT, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: { outDir: string; rootDir: string };
    };
    const compiled = posix.join(tsconfig.compilerOptions.outDir, posix.relative(tsconfig.compilerOptions.rootDir, 'bin/skald.js'));
    expect(compiled).toBe(entrypoint[1]);
    // The final stage has the compiled code, its dependencies and package.json (read for the version).
    const copied = finalStage.filter((i) => i.keyword === 'COPY').map((i) => i.args.split(/\s+/).at(-1)!.replace(/^\.\//, '').replace(/\/$/, ''));
    expect(copied).toEqual(expect.arrayContaining(['dist', 'node_modules', 'package.json']));
  });

  it('serves the server on 0.0.0.0:3100 with /data by default', () => {
    const cmd = JSON.parse(last('CMD')!.args) as string[];
    expect(cmd[0]).toBe('server');
    expect(flag(cmd, '--listen')).toBe('0.0.0.0:3100');
    expect(flag(cmd, '--data-dir')).toBe('/data');
    expect(last('EXPOSE')?.args.split(/\s+/)).toContain('3100');
    const runs = finalStage.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');
    expect(runs).toMatch(/chown\s+(-R\s+)?node(:node)?\s+\/data\b/);
  });
});
