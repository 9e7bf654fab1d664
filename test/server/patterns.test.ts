import { describe, expect, it } from 'vitest';
import { minePatterns } from '../../server/http/patterns.js';
import { PatternMiner, formatTemplate, tokenize } from '../../server/query/patterns.js';

describe('tokenize', () => {
  it('splits at whitespace and punctuation and keeps the separators', () => {
    const tokens = tokenize('GET  /api/items/42 200 key=v1, done');
    expect(tokens.map((t) => t.text)).toEqual(['GET', '/', 'api', '/', 'items', '/', '42', '200', 'key', '=', 'v1', ',', 'done']);
    expect(formatTemplate(tokens)).toBe('GET /api/items/42 200 key=v1, done');
  });

  it('caps the token count, keeping the rest of the line as the last token', () => {
    const tokens = tokenize('a b c d e f', 3);
    expect(tokens.map((t) => t.text)).toEqual(['a', 'b', 'c d e f']);
  });
});

describe('PatternMiner', () => {
  function mine(lines: string[], options = {}) {
    const miner = new PatternMiner(options);
    lines.forEach((line, i) => miner.add(line, Math.floor(i / 10)));
    return miner;
  }

  it('finds one template per family of lines, with variables as <_>', () => {
    const lines: string[] = [];
    for (let i = 0; i < 30; i++) {
      lines.push(`user ${1000 + i * 7} logged in from 10.0.${i}.${(i * 13) % 250}`);
      lines.push(`GET /api/items/${i * 3} 200 ${5 + i}ms`);
      if (i % 3 === 0) lines.push(`cache miss key=${['alpha', 'beta', 'gamma', 'delta'][i % 4]}`);
    }
    const patterns = mine(lines).patterns();
    expect(patterns.map((p) => [p.pattern, p.total])).toEqual([
      ['GET /api/items/<_> 200 <_>', 30],
      ['user <_> logged in from <_>', 30],
      ['cache miss key=<_>', 10],
    ]);
  });

  it('counts lines per bucket, ascending', () => {
    const miner = new PatternMiner();
    miner.add('job 1 done', 60);
    miner.add('job 2 done', 0);
    miner.add('job 3 done', 60);
    miner.add('job 4 done', 120, 5);
    expect(miner.patterns()).toEqual([
      {
        pattern: 'job <_> done',
        samples: [
          [0, 1],
          [60, 2],
          [120, 5],
        ],
        total: 8,
      },
    ]);
  });

  it('keeps dissimilar lines of the same shape apart', () => {
    const miner = mine(['disk full on sda1', 'disk full on sdb2', 'disk quota exceeded now']);
    // The third line shares only its first token (1/4 < 0.4) with the first template.
    expect(miner.patterns().map((p) => p.pattern)).toEqual(['disk full on <_>', 'disk quota exceeded now']);
  });

  it('keeps lines of different lengths apart', () => {
    const patterns = mine(['started worker 1', 'started worker 2', 'started worker 3 of 4']).patterns();
    expect(patterns.map((p) => p.pattern)).toEqual(['started worker <_>', 'started worker 3 of 4']);
  });

  it('collapses adjacent variables and merges identical templates', () => {
    const miner = new PatternMiner();
    miner.add('id=ab12cd done');
    miner.add('id=xy99zz done');
    expect(miner.patterns()[0]!.pattern).toBe('id=<_> done');
    const adjacent = new PatternMiner();
    adjacent.add('took 12ms');
    adjacent.add('took 12ms');
    expect(adjacent.patterns()).toEqual([{ pattern: 'took 12ms', samples: [[0, 2]], total: 2 }]);
  });

  it('bounds the clusters and the line length', () => {
    const miner = new PatternMiner({ maxClusters: 2, maxLineLength: 20 });
    miner.add('alpha one');
    miner.add('beta two three');
    expect(miner.add('gamma four five six')).toBeUndefined();
    expect(miner.add('x'.repeat(21))).toBeUndefined();
    expect(miner.dropped).toBe(2);
    expect(miner.patterns()).toHaveLength(2);
  });

  it('sends tokens past maxChildren down the shared <_> branch', () => {
    const miner = new PatternMiner({ maxChildren: 2 });
    for (const w of ['a', 'b', 'c', 'd', 'e']) miner.add(`${w} event happened here`);
    // a and b get their own branch; c, d, e share one and merge there.
    expect(miner.patterns().map((p) => [p.pattern, p.total])).toEqual([
      ['<_> event happened here', 3],
      ['a event happened here', 1],
      ['b event happened here', 1],
    ]);
  });
});

describe('minePatterns (the patterns endpoint)', () => {
  const SEC = 1_000_000_000n;
  const entry = (ts: bigint, line: string, level?: string) => ({
    ts,
    line,
    streamLabels: [{ name: 'app', value: 'a' }],
    structuredMetadata: level === undefined ? [] : [{ name: 'detected_level', value: level }],
    parsed: [],
  });

  it('groups by level and counts per step since the epoch', async () => {
    // Newest first, as sampled.
    const entries = [
      entry(125n * SEC, 'job 3 failed', 'error'),
      entry(119n * SEC, 'job 2 done', 'info'),
      entry(61n * SEC, 'job 1 done', 'info'),
      entry(59n * SEC, 'job 0 done', 'info'),
      entry(1n * SEC, 'no level here'),
    ];
    expect(await minePatterns(entries, 60n * SEC)).toEqual([
      { pattern: 'job <_> done', level: 'info', samples: [[0, 1], [60, 2]] },
      { pattern: 'job 3 failed', level: 'error', samples: [[120, 1]] },
      { pattern: 'no level here', samples: [[0, 1]] },
    ]);
  });

  it('stops when the client is gone', async () => {
    const entries = Array.from({ length: 5000 }, (_, i) => entry(BigInt(i) * SEC, `line ${i}`));
    await expect(minePatterns(entries, 60n * SEC, () => true)).rejects.toThrow('cancelled');
  });
});
