import { describe, expect, it } from 'vitest';
import { entry, pipelineFromYaml } from './helpers.js';

describe('output stage', () => {
  it('replaces the line with an extracted value (docs output.md example)', () => {
    const p = pipelineFromYaml(`
- json:
    expressions:
      user: user
      message: message
- labels:
    user:
- output:
    source: message
`);
    const out = p.process(entry('{"user": "alexis", "message": "hello, world!"}'));
    expect(out?.line).toBe('hello, world!');
    expect(out?.labels.get('user')).toBe('alexis');
  });

  it('keeps the line when the source is missing or null; numbers become text', () => {
    const p = pipelineFromYaml(`[{json: {expressions: {m: message, n: num}}}, {output: {source: m}}]`);
    expect(p.process(entry('{"other":1}'))?.line).toBe('{"other":1}');
    const q = pipelineFromYaml(`[{json: {expressions: {n: num}}}, {output: {source: n}}]`);
    expect(q.process(entry('{"num":1e21}'))?.line).toBe('1000000000000000000000');
    expect(q.process(entry('{"num":0.0000001}'))?.line).toBe('0.0000001');
  });
});
