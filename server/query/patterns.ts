/**
 * Log pattern mining for `/loki/api/v1/patterns`: a Drain-style online clustering of log lines
 * (He et al., "Drain: An Online Log Parsing Approach with Fixed Depth Tree"; Loki's
 * `pkg/pattern/drain` has the same shape). Pure: lines in, templates with per-step counts out.
 *
 * - A line is split into tokens at whitespace and at punctuation (`= , : ; ( ) [ ] { } " ' / | < >`);
 *   each token remembers the separator before it, so a template prints like the lines it stands for.
 * - Clusters live in a fixed-depth prefix tree: first by token count, then by the first
 *   `prefixTokens` tokens (a token with a digit in it goes down the `<_>` branch, as does any token
 *   once a node has `maxChildren` children).
 * - A line joins the most similar cluster of its leaf (share of positions where the template's
 *   token equals the line's) when that similarity reaches `similarity`; positions that differ
 *   become `<_>`. Otherwise it starts a new cluster (up to `maxClusters`, after which it is dropped).
 */

export const PARAM = '<_>';

export interface MinerOptions {
  /** Least share of equal token positions for a line to join a cluster (0..1). Default 0.4. */
  similarity?: number;
  /** Tokens of the prefix tree below the token-count level. Default 2. */
  prefixTokens?: number;
  /** Children per tree node before further tokens share the `<_>` child. Default 100. */
  maxChildren?: number;
  /** Clusters in all; lines that would start another are dropped (counted in `dropped`). Default 1000. */
  maxClusters?: number;
  /** Lines longer than this (UTF-16 units) are not mined (counted in `dropped`). Default 3000. */
  maxLineLength?: number;
  /** Tokens per line; the rest of a longer line becomes one trailing token. Default 128. */
  maxTokens?: number;
}

export interface Token {
  /** What precedes the token in the line: whitespace (normalised to one space) or "". */
  readonly sep: string;
  readonly text: string;
}

/** Whitespace runs, single punctuation marks, or runs of anything else. */
const TOKEN = /(\s+)|([=,:;()[\]{}"'/|<>])|([^\s=,:;()[\]{}"'/|<>]+)/g;

/** Splits a line into tokens at whitespace and punctuation (punctuation marks are tokens). */
export function tokenize(line: string, maxTokens = 128): Token[] {
  const tokens: Token[] = [];
  let sep = '';
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(line); m !== null; m = TOKEN.exec(line)) {
    if (m[1] !== undefined) {
      if (tokens.length > 0) sep = ' ';
      continue;
    }
    if (tokens.length === maxTokens - 1) {
      tokens.push({ sep, text: line.slice(m.index).trimEnd() });
      break;
    }
    tokens.push({ sep, text: m[0] });
    sep = '';
  }
  return tokens;
}

function hasDigit(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
  }
  return false;
}

export interface Cluster {
  readonly id: number;
  /** The template's tokens; variable positions hold `PARAM`. */
  tokens: Token[];
  /** Lines per bucket start (the caller's bucket keys, e.g. unix seconds). */
  readonly counts: Map<number, number>;
  total: number;
}

interface Node {
  children: Map<string, Node>;
  clusters: Cluster[];
}

function newNode(): Node {
  return { children: new Map(), clusters: [] };
}

export interface MinedPattern {
  pattern: string;
  /** [bucket, count] ascending by bucket. */
  samples: Array<[number, number]>;
  total: number;
}

export class PatternMiner {
  private readonly similarity: number;
  private readonly prefixTokens: number;
  private readonly maxChildren: number;
  private readonly maxClusters: number;
  private readonly maxLineLength: number;
  private readonly maxTokens: number;
  private readonly root = newNode();
  private readonly clusters: Cluster[] = [];
  /** Lines not mined: too long, or no room for another cluster. */
  dropped = 0;

  constructor(options: MinerOptions = {}) {
    this.similarity = options.similarity ?? 0.4;
    this.prefixTokens = options.prefixTokens ?? 2;
    this.maxChildren = options.maxChildren ?? 100;
    this.maxClusters = options.maxClusters ?? 1000;
    this.maxLineLength = options.maxLineLength ?? 3000;
    this.maxTokens = options.maxTokens ?? 128;
  }

