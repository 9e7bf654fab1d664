import { describe, expect, it } from 'vitest';
import { scanLogfmt } from '../../../agent/stages/logfmt.js';
import { entry, extracted, pipelineFromYaml } from './helpers.js';

describe('logfmt stage', () => {
  it('extracts mapped keys (docs logfmt.md example)', () => {
    const p = pipelineFromYaml(`
- logfmt:
    mapping:
      timestamp: time
      app:
      duration:
      unknown:
`);
    const out = p.process(entry('time=2012-11-01T22:08:41+00:00 app=loki level=WARN duration=125 message="this is a log line" extra="user=foo"'));
    expect(extracted(out)).toEqual({ timestamp: '2012-11-01T22:08:41+00:00', app: 'loki', duration: '125' });
  });

  it('parses an extracted value with source (docs example)', () => {
    const p = pipelineFromYaml(`
- logfmt:
    mapping:
      extra:
- logfmt:
    mapping:
      user:
    source: extra
`);
    const out = p.process(entry('time=2012-11-01T22:08:41+00:00 app=loki level=WARN duration=125 message="this is a log line" extra="user=foo"'));
    expect(extracted(out)).toEqual({ extra: 'user=foo', user: 'foo' });
  });

  it('decodes quoted escapes, bare keys, and stops at a syntax error', () => {
    const pairs: [string, string][] = [];
    expect(scanLogfmt('a="x \\"y\\"\\n" flag b=2', (k, v) => pairs.push([k, v]))).toBe(true);
    expect(pairs).toEqual([['a', 'x "y"\n'], ['flag', ''], ['b', '2']]);
    const partial: [string, string][] = [];
    expect(scanLogfmt('a=1 b=x=y c=3', (k, v) => partial.push([k, v]))).toBe(false);
    expect(partial).toEqual([['a', '1']]);
  });
});
