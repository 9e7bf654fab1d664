/**
 * The executor of Go's text/template (`text/template/exec.go` semantics), configured as Loki
 * configures it: `Option("missingkey=zero")`, so a missing key of a `map[string]string` dot is "".
 *
 * Go's error messages are reproduced, including the node the error is reported at
 * (`template: line:1:2: executing "line" at <div 1 0>: error calling div: …`).
 */
import { GoError, TemplateExecError } from './errors.js';
import { lookupFunc, type FuncMap } from './registry.js';
import type {
  AnyNode,
  ArgNode,
  BranchNode,
  ChainNode,
  CommandNode,
  FieldNode,
  IdentifierNode,
  ListNode,
  Node,
  NumberNode,
  PipeNode,
  TemplateNode,
  VariableNode,
} from './nodes.js';
import { nodeString } from './nodes.js';
import { paramTypeName, type ExecContext, type GoFunc, type ParamType } from './signature.js';
import { formatTime, GoTime, UTC } from './time.js';
import { formatV, GoInt, GoSlice, isInt, isMap, isTrue, NIL_IFACE, typeName, utf8Length, type GoMap, type GoValue } from './values.js';

/** The "missing" final argument of a command that is not fed by a pipeline. */
const MISSING: unique symbol = Symbol('missing');
type Final = GoValue | typeof MISSING;

class BreakSignal {}
class ContinueSignal {}
const BREAK = new BreakSignal();
const CONTINUE = new ContinueSignal();

const MAX_EXEC_DEPTH = 1000;

interface Variable {
  name: string;
  value: GoValue;
}

export interface ExecTree {
  /** Template name, e.g. "line". */
  name: string;
  text: string;
  root: ListNode;
  defined: Map<string, ListNode>;
  /** The function map the template was parsed against (Go builtins come on top). */
  funcs: FuncMap;
}

/**
 * A Go struct as a template's dot: fixed exported fields, and unlike a map, naming a field it lacks
 * is an error (`can't evaluate field Foo in type struct { … }`) even with `missingkey=zero`.
 * It is a GoMap so `index`, `range` and printing treat it like the map of its fields; Go would
 * reject or print those differently, which alert templates do not rely on.
 */
export class GoStruct implements GoMap {
  readonly kind = 'map';
  readonly goType = 'map[string]interface {}';
  constructor(
    /** Go's type string for error messages, e.g. `struct { Labels map[string]string; Value float64 }`. */
    readonly typeString: string,
    private readonly fields: ReadonlyMap<string, GoValue>,
  ) {}
  lookup(key: string): GoValue | undefined {
    return this.fields.get(key);
  }
  sortedKeys(): string[] {
    return [...this.fields.keys()].sort();
  }
  get size(): number {
    return this.fields.size;
  }
}

/** Runs a parsed template; throws TemplateExecError. */
export function execute(tree: ExecTree, data: GoValue, ctx: ExecContext): string {
  return new State(tree, ctx).run(data);
}

class State {
  private node: AnyNode | null = null;
  private vars: Variable[] = [];
  private out = '';
  private tmplName: string;
  private depth = 0;

  constructor(
    private readonly tree: ExecTree,
    private readonly ctx: ExecContext,
  ) {
    this.tmplName = tree.name;
  }

  run(data: GoValue): string {
    this.vars = [{ name: '$', value: data }];
    this.walk(data, this.tree.root);
    return this.out;
  }

  // ---- errors ----

  private at(n: AnyNode): void {
    this.node = n;
  }

  errorf(msg: string): never {
    if (this.node === null) throw new TemplateExecError(`template: ${this.tmplName}: ${msg}`);
    const pos = this.node.pos;
    const before = this.tree.text.slice(0, pos);
    const nl = before.lastIndexOf('\n');
    const line = 1 + (before.match(/\n/g)?.length ?? 0);
    const col = nl < 0 ? utf8Length(before) : utf8Length(before.slice(nl + 1));
    const where = `${this.tree.name}:${line}:${col}`;
    throw new TemplateExecError(`template: ${where}: executing ${JSON.stringify(this.tmplName)} at <${nodeString(this.node)}>: ${msg}`);
  }

  // ---- variables ----

