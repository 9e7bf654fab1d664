import { describe, expect, it } from 'vitest';
import { buildTrigramFilter, filterMayContain } from '../../server/store/filter.js';
import { seededRandom } from '../helpers/random.js';

const bytes = (s: string) => Buffer.from(s);

describe('block trigram filters', () => {
  it('never rule out a substring of the block (no false negatives)', () => {
    const random = seededRandom(42);
    const words = ['error', 'timeout', 'user', 'GET', '/api/v1', 'ünïcödé', '日本語', '200', '503', 'trace_id='];
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) {
      let line = '';
      const n = 3 + Math.floor(random() * 10);
      for (let w = 0; w < n; w++) line += words[Math.floor(random() * words.length)]! + (random() < 0.5 ? ' ' : Math.floor(random() * 1e6).toString(16));
      lines.push(line);
    }
    const raw = bytes(lines.join('\n'));
    const filter = buildTrigramFilter(raw);
    // One bit per 4 raw bytes, rounded up to a power of two.
    expect(filter.length).toBe(2 ** Math.ceil(Math.log2(raw.length / 32)));
    for (let i = 0; i < 3000; i++) {
      const line = Buffer.from(lines[Math.floor(random() * lines.length)]!);
      const from = Math.floor(random() * line.length);
      const to = Math.min(line.length, from + 1 + Math.floor(random() * 20));
      expect(filterMayContain(filter, line.subarray(from, to))).toBe(true);
    }
  });

  it('rule out needles the block does not contain', () => {
    const filter = buildTrigramFilter(bytes('level=info msg="request completed" status=200\nlevel=warn msg="slow" status=200\n'));
    expect(filterMayContain(filter, bytes('quokkazephyr'))).toBe(false);
    expect(filterMayContain(filter, bytes('status=500'))).toBe(false);
    expect(filterMayContain(filter, bytes('status=200'))).toBe(true);
    // Needles shorter than a trigram cannot be ruled out.
    expect(filterMayContain(filter, bytes('zz'))).toBe(true);
  });

  it('stay small for small blocks and at most 8 KB for large ones', () => {
    expect(buildTrigramFilter(bytes('short line')).length).toBe(64);
    expect(buildTrigramFilter(new Uint8Array(4 << 20)).length).toBe(8192);
  });

  it('let everything through for a block without a filter', () => {
    expect(filterMayContain(new Uint8Array(0), bytes('anything'))).toBe(true);
  });
});
