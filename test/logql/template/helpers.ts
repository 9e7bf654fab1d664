import { compileTemplate, StringMap } from '../../../logql/template/index.js';

/** Renders `tpl` with `labels` as a map[string]string dot (Loki's data), like line_format. */
export function render(tpl: string, labels: Record<string, string> = {}, line = '', ts = 0n): string {
  return compileTemplate(tpl).execute(new StringMap(new Map(Object.entries(labels))), line, ts);
}

/** The message of the error `fn` throws (fails the test when it does not throw). */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

export const execError = (tpl: string, labels: Record<string, string> = {}): string => errorOf(() => render(tpl, labels));
export const syntaxError = (tpl: string): string => errorOf(() => compileTemplate(tpl));
