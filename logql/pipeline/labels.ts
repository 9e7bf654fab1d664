/**
 * The per-line labels of a log pipeline, modelled on Loki's `LabelsBuilder` (pkg/logql/log/labels.go).
 *
 * A line carries three categories of labels: its stream labels, its structured metadata and the
 * labels parsers extract. Precedence is stream > structured metadata > parsed: a structured-metadata
 * or parsed label whose name is already taken by a higher category is stored as `<name>_extracted`.
 * `__error__` and `__error_details__` are kept apart so that stages can set and test them cheaply.
 *
 * One builder is reused for every line (`reset`), so the hot path allocates nothing until the final
 * label set is asked for, and even then a line that only has its stream labels reuses a cached array.
 */

export interface Label {
  readonly name: string;
  readonly value: string;
}

/** A label set: an array of name/value pairs. Results are sorted by name. */
export type Labels = readonly Label[];

export type LabelCategory = 'stream' | 'structuredMetadata' | 'parsed';

/** A line's labels by category (see `LabelsBuilder.categories`). */
export interface LabelCategories {
  readonly stream: Labels;
  readonly structuredMetadata: Labels;
  readonly parsed: Labels;
}

export const ERROR_LABEL = '__error__';
export const ERROR_DETAILS_LABEL = '__error_details__';
/** Suffix of a label that lost a name clash to a higher-precedence category. */
export const DUPLICATE_SUFFIX = '_extracted';

/** Error values Loki puts in `__error__`. */
export const JSON_PARSER_ERR = 'JSONParserErr';
export const LOGFMT_PARSER_ERR = 'LogfmtParserErr';
export const LABEL_FILTER_ERR = 'LabelFilterErr';
export const TEMPLATE_FORMAT_ERR = 'TemplateFormatErr';

/** Label sets with at most this many extra labels are cached per stream, up to MAX_CACHED_SETS. */
const SMALL_SET = 4;
const MAX_CACHED_SETS = 1024;

const compareLabels = (a: Label, b: Label): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

// Characters JSON.stringify would escape (quotes, backslash, controls, lone surrogates).
const NEEDS_QUOTING = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * `{a="b", c="d"}` for a sorted label set: the identity of an output stream. Values are quoted as
 * JSON strings (close to, but not always identical with, Go's strconv.Quote).
 */
export function labelsKey(labels: Labels): string {
  let s = '{';
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (i > 0) s += ', ';
    const v = l.value;
    s += l.name + (NEEDS_QUOTING.test(v) ? '=' + JSON.stringify(v) : '="' + v + '"');
  }
  return s + '}';
}

export class LabelsBuilder {
  private stream: Labels = [];
  private sortedStream: Labels = [];
  private streamKey = '{}';
  private readonly streamMap = new Map<string, string>();
  /** Stream labels deleted on this line. */
  private readonly deletedStream = new Set<string>();
  private readonly metadata = new Map<string, string>();
  private readonly parsed = new Map<string, string>();
  private err = '';
  private errDetails = '';
  private cachedLine: Uint8Array | null = null;
  private cachedText = '';
  private readonly decoder = new TextDecoder();
  /**
   * Final label sets of this stream by the labels lines added to it, so that lines with the same
   * extra labels (`level="error"`) share one array and its key instead of sorting and quoting anew.
   */
  private readonly setCache = new Map<string, Labels>();
  /** Keys of the arrays in `setCache`. */
  private readonly keyCache = new Map<Labels, string>();

  /** Starts a new line. Stream labels are cached by array identity: pass the same array for every line of a stream. */
  reset(stream: Labels, structuredMetadata: Labels): void {
    if (stream !== this.stream) {
      this.stream = stream;
      this.setCache.clear();
      this.keyCache.clear();
      this.streamMap.clear();
      for (const l of stream) this.streamMap.set(l.name, l.value);
      this.sortedStream = [...stream].sort(compareLabels);
      this.streamKey = labelsKey(this.sortedStream);
    }
    if (this.deletedStream.size > 0) this.deletedStream.clear();
    if (this.metadata.size > 0) this.metadata.clear();
    if (this.parsed.size > 0) this.parsed.clear();
    this.err = '';
    this.errDetails = '';
    this.cachedLine = null;
    for (let i = 0; i < structuredMetadata.length; i++) {
      const l = structuredMetadata[i]!;
      const name = this.streamMap.has(l.name) ? l.name + DUPLICATE_SUFFIX : l.name;
      this.metadata.set(name, l.value);
    }
  }

