/**
 * Which format a container log file is in, from its first complete line: CRI (containerd,
 * CRI-O) or docker json-file. Promtail's chart runs only the `cri` stage; Skald chooses per file.
 */
import { parseCriLine } from './cri.js';
import { parseDockerLine } from './docker.js';

/** `raw`: neither format; lines are shipped as they are (as Promtail passes a non-matching line). */
export type LogFormat = 'cri' | 'docker' | 'raw';

/** The format of one raw line (without its `\n`). */
export function detectLineFormat(line: string): LogFormat {
  if (line.charCodeAt(0) === 123 /* { */) {
    if (!('error' in parseDockerLine(line))) return 'docker';
  }
  if (!('error' in parseCriLine(line))) return 'cri';
  return 'raw';
}

/**
 * The format of a file from its first bytes, or undefined while no complete line is there yet
 * (an empty file, or a first line still being written): the caller asks again when it grows.
 * Up to `maxLines` complete lines are looked at; the first that is CRI or docker decides, so a
 * stray first line does not turn a whole file into `raw`.
 */
export function detectFormat(head: string | Uint8Array, maxLines = 4): LogFormat | undefined {
  const text = typeof head === 'string' ? head : Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('utf8');
  let from = 0;
  let seen = 0;
  while (seen < maxLines) {
    const nl = text.indexOf('\n', from);
    if (nl < 0) break;
    const format = detectLineFormat(text.slice(from, nl));
    if (format !== 'raw') return format;
    seen++;
    from = nl + 1;
  }
  return seen === 0 ? undefined : 'raw';
}
