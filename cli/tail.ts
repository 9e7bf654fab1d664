/**
 * `skald tail '<logql>'` and `followTail`, which `skald query -t` uses as well: live tailing over
 * Loki's WebSocket endpoint `GET /loki/api/v1/tail?query=&limit=&delay_for=&start=`, printed the
 * way logcli prints it.
 *
 * - The server first sends the newest `limit` entries since `start` (oldest first), then new
 *   entries as they are pushed. `skald tail` sets start = now − `--since` (default 1h, as logcli's
 *   `query --tail`), so it begins like `tail -f`: the last `--limit` (30) lines, then follows.
 * - Output modes as logcli's: `default` = `<RFC3339 time> <labels> <line>` (local time zone; the
 *   line trimmed of surrounding white space, as logcli does), `raw` = the line as it is, `jsonl` =
 *   `{"labels":{…},"line":"…","timestamp":"<RFC3339Nano>"}`. Entries of one frame are printed in
 *   time order.
 * - Entries the server dropped for a slow client are reported on stderr (`dropped N entries`).
 * - Like logcli (which does not reconnect after an orderly close) the command ends when the
 *   server closes the connection: normally (1000) → resolves, any other close → CliError with
 *   the close code and reason. SIGINT (or `options.signal`) closes the socket and resolves; a
 *   closed stdout (`| head`) does the same.
 * - A refused handshake (400 bad query, 401 no org id, …) → CliError with the server's message.
 */
import WebSocket from 'ws';
import type { IncomingMessage } from 'node:http';
import { CliError, formatMs, messageOf, parseDurationMs, targetHeaders, type Target } from './target.js';

export type TailOutputMode = 'default' | 'raw' | 'jsonl';

export interface TailOptions {
  /** Entries the server sends from before the connection (history); the server's default (100) when undefined. */
  limit?: number;
  /** Seconds the server waits before sending an entry, for late ones to be sorted in (0–5). */
  delayFor?: number;
  /** Nanoseconds since the epoch: how far back the history goes; the server's default (1h) when undefined. */
  start?: bigint;
  output: TailOutputMode;
  noLabels?: boolean;
  /** Show only these labels. */
  includeLabels?: string[];
  /** Hide these labels. */
  excludeLabels?: string[];
  color: boolean;
  /** `Local` (default, as logcli) or `UTC` for the printed times. */
  timezone?: 'Local' | 'UTC';
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
  /** Stops tailing (as SIGINT does) when aborted. */
  signal?: AbortSignal;
  /** Stop on SIGINT (default true). */
  handleSigint?: boolean;
}

/** One WebSocket message of /loki/api/v1/tail. */
export interface TailFrame {
  streams?: Array<{ stream?: Record<string, string>; values?: Array<[string, string]> }>;
  dropped_entries?: Array<{ timestamp: string; labels: Record<string, string> }> | null;
}

/** How long to wait for the server's answer to our close frame before dropping the connection. */
const CLOSE_GRACE_MS = 1000;

/** The WebSocket URL of the tail endpoint for `target`. */
export function tailUrl(target: Target, query: string, options: Pick<TailOptions, 'limit' | 'delayFor' | 'start'>): string {
  const params = new URLSearchParams({ query });
  if (options.limit !== undefined) params.set('limit', String(options.limit));
  if (options.delayFor !== undefined) params.set('delay_for', String(options.delayFor));
  if (options.start !== undefined) params.set('start', String(options.start));
  return `${target.addr.replace(/^http/, 'ws')}/loki/api/v1/tail?${params.toString()}`;
}

