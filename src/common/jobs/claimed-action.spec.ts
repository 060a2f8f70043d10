import { RETRY_AFTER_MS, RetryBackoff } from './claimed-action';

describe('RetryBackoff', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('lets a key be tried again at once after one failure, then spaces the tries out', () => {
    const b = new RetryBackoff();
    b.note('ann', 'e1', false);
    expect(b.due('ann', 'e1')).toBe(true);
    b.note('ann', 'e1', false);
    expect(b.due('ann', 'e1')).toBe(false);
    jest.advanceTimersByTime(RETRY_AFTER_MS);
    expect(b.due('ann', 'e1')).toBe(true);
    b.note('ann', 'e1', true); // it got through: forgotten
    b.note('ann', 'e1', false);
    expect(b.due('ann', 'e1')).toBe(true);
  });

  it('counts failures per scope, and forgets the keys it is told to', () => {
    const b = new RetryBackoff();
    b.note('ann', 'e1', false);
    b.note('ann', 'e1', false);
    expect(b.due('ann', 'e2')).toBe(true); // another expiry (a renewal): a clean slate
    b.note('ann', 'e2', false);
    expect(b.due('ann', 'e2')).toBe(true); // its first failure
    b.note('bob', 'e1', false);
    b.note('bob', 'e1', false);
    b.forgetAllBut(new Set(['ann']));
    expect(b.due('bob', 'e1')).toBe(true);
    b.note('cid', '2026-11', false);
    b.note('cid', '2026-11', false);
    b.forgetOtherScopes('2026-12');
    expect(b.due('cid', '2026-11')).toBe(true);
  });
});
