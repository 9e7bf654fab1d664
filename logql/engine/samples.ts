/**
 * Sample extraction: the log side of a range aggregation (Loki's `log.SampleExtractor`,
 * pkg/logql/log/metrics_extraction.go).
 *
 * Every matched stream is read once, forward, over the range the aggregation needs. Each entry goes
 * through the query's pipeline (compiled once per range expression) and becomes one sample:
 * - value 1 (count_over_time, rate, absent_over_time without unwrap),
 * - the line's byte length after the pipeline (bytes_over_time, bytes_rate),
 * - or the `unwrap` label converted: a float (Go `strconv.ParseFloat`), `duration`/`duration_seconds`
 *   (Go `time.ParseDuration`, in seconds) or `bytes` (go-humanize `ParseBytes`). A line without the
 *   label, or with an empty value, gives no sample. A failed conversion sets
 *   `__error__="SampleExtractionErr"` and `__error_details__` to Go's message; then the post-unwrap
 *   label filters run.
 *
 * The sample's series is its final label set after grouping: no grouping keeps every label (minus
 * the unwrapped one), `by (…)` keeps the named labels, `without (…)` drops them (and the unwrapped
 * one), `by ()` keeps none. As in Loki's `LabelsBuilder.GroupedLabels`, a sample that carries an
 * error keeps all its labels so that the error is reported, not grouped away.
 *
 * Samples are stored per series in growable Float64Arrays: timestamps as nanoseconds relative to the
 * start of the read range (exact below 2^53 ns ≈ 104 days), values only when they are not all 1.
 */
import type { Grouping, LabelFilterExpr, LogRangeExpr, PipelineStage, UnwrapConversion } from '../ast.js';
import {
  ConversionError,
  LabelFilter,
  parseBytesValue,
  parseFloatValue,
  parseGoDuration,
} from '../pipeline/label-filter.js';
import {
  ERROR_DETAILS_LABEL,
  ERROR_LABEL,
  LabelsBuilder,
  labelsKey,
  type Label,
  type Labels,
} from '../pipeline/labels.js';
import { compilePipeline, type Pipeline } from '../pipeline/pipeline.js';
import { QueryError, countEntry, type QueryContext, type QueryStats } from './context.js';
import { readRefs } from './read.js';
import { SubstringHits, countSearchedBatch } from './substring.js';
import { compareLabels, type SeriesRef } from './series.js';
import type { BatchRef, EntryBatch, LogSource, SourceStream } from './source.js';

export const SAMPLE_EXTRACTION_ERR = 'SampleExtractionErr';

/** What each entry contributes. */
export type SampleValueKind = 'count' | 'bytes' | 'unwrap';

/** The samples of one series, ascending by time once `finish()` ran. */
export class SampleSeries {
  ts: Float64Array;
  /** null when every value is 1 (count-like extraction). */
  values: Float64Array | null;
  length = 0;
  private sorted = true;

  constructor(
    readonly ref: SeriesRef,
    withValues: boolean,
    /** Whether the series' labels carry `__error__`. */
    readonly hasError: boolean,
  ) {
    this.ts = new Float64Array(4);
    this.values = withValues ? new Float64Array(4) : null;
  }

  /**
   * `weight` entries at time `t` at once (a block counted from its index entry). A count-like
   * series then keeps values, so windows sum them instead of counting samples.
   */
  pushWeighted(t: number, weight: number): void {
    if (this.values === null) {
      this.values = new Float64Array(this.ts.length);
      this.values.fill(1, 0, this.length);
    }
    this.push(t, weight);
  }

  push(t: number, v: number): void {
    const n = this.length;
    if (n === this.ts.length) this.grow();
    if (n > 0 && t < this.ts[n - 1]!) this.sorted = false;
    this.ts[n] = t;
    if (this.values !== null) this.values[n] = v;
    this.length = n + 1;
  }

  private grow(): void {
    const ts = new Float64Array(this.ts.length * 2);
    ts.set(this.ts);
    this.ts = ts;
    if (this.values !== null) {
      const vs = new Float64Array(this.values.length * 2);
      vs.set(this.values);
      this.values = vs;
    }
  }

