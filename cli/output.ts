/**
 * How the CLI prints: logcli's log line formats (`default`, `raw`, `jsonl`), its label colours,
 * RFC3339 timestamps, tables for metric and instant results, small unicode charts, and
 * humanised byte counts. Colours only on a terminal, never with `--no-color` or `NO_COLOR`.
 */

export type Labels = Record<string, string>;
export type OutputMode = 'default' | 'raw' | 'jsonl';
export const OUTPUT_MODES: readonly OutputMode[] = ['default', 'raw', 'jsonl'];

/** Whether to colour output written to `stream`: a TTY, no `--no-color`, no `NO_COLOR` (any non-empty value). */
export function useColor(stream: { isTTY?: boolean }, noColorFlag = false, env: NodeJS.ProcessEnv = process.env): boolean {
  if (noColorFlag) return false;
  const noColor = env['NO_COLOR'];
  if (noColor !== undefined && noColor !== '') return false;
  return stream.isTTY === true;
}

const ESC = '\u001b[';
export const ANSI = {
  blue: 34,
  red: 31,
  bold: 1,
  dim: 2,
} as const;

/** Wraps `text` in an SGR colour when `enabled`. */
export function paint(text: string, code: number, enabled: boolean): string {
  return enabled ? `${ESC}${code}m${text}${ESC}0m` : text;
}

/** logcli's label colours (fatih/color): hi-cyan, cyan, hi-green, green, hi-magenta, magenta, hi-yellow, yellow, hi-red, red. */
const LABEL_COLORS = [96, 36, 92, 32, 95, 35, 93, 33, 91, 31];

/** Go's hash/fnv New32 (FNV-1, not 1a) over the UTF-8 bytes of `text`. */
export function fnv32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash = Math.imul(hash, 0x01000193) >>> 0;
    hash = (hash ^ byte) >>> 0;
  }
  return hash >>> 0;
}

/** The colour logcli gives a label set: FNV-32 of its string form, modulo the colour list. */
export function labelColor(labelString: string): number {
  return LABEL_COLORS[fnv32(labelString) % LABEL_COLORS.length]!;
}

/** Go's strconv.Quote, close enough: JSON string escaping (differs only for rare control characters). */
function goQuote(value: string): string {
  return JSON.stringify(value);
}

