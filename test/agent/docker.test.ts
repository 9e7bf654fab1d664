import { describe, expect, it } from 'vitest';
import type { FormatError } from '../../agent/cri.js';
import { DockerJoiner, parseDockerLine } from '../../agent/docker.js';
import type { LogRecord } from '../../agent/partial.js';
import { parseRfc3339Nano } from '../../agent/timestamp.js';

function dockerLine(log: string, stream = 'stdout', time = '2019-04-30T02:12:41.8443515Z'): string {
  return JSON.stringify({ log, stream, time });
}

function feed(joiner: DockerJoiner, lines: string[], now = 0): { out: LogRecord[]; errors: FormatError[] } {
  const out: LogRecord[] = [];
  const errors: FormatError[] = [];
  let offset = 0;
  for (const line of lines) {
    const end = offset + Buffer.byteLength(line) + 1;
    const error = joiner.add(line, offset, end, now, out);
    if (error !== undefined) errors.push(error);
    offset = end;
  }
  return { out, errors };
}

describe('parseDockerLine', () => {
  it("reads the json-file sample from Promtail's docs and removes the trailing newline", () => {
    expect(parseDockerLine('{"log":"log message\\n","stream":"stderr","time":"2019-04-30T02:12:41.8443515Z"}')).toEqual({
      timestamp: parseRfc3339Nano('2019-04-30T02:12:41.8443515Z'),
      stream: 'stderr',
      partial: false,
      content: 'log message',
    });
  });

  it('marks a chunk without a trailing newline as partial', () => {
    expect(parseDockerLine(dockerLine('abc'))).toMatchObject({ partial: true, content: 'abc' });
    expect(parseDockerLine(dockerLine(''))).toMatchObject({ partial: true, content: '' });
    expect(parseDockerLine(dockerLine('\n'))).toMatchObject({ partial: false, content: '' });
  });

  it('keeps escapes, inner newlines and attrs-bearing lines', () => {
    const line = JSON.stringify({ log: 'a "q"\tb\nc\n', stream: 'stdout', attrs: { tag: 'x' }, time: '2024-01-01T00:00:00Z' });
    expect(parseDockerLine(line)).toMatchObject({ content: 'a "q"\tb\nc', partial: false });
  });

  it('reports malformed lines instead of throwing', () => {
    const bad = [
      '',
      '{',
      '[1,2]',
      '{"log":1,"stream":"stdout","time":"2024-01-01T00:00:00Z"}',
      '{"log":"x\\n","stream":"stdin","time":"2024-01-01T00:00:00Z"}',
      '{"log":"x\\n","stream":"stdout"}',
      '{"log":"x\\n","stream":"stdout","time":"yesterday"}',
      '2024-05-06T07:08:09Z stdout F x',
    ];
    for (const line of bad) {
      const parsed = parseDockerLine(line);
      expect(parsed, line).toHaveProperty('error');
      expect((parsed as FormatError).error, line).toMatch(/^docker: /);
    }
  });
});

describe('DockerJoiner', () => {
  it('joins the 16 KiB chunks dockerd splits a long line into', () => {
    const line = 'x'.repeat(40_000) + 'END';
    const chunkSize = 16 * 1024;
    const raw: string[] = [];
    for (let at = 0; at < line.length; at += chunkSize) {
      const chunk = line.slice(at, at + chunkSize);
      raw.push(dockerLine(at + chunkSize >= line.length ? `${chunk}\n` : chunk));
    }
    raw.push(dockerLine('short\n'));
    expect(raw).toHaveLength(4);
    const { out, errors } = feed(new DockerJoiner(), raw);
    expect(errors).toEqual([]);
    expect(out.map((r) => r.line.length)).toEqual([40_003, 5]);
    expect(out[0]!.line).toBe(line);
    expect(out[0]!.parts).toBe(3);
    expect(out[1]!.line).toBe('short');
  });

  it('joins per stream', () => {
    const { out } = feed(new DockerJoiner(), [
      dockerLine('out-a', 'stdout'),
      dockerLine('err\n', 'stderr'),
      dockerLine('out-b\n', 'stdout'),
    ]);
    expect(out.map((r) => [r.stream, r.line])).toEqual([
      ['stderr', 'err'],
      ['stdout', 'out-aout-b'],
    ]);
  });

  it('is bounded by size and parts like the CRI joiner', () => {
    const { out } = feed(new DockerJoiner({ maxLineBytes: 6 }), [dockerLine('abcd'), dockerLine('efgh'), dockerLine('ij\n')]);
    expect(out.map((r) => [r.line, r.cut])).toEqual([
      ['abcd', 'size'],
      ['efghij', undefined],
    ]);
    const parts = feed(new DockerJoiner({ maxParts: 2 }), [dockerLine('a'), dockerLine('b'), dockerLine('c\n')]).out;
    expect(parts.map((r) => [r.line, r.cut])).toEqual([
      ['ab', 'parts'],
      ['c', undefined],
    ]);
  });

  it('flushes a last chunk without newline after the timeout (container exited mid-line)', () => {
    const joiner = new DockerJoiner({ maxWaitMs: 2000 });
    const out: LogRecord[] = [];
    joiner.add(dockerLine('no newline at exit'), 0, 10, 1000, out);
    joiner.flushExpired(2999, out);
    expect(out).toHaveLength(0);
    joiner.flushExpired(3000, out);
    expect(out.map((r) => [r.line, r.cut])).toEqual([['no newline at exit', 'timeout']]);
  });

  it('returns malformed lines as errors', () => {
    const { out, errors } = feed(new DockerJoiner(), ['{"log":', dockerLine('ok\n')]);
    expect(errors.map((e) => e.line)).toEqual(['{"log":']);
    expect(out.map((r) => r.line)).toEqual(['ok']);
  });
});
