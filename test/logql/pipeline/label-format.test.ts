import { describe, expect, it } from 'vitest';
import { compile, parsed, run } from './helpers.js';

describe('label_format', () => {
  it('rename dst=src moves the value and drops src', () => {
    expect(parsed('| logfmt | label_format dst=src', 'src=v other=o')).toEqual({ dst: 'v', other: 'o' });
  });

  it('rename overwrites an existing dst, and a missing src changes nothing', () => {
    expect(parsed('| logfmt | label_format a=b', 'a=1 b=2')).toEqual({ a: '2' });
    expect(parsed('| logfmt | label_format a=nope', 'a=1')).toEqual({ a: '1' });
  });

  it('rename of a label onto itself removes it (Loki sets, then deletes the source)', () => {
    expect(parsed('| logfmt | label_format a=a', 'a=1 b=2')).toEqual({ b: '2' });
  });

  it('renaming a stream label moves it out of the stream labels', () => {
    expect(run('| label_format service=app', 'x')!.labels).toEqual({ service: 'a' });
  });

  it('a template dst="{{…}}" keeps its sources (docs example)', () => {
    expect(parsed('| logfmt | label_format dst="{{.src}}"', 'src=v')).toEqual({ dst: 'v', src: 'v' });
    expect(parsed('| logfmt | label_format route=`{{.method}}-{{.path}}`', 'method=GET path=/x')).toEqual({ method: 'GET', path: '/x', route: 'GET-/x' });
    expect(parsed('| label_format x="{{ __line__ }}"', 'the line')).toEqual({ x: 'the line' });
  });

  it('missing labels render empty; functions work', () => {
    expect(parsed('| logfmt | label_format x="[{{.nope}}]", y="{{ .a | ToUpper }}"', 'a=b')).toEqual({ a: 'b', x: '[]', y: 'B' });
  });

  it('formatted labels replace stream and structured-metadata labels of the same name (no _extracted)', () => {
    expect(run('| logfmt | label_format app="{{.src}}"', 'src=v')!.labels).toEqual({ app: 'v', src: 'v' });
    expect(run('| label_format trace="new"', 'x', { app: 'a' }, { trace: 'old' })!.labels).toEqual({ app: 'a', trace: 'new' });
    // A parser after label_format still sees the stream label as taken.
    expect(run('| label_format app="x" | logfmt', 'app=y')!.labels).toEqual({ app: 'x', app_extracted: 'y' });
  });

  it('templates see the labels as they were at the first template, not earlier results', () => {
    expect(parsed('| logfmt | label_format t1="{{.a}}", t2="<{{.t1}}>"', 'a=1')).toEqual({ a: '1', t1: '1', t2: '<>' });
    // A rename before the first template is visible to it (Loki fills its map lazily).
    expect(parsed('| logfmt | label_format b=a, t1="{{.b}}"', 'a=1')).toEqual({ b: '1', t1: '1' });
    // … but not one between two templates.
    expect(parsed('| logfmt | label_format t1="{{.a}}", b=a, t2="{{.b}}|{{.a}}"', 'a=1')).toEqual({ b: '1', t1: '1', t2: '|1' });
    // Chaining stages does see earlier results (docs: "use two expressions").
    expect(parsed('| logfmt | label_format foo=bar | label_format foo="new-{{.foo}}"', 'bar=1')).toEqual({ foo: 'new-1' });
  });

  it('an execution error sets TemplateFormatErr, leaves that label unset and runs the other items', () => {
    const r = run('| label_format x="{{ div 1 0 }}", y="ok"', 'line')!;
    expect(r.line).toBe('line');
    expect(r.labels).toEqual({
      app: 'a',
      y: 'ok',
      __error__: 'TemplateFormatErr',
      __error_details__: 'template: label:1:3: executing "label" at <div 1 0>: error calling div: runtime error: integer divide by zero',
    });
  });

  it('validation errors throw when the pipeline is compiled, with Loki\'s messages', () => {
    expect(() => compile('| label_format a=b, a=c')).toThrow("multiple label name 'a' not allowed in a single format operation");
    expect(() => compile('| label_format a=b, a="{{.c}}"')).toThrow("multiple label name 'a' not allowed in a single format operation");
    expect(() => compile('| label_format __error__=x')).toThrow('__error__ cannot be formatted');
    expect(() => compile('| label_format __error__="{{.x}}"')).toThrow('__error__ cannot be formatted');
    expect(() => compile('| label_format a="{{.b"')).toThrow("invalid template for label 'a': template: label:1: unclosed action");
  });

  it('label filters after label_format see the new labels', () => {
    expect(run('| logfmt | label_format lvl="{{ .level | upper }}" | lvl="ERROR"', 'level=error')).not.toBeNull();
    expect(run('| logfmt | label_format lvl="{{ .level | upper }}" | lvl="ERROR"', 'level=info')).toBeNull();
  });

  it("the docs' epoch example: label_format, then arithmetic on the formatted labels, then a numeric filter", () => {
    const q =
      '| logfmt | label_format nowEpoch=`{{(unixEpoch now)}}`,createDateEpoch=`{{unixEpoch (toDate "2006-01-02" .createDate)}}` | label_format dateTimeDiff=`{{sub .nowEpoch .createDateEpoch}}` | dateTimeDiff > 86400';
    expect(run(q, 'createDate=2020-01-01')).not.toBeNull();
    expect(run(q, 'createDate=2999-01-01')).toBeNull();
  });

  it('renaming from __error__ does nothing (Loki\'s Get does not see error labels)', () => {
    expect(run('| json | label_format e=__error__', 'oops')!.labels).toMatchObject({ __error__: 'JSONParserErr' });
    expect(run('| json | label_format e=__error__', 'oops')!.labels).not.toHaveProperty('e');
  });
});
