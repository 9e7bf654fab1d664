import { describe, expect, it } from 'vitest';
import { format, parse } from '../../logql/index.js';
import type { Expr, LabelFilterExpr, LogSelectorExpr, SampleExpr } from '../../logql/index.js';
import { ACCEPTED } from './corpus.js';

const log = (q: string): LogSelectorExpr => {
  const e = parse(q);
  if (e.kind !== 'LogSelector') throw new Error(`${q} is not a log query`);
  return e;
};
const metric = (q: string): SampleExpr => {
  const e = parse(q);
  if (e.kind === 'LogSelector') throw new Error(`${q} is not a metric query`);
  return e;
};
const filterOf = (q: string): LabelFilterExpr => {
  const s = log(q).stages.at(-1)!;
  if (s.kind !== 'LabelFilter') throw new Error('not a label filter');
  return s.filter;
};
/** Compact shape of a label filter tree: `(a and (b or c))`. */
const shape = (f: LabelFilterExpr): string => {
  switch (f.kind) {
    case 'AndFilter':
      return `(${shape(f.left)} and ${shape(f.right)})`;
    case 'OrFilter':
      return `(${shape(f.left)} or ${shape(f.right)})`;
    case 'StringFilter':
      return f.matcher.name;
    default:
      return f.name;
  }
};
/** Compact shape of a binary-operator tree. */
const opShape = (e: Expr): string => {
  switch (e.kind) {
    case 'BinOp':
      return `(${opShape(e.left)} ${e.op} ${opShape(e.right)})`;
    case 'RangeAggregation':
      return e.range.selector.matchers[0]!.value;
    case 'Literal':
      return String(e.value);
    default:
      return e.kind;
  }
};

describe('parse: every accepted construct', () => {
  for (const [section, queries] of Object.entries(ACCEPTED)) {
    it.each(queries)(`${section}: %s`, (q) => {
      const ast = parse(q);
      // Accepted queries round-trip through the canonical form to the same AST.
      expect(parse(format(ast))).toEqual(ast);
    });
  }
});

describe('parse: selectors', () => {
  it('builds matchers', () => {
    expect(parse('{app="mysql", name=~"mysql.+"}')).toEqual({
      kind: 'LogSelector',
      matchers: [
        { type: '=', name: 'app', value: 'mysql' },
        { type: '=~', name: 'name', value: 'mysql.+' },
      ],
      stages: [],
    });
  });

  it('keeps raw strings raw and decodes Go escapes', () => {
    expect(log('{name!~`mysql-\\d+`, a="x"}').matchers[0]!.value).toBe('mysql-\\d+');
    expect(log('{a="\\U0001F600\\t\\101"}').matchers[0]!.value).toBe('😀\tA');
  });

  it('reads function words as label names unless a call follows', () => {
    expect(log('{rate="a", sum="b"} | json | count > 1').matchers.map((m) => m.name)).toEqual(['rate', 'sum']);
    expect(filterOf('{a="b"} | logfmt | duration > 1s')).toMatchObject({ kind: 'DurationFilter', name: 'duration' });
  });

  it('lower-cases keywords', () => {
    expect(metric('SUM(Count_Over_Time({foo="bar"}[5m])) BY (foo)')).toMatchObject({
      kind: 'VectorAggregation',
      op: 'sum',
      grouping: { without: false, labels: ['foo'] },
      expr: { kind: 'RangeAggregation', op: 'count_over_time' },
    });
  });
});

describe('parse: line filters', () => {
  it('keeps positive or-chains in one stage', () => {
    expect(log('{a="b"} |= "foo" or "bar" or ip("::1")').stages).toEqual([
      {
        kind: 'LineFilter',
        op: '|=',
        value: { kind: 'string', value: 'foo' },
        or: [
          { kind: 'string', value: 'bar' },
          { kind: 'ip', value: '::1' },
        ],
      },
    ]);
  });

  it('splits negative or-chains per De Morgan', () => {
    expect(log('{a="b"} != "a" or "b"').stages).toEqual(log('{a="b"} != "a" != "b"').stages);
    expect(format(parse('{a="b"} !~ "a" or "b"'))).toBe('{a="b"} !~ "a" !~ "b"');
  });

  it('supports every operator, ip() and pattern filters', () => {
    const ops = log('{a="b"} |= "a" != "b" |~ "c" !~ "d" |> "<_> e" !> "f <_>" |= ip("1.2.3.4")').stages.map((s) =>
      s.kind === 'LineFilter' ? `${s.op}${s.value.kind}` : s.kind,
    );
    expect(ops).toEqual(['|=string', '!=string', '|~string', '!~string', '|>string', '!>string', '|=ip']);
  });
});

