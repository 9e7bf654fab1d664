import { describe, expect, it } from 'vitest';
import {
  formatNamespacesYaml,
  formatRuleFile,
  formatRuleGroupYaml,
  parseRuleFile,
  parseRuleGroup,
  RuleValidationError,
} from '../../server/ruler/rule-file.js';
import type { RuleGroupDesc } from '../../server/ruler/types.js';

const GOOD_FILE = `
groups:
  - name: errors
    interval: 1m30s
    limit: 10
    rules:
      - alert: HighErrors
        expr: sum by (app) (count_over_time({app="api"} |= "error" [5m])) > 10
        for: 2m
        keep_firing_for: 1m
        labels:
          severity: page
          priority: 1
        annotations:
          summary: "{{ $labels.app }} has {{ $value }} errors"
      - record: app:errors:rate5m
        expr: |
          sum by (app) (
            rate({app="api"} |= "error" [5m])
          )
        labels:
          team: core
`;

function groupErrorOf(text: string): string {
  try {
    parseRuleGroup(text);
  } catch (err) {
    expect(err).toBeInstanceOf(RuleValidationError);
    return (err as Error).message;
  }
  throw new Error('expected the group to be rejected');
}

const rule = (lines: string) => `name: g\nrules:\n  - ${lines.trim().split('\n').join('\n    ')}\n`;

describe('parseRuleFile', () => {
  it('decodes every field into the shared model', () => {
    const { groups, errors } = parseRuleFile(GOOD_FILE, '/rules/fake/ns', 'fake');
    expect(errors).toEqual([]);
    expect(groups).toEqual([
      {
        name: 'errors',
        intervalMs: 90_000,
        limit: 10,
        rules: [
          {
            alert: 'HighErrors',
            expr: 'sum by (app) (count_over_time({app="api"} |= "error" [5m])) > 10',
            forMs: 120_000,
            keepFiringForMs: 60_000,
            // A number decodes into a string field by its text, as Go's yaml does.
            labels: { severity: 'page', priority: '1' },
            annotations: { summary: '{{ $labels.app }} has {{ $value }} errors' },
          },
          {
            record: 'app:errors:rate5m',
            expr: 'sum by (app) (\n  rate({app="api"} |= "error" [5m])\n)\n',
            forMs: 0,
            keepFiringForMs: 0,
            labels: { team: 'core' },
            annotations: {},
          },
        ],
      },
    ]);
  });

  it('reports a bad group and still loads the others', () => {
    const text = `groups:
  - name: first
    rules:
      - record: ok:one
        expr: sum(rate({a="b"}[1m]))
  - name: broken
    rules:
      - record: bad name
        expr: sum(rate({a="b"}[1m]))
  - name: third
    rules: []
`;
    const { groups, errors } = parseRuleFile(text, '/r/fake/ns', 'fake');
    expect(groups.map((g) => g.name)).toEqual(['first', 'third']);
    expect(errors).toEqual([
      { tenant: 'fake', file: '/r/fake/ns', group: 'broken', reason: 'group "broken", rule 1, "bad name": invalid recording rule name: bad name' },
    ]);
  });

  it('rejects unknown keys at every level, naming the line', () => {
    const text = `groups:
  - name: a
    intervall: 1m
    rules: []
  - name: b
    rules:
      - alert: X
        expr: sum(rate({a="b"}[1m]))
        anotations: {}
`;
    const { groups, errors } = parseRuleFile(text, 'f', 't');
    expect(groups).toEqual([]);
    expect(errors.map((e) => [e.group, e.reason])).toEqual([
      ['a', 'line 3: field intervall not found in type rulefmt.RuleGroup'],
      ['b', 'group "b", rule 1, "X": line 9: field anotations not found in type rulefmt.RuleNode'],
    ]);
    const top = parseRuleFile('groups: []\nrules: []\n', 'f', 't');
    expect(top.errors).toEqual([{ tenant: 't', file: 'f', group: '', reason: 'line 2: field rules not found in type rulefmt.RuleGroups' }]);
  });

  it('gives one file-level error for YAML that cannot be read', () => {
    const { groups, errors } = parseRuleFile('groups: [\n  - name: a\n', 'f', 't');
    expect(groups).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.group).toBe('');
    expect(errors[0]!.reason).toMatch(/^invalid YAML: /);
    expect(parseRuleFile('- a\n- b\n', 'f', 't').errors[0]!.reason).toBe('line 1: cannot unmarshal !!seq into rulefmt.RuleGroups');
    expect(parseRuleFile('groups: x\n', 'f', 't').errors[0]!.reason).toBe('line 1: cannot unmarshal !!str into []rulefmt.RuleGroup');
  });

  it('treats an empty file as no groups', () => {
    expect(parseRuleFile('', 'f', 't')).toEqual({ groups: [], errors: [] });
    expect(parseRuleFile('# nothing yet\ngroups:\n', 'f', 't')).toEqual({ groups: [], errors: [] });
  });

  it('refuses a repeated group name but keeps the first', () => {
    const { groups, errors } = parseRuleFile('groups:\n  - name: a\n    rules: []\n  - name: a\n    rules: []\n', 'f', 't');
    expect(groups).toHaveLength(1);
    expect(errors.map((e) => e.reason)).toEqual(['groupname: "a" is repeated in the same file']);
  });

  it('accepts and drops the Prometheus keys Loki does not carry', () => {
    const { groups, errors } = parseRuleFile('groups:\n  - name: a\n    query_offset: 1m\n    labels: {x: y}\n    rules: []\n', 'f', 't');
    expect(errors).toEqual([]);
    expect(groups).toEqual([{ name: 'a', intervalMs: 0, limit: 0, rules: [] }]);
  });
});

