/**
 * Prometheus-format rule files with LogQL expressions (Prometheus model/rulefmt, as Loki's ruler
 * reads them): decoding, Loki's validation (pkg/ruler/compat.go validateRule plus rulefmt's own
 * checks) and printing in the shape Loki's ruler API answers with.
 *
 * Files are decoded strictly (unknown keys are errors, like Loki's `KnownFields(true)` loader).
 * Unlike Prometheus, which rejects a whole file for one bad group, a bad group is reported and
 * skipped so that one typo does not silence every other alert in the file.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, stringify, type Document, type Node } from 'yaml';
import { isLogQuery, parse, ParseError } from '../../logql/index.js';
import { parseDurationMs } from '../units.js';
import { validateAlertTemplate } from './template.js';
import type { RuleDesc, RuleGroupDesc, RuleLoadError, RuleNamespace } from './types.js';

/** A POSTed rule group that Loki's API would refuse with 400; the message is the response body. */
export class RuleValidationError extends Error {
  override readonly name = 'RuleValidationError';
}

/** Loki's ErrBadRuleGroup text (pkg/ruler/base/api.go), kept verbatim for clients matching on it. */
const UNDECODABLE_GROUP = 'unable to decoded rule group';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

// The keys of rulefmt.RuleGroup and rulefmt.RuleNode. `query_offset` and group `labels` are
// accepted because Prometheus's format has them, and dropped because Loki's rule model does not
// carry them (pkg/ruler/rulespb/compat.go): a file Loki loads must load here too.
const FILE_KEYS = new Set(['groups']);
const GROUP_KEYS = new Set(['name', 'interval', 'query_offset', 'limit', 'rules', 'labels']);
const RULE_KEYS = new Set(['record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations']);

