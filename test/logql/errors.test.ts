import { describe, expect, it } from 'vitest';
import { parse, ParseError } from '../../logql/index.js';

const EMPTY_COMPATIBLE =
  'queries require at least one regexp or equality matcher that does not have an empty-compatible value. ' +
  'For instance, app=~".*" does not meet this requirement, but app=~".+" will';

function reject(q: string): ParseError {
  try {
    parse(q);
  } catch (e) {
    expect(e).toBeInstanceOf(ParseError);
    return e as ParseError;
  }
  throw new Error(`expected ${JSON.stringify(q)} to be rejected`);
}

/** [query, Loki's message, line, col]. Line 0 with a column is Loki's own scanner quirk (see ParseError). */
type Case = [string, string, number, number];

const cases: Record<string, Case[]> = {
  'syntax errors': [
    ['', 'syntax error: unexpected $end', 0, 0],
    ['   ', 'syntax error: unexpected $end', 1, 4],
    ['{foo="bar"', 'syntax error: unexpected $end, expecting } or ,', 1, 11],
    ['{a="b",}', 'syntax error: unexpected }, expecting IDENTIFIER', 1, 8],
    ['{a="b"} |~', 'syntax error: unexpected $end, expecting STRING or ip', 1, 11],
    ['{a="b"} foo', 'syntax error: unexpected IDENTIFIER', 1, 9],
    ['unk({ foo = "bar" }[5m])', 'syntax error: unexpected IDENTIFIER', 1, 1],
    ['min({ foo = "bar" }[5m])', 'syntax error: unexpected RANGE', 0, 20],
    ['label_replace(rate({ foo = "bar" }[5m]),"")', 'syntax error: unexpected ), expecting ,', 1, 43],
    ['{json="a"}', 'syntax error: unexpected json, expecting IDENTIFIER or }', 1, 2],
    ["{a='b'}", 'syntax error: unexpected IDENTIFIER, expecting STRING', 1, 4],
    ['{a="b"}\n| json\n| x ==', 'syntax error: unexpected $end', 3, 7],
    ['{a="b"} | json | unwrap x', 'syntax error: unexpected unwrap', 1, 18],
    ['sum_over_time({a="b"} | unwrap x | json [5m])', 'syntax error: unexpected json, expecting IDENTIFIER or (', 1, 36],
    ['{a="b"}[5m]', 'syntax error: unexpected RANGE', 0, 8],
    ['{a="b"} offset 1h', 'syntax error: unexpected offset', 1, 9],
    ['count_over_time({a="b"}[5m] offset 5m offset 1m)', 'syntax error: unexpected offset', 1, 39],
    ['sum(count_over_time({a="b"}[1m])) by (a) by (b)', 'syntax error: unexpected by', 1, 42],
    ['sum by (a) (count_over_time({a="b"}[1m])) by (b)', 'syntax error: unexpected by', 1, 43],
    ['{a="b"} |= "x" or vector(1)', 'syntax error: unexpected VECTOR, expecting STRING or ip', 1, 19],
    ['{a="b"} | x="y" and', 'syntax error: unexpected $end, expecting IDENTIFIER or (', 1, 20],
    ['{a="b"} | keep', 'syntax error: unexpected $end, expecting IDENTIFIER', 1, 15],
    ['{a="b"} | label_format a=b,', 'syntax error: unexpected $end, expecting IDENTIFIER', 1, 28],
    ['count without (rate({namespace="apps"}[15s]))', 'syntax error: unexpected RATE, expecting IDENTIFIER or )', 1, 16],
    ['#{app="foo"} | json', 'syntax error: unexpected $end', 1, 20],
    ['quantile_over_time(foo,{a="b"} | unwrap x [5m])', 'syntax error: unexpected IDENTIFIER, expecting NUMBER or { or (', 1, 20],
    ['stddev({ foo = "bar" })', 'syntax error: unexpected )', 1, 23],
    ['bottomk(he,count_over_time({ foo = "bar" }[5h]))', 'syntax error: unexpected IDENTIFIER', 1, 9],
    ['bool 1 > 1 > bool 1', 'syntax error: unexpected bool', 1, 1],
  ],
  'lexical errors': [
    ['{foo="bar}', 'literal not terminated', 1, 6],
    ['{foo="b\nar"}', 'literal not terminated', 1, 6],
    ['{a=`x}', 'literal not terminated', 1, 4],
    ['{a="\\q"}', 'invalid char escape', 1, 4],
    ['{a="\\400"}', 'invalid syntax', 1, 4],
    ['rate({ foo = "bar" }[5minutes])', 'unknown unit "minutes" in duration "5minutes"', 0, 21],
    ['rate({ foo = "bar" }[5)', "missing closing ']' in duration", 0, 21],
    ['rate({ foo = "bar" }[ 5m ])', 'not a valid duration string: " 5m "', 0, 21],
    ['rate({ foo = "bar" }[1.5m])', 'unknown unit "." in duration "1.5m"', 0, 21],
    ['rate({ foo = "bar" }[1m1h])', 'not a valid duration string: "1m1h"', 0, 21],
  ],
  "numbers malformed for Go's scanner": [
    ['{a="b"} | size > 1PB', "'P' exponent requires hexadecimal mantissa", 1, 18],
    ['{a="b"} | size > 2PiB', "'P' exponent requires hexadecimal mantissa", 1, 18],
    ['{a="b"} | x > 08', "invalid digit '8' in octal literal", 1, 15],
    ['{a="b"} | x > 0b', 'binary literal has no digits', 1, 15],
    ['{a="b"} | x > 0b12', "invalid digit '2' in binary literal", 1, 15],
    ['{a="b"} | x > 0x', 'hexadecimal literal has no digits', 1, 15],
    ['{a="b"} | x > 0x1.8', "hexadecimal mantissa requires a 'p' exponent", 1, 15],
    ['{a="b"} | x > 1e', 'exponent has no digits', 1, 15],
    ['{a="b"} | x > 1__0', "'_' must separate successive digits", 1, 15],
    ['{a="b"} | x > 0o1.5', 'invalid radix point in octal literal', 1, 15],
  ],
  'invalid UTF-8': [
    ['{app=~"\\xa0\\xa1"}', 'invalid UTF-8 encoding', 1, 7],
    ['{app="\uD800"}', 'invalid UTF-8 encoding', 1, 6],
  ],
  'selector validation': [
    ['{foo!="bar"}', EMPTY_COMPATIBLE, 0, 0],
    ['{app=~".*"}', EMPTY_COMPATIBLE, 0, 0],
    ['{label=""}', EMPTY_COMPATIBLE, 0, 0],
    ['{a!~"x"}', EMPTY_COMPATIBLE, 0, 0],
    ['{}', EMPTY_COMPATIBLE, 0, 0],
    ['{} |= "x"', EMPTY_COMPATIBLE, 0, 0],
    ['sum(rate({a=""}[1m]))', EMPTY_COMPATIBLE, 0, 0],
    ['rate({a="b"}[1m]) + rate({a=~".*"}[1m])', EMPTY_COMPATIBLE, 0, 0],
    ['label_replace(rate({a="b"}[1m]) + rate({c=""}[1m]), "a", "b", "c", "d")', EMPTY_COMPATIBLE, 0, 0],
    ['1 + count_over_time({app=~".+"}[5m]) + count_over_time({app=~".*"}[5m]) + 1', EMPTY_COMPATIBLE, 0, 0],
  ],
  'regexes checked at parse time': [
    ['{a=~"(abc"}', 'error parsing regexp: missing closing ): `(abc`', 0, 0],
    ['{a="b"} | x=~"(?=y)"', 'error parsing regexp: invalid or unsupported Perl syntax: `(?=`', 0, 0],
    ['{a="b"} | drop x=~"a\\\\1"', 'error parsing regexp: invalid escape sequence: `\\1`', 0, 0],
    [
      'label_replace(rate({ foo = "bar" }[5m]),"foo","$1","bar","^^^^x43\\\\q")',
      'invalid regex in label_replace: error parsing regexp: invalid escape sequence: `\\q`',
      0,
      0,
    ],
    ['{a="b"} | regexp "(\\\\w+)"', 'invalid regexp parser: at least one named capture must be supplied', 0, 0],
    ['{a="b"} | regexp "(?P<a>\\\\w+)(?P<a>x)"', "invalid regexp parser: duplicate extracted label name 'a'", 0, 0],
    ['{a="b"} | regexp "(?P<a>\\\\w+"', 'invalid regexp parser: error parsing regexp: missing closing ): `(?P<a>\\w+`', 0, 0],
    ['{a="b"} | pattern "foo"', 'invalid pattern parser: at least one capture is required', 0, 0],
    ['{a="b"} | pattern "<_> foo"', 'invalid pattern parser: at least one capture is required', 0, 0],
    ['{a="b"} | pattern "<a><b>"', "invalid pattern parser: found consecutive capture '<a><b>': invalid expression", 0, 0],
    ['{a="b"} | pattern "<a> <a>"', 'invalid pattern parser: duplicate capture name (a): invalid expression', 0, 0],
  ],
  'label filters': [
    ['{ foo = "bar" }|logfmt|addr>=ip("1.2.3.4")', 'syntax error: unexpected ip', 1, 30],
    ['{ foo = "bar" }|logfmt|addr>ip("1.2.3.4")', 'syntax error: unexpected ip', 1, 29],
    ['{ foo = "bar" }|logfmt|addr==ip("1.2.3.4")', 'syntax error: unexpected ip', 1, 30],
    ['{ foo = "bar" }|logfmt|addr=~ip("1.2.3.4")', 'syntax error: unexpected ip, expecting STRING', 1, 30],
    ['{a="b"} | status > 0x10', 'unable to parse literal as a float: strconv.ParseFloat: parsing "0x10": invalid syntax', 0, 0],
    ['{a="b"} | size > 20kb', 'syntax error: unexpected $end', 1, 22],
    ['{a="b"} | size > 1mb', 'syntax error: unexpected $end', 1, 21],
  ],
  'range aggregations': [
    ['absent_over_time({ foo = "bar" }[5h]) by (foo)', 'grouping not allowed for absent_over_time aggregation', 0, 0],
    ['count_over_time({ foo = "bar" }[5h]) by (foo)', 'grouping not allowed for count_over_time aggregation', 0, 0],
    ['rate({a="b"}[1m]) by (x)', 'grouping not allowed for rate aggregation', 0, 0],
    ['sum_over_time({a="b"} | unwrap x [1m]) by (x)', 'grouping not allowed for sum_over_time aggregation', 0, 0],
    ['count_over_time({a="b"} | unwrap x [5m])', 'invalid aggregation count_over_time with unwrap', 0, 0],
    ['bytes_rate({a="b"} | unwrap x [5m])', 'invalid aggregation bytes_rate with unwrap', 0, 0],
    ['sum_over_time({a="b"}[5m])', 'invalid aggregation sum_over_time without unwrap', 0, 0],
    ['rate_counter({a="b"}[5m])', 'invalid aggregation rate_counter without unwrap', 0, 0],
    ['quantile_over_time({a="b"} | unwrap x [5m])', 'parameter required for operation quantile_over_time', 0, 0],
    ['rate(0.5, {a="b"}[5m])', 'parameter 0.5 not supported for operation rate', 0, 0],
    ['quantile_over_time(-0.5, {a="b"} | unwrap x [5m])', 'syntax error: unexpected -, expecting NUMBER or { or (', 1, 20],
  ],
  'vector aggregations': [
    ['sum(3 ,count_over_time({ foo !~ "bar" }[5h]))', 'unsupported parameter for operation sum(3,', 0, 0],
    ['topk(count_over_time({ foo !~ "bar" }[5h]))', 'parameter required for operation topk', 0, 0],
    ['topk(0,count_over_time({ foo !~ "bar" }[5h]))', 'invalid parameter (must be greater than 0) topk(0', 0, 0],
    ['bottomk(1.5,count_over_time({ foo !~ "bar" }[5h]))', 'invalid parameter bottomk(1.5,', 0, 0],
    ['approx_topk(3, sum(rate({a="b"}[1m]))) by (a)', 'grouping not allowed for approx_topk aggregation', 0, 0],
    ['sort(rate({a="b"}[1m])) by (a)', "sort and sort_desc doesn't allow grouping by ", 0, 0],
    ['sort_desc(rate({a="b"}[1m])) without (a)', "sort and sort_desc doesn't allow grouping by ", 0, 0],
    ['sum({a="b"})', 'syntax error: unexpected )', 1, 12],
  ],
  'binary operators and literals': [
    ['1 and 1', 'unexpected literal for left leg of logical/set binary operation (and): 1.000000', 0, 0],
    ['sum(rate({a="b"}[1m])) or 1', 'unexpected literal for right leg of logical/set binary operation (or): 1.000000', 0, 0],
    ['{a="b"} + 1', 'unexpected type for left leg of binary operation (+): *syntax.MatchersExpr', 0, 0],
    ['1 + {a="b"} |= "x"', 'unexpected type for right leg of binary operation (+): *syntax.PipelineExpr', 0, 0],
    ['bool 1 > 1', 'syntax error: unexpected bool', 1, 1],
    ['-count_over_time({a="b"}[1m])', 'syntax error: unexpected COUNT_OVER_TIME, expecting NUMBER', 1, 2],
    ['0x1A', 'unable to parse literal as a float: strconv.ParseFloat: parsing "0x1A": invalid syntax', 0, 0],
    ['0b1010', 'unable to parse literal as a float: strconv.ParseFloat: parsing "0b1010": invalid syntax', 0, 0],
    ['0o17', 'unable to parse literal as a float: strconv.ParseFloat: parsing "0o17": invalid syntax', 0, 0],
    ['0x1p-2 and 1', 'unexpected literal for left leg of logical/set binary operation (and): 0.250000', 0, 0],
    ['1e999', 'unable to parse literal as a float: strconv.ParseFloat: parsing "1e999": value out of range', 0, 0],
    ['vector(-1)', 'syntax error: unexpected -, expecting NUMBER', 1, 8],
    ['vector(a)', 'syntax error: unexpected IDENTIFIER, expecting NUMBER', 1, 8],
  ],
};

describe('parse rejects what Loki rejects', () => {
  for (const [group, list] of Object.entries(cases)) {
    it.each(list)(`${group}: %j → %j at %i:%i`, (q, msg, line, col) => {
      const e = reject(q);
      expect(e.message).toBe(msg);
      expect(e.detail).toBe(msg);
      expect([e.line, e.col]).toEqual([line, col]);
      expect(e.lokiMessage).toBe(line === 0 && col === 0 ? `parse error : ${msg}` : `parse error at line ${line}, col ${col}: ${msg}`);
    });
  }

  it('rejects queries of 5120 bytes or more before parsing', () => {
    const q = `{a="${'é'.repeat(2600)}"}`;
    expect(reject(q).message).toBe(`input size too long (${new TextEncoder().encode(q).length} > 5120)`);
  });

  it('reports regex errors even when a later part of the query is valid', () => {
    expect(reject('{a=~"["} |= "x"').message).toBe('error parsing regexp: missing closing ]: `[`');
  });
});
