import { MAX_BUCKETS, SourceRateLimiter } from './source-rate-limiter';

describe('SourceRateLimiter', () => {
  let now = 0;
  const clock = () => now;

  beforeEach(() => {
    now = 1_000_000;
  });

  it('lets a burst through, then the rate, per source', () => {
    const limiter = new SourceRateLimiter(10, 5, clock);
    const taken = (source: string, n: number) =>
      Array.from({ length: n }, () => limiter.take(source)).filter(Boolean).length;
    expect(taken('a', 20)).toBe(5);
    // Another source has its own bucket.
    expect(taken('b', 3)).toBe(3);
    now += 300; // 3 tokens at 10/s
    expect(taken('a', 20)).toBe(3);
    now += 10_000; // refilled to the burst, no more
    expect(taken('a', 20)).toBe(5);
  });

  it('is off at 0 packets/s', () => {
    const limiter = new SourceRateLimiter(0, 0, clock);
    for (let i = 0; i < 10_000; i++) expect(limiter.take('a')).toBe(true);
    expect(limiter.size).toBe(0);
  });

  it('forgets idle sources, and keeps at most MAX_BUCKETS', () => {
    const limiter = new SourceRateLimiter(100, 200, clock);
    limiter.take('idle');
    now += 1_000;
    limiter.take('busy');
    now += 1_500; // 'idle' is full again after 2 s, 'busy' is not yet
    limiter.sweep();
    expect(limiter.size).toBe(1);
    for (let i = 0; i < MAX_BUCKETS + 10; i++)
      limiter.take(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    expect(limiter.size).toBe(MAX_BUCKETS);
  });
});
