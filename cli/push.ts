/**
 * `skald push --labels '{job="x"}' [FILE|-]`: sends the lines of a local file (or stdin) as ONE
 * stream to `POST /loki/api/v1/push`, for ad-hoc analysis of a log with LogQL.
 *
 * - Wire format: Loki's JSON push body (`{"streams":[{"stream":{…},"values":[["<ns>","<line>"],…]}]}`),
 *   which Loki and Skald both accept; the CLI speaks HTTP only and imports nothing of the server.
 * - Timestamps: each line gets the wall-clock time at which it was read, in nanoseconds, raised
 *   to the previous line's timestamp + 1 ns when the clock has not moved on. Timestamps are
 *   therefore strictly increasing, so the server keeps the file's order and does not drop a
 *   repeated line as a duplicate (Loki deduplicates entries with equal timestamp and line).
 * - Lines end at `\n`; a `\r` before it is removed (CRLF files); a last line without `\n` counts.
 *   Bytes that are not UTF-8 become U+FFFD. Empty lines are pushed as they are.
 * - Input is read as a stream with backpressure: a request of at most ~1 MiB is sent and
 *   acknowledged before more input is read, so a file of any size needs little memory.
 * - A request the server refuses (e.g. a line over `max_line_size`) stops the push with the
 *   server's message and exit 1. Loki may have stored the other lines of that request.
 */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { CliError, send, type Target } from './target.js';

/** Largest request body the CLI builds (a single longer line is sent alone, for the server to judge). */
export const MAX_BATCH_BYTES = 1024 * 1024;

export interface PushOptions {
  /** Where to report the summary; nothing when `quiet`. */
  err?: NodeJS.WritableStream;
  quiet?: boolean;
  /** Override for tests: request body limit. */
  maxBatchBytes?: number;
}

export interface PushSummary {
  lines: number;
  requests: number;
}

/**
 * Parses a Prometheus/LogQL label set `{name="value", …}`. Values take Go string escapes
 * (`\n`, `\t`, `\\`, `\"`, `\xHH`, `\ooo`, `\uHHHH`, `\UHHHHHHHH`, …) in double or single quotes,
 * or are raw in backquotes. Errors name the 1-based column.
 */
export function parseLabelSet(text: string): Record<string, string> {
  let pos = 0;
  const fail = (message: string, at = pos): never => {
    throw new CliError(`--labels: ${message} at column ${at + 1} in ${JSON.stringify(text)}`);
  };
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const describe = () => (pos >= text.length ? 'end of input' : JSON.stringify(text[pos]));

  skipSpace();
  if (text[pos] !== '{') fail(`expected "{" but found ${describe()}`);
  pos++;
  const labels: Record<string, string> = {};
  const seen = new Set<string>();
  skipSpace();
  while (text[pos] !== '}') {
    // name
    const nameStart = pos;
    if (pos >= text.length || !/[A-Za-z_]/.test(text[pos]!)) fail(`expected a label name but found ${describe()}`);
    while (pos < text.length && /[A-Za-z0-9_]/.test(text[pos]!)) pos++;
    const name = text.slice(nameStart, pos);
    skipSpace();
    if (text[pos] !== '=') fail(`expected "=" after label name ${JSON.stringify(name)} but found ${describe()}`);
    pos++;
    skipSpace();
    const value = readQuoted();
    if (seen.has(name)) fail(`duplicate label name ${JSON.stringify(name)}`, nameStart);
    seen.add(name);
    labels[name] = value;
    skipSpace();
    if (text[pos] === ',') {
      pos++;
      skipSpace();
      continue;
    }
    if (text[pos] !== '}') fail(`expected "," or "}" but found ${describe()}`);
  }
  pos++;
  skipSpace();
  if (pos < text.length) fail(`unexpected ${describe()} after "}"`);
  if (seen.size === 0) throw new CliError('--labels: at least one label is required, e.g. {job="local"}');
  return labels;

  function readQuoted(): string {
    const quote = text[pos];
    if (quote !== '"' && quote !== "'" && quote !== '`') fail(`expected a quoted label value but found ${describe()}`);
    const open = pos;
    pos++;
    if (quote === '`') {
      const close = text.indexOf('`', pos);
      if (close < 0) fail('unterminated string', open);
      const raw = text.slice(pos, close);
      pos = close + 1;
      return raw;
    }
    let out = '';
    for (;;) {
      if (pos >= text.length) fail('unterminated string', open);
      const c = text[pos]!;
      if (c === quote) {
        pos++;
        return out;
      }
      if (c === '\n') fail('newline in string');
      if (c !== '\\') {
        out += c;
        pos++;
        continue;
      }
      const escapeAt = pos;
      pos++;
      const e = text[pos];
      if (e === undefined) fail('unterminated string', open);
      pos++;
      switch (e) {
        case 'a': out += '\x07'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'v': out += '\v'; break;
        case '\\': out += '\\'; break;
        case '"':
        case "'":
          if (e !== quote) fail(`unknown escape sequence \\${e}`, escapeAt);
          out += e;
          break;
        case 'x':
          out += String.fromCharCode(hex(2, escapeAt));
          break;
        case 'u':
        case 'U': {
          const code = hex(e === 'u' ? 4 : 8, escapeAt);
          if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) fail(`invalid Unicode code point in escape sequence`, escapeAt);
          out += String.fromCodePoint(code);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            const digits = text.slice(pos - 1, pos + 2);
            if (!/^[0-7]{3}$/.test(digits)) fail('invalid octal escape sequence (three digits expected)', escapeAt);
            const code = parseInt(digits, 8);
            if (code > 255) fail('octal escape value > 255', escapeAt);
            out += String.fromCharCode(code);
            pos += 2;
          } else {
            fail(`unknown escape sequence \\${e}`, escapeAt);
          }
      }
    }
  }

  function hex(count: number, escapeAt: number): number {
    const digits = text.slice(pos, pos + count);
    if (!new RegExp(`^[0-9A-Fa-f]{${count}}$`).test(digits)) fail(`invalid escape sequence (${count} hex digits expected)`, escapeAt);
    pos += count;
    return parseInt(digits, 16);
  }
}