describe('parse: parsers and formatters', () => {
  it('json and logfmt with extraction expressions and flags', () => {
    expect(log('{a="b"} | json first="servers[0]", servers').stages[0]).toEqual({
      kind: 'JsonParser',
      params: [
        { name: 'first', expression: 'servers[0]' },
        { name: 'servers', expression: 'servers' },
      ],
    });
    expect(log('{a="b"} | logfmt --keep-empty --strict level, code="status"').stages[0]).toEqual({
      kind: 'LogfmtParser',
      strict: true,
      keepEmpty: true,
      params: [
        { name: 'level', expression: 'level' },
        { name: 'code', expression: 'status' },
      ],
    });
  });

  it('regexp, pattern, unpack, line_format, label_format, drop, keep, decolorize', () => {
    const kinds = log(
      '{a="b"} | regexp "(?P<x>.)" | pattern "<y> <_>" | unpack | line_format "{{.x}}" | label_format a=b, c="{{.d}}" | drop e, f="g" | keep h | decolorize',
    ).stages.map((s) => s.kind);
    expect(kinds).toEqual([
      'RegexpParser',
      'PatternParser',
      'UnpackParser',
      'LineFormat',
      'LabelFormat',
      'DropLabels',
      'KeepLabels',
      'Decolorize',
    ]);
    expect(log('{a="b"} | label_format a=b, c="{{.d}}"').stages[0]).toEqual({
      kind: 'LabelFormat',
      items: [
        { kind: 'rename', dst: 'a', src: 'b' },
        { kind: 'template', dst: 'c', template: '{{.d}}' },
      ],
    });
    expect(log('{a="b"} | drop e, f=~"g.*"').stages[0]).toEqual({
      kind: 'DropLabels',
      labels: [
        { kind: 'name', name: 'e' },
        { kind: 'matcher', matcher: { type: '=~', name: 'f', value: 'g.*' } },
      ],
    });
  });
});

describe('parse: label filters', () => {
  it('types numeric, duration, bytes and ip filters', () => {
    expect(filterOf('{a="b"} | status >= 400')).toEqual({ kind: 'NumericFilter', name: 'status', op: '>=', value: 400 });
    expect(filterOf('{a="b"} | status = 200')).toEqual({ kind: 'NumericFilter', name: 'status', op: '==', value: 200 });
    expect(filterOf('{a="b"} | count != -1')).toEqual({ kind: 'NumericFilter', name: 'count', op: '!=', value: -1 });
    expect(filterOf('{a="b"} | d > 1m30s')).toEqual({ kind: 'DurationFilter', name: 'd', op: '>', durationNs: 90e9 });
    expect(filterOf('{a="b"} | d > 1.5m')).toMatchObject({ durationNs: 90e9 });
    expect(filterOf('{a="b"} | d > 250us')).toMatchObject({ durationNs: 250e3 });
    expect(filterOf('{a="b"} | d > 1d')).toMatchObject({ durationNs: 86400e9 });
    expect(filterOf('{a="b"} | s > 10KB')).toEqual({ kind: 'BytesFilter', name: 's', op: '>', bytes: 10000 });
    expect(filterOf('{a="b"} | s > 1.5MiB')).toMatchObject({ bytes: 1.5 * 1024 * 1024 });
    expect(filterOf('{a="b"} | s > 10kB')).toMatchObject({ bytes: 10000 });
    expect(filterOf('{a="b"} | addr != ip("::1")')).toEqual({ kind: 'IpFilter', name: 'addr', op: '!=', pattern: '::1' });
  });

  it.each([
    ['a="x" and b="y" or c="z"', '((a and b) or c)'],
    ['a="x" or b="y" and c="z"', '(a or (b and c))'],
    ['a="x" or b="y" or c="z"', '((a or b) or c)'],
    ['a="x" and b="y" and c="z"', '((a and b) and c)'],
    // `,` and juxtaposition have no yacc precedence: what follows them groups to the right.
    ['a="x", b="y" or c="z"', '(a and (b or c))'],
    ['a="x" b="y" or c="z"', '(a and (b or c))'],
    ['a="x" or b="y", c="z"', '(a or (b and c))'],
    ['a="x", b="y", c="z"', '(a and (b and c))'],
    ['(a="x" or b="y") and c="z"', '((a or b) and c)'],
    // Loki's own parser test: foo="bar" buzz!="blip", blop=~"boop" or fuzz==5
    ['foo="bar" buzz!="blip", blop=~"boop" or fuzz==5', '(foo and (buzz and (blop or fuzz)))'],
  ])('groups %s as %s', (f, expected) => {
    const filter = filterOf(`{a="b"} | ${f}`);
    expect(shape(filter)).toBe(expected);
    expect(filterOf(format(parse(`{a="b"} | ${f}`)))).toEqual(filter);
  });
});

