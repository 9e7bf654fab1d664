/**
 * Rule files on local disk, laid out as Loki's local rule store reads them
 * (pkg/ruler/rulestore/local): `<directory>/<tenant>/<namespace>`, one namespace per file.
 *
 * Loki's local store is read-only; this one also writes, so the ruler API edits the very files
 * an operator writes by hand (same YAML format, durable across restarts). Writes are atomic:
 * a reader or a crash sees the old file or the new one, never half of either.
 */
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { formatRuleFile, parseRuleFile } from './rule-file.js';
import type { RuleGroupDesc, RuleLoadError, RuleNamespace } from './types.js';

/** Longest file name Linux file systems take, in bytes. */
const MAX_NAME_BYTES = 255;

/**
 * Why `ns` cannot name a rule file, or undefined when it can: a namespace is one plain file
 * name inside the tenant's directory (Loki requires filepath.IsLocal); hidden names are refused
 * because the loader skips dot files (Kubernetes' `..data` links, our own temp files).
 */
export function validateNamespace(ns: string): string | undefined {
  if (ns === '') return 'namespace must not be empty';
  if (ns.includes('/')) return `namespace "${ns}" must not contain "/"`;
  if (ns.includes('\0')) return 'namespace must not contain NUL';
  if (ns === '.' || ns === '..') return `namespace "${ns}" is not a file name`;
  if (ns.startsWith('.')) return `namespace "${ns}" must not start with "."`;
  if (Buffer.byteLength(ns) > MAX_NAME_BYTES) return `namespace is longer than ${MAX_NAME_BYTES} bytes`;
  return undefined;
}

/** A namespace file the API would have to rewrite holds groups that do not load; rewriting would lose them. */
export class RuleFileConflictError extends Error {
  override readonly name = 'RuleFileConflictError';
}

export class LocalRuleStore {
  constructor(readonly directory: string) {}

  /** Tenants with a rule directory; hidden entries are skipped like hidden rule files. */
  tenants(): string[] {
    return listEntries(this.directory)
      .filter((name) => isKind(join(this.directory, name), 'directory'))
      .sort();
  }

  load(tenant: string): { namespaces: RuleNamespace[]; errors: RuleLoadError[] } {
    const dir = this.tenantDir(tenant);
    const namespaces: RuleNamespace[] = [];
    const errors: RuleLoadError[] = [];
    for (const name of listEntries(dir).sort()) {
      const file = join(dir, name);
      let text: string;
      try {
        // statSync follows symlinks: a link to a file is a rule file, a link to a directory is not.
        if (!statSync(file).isFile()) continue;
        text = readFileSync(file, 'utf8');
      } catch (err) {
        errors.push({ tenant, file, group: '', reason: `cannot read rule file: ${(err as Error).message}` });
        continue;
      }
      const parsed = parseRuleFile(text, file, tenant);
      errors.push(...parsed.errors);
      if (parsed.groups.length > 0) namespaces.push({ namespace: name, groups: parsed.groups });
    }
    return { namespaces, errors };
  }

  setGroup(tenant: string, namespace: string, group: RuleGroupDesc): void {
    const file = this.namespaceFile(tenant, namespace);
    const groups = this.readForRewrite(tenant, file) ?? [];
    const index = groups.findIndex((g) => g.name === group.name);
    // A replaced group keeps its place, so hand-ordered files stay in order.
    if (index >= 0) groups[index] = group;
    else groups.push(group);
    mkdirSync(dirname(file), { recursive: true });
    writeAtomically(file, formatRuleFile(groups));
  }

  deleteGroup(tenant: string, namespace: string, group: string): boolean {
    const file = this.namespaceFile(tenant, namespace);
    const groups = this.readForRewrite(tenant, file);
    const index = groups?.findIndex((g) => g.name === group) ?? -1;
    if (groups === undefined || index < 0) return false;
    groups.splice(index, 1);
    if (groups.length === 0) removeDurably(file);
    else writeAtomically(file, formatRuleFile(groups));
    return true;
  }

  deleteNamespace(tenant: string, namespace: string): boolean {
    const file = this.namespaceFile(tenant, namespace);
    if (!isKind(file, 'file')) return false;
    removeDurably(file);
    return true;
  }

  private tenantDir(tenant: string): string {
    // Tenant ids are validated by the HTTP layer; this guards the file system all the same.
    const problem = validateNamespace(tenant);
    if (problem !== undefined) throw new Error(`invalid tenant for the rule store: ${problem}`);
    return join(this.directory, tenant);
  }

  private namespaceFile(tenant: string, namespace: string): string {
    const problem = validateNamespace(namespace);
    if (problem !== undefined) throw new Error(problem);
    return join(this.tenantDir(tenant), namespace);
  }

  /** The file's groups, or undefined when it does not exist; refuses files with groups that do not load. */
  private readForRewrite(tenant: string, file: string): RuleGroupDesc[] | undefined {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const { groups, errors } = parseRuleFile(text, file, tenant);
    if (errors.length > 0) {
      const reasons = errors.map((e) => (e.group === '' ? e.reason : `group "${e.group}": ${e.reason}`)).join('; ');
      throw new RuleFileConflictError(`rule file ${basename(file)} has rule groups that cannot be loaded; fix or delete it first: ${reasons}`);
    }
    return groups;
  }
}

function listEntries(dir: string): string[] {
  try {
    return readdirSync(dir).filter((name) => !name.startsWith('.'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

function isKind(path: string, kind: 'file' | 'directory'): boolean {
  try {
    const stat = statSync(path);
    return kind === 'file' ? stat.isFile() : stat.isDirectory();
  } catch {
    return false;
  }
}

/** Temp file, fsync, rename over the target, fsync the directory so the rename itself is durable. */
function writeAtomically(file: string, content: string): void {
  // Writing through a symlink keeps an operator's link layout instead of replacing the link.
  const target = isKind(file, 'file') ? realpathSync(file) : file;
  const dir = dirname(target);
  // A leading dot keeps a half-written temp file out of load().
  const temp = join(dir, `.${basename(target)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(temp, 'w', 0o644);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temp, target);
  } catch (err) {
    unlinkSync(temp);
    throw err;
  }
  syncDirectory(dir);
}

function removeDurably(file: string): void {
  unlinkSync(file);
  syncDirectory(dirname(file));
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