/** Follows `query` until the server closes the connection, SIGINT, or `options.signal`. */
export function followTail(target: Target, query: string, options: TailOptions): Promise<void> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const printer = entryPrinter(options);

  return new Promise<void>((resolve, reject) => {
    let settled = false;
    let stopping = false;
    let graceTimer: NodeJS.Timeout | undefined;
    let paused = false;

    const ws = new WebSocket(tailUrl(target, query, options), {
      headers: targetHeaders(target),
      handshakeTimeout: target.timeoutMs,
    });

    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (graceTimer !== undefined) clearTimeout(graceTimer);
      if (options.handleSigint !== false) process.removeListener('SIGINT', stop);
      options.signal?.removeEventListener('abort', stop);
      out.removeListener('error', onOutError);
      if (error === undefined) resolve();
      else reject(error);
    };

    function stop(): void {
      if (settled) return;
      if (stopping || ws.readyState !== WebSocket.OPEN) {
        // Not connected yet, or asked twice: drop the connection without waiting.
        ws.terminate();
        finish();
        return;
      }
      stopping = true;
      ws.close(1000);
      graceTimer = setTimeout(() => {
        ws.terminate();
        finish();
      }, CLOSE_GRACE_MS);
    }

    function onOutError(e: NodeJS.ErrnoException): void {
      // The reader went away (`skald tail … | head`): stop quietly.
      if (e.code === 'EPIPE') stop();
      else {
        ws.terminate();
        finish(new CliError(`cannot write output: ${e.message}`));
      }
    }

    if (options.handleSigint !== false) process.on('SIGINT', stop);
    if (options.signal?.aborted) {
      queueMicrotask(stop);
    } else {
      options.signal?.addEventListener('abort', stop, { once: true });
    }
    out.on('error', onOutError);

    ws.on('unexpected-response', (req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      const done = () => {
        req.destroy();
        const body = Buffer.concat(chunks).toString('utf8').trim();
        finish(new CliError(`${res.statusCode ?? '?'} ${res.statusMessage ?? ''}: ${messageOf(body)}`));
      };
      res.on('end', done);
      res.on('error', done);
      res.on('aborted', done);
    });

    ws.on('error', (e: NodeJS.ErrnoException) => {
      if (settled || stopping) return;
      if (/handshake has timed out/i.test(e.message)) finish(new CliError(`request to ${target.addr} timed out after ${formatMs(target.timeoutMs)}`));
      else if (ws.readyState === WebSocket.CONNECTING || e.code !== undefined) finish(new CliError(`cannot reach ${target.addr}: ${e.code ?? e.message}`));
      else finish(new CliError(`${target.addr}: tail connection failed: ${e.message}`));
    });

    ws.on('message', (data: WebSocket.RawData) => {
      if (settled) return;
      let frame: TailFrame;
      try {
        frame = JSON.parse(rawText(data)) as TailFrame;
      } catch {
        ws.terminate();
        finish(new CliError(`${target.addr}: the tail frame is not JSON: ${rawText(data).slice(0, 200)}`));
        return;
      }
      const text = printer(frame);
      if (text !== '' && !out.write(text) && !paused) {
        // Let the socket's flow control slow the server down while the output catches up.
        paused = true;
        ws.pause();
        out.once('drain', () => {
          paused = false;
          ws.resume();
        });
      }
      const dropped = frame.dropped_entries?.length ?? 0;
      if (dropped > 0) err.write(`dropped ${dropped} entr${dropped === 1 ? 'y' : 'ies'} (the client was too slow)\n`);
    });

    ws.on('close', (code: number, reason: Buffer) => {
      if (stopping || code === 1000 || code === 1005) {
        finish();
        return;
      }
      const why = reason.toString('utf8');
      const described = code === 1006 ? 'connection lost' : why !== '' ? why : 'closed';
      finish(new CliError(`${target.addr}: tail connection closed: ${described} (code ${code})`));
    });
  });
}

function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}


const BLUE = '\x1b[34m';
const RESET = '\x1b[0m';
/** Colours for label sets, picked by a hash of the set (as logcli does). */
const LABEL_COLORS = ['\x1b[31m', '\x1b[32m', '\x1b[33m', '\x1b[35m', '\x1b[36m', '\x1b[91m', '\x1b[92m', '\x1b[93m', '\x1b[94m', '\x1b[95m', '\x1b[96m'];

