import { describe, expect, it } from 'vitest';
import { LabelsBuilder, labelsKey } from '../../../logql/pipeline/index.js';
import { toLabels } from './helpers.js';

describe('LabelsBuilder', () => {
  const stream = toLabels({ job: 'x', app: 'a' });

  it('returns the sorted stream labels and a cached key when nothing changed', () => {
    const b = new LabelsBuilder();
    b.reset(stream, []);
    const first = b.labels();
    expect(first).toEqual(toLabels({ app: 'a', job: 'x' }));
    expect(b.key()).toBe('{app="a", job="x"}');
    b.reset(stream, []);
    expect(b.labels()).toBe(first);
  });

  it('renames structured metadata that clashes with a stream label', () => {
    const b = new LabelsBuilder();
    b.reset(stream, toLabels({ app: 'sm', trace: 't' }));
    expect(b.get('app')).toBe('a');
    expect(b.get('app_extracted')).toBe('sm');
    expect(b.get('trace')).toBe('t');
  });

  it('renames parsed labels that clash with stream labels or structured metadata', () => {
    const b = new LabelsBuilder();
    b.reset(stream, toLabels({ trace: 't' }));
    b.setParsedIfAbsent('app', 'p');
    b.setParsedIfAbsent('trace', 'p2');
    b.setParsedIfAbsent('level', 'info');
    expect(b.labels()).toEqual(
      toLabels({ app: 'a', app_extracted: 'p', job: 'x', level: 'info', trace: 't', trace_extracted: 'p2' }),
    );
  });

  it('keeps the first parsed value with setParsedIfAbsent and overwrites with set', () => {
    const b = new LabelsBuilder();
    b.reset(stream, []);
    expect(b.setParsedIfAbsent('k', '1')).toBe(true);
    expect(b.setParsedIfAbsent('k', '2')).toBe(false);
    expect(b.get('k')).toBe('1');
    b.set('parsed', 'k', '3');
    expect(b.get('k')).toBe('3');
  });

  it('deletes from every category, and stream deletions last one line only', () => {
    const b = new LabelsBuilder();
    b.reset(stream, toLabels({ sm: 'v' }));
    b.set('parsed', 'p', 'v');
    b.delete('job');
    b.delete('sm');
    b.delete('p');
    expect(b.labels()).toEqual(toLabels({ app: 'a' }));
    expect(b.key()).toBe('{app="a"}');
    b.reset(stream, []);
    expect(b.labels()).toEqual(toLabels({ app: 'a', job: 'x' }));
    // The base still has the deleted label, so a parsed one is still renamed (as in Loki).
    b.delete('job');
    b.setParsedIfAbsent('job', 'p');
    expect(b.labels()).toEqual(toLabels({ app: 'a', job_extracted: 'p' }));
  });

  it('handles __error__ and __error_details__', () => {
    const b = new LabelsBuilder();
    b.reset(stream, []);
    expect(b.hasError()).toBe(false);
    expect(b.get('__error__')).toBeUndefined();
    b.setError('JSONParserErr', 'bad');
    expect(b.get('__error__')).toBe('JSONParserErr');
    expect(b.get('__error_details__')).toBe('bad');
    expect(b.key()).toBe('{__error__="JSONParserErr", __error_details__="bad", app="a", job="x"}');
    b.delete('__error_details__');
    expect(b.labels()).toEqual(toLabels({ __error__: 'JSONParserErr', app: 'a', job: 'x' }));
    b.reset(stream, []);
    expect(b.hasError()).toBe(false);
  });

  it('decodes the line once and re-decodes a different line', () => {
    const b = new LabelsBuilder();
    b.reset(stream, []);
    const l1 = Buffer.from('héllo');
    expect(b.lineText(l1)).toBe('héllo');
    expect(b.lineText(l1)).toBe('héllo');
    expect(b.lineText(Buffer.from('x'))).toBe('x');
  });

  it('labelsKey quotes values', () => {
    expect(labelsKey(toLabels({ a: 'x"y', b: '' }))).toBe('{a="x\\"y", b=""}');
  });
});

describe('labelsKey', () => {
  it('quotes only what needs quoting, like JSON', () => {
    expect(labelsKey(toLabels({ a: 'plain é', b: 'x\ny', c: '😀', d: 'q"\\' }))).toBe(
      '{a="plain é", b="x\\ny", c="😀", d="q\\"\\\\"}',
    );
  });
});
