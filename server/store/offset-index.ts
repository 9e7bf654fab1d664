/**
 * A hash multimap from an entry's time offset to its byte position in the head, built only
 * for heads that received out-of-order entries. It turns the duplicate check of such an
 * entry from a scan of the whole head into a lookup. Typed arrays, no per-entry objects.
 */
export class OffsetIndex {
  private keys: Float64Array;
  private positions: Uint32Array;
  private size = 0;
  private mask: number;

  constructor(expected: number) {
    let capacity = 64;
    while (capacity < expected * 2) capacity *= 2;
    this.keys = new Float64Array(capacity);
    this.positions = new Uint32Array(capacity);
    this.mask = capacity - 1;
  }

  add(offset: number, position: number): void {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    let slot = hash(offset) & this.mask;
    while (this.positions[slot] !== 0) slot = (slot + 1) & this.mask;
    this.keys[slot] = offset;
    // Positions are stored +1 so that 0 marks an empty slot.
    this.positions[slot] = position + 1;
    this.size++;
  }

  /** Calls `visit` with the position of every entry at `offset`; stops when it returns true. */
  some(offset: number, visit: (position: number) => boolean): boolean {
    let slot = hash(offset) & this.mask;
    while (this.positions[slot] !== 0) {
      if (this.keys[slot] === offset && visit(this.positions[slot]! - 1)) return true;
      slot = (slot + 1) & this.mask;
    }
    return false;
  }

  private grow(): void {
    const keys = this.keys;
    const positions = this.positions;
    this.keys = new Float64Array(keys.length * 2);
    this.positions = new Uint32Array(keys.length * 2);
    this.mask = this.keys.length - 1;
    this.size = 0;
    for (let slot = 0; slot < keys.length; slot++) {
      if (positions[slot] !== 0) this.add(keys[slot]!, positions[slot]! - 1);
    }
  }
}

function hash(offset: number): number {
  return Math.imul((offset | 0) ^ ((offset / 4_294_967_296) | 0), 0x9e3779b1) >>> 0;
}
