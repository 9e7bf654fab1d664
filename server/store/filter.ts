/**
 * A block's trigram filter: one bit per hashed 3-byte sequence of the block's raw bytes. A query
 * whose lines must contain a substring (`|= "needle"`) skips, without decompressing it, a block
 * in which some trigram of the needle never occurs. No false negatives: every trigram of every
 * line is in the filter. The filter has one bit per 4 raw bytes (a power of two, 64 B to 8 KB,
 * ~3% of the raw size); real blocks then set about a third of the bits, so a needle of n bytes
 * lets a block through by chance with probability around 0.35^(n−2).
 */

const MIN_FILTER_BYTES = 64;
const MAX_FILTER_BYTES = 8192;

/** The filter size for a block of `rawBytes`: raw/32 rounded up to a power of two, within bounds. */
function filterBytesFor(rawBytes: number): number {
  let size = MIN_FILTER_BYTES;
  while (size < MAX_FILTER_BYTES && size * 32 < rawBytes) size *= 2;
  return size;
}

/** Bit index of a trigram in a filter of 2^bits bits (a multiplicative hash's top bits). */
function bitIndex(trigram: number, shift: number): number {
  return Math.imul(trigram, 0x9e3779b1) >>> shift;
}

function shiftFor(filterBytes: number): number {
  return 32 - Math.log2(filterBytes * 8);
}

export function buildTrigramFilter(raw: Uint8Array): Uint8Array {
  const bits = new Uint8Array(filterBytesFor(raw.length));
  const shift = shiftFor(bits.length);
  let trigram = 0;
  for (let i = 0; i < raw.length; i++) {
    trigram = ((trigram << 8) | raw[i]!) & 0xffffff;
    if (i < 2) continue;
    const bit = bitIndex(trigram, shift);
    bits[bit >>> 3]! |= 1 << (bit & 7);
  }
  return bits;
}

/** False only when some trigram of `needle` is not in the filter (the block cannot contain it). */
export function filterMayContain(filter: Uint8Array, needle: Uint8Array): boolean {
  const size = filter.length;
  // Anything but a filter this module built (e.g. none at all) rules nothing out.
  if (size < MIN_FILTER_BYTES || size > MAX_FILTER_BYTES || (size & (size - 1)) !== 0) return true;
  const shift = shiftFor(size);
  let trigram = 0;
  for (let i = 0; i < needle.length; i++) {
    trigram = ((trigram << 8) | needle[i]!) & 0xffffff;
    if (i < 2) continue;
    const bit = bitIndex(trigram, shift);
    if ((filter[bit >>> 3]! & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}