  /**
   * Sorts by time when streams interleaved (several streams feeding one series). Stable, so entries
   * with equal timestamps keep the order the streams were read in.
   */
  finish(): void {
    if (this.sorted) return;
    const n = this.length;
    if (this.values === null) {
      // Samples without values are all alike: the native numeric sort of the times is enough.
      this.ts.subarray(0, n).sort();
      this.sorted = true;
      return;
    }
    const idx = new Uint32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    const ts = this.ts;
    const order = Array.from(idx).sort((a, b) => ts[a]! - ts[b]! || a - b);
    const nts = new Float64Array(n);
    for (let i = 0; i < n; i++) nts[i] = ts[order[i]!]!;
    this.ts = nts;
    if (this.values !== null) {
      const vs = this.values;
      const nvs = new Float64Array(n);
      for (let i = 0; i < n; i++) nvs[i] = vs[order[i]!]!;
      this.values = nvs;
    }
    this.sorted = true;
  }
}

export interface ExtractionSpec {
  range: LogRangeExpr;
  kind: SampleValueKind;
  /**
   * The grouping applied at extraction: the range aggregation's own, or the one a parent `sum`
   * pushes down (Loki's `canInjectVectorGrouping`). Undefined: keep all labels. `noLabels`: `by ()`.
   */
  grouping?: Grouping;
  noLabels?: boolean;
  /**
   * For count-like ops: whether entries anywhere in `[min, max]` (ns relative to the read start)
   * all fall in the same evaluation windows, so a block there may be counted from its entry count
   * without being read. Undefined: every entry is read.
   */
  sameWindows?: (min: number, max: number) => boolean;
}

/**
 * Whether a stream's series is fixed by its stream labels alone (structured metadata cannot change
 * it): no labels kept, or grouping `by` labels the stream itself has.
 */
function seriesIgnoresMetadata(spec: ExtractionSpec, streamLabels: Labels): boolean {
  const g = spec.grouping;
  if (spec.noLabels || (g !== undefined && !g.without && g.labels.length === 0)) return true;
  return g !== undefined && !g.without && g.labels.every((name) => streamLabels.some((l) => l.name === name));
}

export interface ExtractedSamples {
  /** Timestamps of the samples are relative to this time (ns). */
  readonly base: bigint;
  /** Sorted by labels. */
  readonly series: SampleSeries[];
}

/**
 * Loki's `removeLineformat` (pkg/logql/optimize.go): unless the samples are line bytes, a
 * `line_format` is removed when no parser or line filter follows it (nothing else reads the line
 * for the sample, so Loki skips rendering it).
 */
const READS_LINE = new Set<PipelineStage['kind']>([
  'LogfmtParser',
  'JsonParser',
  'RegexpParser',
  'PatternParser',
  'UnpackParser',
  'LineFilter',
]);

function removeLineFormats(stages: readonly PipelineStage[], bytes: boolean): PipelineStage[] {
  if (bytes) return [...stages];
  return stages.filter((s, i) => s.kind !== 'LineFormat' || stages.slice(i + 1).some((t) => READS_LINE.has(t.kind)));
}

type Converter = (v: string) => number;

function converter(conv: UnwrapConversion | undefined): Converter {
  switch (conv) {
    case undefined:
      return parseFloatValue;
    case 'bytes':
      return parseBytesValue;
    case 'duration':
    case 'duration_seconds':
      return (v) => {
        // Go's Duration.Seconds(): whole seconds plus the nanosecond remainder.
        const ns = parseGoDuration(v);
        const sec = Math.trunc(ns / 1e9);
        return sec + (ns - sec * 1e9) / 1e9;
      };
  }
}

/** Builds the grouped label set of a sample (see the file comment). */
class Grouper {
  private readonly names: ReadonlySet<string> | null;
  private readonly without: boolean;
  private readonly all: boolean;
  private readonly none: boolean;

  constructor(spec: ExtractionSpec) {
    const unwrapLabel = spec.range.unwrap?.label;
    const g = spec.grouping;
    if (spec.noLabels || (g !== undefined && !g.without && g.labels.length === 0)) {
      this.none = true;
      this.all = false;
      this.without = false;
      this.names = null;
    } else if (g === undefined || g.without) {
      const names = new Set(g?.labels ?? []);
      if (unwrapLabel !== undefined) names.add(unwrapLabel);
      this.none = false;
      this.all = names.size === 0;
      this.without = true;
      this.names = names;
    } else {
      this.none = false;
      this.all = false;
      this.without = false;
      this.names = new Set(g.labels);
    }
  }

  /** The lookup key of the grouped labels, or null when the grouping keeps every label. */
  key(labels: Labels): string | null {
    if (this.all) return null;
    if (this.none) return '';
    let k = '';
    const names = this.names!;
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i]!;
      if (names.has(l.name) !== this.without) k += l.name + '\u0000' + l.value + '\u0001';
    }
    return k;
  }

  labels(labels: Labels): Labels {
    if (this.all) return labels;
    if (this.none) return [];
    const out: Label[] = [];
    const names = this.names!;
    for (const l of labels) if (names.has(l.name) !== this.without) out.push(l);
    return out;
  }
}

