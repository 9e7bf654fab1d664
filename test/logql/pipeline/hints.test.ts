import { describe, expect, it } from 'vitest';
import { compilePipeline } from '../../../logql/pipeline/index.js';
import { seededRandom } from '../../helpers/random.js';
import { stagesOf, toLabels } from './helpers.js';

function labelsWith(pipeline: string, line: string, required: string[] | undefined): Record<string, string> | null {
  const p = compilePipeline(stagesOf(`{app="a"} ${pipeline}`), required ? { requiredLabels: new Set(required) } : {});
  const r = p.process(0n, Buffer.from(line), toLabels({ app: 'a' }), []);
  return r === null ? null : Object.fromEntries(r.labels.map((l) => [l.name, l.value]));
}

describe('parser hints (only the labels a metric query reads)', () => {
  const logfmt = 'level=error status=500 msg="boom" path=/x';
  const json = '{"level":"error","status":500,"req":{"path":"/x","method":"GET"},"msg":"boom"}';

  it('logfmt and json extract only the required labels', () => {
    expect(labelsWith('| logfmt', logfmt, ['level'])).toEqual({ app: 'a', level: 'error' });
    expect(labelsWith('| json', json, ['status', 'req_method'])).toEqual({ app: 'a', status: '500', req_method: 'GET' });
    expect(labelsWith('| json', json, [])).toEqual({ app: 'a' });
  });

  it('also extract what the pipeline\'s label filters test', () => {
    expect(labelsWith('| logfmt | status >= 500', logfmt, ['level'])).toEqual({ app: 'a', level: 'error', status: '500' });
    expect(labelsWith('| logfmt | status < 500', logfmt, ['level'])).toBeNull();
    expect(labelsWith('| json | msg="boom" or path="/y"', json, [])).toEqual({ app: 'a', msg: 'boom' });
  });

  it('are ignored when a template could read any label', () => {
    expect(labelsWith('| logfmt | label_format x="{{.msg}}"', logfmt, ['x'])).toEqual({
      app: 'a',
      level: 'error',
      status: '500',
      msg: 'boom',
      path: '/x',
      x: 'boom',
    });
  });

  it('still report errors of the part they read', () => {
    expect(labelsWith('| json', '{"level": tru', ['level'])).toMatchObject({ __error__: 'JSONParserErr' });
    expect(labelsWith('| logfmt --strict', 'a="x', ['level'])).toMatchObject({ __error__: 'LogfmtParserErr' });
  });

  it('without hints every label is extracted', () => {
    expect(labelsWith('| logfmt', logfmt, undefined)).toEqual({ app: 'a', level: 'error', status: '500', msg: 'boom', path: '/x' });
  });
});

describe('logfmt under parser hints agrees with the full parser', () => {
  const pieces = [
    'level=error', 'level=info', 'level=', 'level', 'lev.el=x', '1level=y', 'status=500', 'status="5 0 0"', 'msg="a \\"quoted\\" word"',
    'msg="unterminated', 'bad"key=1', '=novalue', 'k=v=w', 'k=v"w', 'ünï=1', 'level="é"', 'caller=x.go:12', 'level=warn', 'a=\t', ' ', '  ',
    'status=200', 'duration=1.5ms', 'level"x=1', 'status"=2', 'level=a"b', 'level="x y"z', 'x="\\u00e9"', 'level="bad \\q escape"', 'trace_id=abc', '"', '==',
  ];
  const random = seededRandom(7);
  const requiredSets = [['level'], ['status'], ['level', 'status'], ['lev_el', '_1level'], ['msg', 'x'], ['nothere']];

  it('for 3,000 generated lines and several required sets', () => {
    for (let i = 0; i < 3000; i++) {
      const count = 1 + Math.floor(random() * 8);
      const parts: string[] = [];
      for (let k = 0; k < count; k++) parts.push(pieces[Math.floor(random() * pieces.length)]!);
      const line = parts.join(random() < 0.8 ? ' ' : '  ');
      const required = requiredSets[Math.floor(random() * requiredSets.length)]!;
      for (const keepEmpty of ['', ' --keep-empty']) {
        const full = labelsWith(`| logfmt${keepEmpty}`, line, undefined)!;
        const expected = Object.fromEntries(Object.entries(full).filter(([name]) => name === 'app' || required.includes(name)));
        expect(labelsWith(`| logfmt${keepEmpty}`, line, required), `${line} with ${required.join(',')}${keepEmpty}`).toEqual(expected);
      }
    }
  });
});

describe('json under parser hints agrees with the full parser', () => {
  const values = ['"error"', '"info"', '500', '200', '-1.5e3', 'true', 'false', 'null', '"a \\"q\\" b"', '"\\u00e9t\\u00e9"', '"bad \\x"', '"ünï"', '[1,{"a":2}]', '{"b":"x","c":{"d":1}}', '{}', '[]', 'tru', '"unterminated'];
  const keys = ['level', 'status', 'req', 'a', 'b', 'a.b', '1x', 'ké', ' ', 'le\\u0076el', 'msg', 'a_b'];
  const random = seededRandom(21);
  const requiredSets = [['level'], ['status'], ['level', 'status'], ['a_b', 'req_c_d'], ['req_b'], ['ké', 'k_'], ['_1x'], ['nothere']];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const object = (depth: number): string => {
    const n = Math.floor(random() * 5);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      const value = depth < 2 && random() < 0.2 ? object(depth + 1) : pick(values);
      parts.push(`"${pick(keys)}"${random() < 0.1 ? ' ' : ''}:${random() < 0.1 ? ' ' : ''}${value}`);
    }
    return `{${parts.join(random() < 0.05 ? ';' : ',')}}`;
  };

  it('for 5,000 generated lines and several required sets', () => {
    for (let i = 0; i < 5000; i++) {
      let line = (random() < 0.1 ? ' ' : '') + object(0);
      if (random() < 0.1) line = line.slice(0, Math.floor(random() * line.length));
      const required = pick(requiredSets);
      const full = labelsWith('| json', line, undefined)!;
      const hinted = labelsWith('| json', line, required)!;
      const context = `${line} with ${required.join(',')}`;
      const pickRequired = (labels: Record<string, string>) =>
        Object.fromEntries(Object.entries(labels).filter(([name]) => name === 'app' || required.includes(name)));
      expect(pickRequired(hinted), context).toEqual(pickRequired(full));
      const foundAll = required.every((name) => name in hinted);
      if (hinted.__error__ !== undefined || !foundAll) {
        // The scan read as far as the full parser before any error: the same error, if any.
        expect([hinted.__error__, hinted.__error_details__], context).toEqual([full.__error__, full.__error_details__]);
      }
    }
  });
});
