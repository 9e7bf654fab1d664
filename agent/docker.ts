/**
 * Docker's json-file log format: one JSON object per line,
 * `{"log":"...\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z"}` (plus optional
 * `attrs`). dockerd cuts lines longer than 16 KiB into chunks whose `log` has no trailing `\n`;
 * a `DockerJoiner` joins them until a chunk ends with `\n`, then removes that newline.
 * Promtail's docker stage does not re-join (loki#7100) and keeps the `\n` in the line.
 */
import { LineJoiner, formatError, type FormatError, type JoinLimits, type StreamName } from './partial.js';
import { parseRfc3339Nano } from './timestamp.js';

export interface DockerLine {
  timestamp: bigint;
  stream: StreamName;
  /** No trailing `\n`: more chunks of the same line follow. */
  partial: boolean;
  /** `log` without its trailing `\n`. */
  content: string;
}

const malformed = formatError;

/** Parses one raw json-file line (without the file's line-ending `\n`). */
export function parseDockerLine(line: string): DockerLine | FormatError {
  if (line.charCodeAt(0) !== 123 /* { */) return malformed('docker: not a JSON object', line);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return malformed('docker: invalid JSON', line);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return malformed('docker: not a JSON object', line);
  const record = value as { log?: unknown; stream?: unknown; time?: unknown };
  const log = record.log;
  if (typeof log !== 'string') return malformed('docker: "log" is not a string', line);
  const stream = record.stream;
  if (stream !== 'stdout' && stream !== 'stderr') return malformed('docker: "stream" is not stdout or stderr', line);
  if (typeof record.time !== 'string') return malformed('docker: "time" is not a string', line);
  const timestamp = parseRfc3339Nano(record.time);
  if (timestamp === undefined) return malformed(`docker: invalid time ${JSON.stringify(record.time)}`, line);
  const complete = log.length > 0 && log.charCodeAt(log.length - 1) === 10;
  return { timestamp, stream, partial: !complete, content: complete ? log.slice(0, -1) : log };
}

/** Parses and joins the raw lines of one container's json-file log (see `LineJoiner`). */
export class DockerJoiner extends LineJoiner {
  constructor(limits: Partial<JoinLimits> = {}) {
    super(parseDockerLine, limits);
  }
}
