/** Token buckets for Loki's ingestion limits: `rate` bytes per second, holding up to `burst`. */
export class TokenBucket {
  private tokens: number;
  private updatedMs: number;

  constructor(private readonly rate: number, private readonly burst: number, nowMs: number) {
    this.tokens = burst;
    this.updatedMs = nowMs;
  }

  /** Takes `amount` tokens if they are all there; a request too large is rejected whole, as in Loki. */
  take(amount: number, nowMs: number): boolean {
    this.refill(nowMs);
    if (amount > this.tokens) return false;
    this.tokens -= amount;
    return true;
  }

  private refill(nowMs: number): void {
    const elapsed = nowMs - this.updatedMs;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.rate);
      this.updatedMs = nowMs;
    }
  }
}

/** The same bucket with its state kept on the caller's object (one per stream, no extra allocation). */
export interface BucketState {
  rateTokens: number;
  rateUpdatedMs: number;
}

export function takeFromState(state: BucketState, amount: number, rate: number, burst: number, nowMs: number): boolean {
  if (state.rateTokens < 0) {
    state.rateTokens = burst;
    state.rateUpdatedMs = nowMs;
  }
  const elapsed = nowMs - state.rateUpdatedMs;
  if (elapsed > 0) {
    state.rateTokens = Math.min(burst, state.rateTokens + (elapsed / 1000) * rate);
    state.rateUpdatedMs = nowMs;
  }
  if (amount > state.rateTokens) return false;
  state.rateTokens -= amount;
  return true;
}