describe('parseRuleGroup validation messages', () => {
  it.each([
    ['a group without a name', 'rules: []\n', 'Groupname must not be empty'],
    ['an empty body', '', 'Groupname must not be empty'],
    ['a bad interval', 'name: g\ninterval: 5x\nrules: []\n', 'line 2: interval: not a valid duration string: "5x"'],
    ['a bare number as interval', 'name: g\ninterval: 60\nrules: []\n', 'line 2: interval: not a valid duration string: "60"'],
    ['a negative limit', 'name: g\nlimit: -1\nrules: []\n', 'line 2: limit: must be a non-negative integer, got -1'],
    ['a fractional limit', 'name: g\nlimit: 1.5\nrules: []\n', 'line 2: limit: must be a non-negative integer, got 1.5'],
    ['rules that are not a list', 'name: g\nrules: {}\n', 'line 2: rules: cannot unmarshal !!map into []rulefmt.RuleNode'],
    ['both alert and record', rule('alert: A\nrecord: r\nexpr: sum(rate({a="b"}[1m]))'), `group "g", rule 1, "A": only one of 'record' and 'alert' must be set`],
    ['neither alert nor record', rule('expr: sum(rate({a="b"}[1m]))'), `group "g", rule 1, "": one of 'record' or 'alert' must be set`],
    ['no expr', rule('alert: A'), `group "g", rule 1, "A": field 'expr' must be set in rule`],
    [
      'an expr that does not parse',
      rule('alert: A\nexpr: sum(rate({a="b"}[1m])'),
      'group "g", rule 1, "A": could not parse expression: parse error at line 1, col 22: syntax error: unexpected $end',
    ],
    [
      'a log query',
      rule('alert: A\nexpr: \'{a="b"} |= "x"\''),
      'group "g", rule 1, "A": rule result is not a vector or scalar: expr is a log query, rules need a metric query such as count_over_time({...}[5m])',
    ],
    ['a bad metric name', rule('record: 1abc\nexpr: sum(rate({a="b"}[1m]))'), 'group "g", rule 1, "1abc": invalid recording rule name: 1abc'],
    ['annotations on a recording rule', rule('record: r\nexpr: sum(rate({a="b"}[1m]))\nannotations: {a: b}'), `group "g", rule 1, "r": invalid field 'annotations' in recording rule`],
    ['for on a recording rule', rule('record: r\nexpr: sum(rate({a="b"}[1m]))\nfor: 1m'), `group "g", rule 1, "r": invalid field 'for' in recording rule`],
    ['keep_firing_for on a recording rule', rule('record: r\nexpr: sum(rate({a="b"}[1m]))\nkeep_firing_for: 1m'), `group "g", rule 1, "r": invalid field 'keep_firing_for' in recording rule`],
    ['a bad label name', rule('alert: A\nexpr: sum(rate({a="b"}[1m]))\nlabels: {"a-b": x}'), 'group "g", rule 1, "A": invalid label name: a-b'],
    ['the __name__ label', rule('record: r\nexpr: sum(rate({a="b"}[1m]))\nlabels: {__name__: x}'), 'group "g", rule 1, "r": invalid label name: __name__'],
    ['a bad annotation name', rule('alert: A\nexpr: sum(rate({a="b"}[1m]))\nannotations: {"a.b": x}'), 'group "g", rule 1, "A": invalid annotation name: a.b'],
    ['a bad for', rule('alert: A\nexpr: sum(rate({a="b"}[1m]))\nfor: soon'), 'group "g", rule 1, "A": line 5: for: not a valid duration string: "soon"'],
    ['a bad keep_firing_for', rule('alert: A\nexpr: sum(rate({a="b"}[1m]))\nkeep_firing_for: -1m'), 'group "g", rule 1, "A": line 5: keep_firing_for: not a valid duration string: "-1m"'],
    ['labels that are a list', rule('alert: A\nexpr: sum(rate({a="b"}[1m]))\nlabels: [a]'), 'group "g", rule 1, "A": line 5: labels: cannot unmarshal !!seq into map[string]string'],
    ['a rule that is not a mapping', 'name: g\nrules:\n  - just text\n', 'group "g", rule 1, "": line 3: cannot unmarshal !!str into rulefmt.RuleNode'],
  ])('rejects %s', (_what, text, message) => {
    expect(groupErrorOf(text)).toBe(message);
  });

  it('answers Loki\'s "unable to decoded rule group" for undecodable YAML', () => {
    expect(groupErrorOf('name: [unclosed\n')).toBe('unable to decoded rule group');
    expect(groupErrorOf('- name: g\n')).toBe('unable to decoded rule group');
    expect(groupErrorOf('just a string')).toBe('unable to decoded rule group');
  });

  it('joins every problem with "; "', () => {
    const text = 'name: g\nrules:\n  - record: "bad name"\n    expr: sum(rate({a="b"}[1m]))\n    for: 1m\n  - alert: ""\n    expr: x\n';
    expect(groupErrorOf(text).split('; ')).toEqual([
      `group "g", rule 1, "bad name": invalid field 'for' in recording rule`,
      'group "g", rule 1, "bad name": invalid recording rule name: bad name',
      `group "g", rule 2, "": one of 'record' or 'alert' must be set`,
      expect.stringMatching(/^group "g", rule 2, "": could not parse expression: parse error/),
    ]);
  });

  it('ignores keys it does not know, as Loki\'s non-strict POST decoding does', () => {
    expect(parseRuleGroup('name: g\nsource_tenants: [a]\nrules: []\n')).toEqual({ name: 'g', intervalMs: 0, limit: 0, rules: [] });
  });

  it('accepts scalar and vector metric queries', () => {
    const group = parseRuleGroup(rule('record: one\nexpr: "1"') + '  - alert: V\n    expr: vector(1) > 0\n');
    expect(group.rules.map((r) => r.expr)).toEqual(['1', 'vector(1) > 0']);
  });
});