/** Loki's LabelSet.String(): `{a="1", b="2"}`, names sorted; `{}` when empty. */
export function formatLabels(labels: Labels): string {
  const names = Object.keys(labels).sort();
  return `{${names.map((n) => `${n}=${goQuote(labels[n]!)}`).join(', ')}}`;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * Go's time.Format(RFC3339) (`nano`: RFC3339Nano, trailing zeros of the fraction dropped) of a
 * nanosecond timestamp, in UTC (`Z`) or the local time zone (`+02:00`).
 */
export function formatTimestamp(ns: bigint, { utc = false, nano = false }: { utc?: boolean; nano?: boolean } = {}): string {
  let seconds = ns / 1_000_000_000n;
  let frac = ns % 1_000_000_000n;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    seconds -= 1n;
  }
  const ms = Number(seconds) * 1000;
  const date = new Date(ms);
  const offsetMin = utc ? 0 : -date.getTimezoneOffset();
  const shifted = new Date(ms + offsetMin * 60_000);
  const base =
    `${String(shifted.getUTCFullYear()).padStart(4, '0')}-${pad2(shifted.getUTCMonth() + 1)}-${pad2(shifted.getUTCDate())}` +
    `T${pad2(shifted.getUTCHours())}:${pad2(shifted.getUTCMinutes())}:${pad2(shifted.getUTCSeconds())}`;
  let fraction = '';
  if (nano && frac !== 0n) fraction = '.' + frac.toString().padStart(9, '0').replace(/0+$/, '');
  let zone = 'Z';
  if (offsetMin !== 0) {
    const abs = Math.abs(offsetMin);
    zone = `${offsetMin < 0 ? '-' : '+'}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
  }
  return base + fraction + zone;
}

export interface LogFormatOptions {
  mode: OutputMode;
  color: boolean;
  noLabels: boolean;
  utc: boolean;
}

/**
 * One log entry as logcli prints it:
 * - default: `<RFC3339> <labels padded to the widest> <line, trimmed>`, timestamp blue and labels
 *   in their colour on a terminal; `--no-labels` drops the labels column.
 * - raw: the line only (one trailing newline removed).
 * - jsonl: `{"labels":{…},"line":"…","timestamp":"<RFC3339Nano>"}` (Go's sorted map keys).
 */
export function formatEntry(options: LogFormatOptions, ts: bigint, labels: Labels, maxLabelsLen: number, line: string): string {
  switch (options.mode) {
    case 'raw':
      return line.endsWith('\n') ? line.slice(0, -1) : line;
    case 'jsonl': {
      const entry: Record<string, unknown> = {};
      if (!options.noLabels) entry['labels'] = sortedObject(labels);
      entry['line'] = line;
      entry['timestamp'] = formatTimestamp(ts, { utc: options.utc, nano: true });
      return JSON.stringify(entry);
    }
    default: {
      const timestamp = paint(formatTimestamp(ts, { utc: options.utc }), ANSI.blue, options.color);
      const trimmed = line.trim();
      if (options.noLabels) return `${timestamp} ${trimmed}`;
      const text = formatLabels(labels);
      const padded = text.length < maxLabelsLen ? text + ' '.repeat(maxLabelsLen - text.length) : text;
      return `${timestamp} ${options.color ? paint(padded, labelColor(text), true) : padded} ${trimmed}`;
    }
  }
}

function sortedObject(labels: Labels): Labels {
  const out: Labels = {};
  for (const k of Object.keys(labels).sort()) out[k] = labels[k]!;
  return out;
}

/** The labels every stream has with the same value (logcli's commonLabels). */
export function commonLabels(sets: Labels[]): Labels {
  if (sets.length === 0) return {};
  let result: Labels = { ...sets[0]! };
  for (let i = 1; i < sets.length; i++) {
    const next: Labels = {};
    for (const [k, v] of Object.entries(result)) if (sets[i]![k] === v) next[k] = v;
    result = next;
  }
  return result;
}

/** `a` without the pairs of `b` (same name and value). */
export function subtractLabels(a: Labels, b: Labels): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(a)) if (b[k] !== v) out[k] = v;
  return out;
}

/** Only (`keep`) or all but (`!keep`) the named labels (logcli's util.MatchLabels). */
export function matchLabels(keep: boolean, labels: Labels, names: string[]): Labels {
  const set = new Set(names);
  const out: Labels = {};
  for (const [k, v] of Object.entries(labels)) if (set.has(k) === keep) out[k] = v;
  return out;
}

/** A plain text table: columns padded to the widest cell, two spaces apart, header bold on a terminal. */
export function renderTable(headers: string[], rows: string[][], color = false): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [paint(line(headers), ANSI.bold, color), ...rows.map(line)];
  return out.join('\n') + '\n';
}

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** A one-line unicode chart of `values`, resampled to at most `width` columns (NaN: a space). */
export function sparkline(values: number[], width = 60): string {
  if (values.length === 0) return '';
  let points = values;
  if (values.length > width) {
    points = [];
    for (let i = 0; i < width; i++) {
      const from = Math.floor((i * values.length) / width);
      const to = Math.max(from + 1, Math.floor(((i + 1) * values.length) / width));
      const slice = values.slice(from, to).filter((v) => Number.isFinite(v));
      points.push(slice.length === 0 ? NaN : Math.max(...slice));
    }
  }
  const finite = points.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return ' '.repeat(points.length);
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  return points
    .map((v) => {
      if (!Number.isFinite(v)) return ' ';
      if (max === min) return BARS[3]!;
      return BARS[Math.min(BARS.length - 1, Math.floor(((v - min) / (max - min)) * BARS.length))]!;
    })
    .join('');
}

/** go-humanize's Bytes (SI units): `9 B`, `1.2 kB`, `34 MB`. */
export function humanizeBytes(bytes: number): string {
  if (bytes < 10) return `${bytes} B`;
  const sizes = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const e = Math.min(sizes.length - 1, Math.floor(Math.log(bytes) / Math.log(1000)));
  const val = Math.floor((bytes / 1000 ** e) * 10 + 0.5) / 10;
  return `${val < 10 ? val.toFixed(1) : val.toFixed(0)} ${sizes[e]}`;
}

/** Go's time.Duration.String() of a number of seconds (`1.5s`, `250ms`, `1m30s`, `0s`). */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds === 0) return '0s';
  const ns = Math.round(seconds * 1e9);
  if (ns < 1000) return `${ns}ns`;
  if (ns < 1e6) return `${trimFloat(ns / 1e3)}µs`;
  if (ns < 1e9) return `${trimFloat(ns / 1e6)}ms`;
  let rest = ns / 1e9;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  rest -= m * 60;
  const s = `${trimFloat(rest)}s`;
  if (h > 0) return `${h}h${m}m${s}`;
  if (m > 0) return `${m}m${s}`;
  return s;
}

function trimFloat(v: number): string {
  return String(Number(v.toFixed(9)));
}

/**
 * `--stats`: the summary of a query answer's `data.stats`, one `Summary.<Name>  <value>` line
 * each, as logcli logs them (bytes humanised, times as durations).
 */
export function formatQueryStats(stats: unknown, color = false): string {
  const summary = (stats as { summary?: Record<string, unknown> } | undefined)?.summary;
  if (summary === undefined || summary === null || typeof summary !== 'object') return '';
  const rows: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(summary)) {
    const name = `Summary.${key.charAt(0).toUpperCase()}${key.slice(1)}`;
    let text = String(value);
    if (typeof value === 'number') {
      if (/PerSecond$/.test(key) && /bytes/i.test(key)) text = `${humanizeBytes(value)}/s`;
      else if (/bytes/i.test(key)) text = humanizeBytes(value);
      else if (/Time$/.test(key)) text = formatSeconds(value);
    }
    rows.push([name, text]);
  }
  const width = Math.max(...rows.map(([n]) => n.length));
  return rows.map(([n, v]) => `${paint(n.padEnd(width), ANSI.blue, color)}  ${v}`).join('\n') + '\n';
}

/** A Prometheus sample timestamp (float seconds) → nanoseconds. */
export function sampleTimeNs(seconds: number): bigint {
  return BigInt(Math.round(seconds * 1000)) * 1_000_000n;
}

export interface Series {
  metric: Labels;
  values: Array<[number, string]>;
}

export interface MetricFormatOptions {
  mode: OutputMode;
  color: boolean;
  utc: boolean;
  /** Draw a chart per series (a terminal and default mode only). */
  chart: boolean;
}

/**
 * Metric results (matrix and vector): `default` a table of series labels, timestamp and value,
 * then on a terminal a small chart per series; `raw` the same rows tab-separated without a
 * header; `jsonl` one `{"metric":{…},"timestamp":"…","value":"…"}` per sample.
 */
export function formatSeries(options: MetricFormatOptions, series: Series[]): string {
  if (options.mode === 'jsonl') {
    let out = '';
    for (const s of series) {
      for (const [t, v] of s.values) {
        out += JSON.stringify({ metric: sortedObject(s.metric), timestamp: formatTimestamp(sampleTimeNs(t), { utc: options.utc, nano: true }), value: v }) + '\n';
      }
    }
    return out;
  }
  const rows: string[][] = [];
  for (const s of series) {
    const labels = formatLabels(s.metric);
    for (const [t, v] of s.values) rows.push([labels, formatTimestamp(sampleTimeNs(t), { utc: options.utc }), v]);
  }
  if (options.mode === 'raw') return rows.map((r) => r.join('\t') + '\n').join('');
  let out = rows.length === 0 ? '' : renderTable(['SERIES', 'TIMESTAMP', 'VALUE'], rows, options.color);
  if (options.chart && series.some((s) => s.values.length > 1)) {
    out += '\n';
    const width = Math.max(...series.map((s) => formatLabels(s.metric).length));
    for (const s of series) {
      const values = s.values.map(([, v]) => Number(v));
      const finite = values.filter((v) => Number.isFinite(v));
      const text = formatLabels(s.metric);
      const label = paint(text.padEnd(width), labelColor(text), options.color);
      const range = finite.length === 0 ? '' : `  min ${Math.min(...finite)}  max ${Math.max(...finite)}`;
      out += `${label}  ${sparkline(values)}${range}\n`;
    }
  }
  return out;
}