/**
 * Loki's parser hints: when the samples are grouped `by` some labels, parsers only need to extract
 * those (and the unwrapped one); undefined (extract everything) for `without` or no grouping.
 */
function parserHints(spec: ExtractionSpec): ReadonlySet<string> | undefined {
  const g = spec.grouping;
  if (!spec.noLabels && (g === undefined || g.without)) return undefined;
  const required = new Set(spec.noLabels ? [] : g!.labels);
  if (spec.range.unwrap !== undefined) required.add(spec.range.unwrap.label);
  return required;
}

function hasErrorLabel(labels: Labels): boolean {
  for (let i = 0; i < labels.length; i++) if (labels[i]!.name === ERROR_LABEL) return true;
  return false;
}

/** One series' samples as they cross threads (an extraction run elsewhere, see `ExtractionPart`). */
export interface SeriesPart {
  readonly labels: Labels;
  readonly key: string;
  readonly hasError: boolean;
  readonly ts: Float64Array;
  readonly values: Float64Array | null;
}

/** What extracting some batches produced: per-series samples and the work counted. */
export interface ExtractionPart {
  readonly series: SeriesPart[];
  readonly stats: QueryStats;
}

/**
 * What an extraction needs to run elsewhere (another thread): plain data only. Every batch sent
 * with the same `id` belongs to the same extraction, so a worker may compile its pipeline once.
 */
export interface ExtractionJob {
  readonly id: string;
  readonly spec: PlainExtractionSpec;
  /** Sample times are relative to this (ns). */
  readonly base: bigint;
}

/** An ExtractionSpec without its function member, so that it can be posted to a thread. */
export type PlainExtractionSpec = Omit<ExtractionSpec, 'sameWindows'>;

/**
 * Turns batches of entries into per-series samples for one range expression: the pipeline is
 * compiled once; `run` processes a batch synchronously. Used on the query's thread and, through
 * `LogSource.extractElsewhere`, on worker threads whose parts `absorb` merges back.
 */
export class SampleExtractor {
  readonly pipeline: Pipeline;
  private readonly kind: SampleValueKind;
  private readonly grouper: Grouper;
  private readonly convert: Converter | null;
  private readonly unwrapLabel: string | undefined;
  private readonly postFilters: LabelFilter[];
  private readonly postBuilder = new LabelsBuilder();
  private readonly withValues: boolean;
  /** Only the template stages can read an entry's timestamp; others get the batch base, no BigInt. */
  private readonly needsTs: boolean;
  private readonly byKey = new Map<string, SampleSeries>();
  /** Every series by its final key, for merging parts extracted elsewhere. */
  private readonly byFinalKey = new Map<string, SampleSeries>();
  /** Labels → series by array identity: the pipeline hands lines with the same labels the same array. */
  private seriesByLabels = new WeakMap<Labels, SampleSeries>();
  private streamSeries = new WeakMap<Labels, SampleSeries>();
  private readonly substring = new SubstringHits();

  /** Throws QueryError for what building the pipeline rejects. */
  constructor(
    spec: PlainExtractionSpec,
    private readonly base: bigint,
  ) {
    const { range, kind } = spec;
    this.kind = kind;
    try {
      this.pipeline = compilePipeline(removeLineFormats(range.selector.stages, kind === 'bytes'), {
        requiredLabels: parserHints(spec),
      });
    } catch (e) {
      throw new QueryError((e as Error).message);
    }
    this.grouper = new Grouper(spec);
    this.convert = range.unwrap ? converter(range.unwrap.conversion) : null;
    this.unwrapLabel = range.unwrap?.label;
    this.postFilters = (range.unwrap?.postFilters ?? []).map((f: LabelFilterExpr) => new LabelFilter({ kind: 'LabelFilter', filter: f }));
    this.withValues = kind !== 'count';
    this.needsTs = range.selector.stages.some((st) => st.kind === 'LineFormat' || st.kind === 'LabelFormat');
  }

  private seriesFor(labels: Labels, fullKey: string): SampleSeries {
    const err = hasErrorLabel(labels);
    const gk = err ? null : this.grouper.key(labels);
    const lookup = gk === null ? '\u0002' + fullKey : gk;
    let s = this.byKey.get(lookup);
    if (s === undefined) {
      const out = gk === null ? labels : this.grouper.labels(labels);
      const key = gk === null ? fullKey : labelsKey(out);
      s = this.byFinalKey.get(key);
      if (s === undefined) {
        s = new SampleSeries({ labels: out, key }, this.withValues, err);
        this.byFinalKey.set(key, s);
      }
      this.byKey.set(lookup, s);
    }
    return s;
  }

