/** How template functions declare their Go signature, so the executor can check and convert arguments like Go. */
import type { GoValue } from './values.js';

/**
 * A Go parameter type: `any` is `interface{}` (untyped constants become int/float64), `value` is
 * `reflect.Value` (anything, including no value).
 */
export type ParamType = 'string' | 'int' | 'float64' | 'bool' | 'time' | 'any' | 'value';

/** What a function can see besides its arguments: the current line and timestamp. */
export interface ExecContext {
  line: string;
  timestampNs: bigint;
}

export interface GoFunc {
  /** Parameter types; with `variadic`, the last one is the element type of the `...` parameter. */
  params: ParamType[];
  variadic?: boolean;
  /** Returns the result or throws GoError (Go's error result or a recovered panic). */
  call(args: GoValue[], ctx: ExecContext): GoValue;
}

export function paramTypeName(t: ParamType): string {
  switch (t) {
    case 'time':
      return 'time.Time';
    case 'any':
      return 'interface {}';
    case 'value':
      return 'reflect.Value';
    default:
      return t;
  }
}
