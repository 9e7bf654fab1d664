import { describe, expect, it } from 'vitest';
import { compilePipeline } from '../../../logql/pipeline/index.js';
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
