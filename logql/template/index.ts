/**
 * Go `text/template` for LogQL's `line_format` and `label_format`, with Loki's function map.
 * Pure: no I/O. See README.md.
 */
export { compileTemplate, Template } from './template.js';
export type { SimplePart } from './template.js';
export { TemplateSyntaxError, TemplateExecError, GoError } from './errors.js';
export { GoInt, GoSlice, StringMap, IfaceMap, NIL_IFACE, formatV, typeName } from './values.js';
export type { GoMap, GoValue } from './values.js';
export { GoTime, GoLocation, formatTime, parseTime, loadLocation, UTC } from './time.js';
export { sprintf } from './printf.js';
