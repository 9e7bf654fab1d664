/**
 * Query parameters as Loki reads them (pkg/loghttp/params.go): GET query strings and
 * POST form bodies alike, times in any of Loki's formats, and `bounds()` for start/end/since.
 */
import type { FastifyRequest } from 'fastify';
import { parseDurationMs } from '../units.js';
import { badRequest } from './errors.js';

/** The request's parameters: the query string, plus the form body of a POST. */
export function requestParams(request: FastifyRequest): URLSearchParams {
  const query = request.url.indexOf('?');
  const params = new URLSearchParams(query >= 0 ? request.url.slice(query + 1) : '');
  if (request.body instanceof URLSearchParams) {
    for (const [key, value] of request.body) params.append(key, value);
  }
  return params;
}

const NS_PER_SECOND = 1_000_000_000n;

/**
 * Parses a timestamp as Loki does: with a `.` → float seconds (rounded to ms); an integer
 * of ≤ 10 digits → seconds; a longer integer → nanoseconds; otherwise RFC3339(Nano).
 */
export function parseTimestamp(value: string, name: string): bigint {
  if (value.includes('.')) {
    const seconds = Number(value);
    if (value.trim() !== '' && Number.isFinite(seconds)) {
      const whole = Math.trunc(seconds);
      const fraction = Math.round((seconds - whole) * 1000) / 1000;
      return BigInt(whole) * NS_PER_SECOND + BigInt(Math.round(fraction * 1e9));
    }
  }
  if (/^[+-]?\d+$/.test(value)) {
    const digits = value.replace(/^[+-]/, '');
    const number = BigInt(value);
    if (number > 2n ** 63n - 1n || number < -(2n ** 63n)) throw invalidTime(name, value);
    return digits.length <= 10 ? number * NS_PER_SECOND : number;
  }
  const rfc = parseRfc3339(value);
  if (rfc === undefined) throw invalidTime(name, value);
  return rfc;
}

function invalidTime(name: string, value: string): Error {
  return badRequest(`invalid ${name} time ${JSON.stringify(value)}: use Unix seconds, Unix nanoseconds or RFC3339`);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

export function parseRfc3339(value: string): bigint | undefined {
  const m = RFC3339.exec(value);
  if (m === null) return undefined;
  const zone = m[8]!.toUpperCase() === 'Z' ? 'Z' : m[8]!;
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${zone}`);
  if (Number.isNaN(ms)) return undefined;
  const fraction = BigInt((m[7] ?? '').padEnd(9, '0') || '0');
  return BigInt(ms) * 1_000_000n + fraction;
}

export interface TimeBounds {
  start: bigint;
  end: bigint;
}

/** Loki's bounds(): end defaults to now; start to min(end, now) − since (since defaults to 1h). */
export function parseBounds(
  params: URLSearchParams,
  nowMs: number = Date.now(),
  defaultSinceMs = 3_600_000,
  endBeforeStartMessage = 'end timestamp must not be before start time',
): TimeBounds {
  const now = BigInt(nowMs) * 1_000_000n;
  const endText = params.get('end');
  const end = endText ? parseTimestamp(endText, 'end') : now;
  let sinceMs = defaultSinceMs;
  const sinceText = params.get('since');
  if (sinceText) {
    const parsed = parseDurationMs(sinceText);
    if (parsed === undefined) throw badRequest(`invalid since duration ${JSON.stringify(sinceText)}: expected e.g. 30m, 1h, 7d`);
    sinceMs = parsed;
  }
  const startText = params.get('start');
  const endOrNow = end > now ? now : end;
  const start = startText ? parseTimestamp(startText, 'start') : endOrNow - BigInt(sinceMs) * 1_000_000n;
  if (end < start) throw badRequest(endBeforeStartMessage);
  return { start, end };
}
