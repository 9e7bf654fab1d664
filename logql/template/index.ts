/**
 * Go `text/template` for LogQL's `line_format` and `label_format`, with Loki's function map, or
 * with a caller's function map (the ruler's Prometheus functions). Pure: no I/O. See README.md.
 */
export { compileTemplate, Template } from './template.js';
export type { SimplePart } from './template.js';
export { GoStruct } from './exec.js';
export type { FuncMap } from './registry.js';
export type { GoFunc, ParamType, ExecContext } from './signature.js';
export { TemplateSyntaxError, TemplateExecError, GoError } from './errors.js';
export { GoInt, GoSlice, StringMap, IfaceMap, NIL_IFACE, formatV, formatFloatV, typeName } from './values.js';
export type { GoMap, GoValue } from './values.js';
export { GoTime, GoLocation, formatTime, parseTime, loadLocation, UTC } from './time.js';
export { sprintf } from './printf.js';
export { queryEscape } from './builtins.js';
export { goQuote } from './lexer.js';
export { goRegexp, replaceAllString } from './regex-funcs.js';
export type { GoRegexp } from './regex-funcs.js';
