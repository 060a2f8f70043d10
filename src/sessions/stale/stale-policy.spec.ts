import { isStale, staleAfterSeconds } from './stale-policy';

const config = {
  multiplier: 3,
  minSeconds: 300,
  defaultIntervalSeconds: 600,
  reapIntervalSeconds: 60,
};

describe('stale sessions', () => {
  it('allow the multiplier times the interim interval, at least the floor', () => {
    expect(staleAfterSeconds(300, config)).toBe(900);
    expect(staleAfterSeconds(60, config)).toBe(300); // floor
    expect(staleAfterSeconds(null, config)).toBe(1800); // default interval
    expect(staleAfterSeconds(0, config)).toBe(1800);
  });

  it('take a gap under 60 s (an interim sent again with a new Acct-Delay-Time) as no interval', () => {
    expect(staleAfterSeconds(1, config)).toBe(1800);
    expect(staleAfterSeconds(59, config)).toBe(1800);
    expect(staleAfterSeconds(60, config)).toBe(300);
  });

  it('before a session has its own interval, allow the interval replied to its user when longer', () => {
    // A plan with hourly interims: its first interim comes after 3600 s, not 600.
    expect(staleAfterSeconds(null, config, 3600)).toBe(10_800);
    expect(staleAfterSeconds(30, config, 3600)).toBe(10_800);
    // A shorter replied interval does not shorten the default's allowance.
    expect(staleAfterSeconds(null, config, 120)).toBe(1800);
    // Once the session has its own interval, that is what counts.
    expect(staleAfterSeconds(300, config, 3600)).toBe(900);
    const now = new Date('2026-11-22T12:00:00Z');
    const fresh = {
      stoppedAt: null,
      interimIntervalSeconds: null,
      lastSeenAt: new Date(now.getTime() - 2400 * 1000),
    };
    expect(isStale(fresh, config, now)).toBe(true);
    expect(isStale(fresh, config, now, 3600)).toBe(false);
  });

  it('go by the server time of the last change; stopped ones and multiplier 0 are never stale', () => {
    const now = new Date('2026-11-22T12:00:00Z');
    const seen = (s: number) => new Date(now.getTime() - s * 1000);
    const open = { stoppedAt: null, interimIntervalSeconds: 300 };
    expect(isStale({ ...open, lastSeenAt: seen(901) }, config, now)).toBe(true);
    expect(isStale({ ...open, lastSeenAt: seen(899) }, config, now)).toBe(false);
    expect(isStale({ ...open, lastSeenAt: seen(5000), stoppedAt: now }, config, now)).toBe(false);
    expect(isStale({ ...open, lastSeenAt: seen(5000) }, { ...config, multiplier: 0 }, now)).toBe(
      false,
    );
  });
});