  private seriesOf(labels: Labels, fullKey: string): SampleSeries {
    let series = this.seriesByLabels.get(labels);
    if (series === undefined) {
      series = this.seriesFor(labels, fullKey);
      this.seriesByLabels.set(labels, series);
    }
    return series;
  }

  /** The series of a stream's own labels (no pipeline, no metadata). */
  private streamSeriesOf(streamLabels: Labels): SampleSeries {
    let series = this.streamSeries.get(streamLabels);
    if (series === undefined) {
      const sorted = [...streamLabels].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      series = this.seriesFor(sorted, labelsKey(sorted));
      this.streamSeries.set(streamLabels, series);
    }
    return series;
  }

  /** A block of `entries` entries at `max` counted from the index (see `ExtractionSpec.sameWindows`). */
  countFromIndex(streamLabels: Labels, max: number, entries: number, stats: QueryStats): void {
    stats.postFilterLines += entries;
    this.streamSeriesOf(streamLabels).pushWeighted(max, entries);
  }

  /** Extracts the samples of one batch of a stream. */
  run(streamLabels: Labels, batch: EntryBatch, stats: QueryStats): void {
    // Without a pipeline, entries without metadata all go to the stream's own series.
    const noopSeries = this.pipeline.isNoop && this.convert === null ? this.streamSeriesOf(streamLabels) : null;
    const delta = Number(batch.base - this.base);
    const offsets = batch.offsets;
    // A leading `|= "…"`: one search of the batch's buffer picks the entries to run the pipeline on.
    const needle = this.pipeline.requiredSubstring;
    const searched = needle !== undefined && batch.lineBounds !== undefined;
    let count = batch.to - batch.from;
    if (searched) {
      count = this.substring.find(batch, needle);
      countSearchedBatch(stats, batch);
    }
    for (let k = 0; k < count; k++) {
      const i = searched ? this.substring.hits[k]! : batch.from + k;
      const line = batch.line(i);
      const md = batch.metadata(i);
      if (!searched) countEntry(stats, line.length, md);
        const t = delta + offsets[i]!;

        if (noopSeries !== null && md.length === 0) {
          stats.postFilterLines++;
          noopSeries.push(t, this.kind === 'bytes' ? line.length : 1);
          continue;
        }

        const ts = this.needsTs ? batch.base + BigInt(offsets[i]!) : batch.base;
        const r = this.pipeline.process(ts, line, streamLabels, md);
        if (r === null) continue;
        if (this.convert === null) {
          stats.postFilterLines++;
          this.seriesOf(r.labels, r.key).push(t, this.kind === 'bytes' ? r.line.length : 1);
          continue;
        }

        // unwrap
        let raw: string | undefined;
        const labels = r.labels;
        for (let j = 0; j < labels.length; j++) {
          if (labels[j]!.name === this.unwrapLabel) {
            raw = labels[j]!.value;
            break;
          }
        }
        if (raw === undefined || raw === '') continue;
        let v = 0;
        let convErr: string | undefined;
        try {
          v = this.convert(raw);
        } catch (e) {
          if (!(e instanceof ConversionError)) throw e;
          convErr = e.message;
        }
        let outLabels = labels;
        let outKey = r.key;
        if (convErr !== undefined || this.postFilters.length > 0) {
          let err: string | undefined;
          let details: string | undefined;
          const plain: Label[] = [];
          for (const l of labels) {
            if (l.name === ERROR_LABEL) err = l.value;
            else if (l.name === ERROR_DETAILS_LABEL) details = l.value;
            else plain.push(l);
          }
          this.postBuilder.reset(plain, []);
          if (err !== undefined) this.postBuilder.setError(err, details);
          else if (details !== undefined) this.postBuilder.set('parsed', ERROR_DETAILS_LABEL, details);
          if (convErr !== undefined) this.postBuilder.setError(SAMPLE_EXTRACTION_ERR, convErr);
          let keep = true;
          for (const f of this.postFilters) {
            if (f.process(ts, r.line, this.postBuilder) === null) {
              keep = false;
              break;
            }
          }
          if (!keep) continue;
          outLabels = this.postBuilder.labels();
          outKey = labelsKey(outLabels);
        }
        stats.postFilterLines++;
        this.seriesFor(outLabels, outKey).push(t, v);
    }
  }