/** The groups of one rule file that can be loaded, and why the others cannot. */
export function parseRuleFile(text: string, file: string, tenant: string): { groups: RuleGroupDesc[]; errors: RuleLoadError[] } {
  const fileError = (reason: string) => ({ groups: [], errors: [{ tenant, file, group: '', reason }] });
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length > 0) return fileError(`invalid YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
  const decoder = new Decoder(doc, lines, true);
  const root = decoder.resolve(doc.contents);
  // An empty file holds no groups, as in Prometheus (rulefmt.Parse ignores io.EOF).
  if (isNull(root)) return { groups: [], errors: [] };
  const fields = decoder.fields(root, 'rulefmt.RuleGroups', FILE_KEYS);
  if (fields === undefined || decoder.problems.length > 0) return fileError(decoder.problems.join('; '));
  const list = decoder.resolve(fields.get('groups') ?? null);
  if (isNull(list)) return { groups: [], errors: [] };
  if (!isSeq(list)) return fileError(`${decoder.where(list)}cannot unmarshal ${kindOf(list)} into []rulefmt.RuleGroup`);

  const groups: RuleGroupDesc[] = [];
  const errors: RuleLoadError[] = [];
  const seen = new Set<string>();
  for (const item of list.items) {
    const { name, group, problems } = decodeGroup(new Decoder(doc, lines, true), item as Node | null);
    if (group !== undefined && seen.has(name)) problems.push(`groupname: "${name}" is repeated in the same file`);
    seen.add(name);
    if (group !== undefined && problems.length === 0) groups.push(group);
    else errors.push({ tenant, file, group: name, reason: problems.join('; ') });
  }
  return { groups, errors };
}

/**
 * Decodes and validates one rule group as POSTed to Loki's ruler API. Keys that the rule format
 * does not know are ignored, as Loki's non-strict `yaml.Unmarshal` there does: Grafana's editor
 * may send fields (`source_tenants`) Loki has no use for. Throws RuleValidationError.
 */
export function parseRuleGroup(text: string): RuleGroupDesc {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  if (doc.errors.length > 0) throw new RuleValidationError(UNDECODABLE_GROUP);
  const decoder = new Decoder(doc, lines, false);
  const root = decoder.resolve(doc.contents);
  if (!isNull(root) && !isMap(root)) throw new RuleValidationError(UNDECODABLE_GROUP);
  const { group, problems } = decodeGroup(decoder, root);
  if (group === undefined || problems.length > 0) throw new RuleValidationError(problems.join('; '));
  return group;
}

interface DecodedGroup {
  name: string;
  /** Undefined when the group's shape could not be decoded at all. */
  group?: RuleGroupDesc;
  problems: string[];
}

function decodeGroup(decoder: Decoder, node: Node | null): DecodedGroup {
  const resolved = decoder.resolve(node);
  // A null document is an empty group (Go decodes it into the zero RuleGroup).
  const fields = isNull(resolved) ? new Map<string, Node | null>() : decoder.fields(resolved, 'rulefmt.RuleGroup', GROUP_KEYS);
  if (fields === undefined) return { name: '', problems: decoder.problems };
  const name = decoder.string(fields.get('name'), 'name') ?? '';
  const intervalMs = decoder.duration(fields.get('interval'), 'interval');
  decoder.duration(fields.get('query_offset'), 'query_offset');
  decoder.stringMap(fields.get('labels'), 'labels');
  const limit = decoder.nonNegativeInt(fields.get('limit'), 'limit');
  const problems = [...decoder.problems];
  if (name === '') problems.push('Groupname must not be empty');

  const rules: RuleDesc[] = [];
  const ruleList = decoder.resolve(fields.get('rules') ?? null);
  if (!isNull(ruleList) && !isSeq(ruleList)) {
    problems.push(`${decoder.where(ruleList)}rules: cannot unmarshal ${kindOf(ruleList)} into []rulefmt.RuleNode`);
  } else if (isSeq(ruleList)) {
    ruleList.items.forEach((item, index) => {
      const ruleDecoder = decoder.fork();
      const rule = decodeRule(ruleDecoder, item as Node | null);
      const ruleProblems = rule === undefined ? ruleDecoder.problems : [...ruleDecoder.problems, ...validateRule(rule)];
      // Prometheus's rulefmt.Error wording: rules are numbered from 1 and named by alert or record.
      const label = `group "${name}", rule ${index + 1}, "${rule?.alert ?? rule?.record ?? ''}"`;
      for (const problem of ruleProblems) problems.push(`${label}: ${problem}`);
      if (rule !== undefined) rules.push(rule);
    });
  }
  return { name, group: { name, intervalMs, limit, rules }, problems };
}

function decodeRule(decoder: Decoder, node: Node | null): RuleDesc | undefined {
  const fields = decoder.fields(decoder.resolve(node), 'rulefmt.RuleNode', RULE_KEYS);
  if (fields === undefined) return undefined;
  const rule: RuleDesc = {
    expr: decoder.string(fields.get('expr'), 'expr') ?? '',
    forMs: decoder.duration(fields.get('for'), 'for'),
    keepFiringForMs: decoder.duration(fields.get('keep_firing_for'), 'keep_firing_for'),
    labels: decoder.stringMap(fields.get('labels'), 'labels'),
    annotations: decoder.stringMap(fields.get('annotations'), 'annotations'),
  };
  // Go leaves an absent or empty key as the empty string; "one of" below treats both as unset.
  const alert = decoder.string(fields.get('alert'), 'alert');
  const record = decoder.string(fields.get('record'), 'record');
  if (alert) rule.alert = alert;
  if (record) rule.record = record;
  return rule;
}

/** Loki's validateRuleNode and Prometheus's RuleNode.Validate; every problem, not just the first. */
function validateRule(rule: RuleDesc): string[] {
  const problems: string[] = [];
  if (rule.alert !== undefined && rule.record !== undefined) problems.push("only one of 'record' and 'alert' must be set");
  if (rule.alert === undefined && rule.record === undefined) problems.push("one of 'record' or 'alert' must be set");

  const exprProblem = validateExpr(rule.expr);
  if (exprProblem !== undefined) problems.push(exprProblem);

  if (rule.record !== undefined) {
    if (Object.keys(rule.annotations).length > 0) problems.push("invalid field 'annotations' in recording rule");
    if (rule.forMs !== 0) problems.push("invalid field 'for' in recording rule");
    if (rule.keepFiringForMs !== 0) problems.push("invalid field 'keep_firing_for' in recording rule");
    if (!METRIC_NAME.test(rule.record)) problems.push(`invalid recording rule name: ${rule.record}`);
  }
  for (const name of Object.keys(rule.labels)) {
    if (!LABEL_NAME.test(name) || name === '__name__') problems.push(`invalid label name: ${name}`);
  }
  for (const name of Object.keys(rule.annotations)) {
    if (!LABEL_NAME.test(name)) problems.push(`invalid annotation name: ${name}`);
  }
  // Only alerting rules expand templates (Prometheus testTemplateParsing); a recording rule's
  // label values are taken literally.
  if (rule.alert !== undefined) {
    const templateName = `__alert_${rule.alert}`;
    for (const [name, text] of sortedEntries(rule.labels)) {
      const problem = validateAlertTemplate(templateName, text);
      if (problem !== undefined) problems.push(`label "${name}": ${problem}`);
    }
    for (const [name, text] of sortedEntries(rule.annotations)) {
      const problem = validateAlertTemplate(templateName, text);
      if (problem !== undefined) problems.push(`annotation "${name}": ${problem}`);
    }
  }
  return problems;
}

function validateExpr(expr: string): string | undefined {
  if (expr === '') return "field 'expr' must be set in rule";
  try {
    // Loki accepts log queries here and only fails each evaluation; refusing them at load
    // surfaces the mistake when the rule is written instead of in an alert that never fires.
    if (isLogQuery(parse(expr))) {
      return 'rule result is not a vector or scalar: expr is a log query, rules need a metric query such as count_over_time({...}[5m])';
    }
  } catch (err) {
    if (err instanceof ParseError) return `could not parse expression: ${err.lokiMessage}`;
    throw err;
  }
  return undefined;
}

/**
 * Reads the YAML node tree the way Go's yaml.v3 decodes into rulefmt's structs, collecting
 * problems (prefixed by `line N:`) instead of stopping at the first.
 */
class Decoder {
  readonly problems: string[] = [];

  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    /** Unknown keys are errors (KnownFields); otherwise they are ignored. */
    private readonly strict: boolean,
  ) {}

  /** A decoder for a nested value whose problems are reported separately. */
  fork(): Decoder {
    return new Decoder(this.doc, this.lines, this.strict);
  }

  resolve(node: unknown): Node | null {
    let current = node;
    // Anchors and aliases are plain YAML; Go follows them too.
    while (isAlias(current)) current = current.resolve(this.doc);
    return (current ?? null) as Node | null;
  }

  where(node: Node | null): string {
    const offset = node?.range?.[0];
    return offset === undefined ? '' : `line ${this.lines.linePos(offset).line}: `;
  }

  /** The value of each key of a mapping; undefined (and a problem) when it is not a mapping. */
  fields(node: Node | null, type: string, known: ReadonlySet<string>): Map<string, Node | null> | undefined {
    if (!isMap(node)) {
      this.problems.push(`${this.where(node)}cannot unmarshal ${kindOf(node)} into ${type}`);
      return undefined;
    }
    const out = new Map<string, Node | null>();
    for (const pair of node.items) {
      const keyNode = this.resolve(pair.key);
      const key = isScalar(keyNode) ? String(keyNode.value) : '';
      if (!known.has(key)) {
        if (this.strict) this.problems.push(`${this.where(keyNode)}field ${key} not found in type ${type}`);
        continue;
      }
      out.set(key, this.resolve(pair.value));
    }
    return out;
  }

  /** Go decodes any scalar into a string field by its text; null gives ''. */
  string(node: Node | null | undefined, field: string): string | undefined {
    const resolved = this.resolve(node);
    if (isNull(resolved)) return undefined;
    if (!isScalar(resolved)) {
      this.problems.push(`${this.where(resolved)}${field}: cannot unmarshal ${kindOf(resolved)} into string`);
      return undefined;
    }
    if (typeof resolved.value === 'string') return resolved.value;
    return resolved.source ?? String(resolved.value);
  }

  /** A Prometheus duration (model.Duration), in milliseconds; absent = 0. */
  duration(node: Node | null | undefined, field: string): number {
    const text = this.string(node, field);
    if (text === undefined) return 0;
    const ms = parseDurationMs(text);
    if (ms === undefined) {
      this.problems.push(`${this.where(this.resolve(node))}${field}: not a valid duration string: "${text}"`);
      return 0;
    }
    return ms;
  }

  nonNegativeInt(node: Node | null | undefined, field: string): number {
    const resolved = this.resolve(node);
    if (isNull(resolved)) return 0;
    if (!isScalar(resolved) || typeof resolved.value !== 'number' || !Number.isSafeInteger(resolved.value) || resolved.value < 0) {
      const shown = isScalar(resolved) ? String(resolved.source ?? resolved.value) : kindOf(resolved);
      this.problems.push(`${this.where(resolved)}${field}: must be a non-negative integer, got ${shown}`);
      return 0;
    }
    return resolved.value;
  }

  stringMap(node: Node | null | undefined, field: string): Record<string, string> {
    const out: Record<string, string> = {};
    const resolved = this.resolve(node);
    if (isNull(resolved)) return out;
    if (!isMap(resolved)) {
      this.problems.push(`${this.where(resolved)}${field}: cannot unmarshal ${kindOf(resolved)} into map[string]string`);
      return out;
    }
    for (const pair of resolved.items) {
      const key = this.string(this.resolve(pair.key), `${field} key`);
      if (key === undefined) continue;
      out[key] = this.string(this.resolve(pair.value), `${field}.${key}`) ?? '';
    }
    return out;
  }
}

function isNull(node: Node | null): node is null {
  return node === null || (isScalar(node) && node.value === null);
}

/** The YAML kind in Go's error wording (`!!seq`, `!!map`, `!!str`...). */
function kindOf(node: Node | null): string {
  if (isMap(node)) return '!!map';
  if (isSeq(node)) return '!!seq';
  if (isScalar(node)) {
    const value = node.value;
    if (value === null) return '!!null';
    if (typeof value === 'number') return Number.isInteger(value) ? '!!int' : '!!float';
    if (typeof value === 'boolean') return '!!bool';
    return '!!str';
  }
  return '!!null';
}

function sortedEntries(map: Record<string, string>): Array<[string, string]> {
  return Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

// ---- printing ----

const DURATION_STEPS: ReadonlyArray<[string, number, boolean]> = [
  // Years and weeks only when they divide exactly, as Prometheus prints (90d, not 12w6d).
  ['y', 365 * 86_400_000, true],
  ['w', 7 * 86_400_000, true],
  ['d', 86_400_000, false],
  ['h', 3_600_000, false],
  ['m', 60_000, false],
  ['s', 1000, false],
  ['ms', 1, false],
];

/** A duration as Prometheus's model.Duration prints it: `1h30m`, `90d`, `0s`. */
function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size, exact] of DURATION_STEPS) {
    if (exact && rest % size !== 0) continue;
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}

/** A group as rulefmt.RuleGroup marshals: its key order, `omitempty` fields left out, maps sorted. */
function groupObject(group: RuleGroupDesc): Record<string, unknown> {
  const out: Record<string, unknown> = { name: group.name };
  if (group.intervalMs !== 0) out['interval'] = formatDuration(group.intervalMs);
  if (group.limit !== 0) out['limit'] = group.limit;
  out['rules'] = group.rules.map(ruleObject);
  return out;
}

function ruleObject(rule: RuleDesc): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (rule.record !== undefined) out['record'] = rule.record;
  if (rule.alert !== undefined) out['alert'] = rule.alert;
  out['expr'] = rule.expr;
  if (rule.forMs !== 0) out['for'] = formatDuration(rule.forMs);
  if (rule.keepFiringForMs !== 0) out['keep_firing_for'] = formatDuration(rule.keepFiringForMs);
  if (Object.keys(rule.labels).length > 0) out['labels'] = Object.fromEntries(sortedEntries(rule.labels));
  if (Object.keys(rule.annotations).length > 0) out['annotations'] = Object.fromEntries(sortedEntries(rule.annotations));
  return out;
}

function toYaml(value: unknown): string {
  // lineWidth 0: long expressions stay on one line instead of being folded.
  return stringify(value, { lineWidth: 0 });
}

/** One group, as GET /loki/api/v1/rules/{ns}/{group} answers. */
export function formatRuleGroupYaml(group: RuleGroupDesc): string {
  return toYaml(groupObject(group));
}

/** `{namespace: [group...]}` sorted by namespace, as GET /loki/api/v1/rules[/{ns}] answers. */
export function formatNamespacesYaml(namespaces: RuleNamespace[]): string {
  const sorted = [...namespaces].sort((a, b) => (a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
  return toYaml(Object.fromEntries(sorted.map((ns) => [ns.namespace, ns.groups.map(groupObject)])));
}

/** A whole rule file (`groups: [...]`), the format parseRuleFile reads. */
export function formatRuleFile(groups: RuleGroupDesc[]): string {
  return toYaml({ groups: groups.map(groupObject) });
}
