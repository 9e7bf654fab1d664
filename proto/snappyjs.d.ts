// snappyjs ships no types. Both functions return the same kind of object they are given
// (a Buffer for a Buffer). uncompress rejects a declared length above maxLength.
declare module 'snappyjs' {
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
  export function compress(uncompressed: Uint8Array): Uint8Array;
}
