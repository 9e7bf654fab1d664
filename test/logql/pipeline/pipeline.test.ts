import { describe, expect, it } from 'vitest';
import type { PipelineStage } from '../../../logql/index.js';
import { compilePipeline, reorderStages } from '../../../logql/pipeline/index.js';
import { compile, stagesOf, toLabels } from './helpers.js';

const kinds = (stages: PipelineStage[]): string[] =>
  stages.map((s) => (s.kind === 'LineFilter' ? `${s.op}${s.value.value}` : s.kind));

describe('compilePipeline', () => {
  it('moves line filters ahead of parsers like Loki; label filters, unpack and line_format are barriers', () => {
    const stages = stagesOf(
      '{a="b"} | json |= "f1" | x="1" | logfmt != "f2" | decolorize | drop y |= "f3" | unpack |= "f4" | regexp "(?P<z>.)" |~ "f5"',
    );
    expect(kinds(reorderStages(stages))).toEqual([
      '|=f1',
      'JsonParser',
      'LabelFilter',
      '!=f2',
      '|=f3',
      'LogfmtParser',
      'Decolorize',
      'DropLabels',
      'UnpackParser',
      '|=f4',
      '|~f5',
      'RegexpParser',
    ]);
    const lf = stagesOf('{a="b"} | json | line_format "x" |= "f"');
    expect(kinds(reorderStages(lf))).toEqual(['JsonParser', 'LineFormat', '|=f']);
  });

  it('reordering does not change results', () => {
    const line = Buffer.from('level=error msg=boom');
    const stream = toLabels({ app: 'a' });
    const p = compile('| logfmt | level="error" |= "boom"');
    expect(p.process(0n, line, stream, [])!.labels).toEqual(toLabels({ app: 'a', level: 'error', msg: 'boom' }));
    expect(p.process(0n, Buffer.from('level=error msg=ok'), stream, [])).toBeNull();
  });

  it('an empty pipeline or only |= "" is a no-op that returns the same line and stream labels', () => {
    const p = compile('|= ""');
    expect(p.isNoop).toBe(true);
    const line = Buffer.from('x');
    const stream = toLabels({ b: '2', a: '1' });
    const r = p.process(5n, line, stream, [])!;
    expect(r.line).toBe(line);
    expect(r.labels).toEqual(toLabels({ a: '1', b: '2' }));
    expect(r.key).toBe('{a="1", b="2"}');
    expect(compilePipeline([]).isNoop).toBe(true);
  });

  it('keeps no state between lines and streams', () => {
    const p = compile('| json');
    const s1 = toLabels({ app: 'a' });
    const s2 = toLabels({ app: 'b', job: 'j' });
    expect(p.process(0n, Buffer.from('{"x":1}'), s1, toLabels({ t: '1' }))!.key).toBe('{app="a", t="1", x="1"}');
    expect(p.process(0n, Buffer.from('oops'), s2, [])!.key).toBe(
      '{__error__="JSONParserErr", __error_details__="Malformed object error", app="b", job="j"}',
    );
    expect(p.process(0n, Buffer.from('{}'), s1, [])!.key).toBe('{app="a"}');
    expect(p.process(0n, Buffer.from('{"y":"2"}'), s2, [])!.key).toBe('{app="b", job="j", y="2"}');
  });

  it('structured metadata shows up in the result labels and wins over parsed labels', () => {
    const p = compile('| logfmt');
    const r = p.process(0n, Buffer.from('trace=p'), toLabels({ app: 'a' }), toLabels({ trace: 'sm' }))!;
    expect(r.labels).toEqual(toLabels({ app: 'a', trace: 'sm', trace_extracted: 'p' }));
  });

  it('accepts lines that are plain Uint8Arrays', () => {
    const p = compile('|= "b" | logfmt');
    const line = new Uint8Array(Buffer.from('a=b'));
    expect(p.process(0n, line, toLabels({ app: 'a' }), [])!.labels).toEqual(toLabels({ a: 'b', app: 'a' }));
  });

  it('compiles line_format and label_format, rejecting bad templates when the pipeline is built', () => {
    expect(() => compile('| line_format "{{.a}}"')).not.toThrow();
    expect(() => compile('| label_format a=b')).not.toThrow();
    expect(() => compile('| line_format "{{.a"')).toThrow('invalid line template: template: line:1: unclosed action');
  });

  it('throws at compile time for run-time errors Loki reports when building the pipeline', () => {
    expect(() => compile('|~ "a(?=b)"')).toThrow();
    expect(() => compile('| json a="["')).toThrow('cannot parse expression');
  });

  it('runs a realistic query end to end', () => {
    const p = compile('|= "GET" | json | status >= 400 and duration > 100ms | keep status, path');
    const stream = toLabels({ app: 'a' });
    const ok = '{"method":"GET","path":"/x","status":500,"duration":"150ms"}';
    const fast = '{"method":"GET","path":"/x","status":500,"duration":"50ms"}';
    expect(p.process(0n, Buffer.from(ok), stream, [])!.key).toBe('{path="/x", status="500"}');
    expect(p.process(0n, Buffer.from(fast), stream, [])).toBeNull();
    expect(p.process(0n, Buffer.from(ok.replace('GET', 'PUT')), stream, [])).toBeNull();
  });
});
