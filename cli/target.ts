/**
 * Where the CLI sends its requests and how: logcli's flags and environment variables
 * (`--addr`/`LOKI_ADDR`, `--org-id`/`LOKI_ORG_ID`, `--username`/`LOKI_USERNAME`,
 * `--password`/`LOKI_PASSWORD`, `--bearer-token`/`LOKI_BEARER_TOKEN`, `--timeout`), and the one
 * function every command uses to talk to Skald or Loki over HTTP. The CLI imports nothing of
 * the server: HTTP only, so it works against a real Loki as well.
 */
import type { Command } from 'commander';

export const DEFAULT_ADDR = 'http://127.0.0.1:3100';
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface Target {
  /** Base URL without a trailing slash. */
  addr: string;
  orgId?: string;
  username?: string;
  password?: string;
  bearerToken?: string;
  timeoutMs: number;
}

/** A failure the CLI reports as one line on stderr and a non-zero exit (never a stack trace). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    /** Process exit code. */
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Adds the target flags to a command (each subcommand takes them, as logcli's do). */
export function withTargetOptions(command: Command): Command {
  return command
    .option('--addr <url>', `server address; env LOKI_ADDR (default ${DEFAULT_ADDR})`)
    .option('--org-id <id>', 'tenant, sent as X-Scope-OrgID; env LOKI_ORG_ID')
    .option('--username <name>', 'basic auth user; env LOKI_USERNAME')
    .option('--password <password>', 'basic auth password; env LOKI_PASSWORD')
    .option('--bearer-token <token>', 'bearer token; env LOKI_BEARER_TOKEN')
    .option('--timeout <duration>', 'request timeout, e.g. 30s, 2m (default 30s)');
}

export interface TargetOptions {
  addr?: string;
  orgId?: string;
  username?: string;
  password?: string;
  bearerToken?: string;
  timeout?: string;
}

/** Flags win over environment variables, which win over defaults. */
export function targetFrom(options: TargetOptions, env: NodeJS.ProcessEnv = process.env): Target {
  const addr = (options.addr ?? env['LOKI_ADDR'] ?? DEFAULT_ADDR).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(addr);
  } catch {
    throw new CliError(`invalid address ${JSON.stringify(addr)}: expected a URL such as ${DEFAULT_ADDR}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`invalid address ${JSON.stringify(addr)}: only http and https are supported`);
  const target: Target = { addr, timeoutMs: options.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDurationMs(options.timeout, '--timeout') };
  const orgId = options.orgId ?? env['LOKI_ORG_ID'];
  if (orgId !== undefined && orgId !== '') target.orgId = orgId;
  const username = options.username ?? env['LOKI_USERNAME'];
  if (username !== undefined && username !== '') target.username = username;
  const password = options.password ?? env['LOKI_PASSWORD'];
  if (password !== undefined && password !== '') target.password = password;
  const bearerToken = options.bearerToken ?? env['LOKI_BEARER_TOKEN'];
  if (bearerToken !== undefined && bearerToken !== '') target.bearerToken = bearerToken;
  return target;
}

/** Request headers for the target: tenant and credentials. */
export function targetHeaders(target: Target): Record<string, string> {
  const headers: Record<string, string> = {};
  if (target.orgId !== undefined) headers['X-Scope-OrgID'] = target.orgId;
  if (target.bearerToken !== undefined) headers['Authorization'] = `Bearer ${target.bearerToken}`;
  else if (target.username !== undefined || target.password !== undefined) {
    headers['Authorization'] = `Basic ${Buffer.from(`${target.username ?? ''}:${target.password ?? ''}`).toString('base64')}`;
  }
  return headers;
}

/**
 * GET `path` with `params`; resolves with the parsed JSON of a 2xx answer. A non-2xx answer
 * throws CliError with the server's message (Loki answers errors as plain text), a connection
 * failure or timeout one that names the address.
 */
export async function getJson(target: Target, path: string, params: URLSearchParams = new URLSearchParams()): Promise<unknown> {
  const response = await send(target, path, params, { method: 'GET' });
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliError(`${target.addr}${path}: the answer is not JSON: ${text.slice(0, 200)}`);
  }
}

/** One HTTP request to the target; throws CliError for connection failures, timeouts and non-2xx answers. */
export async function send(target: Target, path: string, params: URLSearchParams, init: { method: string; body?: Uint8Array | string; headers?: Record<string, string> }): Promise<Response> {
  const query = params.toString();
  const url = `${target.addr}${path}${query === '' ? '' : `?${query}`}`;
  const signal = AbortSignal.timeout(target.timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { method: init.method, body: init.body, headers: { ...targetHeaders(target), ...init.headers }, signal });
  } catch (err) {
    if (signal.aborted) throw new CliError(`request to ${target.addr} timed out after ${formatMs(target.timeoutMs)}`);
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(`cannot reach ${target.addr}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
  if (response.status < 200 || response.status > 299) {
    const body = (await response.text()).trim();
    throw new CliError(`${response.status} ${response.statusText}: ${messageOf(body)}`);
  }
  return response;
}

/** The error text of a Loki answer: plain text, or a JSON object's `message`/`error`. */
export function messageOf(body: string): string {
  if (body.startsWith('{')) {
    try {
      const parsed = JSON.parse(body) as { message?: unknown; error?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
      if (typeof parsed.error === 'string') return parsed.error;
    } catch {
      // not JSON after all: print it as it is
    }
  }
  return body === '' ? '(empty answer)' : body;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `500ms`, `30s`, `1.5h`, `2d`, or combined `1h30m` (Go/Prometheus style) → milliseconds. */
export function parseDurationMs(text: string, flag: string): number {
  let rest = text.trim();
  let total = 0;
  if (rest === '') throw new CliError(`${flag}: empty duration`);
  while (rest !== '') {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/.exec(rest);
    if (match === null) throw new CliError(`${flag}: invalid duration ${JSON.stringify(text)} (examples: 30s, 5m, 1h30m, 7d)`);
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  return total;
}

/** `30s` for whole seconds, else `1500ms`. */
export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
