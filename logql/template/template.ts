/**
 * `compileTemplate(text, name, funcs?)`: parse a Go text/template once, run it per line. `funcs`
 * replaces Loki's function map (Go's builtins stay available), like Go's `Template.Funcs`.
 *
 * Fast path: a template made only of text and `{{.name}}` references (any spacing or trim
 * markers) compiles to a list of parts that `execute` concatenates without interpretation.
 */
import { execute, GoStruct, type ExecTree } from './exec.js';
import type { ArgNode, ListNode, Node, PipeNode } from './nodes.js';
import { parseTemplate } from './parser.js';
import { hasFunction, LOKI_FUNCTIONS, type FuncMap } from './registry.js';
import { formatV, NIL_IFACE, type GoMap, type GoValue } from './values.js';

/** A part of a simple template: literal text, or the value of a top-level field of the dot. */
export type SimplePart = string | { readonly field: string };

export class Template {
  /** Text and field parts when the template is only text and `{{.name}}`; null otherwise. */
  readonly simpleParts: readonly SimplePart[] | null;
  /** Whether the template calls `__line__` (so callers can skip decoding the line). */
  readonly usesLine: boolean;
  /** Whether the template calls `__timestamp__`. */
  readonly usesTimestamp: boolean;
  private readonly tree: ExecTree;

  constructor(
    readonly name: string,
    readonly text: string,
    funcs: FuncMap = LOKI_FUNCTIONS,
  ) {
    const parsed = parseTemplate(name, text, (fn) => hasFunction(fn, funcs));
    this.tree = { name, text, root: parsed.root, defined: parsed.defined, funcs };
    this.simpleParts = parsed.defined.size === 0 ? simpleParts(parsed.root) : null;
    const idents = new Set<string>();
    collectIdentifiers(parsed.root, idents);
    for (const l of parsed.defined.values()) collectIdentifiers(l, idents);
    this.usesLine = idents.has('__line__');
    this.usesTimestamp = idents.has('__timestamp__');
  }

  /**
   * Runs the template with `data` as the dot (`$`). `line` and `timestampNs` back `__line__` and
   * `__timestamp__`. Throws TemplateExecError.
   */
  execute(data: GoValue, line = '', timestampNs = 0n): string {
    const parts = this.simpleParts;
    if (parts !== null && data !== null && typeof data === 'object' && (data as GoMap).kind === 'map') {
      const m = data as GoMap;
      let out = '';
      let i = 0;
      for (; i < parts.length; i++) {
        const p = parts[i]!;
        if (typeof p === 'string') out += p;
        else {
          const v = m.lookup(p.field);
          if (typeof v === 'string') out += v;
          else if (v === undefined) {
            // A struct's missing field is an error: let the executor report it.
            if (m instanceof GoStruct) break;
            out += m.goType === 'map[string]string' ? '' : '<no value>';
          } else out += v === null || v === NIL_IFACE ? '<no value>' : formatV(v);
        }
      }
      if (i === parts.length) return out;
    }
    return execute(this.tree, data, { line, timestampNs });
  }
}

/**
 * Parses a template; throws TemplateSyntaxError with Go's message (`template: <name>:1: …`).
 * `funcs` replaces Loki's functions for templates of another dialect (Prometheus alert templates).
 */
export function compileTemplate(text: string, name = 'line', funcs?: FuncMap): Template {
  return new Template(name, text, funcs);
}

function simpleParts(root: ListNode): SimplePart[] | null {
  const parts: SimplePart[] = [];
  for (const n of root.nodes) {
    if (n.type === 'text') parts.push(n.text);
    else if (n.type === 'action' && n.pipe.decl.length === 0 && n.pipe.cmds.length === 1) {
      const args = n.pipe.cmds[0]!.args;
      const a = args[0]!;
      if (args.length !== 1 || a.type !== 'field' || a.ident.length !== 1) return null;
      parts.push({ field: a.ident[0]! });
    } else return null;
  }
  return parts;
}

function collectIdentifiers(n: Node | ListNode, out: Set<string>): void {
  const pipe = (p: PipeNode | null): void => {
    if (p) for (const c of p.cmds) for (const a of c.args) arg(a);
  };
  const arg = (a: ArgNode): void => {
    if (a.type === 'identifier') out.add(a.name);
    else if (a.type === 'pipe') pipe(a);
    else if (a.type === 'chain') arg(a.node);
  };
  switch (n.type) {
    case 'list':
      for (const c of n.nodes) collectIdentifiers(c, out);
      break;
    case 'action':
      pipe(n.pipe);
      break;
    case 'if':
    case 'range':
    case 'with':
      pipe(n.pipe);
      collectIdentifiers(n.list, out);
      if (n.elseList) collectIdentifiers(n.elseList, out);
      break;
    case 'template':
      pipe(n.pipe);
      break;
  }
}
