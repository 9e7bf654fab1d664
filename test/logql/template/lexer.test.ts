import { describe, expect, it } from 'vitest';
import { lex } from '../../../logql/template/lexer.js';
import { render, syntaxError } from './helpers.js';

const kinds = (s: string): string[] => lex(s).map((i) => (i.typ === 'space' ? ' ' : `${i.typ}:${i.val}`));

describe('template lexer', () => {
  it('splits text and actions into Go item types', () => {
    expect(kinds('a {{ .x | f "s" `r` 1.5 $v }} b')).toEqual([
      'text:a ',
      'leftDelim:{{',
      ' ',
      'field:.x',
      ' ',
      'pipe:|',
      ' ',
      'identifier:f',
      ' ',
      'string:"s"',
      ' ',
      'rawString:`r`',
      ' ',
      'number:1.5',
      ' ',
      'variable:$v',
      ' ',
      'rightDelim:}}',
      'text: b',
      'EOF:',
    ]);
  });

  it('recognises keywords, booleans, nil, dot, declarations and char constants', () => {
    expect(kinds('{{if true}}{{else}}{{end}}').filter((k) => k !== ' ')).toEqual([
      'leftDelim:{{',
      'if:if',
      'bool:true',
      'rightDelim:}}',
      'leftDelim:{{',
      'else:else',
      'rightDelim:}}',
      'leftDelim:{{',
      'end:end',
      'rightDelim:}}',
      'EOF:',
    ]);
    expect(kinds('{{$x := nil}}{{$x = .}}{{ \'a\' }}').filter((k) => k !== ' ')).toEqual([
      'leftDelim:{{',
      'variable:$x',
      'declare::=',
      'nil:nil',
      'rightDelim:}}',
      'leftDelim:{{',
      'variable:$x',
      'assign:=',
      'dot:.',
      'rightDelim:}}',
      'leftDelim:{{',
      "charConstant:'a'",
      'rightDelim:}}',
      'EOF:',
    ]);
  });

  it('splits field chains into one item per field', () => {
    expect(kinds('{{.a.b}}')).toEqual(['leftDelim:{{', 'field:.a', 'field:.b', 'rightDelim:}}', 'EOF:']);
  });

  it('trim markers remove the whitespace (spaces, tabs, newlines) next to the action', () => {
    expect(render('a  \n {{- .x -}} \t\n b', { x: 'X' })).toBe('aXb');
    expect(render('a {{- .x }} b', { x: 'X' })).toBe('aX b');
    expect(render('a {{ .x -}} b', { x: 'X' })).toBe('a Xb');
  });

  it('needs a space after "{{-": {{-3}} is the number -3', () => {
    expect(render('a {{-3}}')).toBe('a -3');
  });

  it('drops comments, with or without trim markers', () => {
    expect(render('a{{/* hi */}}b')).toBe('ab');
    expect(render('a {{- /* hi */ -}} b')).toBe('ab');
  });

  it('reports lexical errors with Go messages', () => {
    expect(syntaxError('{{ .a')).toBe('template: line:1: unclosed action');
    expect(syntaxError('{{ "abc }}')).toBe('template: line:1: unterminated quoted string');
    expect(syntaxError('{{ `abc }}')).toBe('template: line:1: unterminated raw quoted string');
    expect(syntaxError("{{ 'a }}")).toBe('template: line:1: unterminated character constant');
    expect(syntaxError('{{/* x')).toBe('template: line:1: unclosed comment');
    expect(syntaxError('{{/* x */ .a }}')).toBe('template: line:1: comment ends before closing delimiter');
    expect(syntaxError('{{ (.a }}')).toBe('template: line:1: unclosed left paren');
    expect(syntaxError('{{ .a# }}')).toBe("template: line:1: bad character U+0023 '#'");
    expect(syntaxError('{{ 3x }}')).toBe('template: line:1: bad number syntax: "3x"');
    expect(syntaxError('{{ a : b }}')).toBe('template: line:1: function "a" not defined');
    expect(syntaxError('{{ .a : }}')).toBe('template: line:1: expected :=');
  });

  it('reports the line of the error in multi-line templates', () => {
    expect(syntaxError('line one\nline two {{ .a')).toBe('template: line:2: unclosed action');
  });
});
