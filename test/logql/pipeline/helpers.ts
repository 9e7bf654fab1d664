import { parse } from '../../../logql/index.js';
import type { LogSelectorExpr } from '../../../logql/index.js';
import { compilePipeline, type Labels, type Pipeline } from '../../../logql/pipeline/index.js';

export function stagesOf(query: string): LogSelectorExpr['stages'] {
  const e = parse(query);
  if (e.kind !== 'LogSelector') throw new Error(`${query} is not a log query`);
  return e.stages;
}

/** Compiles the pipeline of `{app="a"} <pipeline>`. */
export function compile(pipeline: string): Pipeline {
  return compilePipeline(stagesOf(`{app="a"} ${pipeline}`));
}

export const toLabels = (o: Record<string, string>): Labels => Object.entries(o).map(([name, value]) => ({ name, value }));

export interface Out {
  line: string;
  labels: Record<string, string>;
  key: string;
}

/** Runs one line through `{app="a"} <pipeline>`; null when dropped. Stream labels default to {app="a"}. */
export function run(
  pipeline: string,
  line: string,
  stream: Record<string, string> = { app: 'a' },
  metadata: Record<string, string> = {},
): Out | null {
  const r = compile(pipeline).process(0n, Buffer.from(line), toLabels(stream), toLabels(metadata));
  if (r === null) return null;
  return {
    line: Buffer.from(r.line).toString('utf8'),
    labels: Object.fromEntries(r.labels.map((l) => [l.name, l.value])),
    key: r.key,
  };
}

/** The labels after the pipeline, without the stream label `app`. */
export function parsed(pipeline: string, line: string, metadata: Record<string, string> = {}): Record<string, string> | null {
  const r = run(pipeline, line, { app: 'a' }, metadata);
  if (r === null) return null;
  const { app: _app, ...rest } = r.labels;
  return rest;
}

export const keeps = (pipeline: string, line: string): boolean => run(pipeline, line) !== null;