/** Returns a function that renders a frame's entries, one line each. */
export function entryPrinter(options: Pick<TailOptions, 'output' | 'noLabels' | 'includeLabels' | 'excludeLabels' | 'color' | 'timezone'>): (frame: TailFrame) => string {
  const include = options.includeLabels !== undefined && options.includeLabels.length > 0 ? new Set(options.includeLabels) : undefined;
  const exclude = new Set(options.excludeLabels ?? []);
  const utc = options.timezone === 'UTC';

  const shownLabels = (labels: Record<string, string>): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const name of Object.keys(labels).sort()) {
      if (include !== undefined && !include.has(name)) continue;
      if (exclude.has(name)) continue;
      out[name] = labels[name]!;
    }
    return out;
  };

  return (frame) => {
    const entries: Array<{ ts: bigint; line: string; labels: Record<string, string> }> = [];
    for (const stream of frame.streams ?? []) {
      const labels = stream.stream ?? {};
      for (const [ts, line] of stream.values ?? []) entries.push({ ts: BigInt(ts), line, labels });
    }
    // Stable: entries of one stream keep the server's order.
    entries.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    let text = '';
    for (const e of entries) {
      switch (options.output) {
        case 'raw':
          text += `${e.line}\n`;
          break;
        case 'jsonl': {
          const record: Record<string, unknown> = {};
          if (!options.noLabels) record['labels'] = shownLabels(e.labels);
          record['line'] = e.line;
          record['timestamp'] = formatRfc3339(e.ts, true, utc);
          text += `${JSON.stringify(record)}\n`;
          break;
        }
        default: {
          const time = formatRfc3339(e.ts, false, utc);
          const ts = options.color ? `${BLUE}${time}${RESET}` : time;
          const line = e.line.trim();
          if (options.noLabels) {
            text += `${ts} ${line}\n`;
          } else {
            const labels = labelString(shownLabels(e.labels));
            text += `${ts} ${options.color ? `${LABEL_COLORS[hash(labels) % LABEL_COLORS.length]}${labels}${RESET}` : labels} ${line}\n`;
          }
        }
      }
    }
    return text;
  };
}

/** `{a="1", b="2"}` with names sorted, as Loki's LabelSet.String(). */
export function labelString(labels: Record<string, string>): string {
  return `{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(', ')}}`;
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Go's time.RFC3339 (`nano` false) or RFC3339Nano (trailing zeros trimmed) in the local zone or UTC. */
export function formatRfc3339(ns: bigint, nano: boolean, utc = false): string {
  const ms = Number(ns / 1_000_000n);
  const offsetMin = utc ? 0 : -new Date(ms).getTimezoneOffset();
  const d = new Date(ms + offsetMin * 60_000);
  let text = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  if (nano) {
    const frac = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
    if (frac !== 0n) text += `.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
  }
  if (offsetMin === 0) return `${text}Z`;
  const abs = Math.abs(offsetMin);
  return `${text}${offsetMin < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export interface TailCommandOptions {
  limit: string;
  delayFor?: string;
  since: string;
  output: string;
  labels: boolean;
  includeLabel: string[];
  excludeLabel: string[];
  color: boolean;
  timezone: string;
}

/** Whether to colour output: a TTY, no `--no-color`, and no non-empty NO_COLOR (no-color.org). */
export function useColor(flag: boolean, out: NodeJS.WritableStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!flag) return false;
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  return (out as NodeJS.WriteStream).isTTY === true;
}

/** The `skald tail` command. */
export async function runTail(target: Target, query: string, options: TailCommandOptions): Promise<void> {
  const limit = integerFlag(options.limit, '--limit', 1);
  const delayFor = options.delayFor === undefined ? undefined : integerFlag(options.delayFor, '--delay-for', 0);
  const sinceMs = parseDurationMs(options.since, '--since');
  if (!['default', 'raw', 'jsonl'].includes(options.output)) throw new CliError(`-o: unknown output mode ${JSON.stringify(options.output)} (default, raw or jsonl)`);
  const timezone = options.timezone.toLowerCase() === 'utc' ? 'UTC' : options.timezone.toLowerCase() === 'local' ? 'Local' : undefined;
  if (timezone === undefined) throw new CliError(`--timezone: expected Local or UTC, got ${JSON.stringify(options.timezone)}`);
  const start = (BigInt(Date.now()) - BigInt(Math.round(sinceMs))) * 1_000_000n;
  await followTail(target, query, {
    limit,
    ...(delayFor === undefined ? {} : { delayFor }),
    start,
    output: options.output as TailOutputMode,
    noLabels: !options.labels,
    includeLabels: options.includeLabel,
    excludeLabels: options.excludeLabel,
    color: useColor(options.color),
    timezone,
  });
}

function integerFlag(text: string, flag: string, min: number): number {
  if (!/^\d+$/.test(text.trim())) throw new CliError(`${flag}: expected a whole number, got ${JSON.stringify(text)}`);
  const n = Number(text.trim());
  if (n < min) throw new CliError(`${flag}: must be at least ${min}`);
  return n;
}
