import { describe, expect, it } from 'vitest';
import { entry, pipelineFromYaml } from './helpers.js';

const POST = '11.11.11.11 - \\"POST /loki/api/push/ HTTP/1.1\\" 200 932 \\"-\\" \\"Mozilla/5.0\\"';
const jsonLine = (level: string, time = '2019-01-01T01:00:00.000000001Z'): string =>
  `{"time":"${time}", "level": "${level}", "msg":"${POST}"}`;

describe('drop stage (docs drop.md examples)', () => {
  it('source list alone: drops when any of the names was extracted', () => {
    const p = pipelineFromYaml(`
- regex: {expression: "level=(?P<level>\\\\w+)|msg=(?P<msg>\\\\w+)"}
- drop:
    source: ["level","msg"]
`);
    const none = pipelineFromYaml(`[{drop: {source: ["level","msg"]}}]`);
    expect(p.process(entry('level=info'))).toBeNull();
    expect(none.process(entry('level=info'))).not.toBeNull();
    expect(Object.fromEntries(p.dropped)).toEqual({ drop_stage: 1 });
  });

  it('expression on the line', () => {
    const p = pipelineFromYaml(`[{drop: {expression: ".*debug.*"}}]`);
    expect(p.process(entry('a debug line'))).toBeNull();
    expect(p.process(entry('an info line'))?.line).toBe('an info line');
  });

  it('expression on concatenated sources with a separator', () => {
    const p = pipelineFromYaml(`
- json:
    expressions:
     level:
     msg:
- drop:
    source:     ["level","msg"]
    separator:   "#"
    expression:  "(error|ERROR)#.*\\\\/loki\\\\/api\\\\/push.*"
`);
    expect(p.process(entry(jsonLine('error')))).toBeNull();
    expect(p.process(entry(jsonLine('ERROR')))).toBeNull();
    expect(p.process(entry(jsonLine('warn')))).not.toBeNull();
    expect(p.dropped.get('drop_stage')).toBe(2);
  });

  it('value: exact match of the source', () => {
    const p = pipelineFromYaml(`
- json:
    expressions:
     level:
     msg:
- drop:
    source: "level"
    value:  "error"
`);
    expect(p.process(entry(jsonLine('error')))).toBeNull();
    expect(p.process(entry(jsonLine('errors')))).not.toBeNull();
    // A missing JSON field is null: present, but not text, so never dropped.
    expect(p.process(entry('{"msg":"x"}'))).not.toBeNull();
  });

  it('older_than with the reason counted', () => {
    const p = pipelineFromYaml(`
- json:
    expressions:
     time:
     msg:
- timestamp:
    source: time
    format: RFC3339
- drop:
    older_than: 24h
    drop_counter_reason: "line_too_old"
`);
    const now = Date.parse('2020-08-12T12:00:00Z');
    expect(p.process(entry('{"time":"2020-08-11T11:00:00Z", "level": "error"}'), now)).toBeNull();
    expect(p.process(entry('{"time":"2020-08-11T13:00:00Z", "level": "error"}'), now)).not.toBeNull();
    expect(Object.fromEntries(p.dropped)).toEqual({ line_too_old: 1 });
  });

  it('longer_than counts UTF-8 bytes', () => {
    const p = pipelineFromYaml(`[{drop: {longer_than: 8kb, drop_counter_reason: line_too_long}}]`);
    expect(p.process(entry('x'.repeat(8192)))).not.toBeNull();
    expect(p.process(entry('x'.repeat(8193)))).toBeNull();
    expect(p.process(entry('é'.repeat(4096)))).not.toBeNull();
    expect(p.process(entry('é'.repeat(4097)))).toBeNull();
    expect(Object.fromEntries(p.dropped)).toEqual({ line_too_long: 2 });
  });

  it('several options are ANDed; several stages are ORed', () => {
    const and = pipelineFromYaml(`[{drop: {expression: ".*debug.*", longer_than: 1kb}}]`);
    expect(and.process(entry('debug ' + 'x'.repeat(1024)))).toBeNull();
    expect(and.process(entry('debug short'))).not.toBeNull();
    expect(and.process(entry('info ' + 'x'.repeat(1024)))).not.toBeNull();
    const or = pipelineFromYaml(`
- regex: {expression: "msg=(?P<msg>\\\\S+)"}
- drop: {longer_than: 20, drop_counter_reason: long}
- drop: {source: msg, expression: ".*trace.*", drop_counter_reason: trace}
`);
    expect(or.process(entry('x'.repeat(21)))).toBeNull();
    expect(or.process(entry('msg=a_trace_b'))).toBeNull();
    expect(or.process(entry('trace msg=a'))).not.toBeNull();
    expect(Object.fromEntries(or.dropped)).toEqual({ long: 1, trace: 1 });
  });
});
