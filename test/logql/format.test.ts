import { describe, expect, it } from 'vitest';
import { format, formatMatchers, parse } from '../../logql/index.js';
import { ALL_ACCEPTED } from './corpus.js';

describe('format: canonical text', () => {
  it.each([
    ['{job=`loki`,app = "a"}', '{job="loki", app="a"}'],
    ['{a=~"\\\\d+"}', '{a=~`\\d+`}'],
    ['{a="x\\"y\\n"}', '{a="x\\"y\\n"}'],
    ['{a="b"}|="x"or"y"', '{a="b"} |= "x" or "y"'],
    ['{a="b"} != "x" or "y"', '{a="b"} != "x" != "y"'],
    ['{a="b"} | logfmt --keep-empty --strict', '{a="b"} | logfmt --strict --keep-empty'],
    ['{a="b"} | json servers="servers"', '{a="b"} | json servers'],
    ['{a="b"} | a="x", b>1', '{a="b"} | a="x" and b > 1'],
    ['{a="b"} | a="x", b="y" or c="z"', '{a="b"} | a="x" and (b="y" or c="z")'],
    ['{a="b"} | a="x", b="y", c="z"', '{a="b"} | a="x" and (b="y" and c="z")'],
    ['{a="b"} | status = 200', '{a="b"} | status == 200'],
    ['{a="b"} | d > 1.5m', '{a="b"} | d > 1m30s'],
    ['{a="b"} | d > 1500us', '{a="b"} | d > 1ms500us'],
    ['{a="b"} | s > 1.5KiB', '{a="b"} | s > 1536B'],
    ['{a="b"} | s > 2048B', '{a="b"} | s > 2KiB'],
    ['{a="b"} | s > 10kB', '{a="b"} | s > 10KB'],
    ['count_over_time({a="b"}[5m] |= "x")', 'count_over_time({a="b"} |= "x"[5m])'],
    ['count_over_time({a="b"}[90s] offset 1440m)', 'count_over_time({a="b"}[1m30s] offset 1d)'],
    ['sum_over_time({a="b"}[5m] | unwrap bytes(x) | __error__="")', 'sum_over_time({a="b"} | unwrap bytes(x) | __error__=""[5m])'],
    ['quantile_over_time(0.99, {a="b"} | unwrap x [5m]) by (p)', 'quantile_over_time(0.99,{a="b"} | unwrap x[5m]) by (p)'],
    ['sum(rate({a="b"}[1m])) by (x, y)', 'sum by (x,y)(rate({a="b"}[1m]))'],
    ['topk(5, rate({a="b"}[1m]))', 'topk(5,rate({a="b"}[1m]))'],
    ['rate({a="b"}[1m]) / rate({a="c"}[1m]) * 100', '(rate({a="b"}[1m]) / rate({a="c"}[1m])) * 100'],
    ['rate({a="b"}[1m]) > bool on(x) group_left rate({a="c"}[1m])', 'rate({a="b"}[1m]) > bool on (x) group_left () rate({a="c"}[1m])'],
    ['1 + 2 * 3', '7'],
    ['1 / 0', '(1/0)'],
    ['-1 / 0', '(-1/0)'],
    ['0 / 0', '(0/0)'],
    ['0 * -1', '-0'],
    ['vector(1e3)', 'vector(1000)'],
    ['label_replace(rate({a="b"}[1m]), "d", "$1", "s", "(.*)")', 'label_replace(rate({a="b"}[1m]),"d","$1","s","(.*)")'],
  ])('%s → %s', (q, expected) => {
    expect(format(parse(q))).toBe(expected);
  });

  it('prints selectors for the series API', () => {
    expect(formatMatchers([{ type: '=~', name: 'a', value: 'b|c' }])).toBe('{a=~"b|c"}');
  });
});

describe('format: format(parse(q)) is a fixed point', () => {
  it.each(ALL_ACCEPTED)('%s', (q) => {
    const once = format(parse(q));
    expect(format(parse(once))).toBe(once);
  });
});

