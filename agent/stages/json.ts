/**
 * `json`: parses the line (or the extracted value `source`) as a JSON object and stores the
 * result of each JMESPath expression in the extracted map (Promtail `stages/json.go`).
 *
 * JMESPath subset: field paths and indexes, e.g. `level`, `user.name`, `"user-agent"`,
 * `"a.b".c`, `items[0].id`, `items[-1]`, `matrix[0][1]`. Anything else (projections, filters,
 * functions, pipes, multiselects) is rejected when the pipeline is compiled.
 *
 * As Promtail: strings, numbers and booleans are stored as they are; a missing field stores
 * null (the name is then present, so `drop` with `source` alone sees it); objects and arrays are
 * stored as their JSON text (Go's encoder, so `<`, `>` and `&` are `\u003c` …). A line that is
 * not a JSON object is left alone, or dropped when `drop_malformed` (counted as
 * `json_malformed`; Promtail drops without counting). A missing or null source changes nothing.
 */
import type { JsonStageConfig } from '../config.js';
import { StageConfigError, stageInput, type DropCounter, type ExtractedValue, type Stage, type StageEntry } from './types.js';

/** One step of a path: a field name or an array index. */
type Step = string | number;

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;

/** Compiles the supported JMESPath subset into steps; throws StageConfigError otherwise. */
export function compileJmesPath(expression: string): Step[] {
  const steps: Step[] = [];
  let at = 0;
  const bad = (why: string): never => {
    throw new StageConfigError(`unsupported JMESPath expression ${JSON.stringify(expression)} at ${at}: ${why} (supported: fields, "quoted" fields, [index])`);
  };
  const field = (): void => {
    const c = expression[at];
    if (c === '"') {
      let end = at + 1;
      while (end < expression.length && expression[end] !== '"') end += expression[end] === '\\' ? 2 : 1;
      if (end >= expression.length) bad('unterminated quoted identifier');
      try {
        steps.push(JSON.parse(expression.slice(at, end + 1)) as string);
      } catch {
        bad('invalid quoted identifier');
      }
      at = end + 1;
    } else if (c !== undefined && IDENT_START.test(c)) {
      const start = at;
      while (at < expression.length && IDENT_PART.test(expression[at]!)) at++;
      steps.push(expression.slice(start, at));
    } else {
      bad('expected a field name');
    }
  };
  field();
  while (at < expression.length) {
    const c = expression[at];
    if (c === '.') {
      at++;
      field();
    } else if (c === '[') {
      const close = expression.indexOf(']', at);
      const text = close < 0 ? '' : expression.slice(at + 1, close);
      if (!/^-?[0-9]+$/.test(text)) bad('expected [number]');
      steps.push(Number(text));
      at = close + 1;
    } else {
      bad(`unexpected ${JSON.stringify(c)}`);
    }
  }
  return steps;
}

function search(data: unknown, steps: readonly Step[]): unknown {
  let value = data;
  for (const step of steps) {
    if (typeof step === 'string') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
      value = Object.prototype.hasOwnProperty.call(value, step) ? (value as Record<string, unknown>)[step] : null;
    } else {
      if (!Array.isArray(value)) return null;
      const i = step < 0 ? value.length + step : step;
      value = i >= 0 && i < value.length ? value[i] : null;
    }
    if (value === undefined) return null;
  }
  return value;
}

/** Go's json encoder escapes HTML characters. */
function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

export class JsonStage implements Stage {
  private readonly names: string[];
  private readonly paths: Step[][];
  private readonly source: string | undefined;
  private readonly dropMalformed: boolean;

  constructor(
    config: JsonStageConfig,
    private readonly countDrop: DropCounter,
  ) {
    this.names = Object.keys(config.expressions);
    this.paths = this.names.map((name) => compileJmesPath(config.expressions[name] || name));
    this.source = config.source;
    this.dropMalformed = config.drop_malformed;
  }

  process(entry: StageEntry): StageEntry | null {
    const input = stageInput(entry, this.source);
    if (input === undefined) return entry;
    let data: unknown;
    try {
      data = JSON.parse(input);
    } catch {
      data = undefined;
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      if (!this.dropMalformed) return entry;
      this.countDrop('json_malformed');
      return null;
    }
    const { names, paths } = this;
    for (let i = 0; i < names.length; i++) {
      const result = search(data, paths[i]!);
      let value: ExtractedValue;
      if (result === null || typeof result === 'string' || typeof result === 'number' || typeof result === 'boolean') value = result;
      else value = goJson(result);
      entry.extracted.set(names[i]!, value);
    }
    return entry;
  }
}
