/**
 * GET|POST /loki/api/v1/detected_fields and /loki/api/v1/detected_field/{name}/values (Grafana
 * Logs Drilldown, Explore's field filters): the fields of the newest `line_limit` lines of a log
 * query, found in structured metadata (`parsers: null`) and by parsing each line as JSON, else as
 * logfmt (Loki's `pkg/querier/queryrange/detected_fields.go`).
 *
 * Where this differs from Loki, on purpose: cardinality is an exact distinct count (Loki: a
 * HyperLogLog estimate); the type is the first of int, float, boolean, duration, bytes that fits
 * every sampled value, else string (Loki keeps the type of whichever value it saw last); logfmt
 * pairs with an empty value are not fields (the `logfmt` stage drops them too); output is sorted
 * by field name.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { LogSelectorExpr } from '../../logql/ast.js';
import { compilePipeline, type Labels, type Pipeline } from '../../logql/index.js';
import { parseBytesValue, parseGoDuration } from '../../logql/pipeline/label-filter.js';
import { sanitizeKey } from '../../logql/pipeline/sanitize.js';
import type { ServerContext } from './context.js';
import { badRequest } from './errors.js';
import { parseBounds, requestParams } from './params.js';
import { parseQueryParam, runForRequest } from './query.js';

/** One entry of a sampled log query, with its labels by category. */
export interface SampledEntry {
  ts: bigint;
  line: string;
  streamLabels: Labels;
  structuredMetadata: Labels;
  /** Labels the query's own pipeline extracted (`__error__` included). */
  parsed: Labels;
}

/** Parses `query` as a log query (400 for a metric query or a parse error). */
export function logQueryParam(query: string): LogSelectorExpr {
  if (query.trim() === '') throw badRequest('parse error : syntax error: unexpected $end');
  const expr = parseQueryParam(query);
  if (expr.kind !== 'LogSelector') throw badRequest('only log queries are supported');
  return expr;
}

/**
 * The newest `limit` entries of a log query in [start, end), read through the engine like
 * query_range (backward), newest first over all streams.
 */
export async function sampleEntries(
  ctx: ServerContext,
  request: FastifyRequest,
  expr: LogSelectorExpr,
  start: bigint,
  end: bigint,
  limit: number,
): Promise<SampledEntry[]> {
  const run = await runForRequest(ctx, request, expr, { start, end, stepNs: 0n, instant: false, limit, direction: 'backward', intervalNs: 0n, categorizeLabels: true });
  if (run.result.type !== 'streams') throw new Error('a log query gave a metric result');
  const out: SampledEntry[] = [];
  for (const s of run.result.streams) {
    for (const e of s.entries) {
      out.push({ ts: e.ts, line: e.line, streamLabels: s.streamLabels, structuredMetadata: e.structuredMetadata, parsed: e.parsed });
    }
  }
  out.sort((a, b) => (a.ts > b.ts ? -1 : a.ts < b.ts ? 1 : 0));
  return out.length > limit ? out.slice(0, limit) : out;
}

function positiveInt(params: URLSearchParams, names: string[], fallback: number): number {
  for (const name of names) {
    const text = params.get(name);
    if (text === null || text === '') continue;
    if (!/^\+?\d+$/.test(text)) throw badRequest(`strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`);
    const n = Number(text);
    if (n <= 0) throw badRequest(`${name} must be a positive value`);
    return n;
  }
  return fallback;
}

// ---------------------------------------------------------------------------------------------
// Field types (Loki's determineType order: int, float, boolean, duration, bytes, string)

export type FieldType = 'int' | 'float' | 'boolean' | 'duration' | 'bytes' | 'string';
const TYPE_ORDER: readonly FieldType[] = ['int', 'float', 'boolean', 'duration', 'bytes'];
const INT64_MAX = 2n ** 63n - 1n;
const GO_FLOAT = /^[+-]?(?:(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan|0[xX][\da-fA-F_.]+(?:[pP][+-]?\d+)?)$/i;
const GO_BOOL = new Set(['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Bit set of the types a value parses as (Go's strconv / time.ParseDuration / humanize.ParseBytes). */
export function typesOf(value: string): number {
  let bits = 0;
  if (/^[+-]?\d+$/.test(value)) {
    const n = BigInt(value);
    if (n <= INT64_MAX && n >= -INT64_MAX - 1n) bits |= 1;
  }
  if (GO_FLOAT.test(value)) bits |= 2;
  if (GO_BOOL.has(value)) bits |= 4;
  try {
    parseGoDuration(value);
    bits |= 8;
  } catch {
    /* not a duration */
  }
  try {
    parseBytesValue(value);
    bits |= 16;
  } catch {
    /* not a byte size */
  }
  return bits;
}

export function typeFromBits(bits: number): FieldType {
  for (let i = 0; i < TYPE_ORDER.length; i++) if (bits & (1 << i)) return TYPE_ORDER[i]!;
  return 'string';
}

// ---------------------------------------------------------------------------------------------
// Parsing a line as Loki's detected-fields code does: JSON first, else logfmt.

interface LineFields {
  parser: 'json' | 'logfmt' | undefined;
  fields: Map<string, string>;
  /** json: the keys leading to each field. */
  paths: Map<string, string[]>;
}

class LineParser {
  private readonly json: Pipeline;
  private readonly logfmt: Pipeline;

  constructor() {
    this.json = compilePipeline([{ kind: 'JsonParser', params: [] }]);
    this.logfmt = compilePipeline([{ kind: 'LogfmtParser', strict: false, keepEmpty: false, params: [] }]);
  }

  parse(line: string): LineFields {
    const bytes = Buffer.from(line);
    const trimmed = line.trimStart();
    if (trimmed.startsWith('{')) {
      const fields = this.run(this.json, bytes);
      if (fields !== undefined) return { parser: 'json', fields, paths: jsonPaths(line) };
    }
    const fields = this.run(this.logfmt, bytes);
    if (fields !== undefined) return { parser: 'logfmt', fields, paths: new Map() };
    return { parser: undefined, fields: new Map(), paths: new Map() };
  }

  private run(pipeline: Pipeline, bytes: Uint8Array): Map<string, string> | undefined {
    if (pipeline.process(0n, bytes, [], []) === null) return undefined;
    const parsed = pipeline.categories().parsed;
    const fields = new Map<string, string>();
    for (const l of parsed) {
      if (l.name === '__error__') return undefined;
      if (l.name === '__error_details__' || l.name === '__preserve_error__') continue;
      fields.set(l.name, l.value);
    }
    return fields;
  }
}

/** Flattened json field name → the keys leading to it (nested objects; arrays are not fields). */
function jsonPaths(line: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return out;
  }
  const walk = (obj: Record<string, unknown>, prefix: string, path: string[]): void => {
    for (const [key, v] of Object.entries(obj)) {
      const name = prefix === '' ? sanitizeKey(key) : `${prefix}_${sanitizeKey(key)}`;
      const p = [...path, key];
      if (v !== null && typeof v === 'object') {
        if (!Array.isArray(v)) walk(v as Record<string, unknown>, name, p);
      } else if (!out.has(name)) out.set(name, p);
    }
  };
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) walk(value as Record<string, unknown>, '', []);
  return out;
}