/** Deterministic PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Generates random queries from the grammar's building blocks (all valid for Loki). */
function generator(seed: number) {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const maybe = (p: number): boolean => r() < p;
  const names = ['app', 'job', 'level', 'rate', 'ip', 'bytes', 'x_1', '__error__'];
  const strings = ['a', '', 'x"y', 'a\\d+', 'é', 'tab\t', '{{.a}}'];
  const regexes = ['a.*', '(?i)err', '\\d+', 'a|b', '[[:alpha:]]+', '(?P<x>\\w+)'];
  const q = (s: string) => JSON.stringify(s);
  const matcher = (): string =>
    maybe(0.6) ? `${pick(names)}${pick(['=', '!='])}${q(pick(strings))}` : `${pick(names)}${pick(['=~', '!~'])}${q(pick(regexes))}`;
  const selector = (): string => `{job="x"${Array.from({ length: Math.floor(r() * 3) }, () => `, ${matcher()}`).join('')}}`;
  const labelFilter = (depth: number): string => {
    if (depth < 2 && maybe(0.3)) {
      const l = labelFilter(depth + 1);
      const rr = labelFilter(depth + 1);
      const f = `${l}${pick([' and ', ' or ', ', ', ' '])}${rr}`;
      return maybe(0.3) ? `(${f})` : f;
    }
    return pick([
      () => matcher(),
      () => `${pick(names)} ${pick(['>', '>=', '<', '<=', '==', '!=', '='])} ${pick(['1', '-2.5', '1e3', '0.001'])}`,
      () => `${pick(names)} ${pick(['>', '<='])} ${pick(['1m30s', '250ms', '1.5h', '10us', '1d', '-1s'])}`,
      () => `${pick(names)} ${pick(['>', '!='])} ${pick(['10KB', '1.5MiB', '3B', '2GiB', '7kB'])}`,
      () => `${pick(names)} ${pick(['=', '!='])} ip("10.0.0.0/8")`,
    ])();
  };
  const stage = (): string =>
    pick([
      () => `${pick(['|=', '!=', '|~', '!~', '|>', '!>'])} ${q(pick(strings))}${maybe(0.3) ? ` or ${q(pick(strings))}` : ''}`,
      () => `|= ip("1.2.3.4")`,
      () => '| json',
      () => `| json ${pick(names)}="a.b", ${pick(names)}`,
      () => `| logfmt${maybe(0.5) ? ' --strict' : ''}${maybe(0.5) ? ' --keep-empty' : ''}`,
      () => '| regexp "(?P<a>\\\\w+)"',
      () => '| pattern "<a> <_>"',
      () => '| unpack',
      () => `| ${labelFilter(0)}`,
      () => `| line_format ${q(pick(strings))}`,
      () => `| label_format a=b, c=${q(pick(strings))}`,
      () => `| drop a, ${matcher()}`,
      () => `| keep a, ${matcher()}`,
      () => '| decolorize',
    ])();
  const pipeline = (): string => Array.from({ length: Math.floor(r() * 4) }, stage).join(' ');
  const grouping = (): string => `${pick(['by', 'without'])} (${maybe(0.3) ? '' : pick(names)})`;
  const logRange = (unwrap: boolean): string => {
    const u = unwrap ? ` | unwrap ${maybe(0.5) ? 'v' : `${pick(['bytes', 'duration', 'duration_seconds'])}(v)`}${maybe(0.3) ? ' | __error__=""' : ''}` : '';
    const off = maybe(0.3) ? ` offset ${pick(['1h', '-5m', '1d2h'])}` : '';
    return `${selector()} ${pipeline()}${u} [${pick(['1m', '5m', '1h30m', '1d', '500ms'])}]${off}`;
  };
  const sample = (depth: number): string => {
    const choice = depth > 2 ? Math.floor(r() * 3) : Math.floor(r() * 7);
    switch (choice) {
      case 0:
        return `${pick(['count_over_time', 'rate', 'bytes_rate', 'bytes_over_time', 'absent_over_time'])}(${logRange(false)})`;
      case 1:
        return `${pick(['avg_over_time', 'max_over_time', 'first_over_time'])}(${logRange(true)})${maybe(0.5) ? ` ${grouping()}` : ''}`;
      case 2:
        return `quantile_over_time(0.9, ${logRange(true)})`;
      case 3:
        return maybe(0.5)
          ? `${pick(['sum', 'avg', 'max', 'count'])} ${grouping()} (${sample(depth + 1)})`
          : `${pick(['topk', 'bottomk'])}(${pick(['1', '5'])}, ${sample(depth + 1)})`;
      case 4: {
        const op = pick(['+', '-', '*', '/', '%', '^', '>', '==', 'and', 'or', 'unless']);
        const mod = maybe(0.3) ? ` ${maybe(0.5) ? 'on' : 'ignoring'} (${pick(names)})` : '';
        const right = op === 'and' || op === 'or' || op === 'unless' ? sample(depth + 1) : maybe(0.3) ? pick(['2', '-1', '0.5']) : sample(depth + 1);
        return `(${sample(depth + 1)} ${op}${op === '>' && maybe(0.5) ? ' bool' : ''}${mod} ${right})`;
      }
      case 5:
        // Loki validates label_replace's left-most selector, which a vector() does not have.
        return `label_replace(rate(${logRange(false)}), "dst", "$1", "src", "(.*)")`;
      default:
        return `vector(${pick(['0', '1.5'])})`;
    }
  };
  return (): string => (maybe(0.3) ? `${selector()} ${pipeline()}` : sample(0));
}

describe('format: property test over generated queries', () => {
  it('round-trips 1000 random queries through format → parse', () => {
    const next = generator(42);
    for (let i = 0; i < 1000; i++) {
      const q = next();
      let ast;
      try {
        ast = parse(q);
      } catch (e) {
        throw new Error(`generated query rejected: ${q}\n${(e as Error).message}`);
      }
      const text = format(ast);
      expect(parse(text), text).toEqual(ast);
      expect(format(parse(text))).toBe(text);
    }
  });
});