  /** The samples extracted so far as parts (for the thread that merges them); starts afresh. */
  takeParts(): SeriesPart[] {
    const parts: SeriesPart[] = [];
    for (const s of this.byFinalKey.values()) {
      if (s.length === 0) continue;
      parts.push({ labels: s.ref.labels, key: s.ref.key, hasError: s.hasError, ts: s.ts.slice(0, s.length), values: s.values?.slice(0, s.length) ?? null });
    }
    this.byKey.clear();
    this.byFinalKey.clear();
    this.seriesByLabels = new WeakMap();
    this.streamSeries = new WeakMap();
    return parts;
  }

  /** Merges parts extracted elsewhere. */
  absorb(parts: readonly SeriesPart[]): void {
    for (const part of parts) {
      let s = this.byFinalKey.get(part.key);
      if (s === undefined) {
        s = new SampleSeries({ labels: part.labels, key: part.key }, this.withValues, part.hasError);
        this.byFinalKey.set(part.key, s);
      }
      for (let i = 0; i < part.ts.length; i++) s.push(part.ts[i]!, part.values === null ? 1 : part.values[i]!);
    }
  }

  /** Every series, samples sorted, series sorted by labels. */
  finish(): SampleSeries[] {
    const series = [...this.byFinalKey.values()];
    for (const s of series) s.finish();
    series.sort((a, b) => compareLabels(a.ref.labels, b.ref.labels));
    return series;
  }
}

/** How many batches may be extracting elsewhere at once. */
const ELSEWHERE_IN_FLIGHT = 4;

/**
 * Reads every stream the range expression selects over `[readStart, readEnd)` and extracts its
 * samples. `base` is the time sample timestamps are relative to. Batches the source can extract
 * elsewhere (`LogSource.extractElsewhere`, the server's worker threads) go there, a few at a time;
 * the others are extracted here.
 */
export async function extractSamples(
  spec: ExtractionSpec,
  source: LogSource,
  readStart: bigint,
  readEnd: bigint,
  ctx: QueryContext,
): Promise<ExtractedSamples> {
  const base = readStart;
  const { sameWindows, ...plainSpec } = spec;
  const extractor = new SampleExtractor(plainSpec, base);
  const pipeline = extractor.pipeline;
  const stats = ctx.stats;
  const job: ExtractionJob = { id: nextJobId(), spec: plainSpec, base };

  // A count without a pipeline needs no line: a block whose entries all fall in the same windows is
  // counted from the index (its entry count) instead of being decompressed.
  const countsFromIndex = spec.kind === 'count' && pipeline.isNoop && spec.range.unwrap === undefined && sameWindows !== undefined;
  const countFromIndex = (from: SourceStream, ref: BatchRef): boolean => {
    if (ref.entries === undefined || ref.minTs < readStart || ref.maxTs >= readEnd) return false;
    const max = Number(ref.maxTs - base);
    if (!sameWindows!(Number(ref.minTs - base), max) || !seriesIgnoresMetadata(spec, from.labels)) return false;
    extractor.countFromIndex(from.labels, max, ref.entries, stats);
    return true;
  };

  const inFlight = new Set<Promise<void>>();
  const streams = source.selectStreams(spec.range.selector.matchers, readStart, readEnd);
  for (const { stream, ref } of readRefs(source, streams, readStart, readEnd, pipeline.requiredSubstring, countsFromIndex ? countFromIndex : undefined)) {
    const p = ctx.checkpoint();
    if (p) await p;
    const elsewhere = source.extractElsewhere?.(stream, ref, job);
    if (elsewhere !== undefined) {
      const done: Promise<void> = elsewhere.then((part) => {
        extractor.absorb(part.series);
        addStats(stats, part.stats);
        inFlight.delete(done);
      });
      // Observed by the race or the final Promise.all; until then a failure must not go unhandled.
      done.catch(() => undefined);
      inFlight.add(done);
      if (inFlight.size >= ELSEWHERE_IN_FLIGHT) await Promise.race(inFlight);
      continue;
    }
    const batch = await ref.load();
    if (batch.to > batch.from) extractor.run(stream.labels, batch, stats);
  }
  await Promise.all(inFlight);
  return { base, series: extractor.finish() };
}

let jobCounter = 0;

/** Unique within this process, which is where the workers that cache extractors by it live. */
function nextJobId(): string {
  return String(++jobCounter);
}

function addStats(into: QueryStats, from: QueryStats): void {
  into.linesProcessed += from.linesProcessed;
  into.bytesProcessed += from.bytesProcessed;
  into.structuredMetadataBytesProcessed += from.structuredMetadataBytesProcessed;
  into.postFilterLines += from.postFilterLines;
}
