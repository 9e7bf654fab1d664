import { parse as parseYaml } from 'yaml';
import { agentConfigFromObject } from '../../../agent/config.js';
import { compileStages, makeEntry, type CompiledPipeline, type StageEntry } from '../../../agent/stages/pipeline.js';

/** Compiles `pipeline_stages` given as YAML (as in Promtail's docs), through the config checker. */
export function pipelineFromYaml(yaml: string): CompiledPipeline {
  const stages: unknown = parseYaml(yaml);
  const config = agentConfigFromObject({ clients: [{ url: 'http://localhost:3100/loki/api/v1/push' }], pipeline_stages: stages });
  return compileStages(config.pipeline_stages);
}

export function entry(line: string, labels: Record<string, string> = {}, timestamp = 0n): StageEntry {
  return makeEntry({ ...labels }, line, timestamp);
}

export function extracted(e: StageEntry | null): Record<string, unknown> {
  if (e === null) throw new Error('entry was dropped');
  return Object.fromEntries(e.extracted);
}

export function labels(e: StageEntry | null): Record<string, string> {
  if (e === null) throw new Error('entry was dropped');
  return Object.fromEntries([...e.labels].sort(([a], [b]) => (a < b ? -1 : 1)));
}
