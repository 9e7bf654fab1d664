import { describe, expect, it } from 'vitest';
import { entry, labels, pipelineFromYaml } from './helpers.js';

describe('labels, static_labels, labeldrop, labelallow', () => {
  it('labels: sets labels from extracted values, with rename (docs labels.md)', () => {
    const p = pipelineFromYaml(`
- json:
    expressions:
      stream: stream
      n: count
      nothing: missing
- labels:
    stream:
    count: n
    nothing:
    absent:
`);
    const out = p.process(entry('{"log":"log message\\n","stream":"stderr","count":3}', { job: 'a' }));
    expect(labels(out)).toEqual({ count: '3', job: 'a', stream: 'stderr' });
  });

  it('static_labels adds fixed labels (docs static_labels.md)', () => {
    const p = pipelineFromYaml(`
- static_labels:
    custom_label: value
    other: "1"
`);
    expect(labels(p.process(entry('x', { job: 'a', other: 'old' })))).toEqual({ custom_label: 'value', job: 'a', other: '1' });
  });

  it('labeldrop removes the named labels (docs labeldrop.md)', () => {
    const p = pipelineFromYaml(`
- labeldrop:
    - kubernetes_pod_name
    - kubernetes_container_name
`);
    const out = p.process(entry('x', { kubernetes_pod_name: 'p', kubernetes_container_name: 'c', app: 'loki' }));
    expect(labels(out)).toEqual({ app: 'loki' });
  });

  it('labelallow keeps only the named labels (docs labelallow.md)', () => {
    const p = pipelineFromYaml(`
- labelallow:
    - kubernetes_pod_name
    - kubernetes_container_name
`);
    const out = p.process(entry('x', { kubernetes_pod_name: 'p', kubernetes_container_name: 'c', app: 'loki', job: 'j' }));
    expect(labels(out)).toEqual({ kubernetes_container_name: 'c', kubernetes_pod_name: 'p' });
  });
});
