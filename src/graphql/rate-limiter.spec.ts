import { RateLimiter } from './rate-limiter';

describe('RateLimiter', () => {
  it('lets a burst through, then paces, then refills', () => {
    let now = 0;
    const limiter = new RateLimiter({ perMinute: 60, burst: 2 }, () => now);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(1);
    expect(limiter.take('b')).toBe(0); // per key
    now += 1000;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a', 3)).toBe(60); // more than the burst never fits
  });

  it('is off with perMinute 0 and keeps at most maxKeys buckets', () => {
    expect(new RateLimiter({ perMinute: 0, burst: 1 }).take('a', 100)).toBe(0);
    const limiter = new RateLimiter({ perMinute: 60, burst: 1, maxKeys: 3 });
    for (let i = 0; i < 100; i++) limiter.take(`k${i}`);
    expect(limiter.size).toBe(3);
  });
});
