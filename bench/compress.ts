/**
 * Block compression on one core: snappyjs's compressor against proto/snappy.ts's, on
 * 256 KiB blocks of generated log lines (what the ingester cuts). Rounds alternate between
 * the two and time CPU (process.cpuUsage), so load from other processes hits both alike;
 * the median of the rounds is reported.
 *
 *   node dist/bench/compress.js [rounds=9]
 */
import snappy from 'snappyjs';
import { snappyCompress, snappyUncompress } from '../proto/index.js';
import { generateKubernetesBatch } from './generate.js';

const BLOCK_BYTES = 256 * 1024;

function blocks(count: number): Buffer[] {
  const out: Buffer[] = [];
  for (let seed = 1; seed <= count; seed++) {
    const streams = generateKubernetesBatch({ seed, streamSeed: 1, startSeconds: 1_790_000_000, targetBytes: BLOCK_BYTES });
    const text = streams.flatMap((s) => s.entries.map((e) => String(e.line))).join('\n');
    out.push(Buffer.from(text).subarray(0, BLOCK_BYTES));
  }
  return out;
}

function cpuSeconds(run: () => void): number {
  const start = process.cpuUsage();
  run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function main(): void {
  const rounds = Number(process.argv[2] ?? 9);
  const input = blocks(40);
  const total = input.reduce((sum, b) => sum + b.length, 0);
  for (const block of input) {
    if (!Buffer.from(snappyUncompress(snappyCompress(block))).equals(block)) throw new Error('snappyCompress does not round-trip');
  }
  const contenders: Array<[string, (b: Buffer) => Uint8Array]> = [
    ['snappyjs compress', (b) => snappy.compress(b)],
    ['snappyCompress (proto/snappy.ts)', (b) => snappyCompress(b)],
  ];
  const results = new Map<string, { rates: number[]; ratio: number }>();
  for (let round = 0; round <= rounds; round++) {
    for (const [name, compress] of contenders) {
      let out = 0;
      const seconds = cpuSeconds(() => {
        for (let pass = 0; pass < 5; pass++) for (const block of input) out += compress(block).length;
      });
      // Round 0 warms up the JIT.
      if (round === 0) continue;
      const entry = results.get(name) ?? { rates: [], ratio: (5 * total) / out };
      entry.rates.push((5 * total) / seconds / 1e6);
      results.set(name, entry);
    }
  }
  console.log(`${input.length} blocks of ${BLOCK_BYTES / 1024} KiB of generated log lines, ${rounds} rounds`);
  console.log('| compressor | median MB/s (CPU time) | min | max | ratio |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [name, { rates, ratio }] of results) {
    rates.sort((a, b) => a - b);
    console.log(`| ${name} | ${rates[rates.length >> 1]!.toFixed(0)} | ${rates[0]!.toFixed(0)} | ${rates.at(-1)!.toFixed(0)} | ${ratio.toFixed(2)} |`);
  }
}

main();
