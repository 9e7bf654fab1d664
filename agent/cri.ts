/**
 * The CRI log format written by containerd and CRI-O under /var/log/pods:
 * `<RFC3339Nano time> <stdout|stderr> <tags> <content>`, tags `:`-separated with the first
 * being `P` (partial, more follows) or `F` (full, the line ends here). A `CriJoiner` parses
 * raw lines and joins partials into whole lines with the bounds of `PartialJoiner`.
 */
import { LineJoiner, formatError, type FormatError, type JoinLimits, type RawLine, type StreamName } from './partial.js';

export { isFormatError, type FormatError } from './partial.js';
import { parseRfc3339Nano } from './timestamp.js';

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
