import { describe, expect, it } from 'vitest';
import { formatRfc3339Nano } from '../../../agent/stages/cri.js';
import { makeEntry } from '../../../agent/stages/pipeline.js';
import { entry, extracted, labels, pipelineFromYaml } from './helpers.js';

const T = 1_546_304_400_000_000_001n; // 2019-01-01T01:00:00.000000001Z

describe('cri and docker stages', () => {
  it('cri: labels the stream and exposes the parsed fields (docs cri.md example)', () => {
    const p = pipelineFromYaml(`[{cri: {}}, {labels: {t: time, s: stream, f: flags, c: content}}]`);
    // The CRI joiner parsed `2019-01-01T01:00:00.000000001Z stderr P i'm a log message!`.
    const out = p.process(makeEntry({ job: 'a' }, "i'm a log message!", T, 'stderr'));
    expect(out?.line).toBe("i'm a log message!");
    expect(out?.timestamp).toBe(T);
    expect(labels(out)).toEqual({ c: "i'm a log message!", f: 'F', job: 'a', s: 'stderr', stream: 'stderr', t: '2019-01-01T01:00:00.000000001Z' });
    expect(extracted(out)).toEqual({ time: '2019-01-01T01:00:00.000000001Z', stream: 'stderr', flags: 'F', content: "i'm a log message!" });
    // Names no stage reads are not stored: the default pipeline (`- cri: {}`) extracts nothing.
    const plain = pipelineFromYaml(`[{cri: {}}]`).process(makeEntry({ job: 'a' }, 'x', T, 'stdout'));
    expect(labels(plain)).toEqual({ job: 'a', stream: 'stdout' });
    expect(extracted(plain)).toEqual({});
  });

  it('docker: labels the stream and exposes output/stream/timestamp (docs docker.md example)', () => {
    const p = pipelineFromYaml(`[{docker: {}}, {regex: {expression: "^(?P<word>\\\\w+)", source: output}}, {match: {selector: '{stream="stderr"}', stages: [{labels: {ts: timestamp, s: stream}}]}}]`);
    // The docker joiner parsed `{"log":"log message\n","stream":"stderr","time":"2019-04-30T02:12:41.8443515Z"}`.
    const ts = 1_556_590_361_844_351_500n;
    const out = p.process(makeEntry({}, 'log message', ts, 'stderr'));
    expect(labels(out)).toEqual({ s: 'stderr', stream: 'stderr', ts: '2019-04-30T02:12:41.8443515Z' });
    expect(extracted(out)).toEqual({ output: 'log message', stream: 'stderr', timestamp: '2019-04-30T02:12:41.8443515Z', word: 'log' });
  });

  it('lines no joiner parsed pass unchanged', () => {
    const p = pipelineFromYaml(`[{cri: {}}]`);
    const out = p.process(entry('raw line', { job: 'a' }, 5n));
    expect(labels(out)).toEqual({ job: 'a' });
    expect(out?.line).toBe('raw line');
    expect(extracted(out)).toEqual({});
  });

  it('formats RFC3339Nano as Go does', () => {
    expect(formatRfc3339Nano(0n)).toBe('1970-01-01T00:00:00Z');
    expect(formatRfc3339Nano(1_500_000_000n)).toBe('1970-01-01T00:00:01.5Z');
    expect(formatRfc3339Nano(-1n)).toBe('1969-12-31T23:59:59.999999999Z');
  });
});
