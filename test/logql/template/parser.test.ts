import { describe, expect, it } from 'vitest';
import { compileTemplate, TemplateSyntaxError } from '../../../logql/template/index.js';
import { render, syntaxError } from './helpers.js';

describe('template parser', () => {
  it('throws TemplateSyntaxError with "template: <name>:<line>: …"', () => {
    expect(() => compileTemplate('{{ nope }}')).toThrow(TemplateSyntaxError);
    expect(syntaxError('{{ nope }}')).toBe('template: line:1: function "nope" not defined');
    expect(() => compileTemplate('{{ nope }}', 'label')).toThrow('template: label:1: function "nope" not defined');
  });

  it('rejects structural mistakes with Go messages', () => {
    expect(syntaxError('{{end}}')).toBe('template: line:1: unexpected {{end}}');
    expect(syntaxError('{{else}}')).toBe('template: line:1: unexpected {{else}}');
    expect(syntaxError('{{if .a}}x')).toBe('template: line:1: unexpected EOF');
    expect(syntaxError('{{if .a}}x{{else}}y{{else}}z{{end}}')).toBe('template: line:1: expected end; found {{else}}');
    expect(syntaxError('{{}}')).toBe('template: line:1: missing value for command');
    expect(syntaxError('{{if}}{{end}}')).toBe('template: line:1: missing value for if');
    expect(syntaxError('{{ .a | "b" }}')).toBe('template: line:1: non executable command in pipeline stage 2');
    expect(syntaxError('{{ $x }}')).toBe('template: line:1: undefined variable "$x"');
    expect(syntaxError('{{ .a ) }}')).toBe('template: line:1: unexpected ")" in command');
    expect(syntaxError('{{ "a".b }}')).toBe('template: line:1: unexpected . after term "\\"a\\""');
    expect(syntaxError('{{break}}')).toBe('template: line:1: {{break}} outside {{range}}');
    expect(syntaxError('{{continue}}')).toBe('template: line:1: {{continue}} outside {{range}}');
    expect(syntaxError('{{ range $a, $b, $c := . }}{{end}}')).toBe('template: line:1: too many declarations in range');
    expect(syntaxError('{{ with $a, $b := . }}{{end}}')).toBe('template: line:1: too many declarations in with');
    expect(syntaxError('{{ "\\q" }}')).toBe('template: line:1: invalid syntax');
    expect(syntaxError('{{ 99999999999999999999 }}')).toBe('template: line:1: integer overflow: "99999999999999999999"');
    expect(syntaxError('{{ .a }}{{ end }}')).toBe('template: line:1: unexpected {{end}}');
  });

  it('a variable is in scope until the end of the control structure that declares it', () => {
    expect(render('{{ if true }}{{ $x := 1 }}{{ $x }}{{ end }}')).toBe('1');
    expect(syntaxError('{{ if true }}{{ $x := 1 }}{{ end }}{{ $x }}')).toBe('template: line:1: undefined variable "$x"');
  });

  it('parses literals: strings with escapes, raw strings, chars, numbers in Go syntax', () => {
    expect(render('{{ "a\\tb\\u00e9\\x41" }}')).toBe('a\tbéA');
    expect(render('{{ `a\\tb` }}')).toBe('a\\tb');
    expect(render("{{ 'a' }} {{ '\\n' }}")).toBe('97 10');
    expect(render('{{ 0x1F }} {{ 0o17 }} {{ 017 }} {{ 0b101 }} {{ 1_000 }} {{ -7 }}')).toBe('31 15 15 5 1000 -7');
    expect(render('{{ 1.5 }} {{ 1e3 }} {{ .5 }} {{ 2.0 }}')).toBe('1.5 1000 0.5 2');
    expect(render('{{ true }} {{ false }}')).toBe('true false');
  });

  it('supports parenthesised pipelines, field chains on them, and else-if chains', () => {
    expect(render('{{ (ToUpper "a") }}')).toBe('A');
    expect(render('{{ if eq .a "1" }}one{{ else if eq .a "2" }}two{{ else }}many{{ end }}', { a: '2' })).toBe('two');
    expect(render('{{ with .x }}[{{ . }}]{{ else with .a }}<{{ . }}>{{ end }}', { a: 'y' })).toBe('<y>');
  });

  it('supports define/template/block', () => {
    expect(render('{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" .a }}', { a: 'x' })).toBe('[x]');
    expect(render('{{ block "b" .a }}<{{ . }}>{{ end }}', { a: 'y' })).toBe('<y>');
  });

  it('keeps comments and whitespace-only templates valid', () => {
    expect(render('')).toBe('');
    expect(render('{{/* only a comment */}}')).toBe('');
    expect(render('plain text')).toBe('plain text');
  });
});
