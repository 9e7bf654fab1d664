import { describe, expect, it } from 'vitest';
import { AgentConfigError } from '../../../agent/config.js';
import { compileJmesPath } from '../../../agent/stages/json.js';
import { entry, extracted, pipelineFromYaml } from './helpers.js';

describe('json stage', () => {
  it('extracts fields with the Promtail docs example (json.md)', () => {
    const p = pipelineFromYaml(`
- json:
    expressions:
      output: log
      stream: stream
      timestamp: time
`);
    const out = p.process(entry('{"log":"log message\\n","stream":"stderr","time":"2019-04-30T02:12:41.8443515Z"}'));
    expect(extracted(out)).toEqual({ output: 'log message\n', stream: 'stderr', timestamp: '2019-04-30T02:12:41.8443515Z' });
    expect(out!.line).toBe('{"log":"log message\\n","stream":"stderr","time":"2019-04-30T02:12:41.8443515Z"}');
  });

  it('parses an extracted value with source (docs: nested json)', () => {
    const p = pipelineFromYaml(`
- json:
    expressions:
      output: log
      stream: stream
      timestamp: time
      extra:
- json:
    expressions:
      user:
    source: extra
`);
    const out = p.process(entry('{"log":"log message\\n","stream":"stderr","time":"2019-04-30T02:12:41.8443515Z","extra":"{\\"user\\":\\"marco\\"}"}'));
    expect(extracted(out)).toEqual({
      output: 'log message\n', stream: 'stderr', timestamp: '2019-04-30T02:12:41.8443515Z', extra: '{"user":"marco"}', user: 'marco',
    });
  });

  it('keeps scalars typed, marshals objects, stores null for missing fields, indexes arrays', () => {
    const p = pipelineFromYaml(`
- json:
    expressions:
      n: count
      ok: ok
      obj: nested
      first: items[0].id
      last: items[-1].id
      dashed: '"user-agent"'
      deep: nested.a.b
      missing: nope.nothing
`);
    const out = p.process(entry('{"count":12.5,"ok":true,"nested":{"a":{"b":"<x>"}},"items":[{"id":1},{"id":2}],"user-agent":"curl"}'));
    expect(extracted(out)).toEqual({
      n: 12.5, ok: true, obj: '{"a":{"b":"\\u003cx\\u003e"}}', first: 1, last: 2, dashed: 'curl', deep: '<x>', missing: null,
    });
  });

  it('leaves a malformed line alone, or drops it with drop_malformed (counted)', () => {
    const keep = pipelineFromYaml(`[{json: {expressions: {a: a}}}]`);
    const e = keep.process(entry('not json'));
    expect(e?.line).toBe('not json');
    expect(extracted(e)).toEqual({});
    const drop = pipelineFromYaml(`[{json: {expressions: {a: a}, drop_malformed: true}}]`);
    expect(drop.process(entry('[1,2]'))).toBeNull();
    expect(drop.process(entry('{"a":"x"'))).toBeNull();
    expect(drop.process(entry('{"a":"x"}'))).not.toBeNull();
    expect(Object.fromEntries(drop.dropped)).toEqual({ json_malformed: 2 });
  });

  it('rejects JMESPath outside the subset when the config is read', () => {
    expect(() => pipelineFromYaml(`[{json: {expressions: {a: "items[*].id"}}}]`)).toThrow(AgentConfigError);
    expect(() => pipelineFromYaml(`[{json: {expressions: {a: "items[*].id"}}}]`)).toThrow(/pipeline_stages\[0\]\.json\.expressions\.a/);
    expect(compileJmesPath('a.b[2]."c.d"')).toEqual(['a', 'b', 2, 'c.d']);
  });
});
