import { usageKey, usageKeyParts } from '../usage.service';
import { toUsage } from './usage.mapper';
import { DataCapAction } from './usage.model';

describe('toUsage', () => {
  const actedAt = new Date('2026-03-14T10:00:00Z');

  it('is zero, with no cap action, for a month with nothing used', () => {
    expect(toUsage('2026-03', null, '1000')).toEqual({
      month: '2026-03',
      uploadBytes: '0',
      downloadBytes: '0',
      totalBytes: '0',
      limitBytes: '1000',
      capAction: null,
      capActedAt: null,
    });
  });

  it('adds both directions exactly past 2^53', () => {
    const up = 2n ** 60n + 1n;
    const u = toUsage(
      '2026-03',
      { month: '2026-03', uploadBytes: up, downloadBytes: 2n, capAction: null },
      null,
    );
    expect(u).toMatchObject({
      uploadBytes: up.toString(),
      downloadBytes: '2',
      totalBytes: (up + 2n).toString(),
      limitBytes: null,
    });
  });

  it.each([
    ['fup', DataCapAction.THROTTLED],
    ['disconnect', DataCapAction.DISCONNECTED],
  ])('shows the stored action %s as %s, with when', (action, shown) => {
    const u = toUsage(
      '2026-03',
      { month: '2026-03', uploadBytes: 1n, downloadBytes: 1n, capAction: { action, actedAt } },
      '1',
    );
    expect(u.capAction).toBe(shown);
    expect(u.capActedAt).toBe(actedAt);
  });

  it('shows an action it does not know as none, without a time', () => {
    const u = toUsage(
      '2026-03',
      { month: '2026-03', uploadBytes: 0n, downloadBytes: 0n, capAction: { action: 'x', actedAt } },
      null,
    );
    expect(u.capAction).toBeNull();
    expect(u.capActedAt).toBeNull();
  });
});

describe('usageKeyParts', () => {
  it('gives back the username and month of a usageKey, whatever the username holds', () => {
    expect(usageKeyParts(usageKey('a-b:c 2026-01', '2026-03'))).toEqual({
      username: 'a-b:c 2026-01',
      month: '2026-03',
    });
  });
});
