/** The budget of one caller: `perMinute` operations a minute, up to `burst` at once. */
export interface RateLimit {
  /** 0 turns the limit off. */
  perMinute: number;
  burst: number;
  /** How many callers are remembered; the least recently seen is forgotten first. */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets, one per caller (an API key's id, the admin token, or an IP address), in bounded memory:
 * at most `maxKeys` buckets, least recently used dropped first. A dropped bucket comes back
 * full, which only ever lets a caller through sooner, never blocks one.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxKeys: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {
    this.maxKeys = limit.maxKeys ?? 10_000;
  }

  get enabled(): boolean {
    return this.limit.perMinute > 0;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Takes `cost` tokens: 0 when allowed, else the whole seconds until they are back. */
  take(key: string, cost = 1): number {
    if (!this.enabled) return 0;
    const bucket = this.refill(key);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return 0;
    }
    return this.secondsUntil(bucket, cost);
  }

  /** Without taking any: 0 when at least one token is left, else the seconds until one is. */
  check(key: string): number {
    if (!this.enabled) return 0;
    const bucket = this.refill(key);
    return bucket.tokens >= 1 ? 0 : this.secondsUntil(bucket, 1);
  }

  private secondsUntil(bucket: Bucket, cost: number): number {
    if (cost > this.limit.burst) return 60; // never fits at once: no point in retrying soon
    const perMs = this.limit.perMinute / 60_000;
    return Math.max(1, Math.ceil((cost - bucket.tokens) / perMs / 1000));
  }

  private refill(key: string): Bucket {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key); // re-inserted below: most recently used last
      const perMs = this.limit.perMinute / 60_000;
      bucket.tokens = Math.min(this.limit.burst, bucket.tokens + (now - bucket.at) * perMs);
      bucket.at = now;
    } else {
      bucket = { tokens: this.limit.burst, at: now };
      while (this.buckets.size >= this.maxKeys) {
        const oldest = this.buckets.keys().next().value as string;
        this.buckets.delete(oldest);
      }
    }
    this.buckets.set(key, bucket);
    return bucket;
  }
}