  private push(name: string, value: GoValue): void {
    this.vars.push({ name, value });
  }
  private setVar(name: string, value: GoValue): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }
  private varValue(name: string): GoValue {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    return this.errorf(`undefined variable: ${name}`);
  }

  // ---- walking ----

  private walk(dot: GoValue, node: Node): void {
    this.at(node);
    switch (node.type) {
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'text':
        this.out += node.text;
        return;
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'if':
      case 'with':
        this.walkIfOrWith(node, dot);
        return;
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
      case 'template':
        this.walkTemplate(dot, node);
        return;
      default:
        this.errorf(`unknown node: ${nodeString(node)}`);
    }
  }

  private walkIfOrWith(node: BranchNode, dot: GoValue): void {
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (isTrue(val)) this.walk(node.type === 'with' ? val : dot, node.list);
      else if (node.elseList) this.walk(dot, node.elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private walkRange(dot: GoValue, r: BranchNode): void {
    this.at(r);
    const mark0 = this.vars.length;
    try {
      let val = this.evalPipeline(dot, r.pipe);
      if (val === NIL_IFACE) val = null;
      const mark = this.vars.length;
      const decl = r.pipe.decl;
      const one = (index: GoValue, elem: GoValue): void => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0]!.ident[0]!, decl.length > 1 ? index : elem);
          else this.vars[this.vars.length - 1]!.value = elem;
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, elem);
          else this.vars[this.vars.length - 2]!.value = index;
        }
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (e !== CONTINUE) throw e;
        } finally {
          this.vars.length = mark;
        }
      };
      let ran = false;
      if (val instanceof GoSlice) {
        for (let i = 0; i < val.items.length; i++) {
          ran = true;
          one(BigInt(i), val.items[i]!);
        }
      } else if (val !== null && isMap(val)) {
        for (const k of val.sortedKeys()) {
          ran = true;
          one(k, val.lookup(k) ?? NIL_IFACE);
        }
      } else if (isInt(val)) {
        if (decl.length > 1) this.errorf(`can't use ${formatV(val)} to iterate over more than one variable`);
        const n = typeof val === 'bigint' ? val : val.v;
        for (let i = 0n; i < n; i++) {
          ran = true;
          one(null, typeof val === 'bigint' ? i : new GoInt(i, val.type));
        }
      } else if (val !== null) {
        this.errorf(`range can't iterate over ${formatV(val)}`);
      }
      if (!ran && r.elseList) this.walk(dot, r.elseList);
    } catch (e) {
      if (e !== BREAK) throw e;
    } finally {
      this.vars.length = mark0;
    }
  }

  private walkTemplate(dot: GoValue, t: TemplateNode): void {
    this.at(t);
    const list = this.tree.defined.get(t.name);
    if (!list) this.errorf(`template ${JSON.stringify(t.name)} not defined`);
    if (this.depth >= MAX_EXEC_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
    const newDot = t.pipe ? this.evalPipeline(dot, t.pipe) : null;
    const saved = { vars: this.vars, name: this.tmplName };
    this.vars = [{ name: '$', value: newDot }];
    this.tmplName = t.name;
    this.depth++;
    try {
      this.walk(newDot, list);
    } finally {
      this.depth--;
      this.vars = saved.vars;
      this.tmplName = saved.name;
    }
  }

  private printValue(n: Node, v: GoValue): void {
    this.at(n);
    if (typeof v === 'string') this.out += v;
    else this.out += v === null || v === NIL_IFACE ? '<no value>' : formatV(v);
  }

  // ---- evaluation ----

  evalPipeline(dot: GoValue, pipe: PipeNode): GoValue {
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      // An interface{} value is unwrapped: a nil interface becomes "no value".
      if (value === NIL_IFACE) value = null;
    }
    const v = value === MISSING ? null : value;
    for (const d of pipe.decl) {
      if (pipe.isAssign) this.setVar(d.ident[0]!, v);
      else this.push(d.ident[0]!, v);
    }
    return v;
  }

  private notAFunction(args: ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  private evalCommand(dot: GoValue, cmd: CommandNode, final: Final): GoValue {
    const first = cmd.args[0]!;
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        return this.errorf('nil is not a command');
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return first.text;
    }
  }

  private idealConstant(n: NumberNode): GoValue {
    this.at(n);
    const isHexInt = /^0[xX]/.test(n.text) && !/[pP]/.test(n.text);
    if (n.isFloat && !isHexInt && n.text[0] !== "'" && /[.eEpP]/.test(n.text)) return n.float64;
    if (n.isInt) return n.int64;
    if (n.isUint) this.errorf(`${n.text} overflows int`);
    return null;
  }

  private evalFieldNode(dot: GoValue, field: FieldNode, args: ArgNode[], final: Final): GoValue {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: GoValue, chain: ChainNode, args: ArgNode[], final: Final): GoValue {
    this.at(chain);
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, null, chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: GoValue, v: VariableNode, args: ArgNode[] | null, final: Final): GoValue {
    this.at(v);
    const value = this.varValue(v.ident[0]!);
    if (v.ident.length === 1) {
      if (args) this.notAFunction(args, final);
      else if (final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(v)}`);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  private evalFieldChain(dot: GoValue, receiver: GoValue, node: AnyNode, ident: string[], args: ArgNode[] | null, final: Final): GoValue {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, ident[i]!, node, null, MISSING, receiver);
    return this.evalField(dot, ident[n - 1]!, node, args, final, receiver);
  }

  private evalField(dot: GoValue, fieldName: string, node: AnyNode, args: ArgNode[] | null, final: Final, receiver: GoValue): GoValue {
    if (receiver === null) return null;
    if (receiver === NIL_IFACE) this.errorf(`nil pointer evaluating interface {}.${fieldName}`);
    if (receiver instanceof GoTime) {
      const m = TIME_METHODS[fieldName];
      if (m) return this.evalCall(dot, m, false, node, fieldName, args, final, receiver);
    }
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    if (receiver instanceof GoStruct) {
      const v = receiver.lookup(fieldName);
      if (v === undefined) this.errorf(`can't evaluate field ${fieldName} in type ${receiver.typeString}`);
      if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
      return v;
    }
    if (isMap(receiver)) {
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      const v = receiver.lookup(fieldName);
      if (v !== undefined) return v;
      return receiver.goType === 'map[string]string' ? '' : NIL_IFACE;
    }
    return this.errorf(`can't evaluate field ${fieldName} in type ${typeName(receiver)}`);
  }

  private evalFunction(dot: GoValue, node: IdentifierNode, cmd: AnyNode, args: ArgNode[] | null, final: Final): GoValue {
    this.at(node);
    const f = lookupFunc(node.name, this.tree.funcs);
    if (!f) this.errorf(`${JSON.stringify(node.name)} is not a defined function`);
    return this.evalCall(dot, f.fn, f.builtin, cmd, node.name, args, final);
  }

  private evalCall(
    dot: GoValue,
    fn: GoFunc,
    isBuiltin: boolean,
    node: AnyNode,
    name: string,
    allArgs: ArgNode[] | null,
    final: Final,
    receiver?: GoTime,
  ): GoValue {
    const args = allArgs ? allArgs.slice(1) : [];
    const nParams = fn.params.length;
    const numIn = args.length + (final !== MISSING ? 1 : 0);
    let numFixed = args.length;
    if (fn.variadic) {
      numFixed = nParams - 1;
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${nParams - 1} got ${args.length}`);
    } else if (numIn !== nParams) {
      this.errorf(`wrong number of args for ${name}: want ${nParams} got ${numIn}`);
    }

    if (isBuiltin && (name === 'and' || name === 'or')) {
      let v: GoValue = null;
      for (const a of args) {
        v = this.evalArg(dot, 'value', a);
        if (isTrue(v) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = this.validateType(final, 'value');
      return v;
    }

    const argv: GoValue[] = [];
    let i = 0;
    for (; i < numFixed && i < args.length; i++) argv.push(this.evalArg(dot, fn.params[i]!, args[i]!));
    if (fn.variadic) for (; i < args.length; i++) argv.push(this.evalArg(dot, fn.params[nParams - 1]!, args[i]!));
    if (final !== MISSING) {
      let t = fn.params[nParams - 1]!;
      if (fn.variadic && numIn - 1 < numFixed) t = fn.params[numIn - 1]!;
      argv.push(this.validateType(final, t));
    }
    if (isBuiltin && name === 'call') {
      this.at(node);
      const callee = argv[0] ?? null;
      const calleeName = args[0] ? nodeString(args[0]) : '';
      if (callee === null || callee === NIL_IFACE) this.errorf('error calling call: call of nil');
      this.errorf(`error calling call: non-function ${calleeName} of type ${typeName(callee)}`);
    }
    try {
      return fn.call(receiver ? [receiver, ...argv] : argv, this.ctx);
    } catch (e) {
      if (e instanceof TemplateExecError) throw e;
      this.at(node);
      const msg = e instanceof GoError ? e.message : e instanceof RangeError ? `runtime error: ${e.message}` : String((e as Error)?.message ?? e);
      return this.errorf(`error calling ${name}: ${msg}`);
    }
  }

  private validateType(value: GoValue, typ: ParamType | null): GoValue {
    if (value === null) {
      if (typ === null || typ === 'any' || typ === 'value') return null;
      return this.errorf(`invalid value; expected ${paramTypeName(typ)}`);
    }
    if (typ === null || typ === 'value') return value;
    if (typ === 'any') return value === NIL_IFACE ? null : value;
    let ok: boolean;
    switch (typ) {
      case 'string':
        ok = typeof value === 'string';
        break;
      case 'int':
        ok = typeof value === 'bigint';
        break;
      case 'float64':
        ok = typeof value === 'number';
        break;
      case 'bool':
        ok = typeof value === 'boolean';
        break;
      case 'time':
        ok = value instanceof GoTime;
        break;
    }
    if (!ok) this.errorf(`wrong type for value; expected ${paramTypeName(typ)}; got ${typeName(value)}`);
    return value;
  }

  private evalArg(dot: GoValue, typ: ParamType | null, n: ArgNode): GoValue {
    this.at(n);
    switch (n.type) {
      case 'dot':
        return this.validateType(dot, typ);
      case 'nil':
        if (typ === 'any' || typ === 'value') return null;
        return this.errorf(`cannot assign nil to ${typ === null ? '<nil>' : paramTypeName(typ)}`);
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, null, MISSING), typ);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), typ);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, null, MISSING), typ);
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, [], MISSING), typ);
    }
    switch (typ) {
      case 'bool':
        if (n.type === 'bool') return n.value;
        return this.errorf(`expected bool; found ${nodeString(n)}`);
      case 'float64':
        if (n.type === 'number' && n.isFloat) return n.float64;
        return this.errorf(`expected float; found ${nodeString(n)}`);
      case 'int':
        if (n.type === 'number' && n.isInt) return n.int64;
        return this.errorf(`expected integer; found ${nodeString(n)}`);
      case 'string':
        if (n.type === 'string') return n.text;
        return this.errorf(`expected string; found ${nodeString(n)}`);
      case 'any':
      case 'value':
        if (n.type === 'bool') return n.value;
        if (n.type === 'number') return this.idealConstant(n);
        return n.text;
    }
    return this.errorf(`can't handle ${nodeString(n)} for arg of type ${typ === null ? '<nil>' : paramTypeName(typ)}`);
  }
}

