import { describe, expect, it } from 'vitest';
import { CriJoiner, criFullLine, parseCriFullLine, parseCriLine, type FormatError } from '../../agent/cri.js';
import type { LogRecord } from '../../agent/partial.js';
import { parseRfc3339Nano, parsedTime } from '../../agent/timestamp.js';

function ts(text: string): bigint {
  const value = parseRfc3339Nano(text);
  if (value === undefined) throw new Error(text);
  return value;
}

/** Feeds raw lines as a file would hold them (offsets in bytes, each line with its `\n`). */
function feed(joiner: CriJoiner, lines: string[], now = 0): { out: LogRecord[]; errors: FormatError[] } {
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

describe('parseCriLine', () => {
  it('reads a containerd line', () => {
    expect(parseCriLine('2024-05-06T07:08:09.123456789Z stdout F hello world')).toEqual({
      timestamp: ts('2024-05-06T07:08:09.123456789Z'),
      stream: 'stdout',
      partial: false,
      content: 'hello world',
    });
  });

  it('reads a CRI-O line with a local offset and a partial tag', () => {
    const parsed = parseCriLine('1997-03-25T13:20:42.999999999+01:00 stderr P part one ');
    expect(parsed).toEqual({ timestamp: ts('1997-03-25T12:20:42.999999999Z'), stream: 'stderr', partial: true, content: 'part one ' });
  });

  it('keeps spaces, tabs and further separators in the content', () => {
    expect(parseCriLine('2024-05-06T07:08:09Z stdout F  a  b\tc stdout F x')).toMatchObject({ content: ' a  b\tc stdout F x' });
  });

  it('reads an empty line with or without the space before the content', () => {
    expect(parseCriLine('2024-05-06T07:08:09.1Z stdout F ')).toMatchObject({ content: '', partial: false });
    expect(parseCriLine('2024-05-06T07:08:09.1Z stdout F')).toMatchObject({ content: '', partial: false });
  });

  it('uses the first of several `:`-separated tags', () => {
    expect(parseCriLine('2024-05-06T07:08:09Z stdout P:x:y abc')).toMatchObject({ partial: true, content: 'abc' });
    expect(parseCriLine('2024-05-06T07:08:09Z stdout F:future abc')).toMatchObject({ partial: false, content: 'abc' });
  });

  it('reports malformed lines instead of throwing', () => {
    const bad = [
      '',
      'garbage',
      'notatime stdout F x',
      '2024-05-06T07:08:09Z stdin F x',
      '2024-05-06T07:08:09Z stdout X x',
      '2024-05-06T07:08:09Z stdout PF x',
      '2024-05-06T07:08:09Z stdout  x',
      '2024-05-06T07:08:09Z stdout',
      '{"log":"x\\n","stream":"stdout","time":"2024-05-06T07:08:09Z"}',
    ];
    for (const line of bad) {
      const parsed = parseCriLine(line);
      expect(parsed, line).toHaveProperty('error');
      expect((parsed as FormatError).line).toBe(line);
    }
  });
});

describe('CriJoiner', () => {
  it('passes full lines through with their offsets', () => {
    const { out, errors } = feed(new CriJoiner(), [
      '2024-05-06T07:08:09.1Z stdout F one',
      '2024-05-06T07:08:09.2Z stderr F two',
    ]);
    expect(errors).toEqual([]);
    expect(out.map((r) => [r.stream, r.line, r.start, r.end, r.parts, r.cut])).toEqual([
      ['stdout', 'one', 0, 36, 1, undefined],
      ['stderr', 'two', 36, 72, 1, undefined],
    ]);
  });

  it('joins P parts with the following F, per stream, without separators', () => {
    const joiner = new CriJoiner();
    const { out } = feed(joiner, [
      '2024-05-06T07:08:09.1Z stdout P Hel',
      '2024-05-06T07:08:09.2Z stderr F err line',
      '2024-05-06T07:08:09.3Z stdout P lo, ',
      '2024-05-06T07:08:09.4Z stdout F world',
      '2024-05-06T07:08:09.5Z stdout F next',
    ]);
    expect(out.map((r) => [r.stream, r.line])).toEqual([
      ['stderr', 'err line'],
      ['stdout', 'Hello, world'],
      ['stdout', 'next'],
    ]);
    const joined = out[1]!;
    expect(joined.parts).toBe(3);
    expect(joined.start).toBe(0);
    expect(joined.cut).toBeUndefined();
    // Promtail keeps the timestamp of the final part.
    expect(joined.timestamp).toBe(ts('2024-05-06T07:08:09.4Z'));
    expect(joiner.pendingStreams).toBe(0);
  });

  it('joins a 100 KB line that containerd cut into 16 KiB parts', () => {
    const line = Array.from({ length: 100_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const raw: string[] = [];
    for (let at = 0; at < line.length; at += 16 * 1024) {
      const chunk = line.slice(at, at + 16 * 1024);
      raw.push(`2024-05-06T07:08:09.${String(at).padStart(6, '0')}Z stdout ${at + 16 * 1024 >= line.length ? 'F' : 'P'} ${chunk}`);
    }
    expect(raw.length).toBe(7);
    const { out } = feed(new CriJoiner(), raw);
    expect(out).toHaveLength(1);
    expect(out[0]!.line).toBe(line);
    expect(out[0]!.parts).toBe(7);
  });

  it('reports where a resume would lose nothing while a partial is pending', () => {
    const joiner = new CriJoiner();
    const { out } = feed(joiner, [
      '2024-05-06T07:08:09.1Z stdout F a',
      '2024-05-06T07:08:09.2Z stdout P b',
      '2024-05-06T07:08:09.3Z stderr F c',
    ]);
    expect(out.map((r) => r.line)).toEqual(['a', 'c']);
    expect(joiner.oldestPendingStart()).toBe(34);
  });

  it('splits a joined line at max_partial_line_size by default, losing nothing', () => {
    const joiner = new CriJoiner({ maxLineBytes: 10 });
    const { out } = feed(joiner, [
      '2024-05-06T07:08:09.1Z stdout P 12345',
      '2024-05-06T07:08:09.2Z stdout P 6789',
      '2024-05-06T07:08:09.3Z stdout P abcd',
      '2024-05-06T07:08:09.4Z stdout F ef',
    ]);
    expect(out.map((r) => [r.line, r.cut])).toEqual([
      ['123456789', 'size'],
      ['abcdef', undefined],
    ]);
    expect(out.map((r) => r.line).join('')).toBe('123456789abcdef');
  });

  it('emits a part that fills the bound at once', () => {
    const { out } = feed(new CriJoiner({ maxLineBytes: 4 }), [
      '2024-05-06T07:08:09.1Z stdout P 123456',
      '2024-05-06T07:08:09.2Z stdout F 7',
    ]);
    expect(out.map((r) => [r.line, r.cut])).toEqual([
      ['123456', 'size'],
      ['7', undefined],
    ]);
  });

  it('truncates at max_partial_line_size with max_partial_line_size_truncate, dropping the rest until F', () => {
    const joiner = new CriJoiner({ maxLineBytes: 8, truncate: true });
    const { out } = feed(joiner, [
      '2024-05-06T07:08:09.1Z stdout P 12345',
      '2024-05-06T07:08:09.2Z stdout P 6789',
      '2024-05-06T07:08:09.3Z stdout P xyz',
      '2024-05-06T07:08:09.4Z stdout F end',
      '2024-05-06T07:08:09.5Z stdout F after',
    ]);
    expect(out.map((r) => [r.line, r.truncated, r.parts])).toEqual([
      ['12345678', true, 4],
      ['after', false, 1],
    ]);
  });

  it('measures the bound in UTF-8 bytes and never cuts a character', () => {
    const { out } = feed(new CriJoiner({ maxLineBytes: 7, truncate: true }), [
      '2024-05-06T07:08:09.1Z stdout P ééé',
      '2024-05-06T07:08:09.2Z stdout F éé',
    ]);
    // 'ééé' is 6 bytes; one more 'é' would make 8 > 7, so it is dropped whole.
    expect(out.map((r) => [r.line, r.truncated])).toEqual([['ééé', true]]);
  });

  it('emits after max_partial_lines parts', () => {
    const { out } = feed(new CriJoiner({ maxParts: 3 }), [
      '2024-05-06T07:08:09.1Z stdout P a',
      '2024-05-06T07:08:09.2Z stdout P b',
      '2024-05-06T07:08:09.3Z stdout P c',
      '2024-05-06T07:08:09.4Z stdout P d',
      '2024-05-06T07:08:09.5Z stdout F e',
    ]);
    expect(out.map((r) => [r.line, r.cut])).toEqual([
      ['abc', 'parts'],
      ['de', undefined],
    ]);
  });

  it('flushes a partial whose final part never comes after the idle timeout', () => {
    const joiner = new CriJoiner({ maxWaitMs: 1000 });
    const out: LogRecord[] = [];
    joiner.add('2024-05-06T07:08:09.1Z stdout P never ', 0, 36, 10_000, out);
    joiner.add('2024-05-06T07:08:09.2Z stdout P finished', 36, 76, 10_500, out);
    expect(joiner.nextDeadline()).toBe(11_500);
    joiner.flushExpired(11_499, out);
    expect(out).toEqual([]);
    joiner.flushExpired(11_500, out);
    expect(out.map((r) => [r.line, r.cut, r.start, r.end])).toEqual([['never finished', 'timeout', 0, 76]]);
    expect(joiner.pendingStreams).toBe(0);
    expect(joiner.nextDeadline()).toBeUndefined();
    // A late final part is then a line of its own.
    joiner.add('2024-05-06T07:08:09.3Z stdout F late', 76, 110, 20_000, out);
    expect(out.map((r) => r.line)).toEqual(['never finished', 'late']);
  });

  it('flushes everything pending, oldest first, when the log is finished', () => {
    const joiner = new CriJoiner();
    const out: LogRecord[] = [];
    joiner.add('2024-05-06T07:08:09.1Z stderr P first', 0, 10, 0, out);
    joiner.add('2024-05-06T07:08:09.2Z stdout P second', 10, 20, 0, out);
    joiner.finish(out);
    expect(out.map((r) => [r.stream, r.line, r.cut])).toEqual([
      ['stderr', 'first', 'end'],
      ['stdout', 'second', 'end'],
    ]);
  });

  it('returns malformed lines as errors and goes on', () => {
    const { out, errors } = feed(new CriJoiner(), [
      '2024-05-06T07:08:09.1Z stdout P a',
      'this is not CRI',
      '2024-05-06T07:08:09.3Z stdout F b',
    ]);
    expect(errors.map((e) => e.line)).toEqual(['this is not CRI']);
    expect(errors[0]!.error).toMatch(/cri/);
    expect(out.map((r) => r.line)).toEqual(['ab']);
  });
});

describe('parseCriFullLine (the bytes fast path)', () => {
  /** What the fast path reads, as parseCriLine's shape; undefined when it declines. */
  function fast(line: string): { timestamp: bigint; stream: string; partial: false; content: string } | undefined {
    const bytes = Buffer.from(`xx${line}yy`); // an offset slice of a larger buffer
    if (!parseCriFullLine(bytes, 2, bytes.length - 2)) return undefined;
    return {
      timestamp: BigInt(parsedTime.seconds) * 1_000_000_000n + BigInt(parsedTime.nanos),
      stream: criFullLine.stream,
      partial: false,
      content: bytes.toString('utf8', criFullLine.contentStart, bytes.length - 2),
    };
  }

  it('reads whole lines exactly as parseCriLine does', () => {
    for (const line of [
      '2024-05-06T07:08:09.123456789Z stdout F hello world',
      '2024-05-06T07:08:09Z stderr F  two  spaces ',
      '2024-05-06T07:08:09.5Z stdout F',
      '2024-05-06T07:08:09.5Z stdout F ',
      '1969-12-31T23:59:59.999999999Z stdout F before the epoch',
      '2024-02-29T23:59:59.000000001Z stdout F leap day é ✓',
    ]) {
      expect(fast(line), line).toEqual(parseCriLine(line));
    }
  });

  it('declines everything else, leaving it to parseCriLine', () => {
    for (const line of [
      '2024-05-06T07:08:09.123Z stdout P partial',
      '2024-05-06T07:08:09.123Z stdout F:x tagged',
      '2024-05-06T07:08:09.123Z stdout FX bad tag',
      '2024-05-06T07:08:09.123+01:00 stdout F offset',
      '2024-05-06t07:08:09.123z stdout F lower case',
      '2024-02-30T07:08:09Z stdout F no such day',
      '2024-05-06T07:08:09.1234567891Z stdout F ten digits',
      '2024-05-06T07:08:09.Z stdout F no digits',
      '2024-05-06T07:08:09Z stdin F other stream',
      '2024-05-06T07:08:09Z stdout',
      'hello world',
      '',
    ]) {
      expect(fast(line), line).toBeUndefined();
    }
  });
});
