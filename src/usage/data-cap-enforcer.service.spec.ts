import type { DataSource, EntityManager } from 'typeorm';
import type { TransactionsService } from '../database/transactions.service';
import type { SessionControlService } from '../nas/control/session-control.service';
import type { SessionEventBus } from '../sessions/events/session-event-bus.service';
import { CapActionStore } from './cap-action.store';
import { previousMonth } from './cap-resets';
import { DataCapEnforcer } from './data-cap-enforcer.service';

/** The enforcer's retry rule, with its database and NAS control faked. */
function enforcer(disconnectOk: () => boolean) {
  const claims = new Set<string>();
  const manager = {
    query: (_sql: string, params: string[]) => {
      // Everyone checked is over the cap, with no FUP rate.
      const users = params.slice(1);
      return Promise.resolve(users.map((username) => ({ username, fupUp: null, fupDown: null })));
    },
    queryRunner: {
      // The claim (INSERT IGNORE) and its give-back (DELETE), with their affected rows.
      query: (sql: string, [username]: string[]) => {
        if (sql.startsWith('DELETE')) {
          return Promise.resolve({ affected: claims.delete(username) ? 1 : 0 });
        }
        const fresh = !claims.has(username);
        claims.add(username);
        return Promise.resolve({ affected: fresh ? 1 : 0 });
      },
    },
  } as unknown as EntityManager;
  const disconnectUser = jest.fn(() =>
    Promise.resolve({ ok: disconnectOk(), method: 'coa', message: 'test' }),
  );
  const transactions = {
    run: (work: (m: EntityManager) => unknown) => work(manager),
    alone: (work: (m: EntityManager) => unknown) => work(manager),
  } as unknown as TransactionsService;
  const e = new DataCapEnforcer(
    { month: () => '2026-12', now: () => new Date() },
    {} as SessionEventBus,
    { disconnectUser } as unknown as SessionControlService,
    transactions,
    new CapActionStore({ options: { type: 'mariadb' } } as unknown as DataSource, transactions),
  );
  return { e, disconnectUser, claims };
}

describe('the data cap enforcer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('tries a failed disconnect again at the next update, then spaces the tries out', async () => {
    const { e, disconnectUser, claims } = enforcer(() => false);
    expect(await e.check(['ann'])).toEqual([]);
    expect(claims.has('ann')).toBe(false); // given back
    expect(await e.check(['ann'])).toEqual([]); // the next update: tried again
    expect(disconnectUser).toHaveBeenCalledTimes(2);
    await e.check(['ann']); // two failures in a row: not before 5 min
    expect(disconnectUser).toHaveBeenCalledTimes(2);
    jest.advanceTimersByTime(5 * 60_000);
    await e.check(['ann']);
    expect(disconnectUser).toHaveBeenCalledTimes(3);
    jest.advanceTimersByTime(9 * 60_000); // then 10 min
    await e.check(['ann']);
    expect(disconnectUser).toHaveBeenCalledTimes(3);
    jest.advanceTimersByTime(60_000);
    await e.check(['ann']);
    expect(disconnectUser).toHaveBeenCalledTimes(4);
  });

  it('acts once a month when the action gets through, and keeps the claim', async () => {
    const { e, disconnectUser, claims } = enforcer(() => true);
    expect(await e.check(['bob'])).toEqual(['bob']);
    expect(await e.check(['bob'])).toEqual([]);
    expect(disconnectUser).toHaveBeenCalledTimes(1);
    expect(claims.has('bob')).toBe(true);
  });
});

describe('previousMonth', () => {
  it('steps back one calendar month, across a year', () => {
    expect(previousMonth('2026-12')).toBe('2026-11');
    expect(previousMonth('2027-01')).toBe('2026-12');
    expect(previousMonth('2026-03')).toBe('2026-02');
  });
});
