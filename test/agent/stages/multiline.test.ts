import { describe, expect, it } from 'vitest';
import type { StageEntry } from '../../../agent/stages/pipeline.js';
import { entry, extracted, pipelineFromYaml } from './helpers.js';

const FLASK = [
  '[2020-12-03 11:36:20] "GET /hello HTTP/1.1" 200 -',
  '[2020-12-03 11:36:23] ERROR in app: Exception on /error [GET]',
  'Traceback (most recent call last):',
  '  File "/home/pallets/.pyenv/versions/3.8.5/lib/python3.8/site-packages/flask/app.py", line 2447, in wsgi_app',
  '    response = self.full_dispatch_request()',
  '  File "/home/pallets/src/deployment_tools/hello.py", line 10, in error',
  '    raise Exception("Sorry, this route always breaks")',
  'Exception: Sorry, this route always breaks',
  '[2020-12-03 11:36:23] "GET /error HTTP/1.1" 500 -',
  '[2020-12-03 11:36:26] "GET /hello HTTP/1.1" 200 -',
  '[2020-12-03 11:36:27] "GET /hello HTTP/1.1" 200 -',
];

const FLASK_PIPELINE = `
- multiline:
    firstline: '^\\[\\d{4}-\\d{2}-\\d{2} \\d{1,2}:\\d{2}:\\d{2}\\]'
    max_wait_time: 3s
- regex:
    expression: '^(?P<time>\\[\\d{4}-\\d{2}-\\d{2} \\d{1,2}:\\d{2}:\\d{2}\\]) (?P<message>(?s:.*))$'
`;

describe('multiline stage', () => {
  it('joins the flask traceback into one entry (docs multiline.md example)', () => {
    const p = pipelineFromYaml(FLASK_PIPELINE);
    const out: StageEntry[] = [];
    FLASK.forEach((line, i) => {
      const e = p.process(entry(line, { job: 'flask' }, BigInt(i)), 1000 + i);
      if (e) out.push(e);
    });
    expect(out.map((e) => e.line)).toEqual([FLASK[0], FLASK.slice(1, 8).join('\n'), FLASK[8], FLASK[9]]);
    // Each block keeps its first line's time; the regex after it sees the whole block.
    expect(out.map((e) => e.timestamp)).toEqual([0n, 1n, 8n, 9n]);
    expect(extracted(out[1]!).message).toBe(FLASK.slice(1, 8).join('\n').slice('[2020-12-03 11:36:23] '.length));
    expect(p.pending()).toBe(1);
    const rest = p.flush(2000, true);
    expect(rest.map((e) => e.line)).toEqual([FLASK[10]]);
    expect(extracted(rest[0]!).time).toBe('[2020-12-03 11:36:27]');
    expect(p.pending()).toBe(0);
  });

  it('flushes a block after max_wait_time without new lines', () => {
    const p = pipelineFromYaml(`[{multiline: {firstline: '^\\S', max_wait_time: 3s}}]`);
    expect(p.process(entry('Exception in thread main', {}, 1n), 0)).toBeNull();
    expect(p.process(entry('  at A.b()', {}, 2n), 1000)).toBeNull();
    expect(p.nextDeadline()).toBe(4000);
    expect(p.flush(3999)).toEqual([]);
    const out = p.flush(4000);
    expect(out.map((e) => [e.line, e.timestamp])).toEqual([['Exception in thread main\n  at A.b()', 1n]]);
    expect(p.nextDeadline()).toBeUndefined();
    expect(p.flush(10_000)).toEqual([]);
    // A continuation after the release starts a block of its own time.
    expect(p.process(entry('  at C.d()', {}, 3n), 11_000)).toBeNull();
    expect(p.flush(14_000).map((e) => [e.line, e.timestamp])).toEqual([['  at C.d()', 3n]]);
  });

  it('passes lines through until the first firstline, keeps label sets apart, bounds max_lines', () => {
    const p = pipelineFromYaml(`[{multiline: {firstline: '^START', max_lines: 3}}]`);
    expect(p.process(entry('orphan', { s: 'a' }), 0)?.line).toBe('orphan');
    expect(p.process(entry('START a1', { s: 'a' }), 0)).toBeNull();
    expect(p.process(entry('START b1', { s: 'b' }), 0)).toBeNull();
    expect(p.process(entry('a2', { s: 'a' }), 0)).toBeNull();
    expect(p.process(entry('b2', { s: 'b' }), 0)).toBeNull();
    const a = p.process(entry('a3', { s: 'a' }), 0);
    expect(a?.line).toBe('START a1\na2\na3');
    expect(a?.labels.get('s')).toBe('a');
    expect(p.process(entry('a4', { s: 'a' }), 0)).toBeNull();
    const b = p.process(entry('START b3', { s: 'b' }), 0);
    expect(b?.line).toBe('START b1\nb2');
    expect(p.flush(0, true).map((e) => e.line).sort()).toEqual(['START b3', 'a4']);
  });

  it('runs released blocks through the stages after an enclosing match', () => {
    const p = pipelineFromYaml(`
- match:
    selector: '{app="java"}'
    stages:
    - multiline: {firstline: '^\\d{4}-', max_wait_time: 1s}
    - static_labels: {joined: "yes"}
- static_labels: {after: "yes"}
`);
    expect(p.process(entry('2024-01-01 boom', { app: 'java' }), 0)).toBeNull();
    expect(p.process(entry('\tat X', { app: 'java' }), 0)).toBeNull();
    expect(p.process(entry('plain', { app: 'go' }), 0)?.labels.get('after')).toBe('yes');
    expect(p.pending()).toBe(2);
    const out = p.flush(1000);
    expect(out).toHaveLength(1);
    expect(out[0]!.line).toBe('2024-01-01 boom\n\tat X');
    expect(Object.fromEntries(out[0]!.labels)).toEqual({ app: 'java', joined: 'yes', after: 'yes' });
  });
});