  /** Adds one line seen in `bucket`; returns its cluster, or undefined when it was dropped. */
  add(line: string, bucket = 0, count = 1): Cluster | undefined {
    if (line.length > this.maxLineLength) {
      this.dropped += count;
      return undefined;
    }
    const tokens = tokenize(line, this.maxTokens);
    const leaf = this.leafFor(tokens);
    let cluster = this.bestMatch(leaf.clusters, tokens);
    if (cluster === undefined) {
      if (this.clusters.length >= this.maxClusters) {
        this.dropped += count;
        return undefined;
      }
      cluster = { id: this.clusters.length, tokens: tokens.slice(), counts: new Map(), total: 0 };
      this.clusters.push(cluster);
      leaf.clusters.push(cluster);
    } else {
      const t = cluster.tokens;
      for (let i = 0; i < t.length; i++) {
        if (t[i]!.text !== PARAM && t[i]!.text !== tokens[i]!.text) t[i] = { sep: t[i]!.sep, text: PARAM };
      }
    }
    cluster.counts.set(bucket, (cluster.counts.get(bucket) ?? 0) + count);
    cluster.total += count;
    return cluster;
  }

  /** The leaf for a token sequence, created on the way (token count, then the first tokens). */
  private leafFor(tokens: readonly Token[]): Node {
    let node = this.child(this.root, String(tokens.length), true);
    const depth = Math.min(this.prefixTokens, tokens.length);
    for (let i = 0; i < depth; i++) {
      const text = tokens[i]!.text;
      const key = hasDigit(text) ? PARAM : text;
      node = node.children.has(key) ? node.children.get(key)! : this.child(node, key, false);
    }
    return node;
  }

  private child(node: Node, key: string, unbounded: boolean): Node {
    let next = node.children.get(key);
    if (next !== undefined) return next;
    if (!unbounded && key !== PARAM && node.children.size >= this.maxChildren) return this.child(node, PARAM, true);
    next = newNode();
    node.children.set(key, next);
    return next;
  }

  /** The most similar cluster at or above the threshold; ties go to the one with fewer `<_>`. */
  private bestMatch(clusters: readonly Cluster[], tokens: readonly Token[]): Cluster | undefined {
    let best: Cluster | undefined;
    let bestSim = -1;
    let bestParams = Infinity;
    for (const c of clusters) {
      let equal = 0;
      let params = 0;
      const t = c.tokens;
      for (let i = 0; i < t.length; i++) {
        const text = t[i]!.text;
        if (text === PARAM) params++;
        else if (text === tokens[i]!.text) equal++;
      }
      const sim = t.length === 0 ? 1 : equal / t.length;
      if (sim > bestSim || (sim === bestSim && params < bestParams)) {
        best = c;
        bestSim = sim;
        bestParams = params;
      }
    }
    return best !== undefined && bestSim >= this.similarity ? best : undefined;
  }

  /** The patterns found, most lines first (then by pattern text). */
  patterns(): MinedPattern[] {
    // Clusters of different leaves can end up with the same template: they are one pattern.
    const merged = new Map<string, { counts: Map<number, number>; total: number }>();
    for (const c of this.clusters) {
      const pattern = formatTemplate(c.tokens);
      let m = merged.get(pattern);
      if (m === undefined) merged.set(pattern, (m = { counts: new Map(), total: 0 }));
      for (const [bucket, n] of c.counts) m.counts.set(bucket, (m.counts.get(bucket) ?? 0) + n);
      m.total += c.total;
    }
    return [...merged]
      .map(([pattern, m]) => ({
        pattern,
        samples: [...m.counts.entries()].sort((a, b) => a[0] - b[0]),
        total: m.total,
      }))
      .sort((a, b) => b.total - a.total || (a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0));
  }
}

/** Prints a template: separators as seen, runs of adjacent `<_>` (no separator between) as one. */
export function formatTemplate(tokens: readonly Token[]): string {
  let out = '';
  let prevParam = false;
  for (const t of tokens) {
    const isParam = t.text === PARAM;
    if (isParam && prevParam && t.sep === '') continue;
    out += t.sep + t.text;
    prevParam = isParam;
  }
  return out;
}