// ---------------------------------------------------------------------------------------------

interface FieldStats {
  values: Set<string>;
  types: number;
  parsers: Set<string>;
  structured: boolean;
  jsonPath: string[] | undefined;
}

export interface DetectedField {
  label: string;
  type: FieldType;
  cardinality: number;
  parsers: string[] | null;
  jsonPath?: string[];
}

const SKIPPED = new Set(['__error__', '__error_details__', '__preserve_error__']);

/** The fields of `entries`, at most `fieldLimit` of them (the first found win, as in Loki). */
export function detectFields(entries: readonly SampledEntry[], fieldLimit: number): Map<string, FieldStats> {
  const parser = new LineParser();
  const fields = new Map<string, FieldStats>();
  const stat = (name: string): FieldStats | undefined => {
    let f = fields.get(name);
    if (f === undefined && fields.size < fieldLimit) {
      f = { values: new Set(), types: 31, parsers: new Set(), structured: false, jsonPath: undefined };
      fields.set(name, f);
    }
    return f;
  };
  const add = (f: FieldStats, value: string): void => {
    if (!f.values.has(value)) {
      f.values.add(value);
      f.types &= typesOf(value);
    }
  };
  for (const e of entries) {
    for (const l of e.structuredMetadata) {
      const f = stat(l.name);
      if (f === undefined) continue;
      f.structured = true;
      add(f, l.value);
    }
    const own = parser.parse(e.line);
    const names = new Map<string, string>(own.fields);
    for (const l of e.parsed) if (!SKIPPED.has(l.name) && !names.has(l.name)) names.set(l.name, l.value);
    for (const [name, value] of names) {
      if (SKIPPED.has(name)) continue;
      const f = stat(name);
      if (f === undefined) continue;
      if (own.parser !== undefined) f.parsers.add(own.parser);
      const path = own.paths.get(name);
      if (path !== undefined && f.jsonPath === undefined) f.jsonPath = path;
      add(f, value);
    }
  }
  return fields;
}

export function formatFields(fields: Map<string, FieldStats>): DetectedField[] {
  return [...fields.entries()]
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([label, f]) => {
      const parsers = f.parsers.size > 0 ? [...f.parsers].sort() : null;
      const out: DetectedField = { label, type: typeFromBits(f.types), cardinality: f.values.size, parsers };
      if (f.jsonPath !== undefined && f.parsers.has('json')) out.jsonPath = f.jsonPath;
      return out;
    });
}

export function detectedFieldsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const sample = async (request: FastifyRequest, params: URLSearchParams) => {
    const expr = logQueryParam(params.get('query') ?? '');
    const { start, end } = parseBounds(params);
    const lineLimit = positiveInt(params, ['line_limit'], 100);
    const maxEntries = ctx.config.limits_config.max_entries_limit_per_query;
    if (maxEntries > 0 && lineLimit > maxEntries) {
      throw badRequest(`max entries limit per query exceeded, limit > max_entries_limit_per_query (${lineLimit} > ${maxEntries})`);
    }
    return sampleEntries(ctx, request, expr, start, end + 1n, lineLimit);
  };

  const detected = async (request: FastifyRequest) => {
    const params = requestParams(request);
    const limit = positiveInt(params, ['limit', 'field_limit'], 1000);
    const entries = await sample(request, params);
    return { fields: formatFields(detectFields(entries, limit)), limit };
  };
  app.get('/loki/api/v1/detected_fields', detected);
  app.post('/loki/api/v1/detected_fields', detected);

  const values = async (request: FastifyRequest<{ Params: { name: string } }>) => {
    const name = request.params.name;
    const params = requestParams(request);
    const limit = positiveInt(params, ['limit'], 1000);
    const entries = await sample(request, params);
    const field = detectFields(entries, Infinity).get(name);
    const all = field === undefined ? [] : [...field.values].sort();
    return { values: all.slice(0, limit), limit };
  };
  const schema = { params: { type: 'object', properties: { name: { type: 'string', minLength: 1 } }, required: ['name'] } };
  app.get('/loki/api/v1/detected_field/:name/values', { schema }, values);
  app.post('/loki/api/v1/detected_field/:name/values', { schema }, values);
}
