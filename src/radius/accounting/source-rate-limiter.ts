/** A source address's token bucket: tokens left, and when they were counted (ms). */
interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept at most; past this the oldest is evicted (spoofed sources cannot grow memory). */
export const MAX_BUCKETS = 65_536;

/**
 * A token bucket per source address, so that one noisy address cannot starve the others: each
 * source may send `perSecond` packets a second on average, and `burst` at once. A bucket that
 * has been idle long enough to be full again is the same as none, so sweep() forgets it; at
 * most MAX_BUCKETS are kept, the oldest evicted first. perSecond 0 turns the limit off.
 */
export class SourceRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.perSecond > 0;
  }

  /** Buckets held now. */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes a token for one packet from `source`; false when its bucket is empty. */
  take(source: string): boolean {
    if (!this.enabled) return true;
    const now = this.now();
    const bucket = this.buckets.get(source);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) {
        const oldest = this.buckets.keys().next();
        if (!oldest.done) this.buckets.delete(oldest.value);
      }
      this.buckets.set(source, { tokens: this.burst - 1, at: now });
      return true;
    }
    const refill = ((now - bucket.at) / 1000) * this.perSecond;
    bucket.tokens = Math.min(this.burst, bucket.tokens + Math.max(0, refill));
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Forgets the buckets that have refilled completely (idle sources). */
  sweep(): void {
    const now = this.now();
    const fullAfterMs = (this.burst / Math.max(this.perSecond, 1e-9)) * 1000;
    for (const [source, bucket] of this.buckets) {
      if (now - bucket.at >= fullAfterMs) this.buckets.delete(source);
    }
  }
}
