/**
 * The CRI log format written by containerd and CRI-O under /var/log/pods:
 * `<RFC3339Nano time> <stdout|stderr> <tags> <content>`, tags `:`-separated with the first
 * being `P` (partial, more follows) or `F` (full, the line ends here). A `CriJoiner` parses
 * raw lines and joins partials into whole lines with the bounds of `PartialJoiner`.
 */
import { LineJoiner, formatError, type FormatError, type JoinLimits, type RawLine, type StreamName } from './partial.js';

export { isFormatError, type FormatError } from './partial.js';
import { parseRfc3339Nano, parseRfc3339ZBytes } from './timestamp.js';

export type CriLine = RawLine;

const malformed = formatError;

/**
 * Parses one raw CRI line (without its trailing `\n`). As kubelet does, splits at the first
 * three spaces; a missing content field (`... F` with nothing after) is an empty line.
 */
export function parseCriLine(line: string): CriLine | FormatError {
  const s1 = line.indexOf(' ');
  if (s1 <= 0) return malformed('cri: no timestamp field', line);
  const timestamp = parseRfc3339Nano(line, 0, s1);
  if (timestamp === undefined) return malformed(`cri: invalid timestamp ${JSON.stringify(line.slice(0, s1))}`, line);
  let stream: StreamName;
  if (line.startsWith('stdout ', s1 + 1)) stream = 'stdout';
  else if (line.startsWith('stderr ', s1 + 1)) stream = 'stderr';
  else return malformed('cri: stream is not stdout or stderr', line);
  const tagsStart = s1 + 8;
  let s3 = line.indexOf(' ', tagsStart);
  if (s3 < 0) s3 = line.length;
  // The first tag decides; later `:`-separated tags are ignored (kept for forward compatibility).
  const tag = line.charCodeAt(tagsStart);
  const next = tagsStart + 1 === s3 ? 58 : line.charCodeAt(tagsStart + 1);
  if (next !== 58 /* : */ || (tag !== 80 /* P */ && tag !== 70 /* F */)) {
    return malformed(`cri: unknown tag ${JSON.stringify(line.slice(tagsStart, s3))}`, line);
  }
  const content = s3 < line.length ? line.slice(s3 + 1) : '';
  return { timestamp, stream, partial: tag === 80, content };
}

/** Parses and joins the raw lines of one container's CRI log (see `LineJoiner`). */
export class CriJoiner extends LineJoiner {
  constructor(limits: Partial<JoinLimits> = {}) {
    super(parseCriLine, limits);
  }
}

/** Where `parseCriFullLine` puts the stream and where the content starts. One object, reused. */
export const criFullLine: { stream: StreamName; contentStart: number } = { stream: 'stdout', contentStart: 0 };

/**
 * The common case on the raw bytes `bytes[start, end)` (no `\n`): a whole line, tag `F` alone,
 * `Z` timestamp. Fills `criFullLine` and `parsedTime` (timestamp.ts) and returns true; returns
 * false for every other line — partial, other tags, offsets, malformed — which `parseCriLine`
 * handles. What it accepts, it reads as `parseCriLine` does.
 */
export function parseCriFullLine(bytes: Uint8Array, start: number, end: number): boolean {
  // The timestamp is at most 30 bytes (`YYYY-MM-DDTHH:MM:SS.fffffffffZ`).
  const limit = Math.min(end, start + 31);
  let s1 = start;
  while (s1 < limit && bytes[s1] !== 32) s1++;
  if (s1 === limit || s1 + 9 > end || !parseRfc3339ZBytes(bytes, start, s1)) return false;
  if (bytes[s1 + 1] !== 115 /* s */ || bytes[s1 + 2] !== 116 /* t */ || bytes[s1 + 3] !== 100 /* d */ || bytes[s1 + 7] !== 32) return false;
  const a = bytes[s1 + 4];
  const b = bytes[s1 + 5];
  const c = bytes[s1 + 6];
  let stream: StreamName;
  if (a === 111 /* o */ && b === 117 /* u */ && c === 116 /* t */) stream = 'stdout';
  else if (a === 101 /* e */ && b === 114 /* r */ && c === 114 /* r */) stream = 'stderr';
  else return false;
  if (bytes[s1 + 8] !== 70 /* F */) return false;
  const afterTag = s1 + 9;
  if (afterTag < end && bytes[afterTag] !== 32) return false;
  criFullLine.stream = stream;
  criFullLine.contentStart = afterTag < end ? afterTag + 1 : end;
  return true;
}
