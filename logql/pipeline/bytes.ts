/** Reading text out of a line's bytes without decoding the whole line (parsers under hints). */

const utf8 = new TextDecoder();
// Node's native latin1 slice also works on a plain Uint8Array; it is the cheapest way to make a
// string of ASCII bytes.
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;

/** `[A-Za-z0-9_]`: bytes a label name keeps as they are when it is sanitised. */
export function isWordByte(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** The text of `bytes[start, end)`: ASCII without a decoder call, anything else as UTF-8. */
export function textOf(bytes: Uint8Array, start: number, end: number): string {
  for (let i = start; i < end; i++) if (bytes[i]! >= 0x80) return utf8.decode(bytes.subarray(start, end));
  return latin1Slice.call(bytes, start, end);
}

/** ASCII bytes as a string (the caller knows they are ASCII). */
export function asciiOf(bytes: Uint8Array, start: number, end: number): string {
  return latin1Slice.call(bytes, start, end);
}

/** Whether `bytes[start, end)` spells `word` (given as bytes). */
export function bytesEqual(bytes: Uint8Array, start: number, end: number, word: Uint8Array): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (bytes[start + i] !== word[i]) return false;
  return true;
}