const timeMethod = (params: ParamType[], call: (t: GoTime, args: GoValue[]) => GoValue): GoFunc => ({
  params,
  call: (args) => call(args[0] as GoTime, args.slice(1)),
});

/** The `time.Time` methods a template can call (`{{ __timestamp__.Unix }}`). */
const TIME_METHODS: Record<string, GoFunc> = {
  Unix: timeMethod([], (t) => new GoInt(BigInt(t.sec), 'int64')),
  UnixMilli: timeMethod([], (t) => new GoInt(t.unixNanos() / 1_000_000n, 'int64')),
  UnixMicro: timeMethod([], (t) => new GoInt(t.unixNanos() / 1_000n, 'int64')),
  UnixNano: timeMethod([], (t) => new GoInt(t.unixNanos(), 'int64')),
  Format: timeMethod(['string'], (t, [layout]) => formatTime(t, layout as string)),
  String: timeMethod([], (t) => t.toString()),
  UTC: timeMethod([], (t) => t.in(UTC)),
  Local: timeMethod([], (t) => t.in(UTC)),
  IsZero: timeMethod([], (t) => t.isZero()),
  Year: timeMethod([], (t) => BigInt(t.fields().year)),
  Day: timeMethod([], (t) => BigInt(t.fields().day)),
  Hour: timeMethod([], (t) => BigInt(t.fields().hour)),
  Minute: timeMethod([], (t) => BigInt(t.fields().min)),
  Second: timeMethod([], (t) => BigInt(t.fields().sec)),
  Nanosecond: timeMethod([], (t) => BigInt(t.nsec)),
  YearDay: timeMethod([], (t) => BigInt(t.fields().yday)),
};
