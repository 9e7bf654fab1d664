/**
 * Function lookup. A template is compiled against a function map (Loki's by default; the ruler
 * passes Prometheus's); Go's builtins are always there, and the map wins over them, as in Go.
 */
import { BUILTINS } from './builtins.js';
import { FUNCTIONS } from './functions.js';
import type { GoFunc } from './signature.js';

/** A template's own functions, like Go's `template.FuncMap`. */
export type FuncMap = Readonly<Record<string, GoFunc>>;

/** Loki's `line_format`/`label_format` functions: the default map. */
export const LOKI_FUNCTIONS: FuncMap = FUNCTIONS;

const has = Object.prototype.hasOwnProperty;

export function lookupFunc(name: string, funcs: FuncMap = LOKI_FUNCTIONS): { fn: GoFunc; builtin: boolean } | undefined {
  const f = has.call(funcs, name) ? funcs[name] : undefined;
  if (f) return { fn: f, builtin: false };
  const b = has.call(BUILTINS, name) ? BUILTINS[name] : undefined;
  return b ? { fn: b, builtin: true } : undefined;
}

export function hasFunction(name: string, funcs: FuncMap = LOKI_FUNCTIONS): boolean {
  return lookupFunc(name, funcs) !== undefined;
}