  /** The line as a string, decoded once per line however many stages ask. */
  lineText(line: Uint8Array): string {
    if (line !== this.cachedLine) {
      this.cachedText = this.decoder.decode(line);
      this.cachedLine = line;
    }
    return this.cachedText;
  }

  /** The current value of a label (any category, including the error labels), or undefined. */
  get(name: string): string | undefined {
    if (name === ERROR_LABEL) return this.err === '' ? undefined : this.err;
    if (name === ERROR_DETAILS_LABEL) return this.errDetails === '' ? undefined : this.errDetails;
    if (!this.deletedStream.has(name)) {
      const v = this.streamMap.get(name);
      if (v !== undefined) return v;
    }
    const m = this.metadata.get(name);
    if (m !== undefined) return m;
    return this.parsed.get(name);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Whether the stream labels (Loki's "base") contain `name`, even if deleted on this line. */
  baseHas(name: string): boolean {
    return this.streamMap.has(name);
  }

  /** The name a label of `category` gets after the clash rule (`<name>_extracted` when a higher category has it). */
  resolveName(category: LabelCategory, name: string): string {
    if (category === 'stream') return name;
    if (this.streamMap.has(name)) return name + DUPLICATE_SUFFIX;
    if (category === 'parsed' && this.metadata.has(name)) return name + DUPLICATE_SUFFIX;
    return name;
  }

  /**
   * Sets a label of `category` after the clash rule. Setting `__error__`/`__error_details__` sets the
   * error. Stream labels: the value replaces the stream value for this line only.
   */
  set(category: LabelCategory, name: string, value: string): void {
    if (this.setErrorLabel(name, value)) return;
    const n = this.resolveName(category, name);
    if (category === 'parsed') this.parsed.set(n, value);
    else if (category === 'structuredMetadata') this.metadata.set(n, value);
    else {
      this.deletedStream.add(n);
      this.parsed.set(n, value);
    }
  }

  /** Sets `__error__` or `__error_details__` when `name` is one of them; false otherwise. */
  private setErrorLabel(name: string, value: string): boolean {
    if (name === ERROR_LABEL) this.err = value;
    else if (name === ERROR_DETAILS_LABEL) this.errDetails = value;
    else return false;
    return true;
  }

  /**
   * Loki's `Set(ParsedLabel, name, value)` as `label_format` uses it: no `_extracted` renaming; the
   * value replaces a stream or structured-metadata label of the same name for this line.
   */
  setFormatted(name: string, value: string): void {
    if (this.setErrorLabel(name, value)) return;
    if (this.streamMap.has(name)) this.deletedStream.add(name);
    this.metadata.delete(name);
    this.parsed.set(name, value);
  }

  /**
   * A parser's label: clash rule applied, and a parsed label already present on this line wins
   * (first value wins). Returns false when the label was already there.
   */
  setParsedIfAbsent(name: string, value: string): boolean {
    const n = this.resolveName('parsed', name);
    if (this.parsed.has(n)) return false;
    this.parsed.set(n, value);
    return true;
  }

  /** Removes a label from every category (or clears the error labels). */
  delete(name: string): void {
    if (name === ERROR_LABEL) {
      this.err = '';
      return;
    }
    if (name === ERROR_DETAILS_LABEL) {
      this.errDetails = '';
      return;
    }
    if (this.streamMap.has(name)) this.deletedStream.add(name);
    this.metadata.delete(name);
    this.parsed.delete(name);
  }

  /** Sets `__error__`, and `__error_details__` when `details` is given (else it is left as it is). */
  setError(err: string, details?: string): void {
    this.err = err;
    if (details !== undefined) this.errDetails = details;
  }

  hasError(): boolean {
    return this.err !== '';
  }

  get error(): string {
    return this.err;
  }

  get errorDetails(): string {
    return this.errDetails;
  }

  /** Calls `fn` for every current label (unordered). `fn` may delete the label it is given. */
  forEach(fn: (name: string, value: string) => void): void {
    for (const l of this.stream) if (!this.deletedStream.has(l.name)) fn(l.name, l.value);
    for (const [n, v] of this.metadata) fn(n, v);
    for (const [n, v] of this.parsed) fn(n, v);
    if (this.err !== '') fn(ERROR_LABEL, this.err);
    if (this.errDetails !== '') fn(ERROR_DETAILS_LABEL, this.errDetails);
  }

  private onlyStream(): boolean {
    return (
      this.deletedStream.size === 0 &&
      this.metadata.size === 0 &&
      this.parsed.size === 0 &&
      this.err === '' &&
      this.errDetails === ''
    );
  }

  /** The final label set of the line, sorted by name. Do not mutate: it may be shared between lines. */
  labels(): Labels {
    if (this.onlyStream()) return this.sortedStream;
    // A few extra labels (a parser under hints, a level): look the set up by what was added.
    const extra = this.metadata.size + this.parsed.size;
    if (extra > SMALL_SET || this.deletedStream.size > 0 || this.err !== '' || this.errDetails !== '') return this.buildLabels();
    let signature = '';
    for (const [name, value] of this.metadata) signature += name + '\u0000' + value + '\u0001';
    signature += '\u0002';
    for (const [name, value] of this.parsed) signature += name + '\u0000' + value + '\u0001';
    let labels = this.setCache.get(signature);
    if (labels === undefined) {
      labels = this.buildLabels();
      if (this.setCache.size < MAX_CACHED_SETS) {
        this.setCache.set(signature, labels);
        this.keyCache.set(labels, labelsKey(labels));
      }
    }
    return labels;
  }

  private buildLabels(): Labels {
    const out: Label[] = [];
    for (const l of this.stream) if (!this.deletedStream.has(l.name)) out.push(l);
    for (const [name, value] of this.metadata) out.push({ name, value });
    for (const [name, value] of this.parsed) out.push({ name, value });
    if (this.err !== '') out.push({ name: ERROR_LABEL, value: this.err });
    if (this.errDetails !== '') out.push({ name: ERROR_DETAILS_LABEL, value: this.errDetails });
    return out.sort(compareLabels);
  }

  /** Canonical `{a="b", …}` key of `labels()`, for grouping lines into output streams. */
  key(): string {
    if (this.onlyStream()) return this.streamKey;
    return this.keyOf(this.labels());
  }

  /**
   * The line's labels split the way `categorize-labels` responses carry them: what is left of the
   * stream labels, the structured metadata, and the parsed labels (with the error labels, as Loki
   * files them). Each part sorted by name. Allocates: call it only for lines that are returned.
   */
  categories(): LabelCategories {
    const stream = this.deletedStream.size === 0 ? this.sortedStream : this.sortedStream.filter((l) => !this.deletedStream.has(l.name));
    const structuredMetadata: Label[] = [];
    for (const [name, value] of this.metadata) structuredMetadata.push({ name, value });
    const parsed: Label[] = [];
    for (const [name, value] of this.parsed) parsed.push({ name, value });
    if (this.err !== '') parsed.push({ name: ERROR_LABEL, value: this.err });
    if (this.errDetails !== '') parsed.push({ name: ERROR_DETAILS_LABEL, value: this.errDetails });
    return { stream, structuredMetadata: structuredMetadata.sort(compareLabels), parsed: parsed.sort(compareLabels) };
  }

  /** `labelsKey(labels)` for a result of `labels()`, cached when it is the stream's own label set. */
  keyOf(labels: Labels): string {
    if (labels === this.sortedStream) return this.streamKey;
    return this.keyCache.get(labels) ?? labelsKey(labels);
  }
}
