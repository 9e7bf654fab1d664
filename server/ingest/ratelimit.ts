/**
 * Token buckets for Loki's ingestion limits: `rate` bytes per second, holding up to `burst`.
 * A request larger than the tokens left is rejected whole, as in Loki.
 */

/** A bucket's state; per-stream buckets keep it on the stream object to avoid a lookup per push. */
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

export class TokenBucket {
  private readonly state: BucketState = { rateTokens: -1, rateUpdatedMs: 0 };

  constructor(private readonly rate: number, private readonly burst: number) {}

  take(amount: number, nowMs: number): boolean {
    return takeFromState(this.state, amount, this.rate, this.burst, nowMs);
  }
}