/** Splits a byte stream into lines without reading ahead of the consumer (async iteration pauses the stream). */
export async function* readLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of input) {
    rest += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let start = 0;
    for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n', start)) {
      const end = nl > start && rest.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      yield rest.slice(start, end);
      start = nl + 1;
    }
    rest = rest.slice(start);
  }
  rest += decoder.end();
  if (rest !== '') yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}

/** Pushes every line of `input` as one stream; resolves with the counts, throws CliError on failure. */
export async function pushLines(target: Target, labels: Record<string, string>, input: AsyncIterable<Buffer | string>, options: PushOptions = {}): Promise<PushSummary> {
  const maxBytes = options.maxBatchBytes ?? MAX_BATCH_BYTES;
  const prefix = `{"streams":[{"stream":${JSON.stringify(labels)},"values":[`;
  const suffix = ']}]}';
  const overhead = Buffer.byteLength(prefix) + suffix.length;

  let values: string[] = [];
  let batchBytes = overhead;
  let lines = 0;
  let requests = 0;
  let firstLineOfBatch = 1;
  let lastTs = 0n;

  const flush = async () => {
    if (values.length === 0) return;
    const body = `${prefix}${values.join(',')}${suffix}`;
    try {
      await send(target, '/loki/api/v1/push', new URLSearchParams(), { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
    } catch (err) {
      if (err instanceof CliError) {
        const range = values.length === 1 ? `line ${firstLineOfBatch}` : `lines ${firstLineOfBatch}-${firstLineOfBatch + values.length - 1}`;
        const before = requests === 0 ? '' : `; ${firstLineOfBatch - 1} lines pushed before in ${requests} request${requests === 1 ? '' : 's'}`;
        throw new CliError(`${err.message} (request ${requests + 1}, ${range}${before})`, err.exitCode);
      }
      throw err;
    }
    requests++;
    firstLineOfBatch += values.length;
    values = [];
    batchBytes = overhead;
  };

  const iterator = readLines(input);
  for (;;) {
    let next: IteratorResult<string>;
    try {
      next = await iterator.next();
    } catch (err) {
      throw readError(err);
    }
    if (next.done) break;
    const line = next.value;
    const now = BigInt(Date.now()) * 1_000_000n;
    lastTs = now > lastTs ? now : lastTs + 1n;
    const value = `["${lastTs}",${JSON.stringify(line)}]`;
    const size = Buffer.byteLength(value) + 1;
    if (values.length > 0 && batchBytes + size > maxBytes) await flush();
    values.push(value);
    batchBytes += size;
    lines++;
  }
  await flush();

  const err = options.err ?? process.stderr;
  if (!options.quiet) {
    if (lines === 0) err.write('skald push: the input is empty; nothing pushed\n');
    else err.write(`pushed ${lines} line${lines === 1 ? '' : 's'} in ${requests} request${requests === 1 ? '' : 's'}\n`);
  }
  return { lines, requests };
}

function readError(err: unknown): CliError {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return new CliError(`cannot read ${e.path ?? 'input'}: no such file`);
  if (e.code === 'EISDIR') return new CliError(`cannot read ${e.path ?? 'input'}: is a directory`);
  if (e.code === 'EACCES') return new CliError(`cannot read ${e.path ?? 'input'}: permission denied`);
  return new CliError(`cannot read input: ${e.message}`);
}

/** The `skald push` command: `file` undefined or `-` reads stdin. */
export async function runPush(target: Target, options: { labels: string; quiet?: boolean }, file: string | undefined): Promise<void> {
  const labels = parseLabelSet(options.labels);
  const input = file === undefined || file === '-' ? process.stdin : createReadStream(file);
  await pushLines(target, labels, input, { quiet: options.quiet === true });
}