describe('printing', () => {
  const group: RuleGroupDesc = {
    name: 'errors',
    intervalMs: 5_400_000,
    limit: 3,
    rules: [
      {
        alert: 'HighErrors',
        expr: 'sum(count_over_time({app="api"} |= "error" [5m])) > 10',
        forMs: 90_061_001,
        keepFiringForMs: 0,
        labels: { severity: 'page', code: '500', zone: '' },
        annotations: { summary: 'line one\nline two: {{ $value }}' },
      },
      { record: 'app:lines:rate1m', expr: 'sum(rate({app="api"}[1m]))', forMs: 0, keepFiringForMs: 0, labels: {}, annotations: {} },
    ],
  };

  it('prints durations as Prometheus does and leaves empty fields out', () => {
    expect(formatRuleGroupYaml(group)).toBe(`name: errors
interval: 1h30m
limit: 3
rules:
  - alert: HighErrors
    expr: sum(count_over_time({app="api"} |= "error" [5m])) > 10
    for: 1d1h1m1s1ms
    labels:
      code: "500"
      severity: page
      zone: ""
    annotations:
      summary: |-
        line one
        line two: {{ $value }}
  - record: app:lines:rate1m
    expr: sum(rate({app="api"}[1m]))
`);
    expect(formatRuleGroupYaml({ name: 'w', intervalMs: 14 * 86_400_000, limit: 0, rules: [] })).toBe('name: w\ninterval: 2w\nrules: []\n');
    expect(formatRuleGroupYaml({ name: 'd', intervalMs: 90 * 86_400_000, limit: 0, rules: [] })).toBe('name: d\ninterval: 90d\nrules: []\n');
  });

  it('round-trips a group and a file', () => {
    expect(parseRuleGroup(formatRuleGroupYaml(group))).toEqual(group);
    const { groups, errors } = parseRuleFile(GOOD_FILE, 'f', 't');
    expect(errors).toEqual([]);
    expect(parseRuleFile(formatRuleFile(groups), 'f', 't')).toEqual({ groups, errors: [] });
    expect(parseRuleFile(formatRuleFile([group]), 'f', 't')).toEqual({ groups: [group], errors: [] });
  });

  it('prints namespaces as a mapping sorted by name', () => {
    const empty: RuleGroupDesc = { name: 'g', intervalMs: 0, limit: 0, rules: [] };
    expect(formatNamespacesYaml([{ namespace: 'b', groups: [empty] }, { namespace: 'a', groups: [empty, { ...empty, name: 'h' }] }])).toBe(
      'a:\n  - name: g\n    rules: []\n  - name: h\n    rules: []\nb:\n  - name: g\n    rules: []\n',
    );
  });
});
