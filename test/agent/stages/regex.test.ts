import { describe, expect, it } from 'vitest';
import { entry, extracted, pipelineFromYaml } from './helpers.js';

describe('regex stage', () => {
  it('extracts named groups (docs regex.md example)', () => {
    const p = pipelineFromYaml(`
- regex:
    expression: "^(?s)(?P<time>\\\\S+?) (?P<stream>stdout|stderr) (?P<flags>\\\\S+?) (?P<content>.*)$"
`);
    const out = p.process(entry("2019-01-01T01:00:00.000000001Z stderr P i'm a log message!"));
    expect(extracted(out)).toEqual({ time: '2019-01-01T01:00:00.000000001Z', stream: 'stderr', flags: 'P', content: "i'm a log message!" });
  });

  it('matches an extracted value with source (docs example)', () => {
    const p = pipelineFromYaml(`
- regex:
    expression: "^(?s)(?P<time>\\\\S+?) (?P<stream>stdout|stderr) (?P<flags>\\\\S+?) (?P<message>.*)$"
- regex:
    expression: "^(?P<year>\\\\d+)"
    source: "time"
`);
    const out = p.process(entry("2019-01-01T01:00:00.000000001Z stderr P i'm a log message!"));
    expect(extracted(out).year).toBe('2019');
  });

  it('stores "" for groups that did not take part, nothing when there is no match, dot stops at newline', () => {
    const p = pipelineFromYaml(`[{regex: {expression: "level=(?P<level>\\\\w+)(?: user=(?P<user>\\\\w+))?(?P<rest>.*)"}}]`);
    expect(extracted(p.process(entry('x level=info y\nsecond')))).toEqual({ level: 'info', user: '', rest: ' y' });
    expect(extracted(p.process(entry('nothing here')))).toEqual({});
    const missing = pipelineFromYaml(`[{regex: {expression: "(?P<a>.)", source: nope}}]`);
    expect(extracted(missing.process(entry('abc')))).toEqual({});
  });
});
