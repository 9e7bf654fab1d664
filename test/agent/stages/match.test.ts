import { describe, expect, it } from 'vitest';
import { AgentConfigError } from '../../../agent/config.js';
import { compileStages } from '../../../agent/stages/pipeline.js';
import { entry, extracted, labels, pipelineFromYaml } from './helpers.js';

const DOCS_PIPELINE = `
- json:
    expressions:
      app:
- labels:
    app:
- match:
    selector: '{app="loki"}'
    stages:
    - json:
        expressions:
          msg: message
- match:
    pipeline_name: "app2"
    selector: '{app="pokey"}'
    action: keep
    stages:
    - json:
        expressions:
          msg: msg
- match:
    selector: '{app="promtail"} |~ ".*noisy error.*"'
    action: drop
    drop_counter_reason: promtail_noisy_error
- output:
    source: msg
`;

describe('match stage', () => {
  it('runs nested stages and drops by selector with line filter (docs match.md example)', () => {
    const p = pipelineFromYaml(DOCS_PIPELINE);
    const first = p.process(entry('{ "time":"2012-11-01T22:08:41+00:00", "app":"loki", "component": ["parser","type"], "level" : "WARN", "message" : "app1 log line" }'));
    expect(first?.line).toBe('app1 log line');
    expect(labels(first)).toEqual({ app: 'loki' });
    expect(extracted(first)).toEqual({ app: 'loki', msg: 'app1 log line' });
    const second = p.process(entry('{ "time":"2012-11-01T22:08:41+00:00", "app":"promtail", "component": ["parser","type"], "level" : "ERROR", "message" : "foo noisy error" }'));
    expect(second).toBeNull();
    expect(Object.fromEntries(p.dropped)).toEqual({ promtail_noisy_error: 1 });
    // promtail without the noisy error passes; its msg was never extracted, so the line stays.
    const quiet = '{ "app":"promtail", "message" : "fine" }';
    expect(p.process(entry(quiet))?.line).toBe(quiet);
    // pokey's nested stage reads `msg`.
    expect(p.process(entry('{ "app":"pokey", "msg" : "pokey line" }'))?.line).toBe('pokey line');
  });

  it('a drop inside the nested stages drops the entry, counted by its reason', () => {
    const p = pipelineFromYaml(`
- match:
    selector: '{namespace=~"kube-.*", container!="keep"}'
    stages:
    - drop:
        expression: healthz
        drop_counter_reason: health
    - static_labels:
        matched: "yes"
- static_labels:
    after: "1"
`);
    expect(p.process(entry('GET /healthz', { namespace: 'kube-system', container: 'x' }))).toBeNull();
    expect(labels(p.process(entry('GET /api', { namespace: 'kube-system', container: 'x' })))).toEqual({ after: '1', container: 'x', matched: 'yes', namespace: 'kube-system' });
    // A missing label is "": `container!="keep"` holds, `namespace=~"kube-.*"` does not.
    expect(labels(p.process(entry('GET /healthz', { container: 'x' })))).toEqual({ after: '1', container: 'x' });
    expect(labels(p.process(entry('GET /healthz', { namespace: 'kube-system', container: 'keep' })))).toEqual({ after: '1', container: 'keep', namespace: 'kube-system' });
    expect(Object.fromEntries(p.dropped)).toEqual({ health: 1 });
  });

  it('action drop counts match_stage by default; onDrop sees every drop', () => {
    const seen: string[] = [];
    const p = compileStages([{ match: { selector: '{app="a"}', action: 'drop', drop_counter_reason: 'match_stage', stages: [] } }], { onDrop: (r) => seen.push(r) });
    expect(p.process(entry('x', { app: 'a' }))).toBeNull();
    expect(p.process(entry('x', { app: 'b' }))).not.toBeNull();
    expect(seen).toEqual(['match_stage']);
  });

  it('rejects selectors with parsers or label filters', () => {
    expect(() => pipelineFromYaml(`[{match: {selector: '{app="a"} | json', action: drop}}]`)).toThrow(AgentConfigError);
    expect(() => pipelineFromYaml(`[{match: {selector: 'app="a"', action: drop}}]`)).toThrow(/selector/);
  });
});
