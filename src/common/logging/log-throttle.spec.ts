import { keptOut, LOG_EVERY_MS, LogThrottle } from './log-throttle';

describe('LogThrottle', () => {
  let time: number;
  const clock = () => time;

  beforeEach(() => {
    time = 0; // a fake clock starting at the epoch: the first event is still logged
  });

  it('lets the first event through, then one every 10 s, with how many were kept out', () => {
    const throttle = new LogThrottle(LOG_EVERY_MS, clock);
    expect(throttle.admit()).toBe(0);
    time = 1;
    expect(throttle.admit()).toBeUndefined();
    time = 9_999;
    expect(throttle.admit()).toBeUndefined();
    time = 10_000;
    expect(throttle.admit()).toBe(2);
    time = 15_000;
    expect(throttle.admit()).toBeUndefined();
    // The window counts from the last line written, not from the last event.
    time = 20_000;
    expect(throttle.admit()).toBe(1);
    time = 60_000;
    expect(throttle.admit()).toBe(0);
  });

  it('takes its interval', () => {
    const throttle = new LogThrottle(100, clock);
    expect(throttle.admit()).toBe(0);
    time = 99;
    expect(throttle.admit()).toBeUndefined();
    time = 100;
    expect(throttle.admit()).toBe(1);
  });

  it('reads Date.now at each event by default', () => {
    const throttle = new LogThrottle();
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    try {
      expect(throttle.admit()).toBe(0);
      now.mockReturnValue(1_000_000 + LOG_EVERY_MS - 1);
      expect(throttle.admit()).toBeUndefined();
      now.mockReturnValue(1_000_000 + LOG_EVERY_MS);
      expect(throttle.admit()).toBe(1);
    } finally {
      now.mockRestore();
    }
  });

  it('ends an admitted line with how many were kept out since the last one, if any', () => {
    expect(keptOut(0)).toBe('');
    expect(keptOut(0, 'Redis errors')).toBe('');
    expect(keptOut(3)).toBe(' (3 more since the last line)');
    expect(keptOut(7, 'Redis errors')).toBe(' (7 more Redis errors since the last line)');
  });
});
