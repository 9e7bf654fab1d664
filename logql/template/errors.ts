/** Errors of the Go text/template engine, with Go's message texts. */

/** A template Go's `template.Parse` rejects, e.g. `template: line:1: function "foo" not defined`. */
export class TemplateSyntaxError extends Error {
  override readonly name = 'TemplateSyntaxError';
}

/**
 * An execution error, e.g.
 * `template: line:1:2: executing "line" at <div 1 0>: error calling div: runtime error: integer divide by zero`.
 */
export class TemplateExecError extends Error {
  override readonly name = 'TemplateExecError';
}

/** An error a template function returns (Go's `error` result, or a recovered panic). */
export class GoError extends Error {
  override readonly name = 'GoError';
}