describe('parse: metric queries', () => {
  it('builds a range aggregation with unwrap, offset and grouping', () => {
    expect(metric('quantile_over_time(0.99, {a="b"} | json | unwrap duration(latency) | __error__="" [5m] offset 1h) by (path)')).toEqual({
      kind: 'RangeAggregation',
      op: 'quantile_over_time',
      param: 0.99,
      grouping: { without: false, labels: ['path'] },
      range: {
        kind: 'LogRange',
        rangeMs: 300000,
        offsetMs: 3600000,
        selector: { kind: 'LogSelector', matchers: [{ type: '=', name: 'a', value: 'b' }], stages: [{ kind: 'JsonParser', params: [] }] },
        unwrap: {
          label: 'latency',
          conversion: 'duration',
          postFilters: [{ kind: 'StringFilter', matcher: { type: '=', name: '__error__', value: '' } }],
        },
      },
    });
  });

  it('places the range anywhere Loki allows and normalises it', () => {
    const a = metric('count_over_time({a="b"}[5m] |= "x")');
    expect(metric('count_over_time({a="b"} |= "x" [5m])')).toEqual(a);
    expect(metric('count_over_time(({a="b"} |= "x")[5m])')).toEqual(a);
    expect(metric('sum_over_time({a="b"}[5m] | unwrap x)')).toEqual(metric('sum_over_time({a="b"} | unwrap x [5m])'));
  });

  it('parses range and offset durations', () => {
    const range = (q: string) => (metric(q) as { range: { rangeMs: number; offsetMs: number } }).range;
    expect(range('rate({a="b"}[1y2w3d4h5m6s7ms])').rangeMs).toBe(((((365 + 14 + 3) * 24 + 4) * 60 + 5) * 60 + 6) * 1000 + 7);
    expect(range('rate({a="b"}[5m] offset -1s)').offsetMs).toBe(-1000);
  });

  it('accepts grouping before or after vector aggregations', () => {
    const want = { kind: 'VectorAggregation', op: 'topk', param: 10, grouping: { without: false, labels: ['name'] } };
    expect(metric('topk by (name)(10, rate({a="b"}[5m]))')).toMatchObject(want);
    expect(metric('topk(10, rate({a="b"}[5m])) by (name)')).toMatchObject(want);
    expect(metric('sum without () (rate({a="b"}[5m]))')).toMatchObject({ grouping: { without: true, labels: [] } });
  });

  it.each([
    ['rate({a="a"}[1m]) + rate({a="b"}[1m]) * rate({a="c"}[1m])', '(a + (b * c))'],
    ['rate({a="a"}[1m]) * rate({a="b"}[1m]) + rate({a="c"}[1m])', '((a * b) + c)'],
    ['rate({a="a"}[1m]) - rate({a="b"}[1m]) - rate({a="c"}[1m])', '((a - b) - c)'],
    ['rate({a="a"}[1m]) ^ rate({a="b"}[1m]) ^ rate({a="c"}[1m])', '(a ^ (b ^ c))'],
    ['rate({a="a"}[1m]) or rate({a="b"}[1m]) and rate({a="c"}[1m])', '(a or (b and c))'],
    ['rate({a="a"}[1m]) and rate({a="b"}[1m]) > 1', '(a and (b > 1))'],
    ['rate({a="a"}[1m]) > 1 + 2', '(a > 3)'],
    ['rate({a="a"}[1m]) unless rate({a="b"}[1m]) or rate({a="c"}[1m])', '((a unless b) or c)'],
    ['rate({a="a"}[1m]) / rate({a="b"}[1m]) % rate({a="c"}[1m])', '((a / b) % c)'],
  ])('applies Loki precedence: %s', (q, expected) => {
    expect(opShape(parse(q))).toBe(expected);
  });

  it.each([
    ['1+1', 2],
    ['1 > 1 > 1', 0],
    ['2 > 1', 1],
    ['2 ^ 3 ^ 2', 512],
    ['-2 ^ 2', 4],
    ['1 + -2', -1],
    ['(1 + 2) * 3', 9],
    ['10 % 3', 1],
    ['0.123e3', 123],
    ['+1', 1],
    ['1 == bool 1', 1],
    ['1 > 1 < 1', 1],
    ['1 + 1 + 1', 3],
  ])('folds literal expression %s to %d', (q, value) => {
    expect(parse(q)).toEqual({ kind: 'Literal', value });
  });

  it('folds only literal legs', () => {
    expect(metric('rate({a="a"}[1m]) * (2 + 3)')).toMatchObject({ kind: 'BinOp', op: '*', right: { kind: 'Literal', value: 5 } });
  });

  it('records bool and vector matching', () => {
    expect(metric('rate({a="a"}[1m]) > bool on (app) group_left (pool) rate({a="b"}[1m])')).toMatchObject({
      kind: 'BinOp',
      op: '>',
      returnBool: true,
      matching: { on: true, labels: ['app'], group: { side: 'left', labels: ['pool'] } },
    });
    expect(metric('rate({a="a"}[1m]) / ignoring (x) rate({a="b"}[1m])')).toMatchObject({
      returnBool: false,
      matching: { on: false, labels: ['x'] },
    });
  });

  it('parses vector() and label_replace()', () => {
    expect(parse('vector(0.5)')).toEqual({ kind: 'Vector', value: 0.5 });
    expect(metric('label_replace(rate({a="b"}[1m]), "foo", "$1", "service", "(.*):.*")')).toMatchObject({
      kind: 'LabelReplace',
      dst: 'foo',
      replacement: '$1',
      src: 'service',
      regex: '(.*):.*',
    });
  });
});
