/** Pushing to a server under test in each of Loki's body formats. */
import { gzipSync } from 'node:zlib';
import { encodeSnappyPushRequest } from '../../proto/index.js';

export interface TestEntry {
  ts: bigint;
  line: string;
  metadata?: Array<[string, string]>;
}

export interface TestStream {
  labels: Record<string, string> | string;
  entries: TestEntry[];
}

function labelString(labels: Record<string, string> | string): string {
  if (typeof labels === 'string') return labels;
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ')}}`;
}

export function protobufBody(streams: TestStream[]): Buffer {
  return encodeSnappyPushRequest(
    streams.map((s) => ({
      labels: labelString(s.labels),
      entries: s.entries.map((e) => ({
        seconds: Number(e.ts / 1_000_000_000n),
        nanos: Number(e.ts % 1_000_000_000n),
        line: e.line,
        ...(e.metadata ? { metadata: e.metadata } : {}),
      })),
    })),
  );
}

export function jsonBody(streams: TestStream[]): string {
  return JSON.stringify({
    streams: streams.map((s) => {
      if (typeof s.labels === 'string') throw new Error('JSON pushes take label objects');
      return {
        stream: s.labels,
        values: s.entries.map((e) => (e.metadata ? [String(e.ts), e.line, Object.fromEntries(e.metadata)] : [String(e.ts), e.line])),
      };
    }),
  });
}

export interface PushResult {
  status: number;
  body: string;
}

export async function push(
  url: string,
  streams: TestStream[],
  format: 'protobuf' | 'json' | 'json-gzip' = 'protobuf',
  headers: Record<string, string> = {},
): Promise<PushResult> {
  let body: Buffer | string;
  const h: Record<string, string> = { ...headers };
  if (format === 'protobuf') {
    body = protobufBody(streams);
    h['content-type'] ??= 'application/x-protobuf';
  } else {
    body = jsonBody(streams);
    h['content-type'] ??= 'application/json';
    if (format === 'json-gzip') {
      body = gzipSync(body);
      h['content-encoding'] = 'gzip';
    }
  }
  const res = await fetch(`${url}/loki/api/v1/push`, { method: 'POST', body, headers: h });
  return { status: res.status, body: await res.text() };
}

/** A GET with the response's status, text, JSON (undefined when not JSON) and content type. */
export async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: any; text: string; type: string }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, type: res.headers.get('content-type') ?? '' };
}
