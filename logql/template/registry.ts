/** All functions a Loki template can call: Go's builtins plus Loki's function map (which wins, as in Go). */
import { BUILTINS } from './builtins.js';
import { FUNCTIONS } from './functions.js';
import type { GoFunc } from './signature.js';

export function lookupFunc(name: string): { fn: GoFunc; builtin: boolean } | undefined {
  const f = Object.prototype.hasOwnProperty.call(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
  if (f) return { fn: f, builtin: false };
  const b = Object.prototype.hasOwnProperty.call(BUILTINS, name) ? BUILTINS[name] : undefined;
  return b ? { fn: b, builtin: true } : undefined;
}

export function hasFunction(name: string): boolean {
  return lookupFunc(name) !== undefined;
}
