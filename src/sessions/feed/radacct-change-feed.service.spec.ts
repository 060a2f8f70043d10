import type { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/app-config';
import type { JobLeases } from '../../common/jobs/job-leases.service';
import type { TransactionsService } from '../../database/transactions.service';
import type { Metrics } from '../../metrics/metrics.service';
import type { SessionEventBus } from '../events/session-event-bus.service';
import { RadacctChangeFeed } from './radacct-change-feed.service';

/** The feed's schedule alone: its lease and its polls, on fake timers (no database). */
function feed(
  intervalMs: number,
  leader: boolean,
  bus: Partial<SessionEventBus> = {},
  query: (sql: string) => Promise<unknown> = () => Promise.resolve([]),
) {
  const acquire = jest.fn(() => Promise.resolve(leader));
  const gauge = { set: jest.fn() };
  const lag = { set: jest.fn() };
  const leaderGauge = () => gauge.set.mock.calls.at(-1)?.[0] as number | undefined;
  const f = new RadacctChangeFeed(
    { changeFeedIntervalMs: intervalMs } as AppConfig,
    { options: { type: 'mariadb' }, query } as unknown as DataSource,
    bus as SessionEventBus,
    { acquire, release: jest.fn(() => Promise.resolve()) } as unknown as JobLeases,
    { changeFeedLeader: gauge, changeFeedLag: lag } as unknown as Metrics,
    {} as TransactionsService,
  );
  const poll = jest.spyOn(f, 'pollOnce').mockResolvedValue(0);
  return { f, acquire, poll, lag, leaderGauge };
}

/** The feed's warn lines, kept from the test output. */
const silencedWarn = (f: RadacctChangeFeed) =>
  jest
    .spyOn((f as unknown as { log: { warn: (m: string) => void } }).log, 'warn')
    .mockImplementation(() => undefined);

describe('the radacct change feed schedule', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('asks for the lease once a second when it does not lead, whatever the poll interval', async () => {
    const { f, acquire, poll } = feed(100, false);
    f.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(5_050);
    expect(acquire.mock.calls.length).toBeGreaterThanOrEqual(5);
    expect(acquire.mock.calls.length).toBeLessThanOrEqual(6);
    expect(poll).not.toHaveBeenCalled();
    await f.onApplicationShutdown();
  });

  it('renews its lease every second between polls 8 s apart', async () => {
    const { f, acquire, poll } = feed(8_000, true);
    f.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(16_500);
    expect(poll).toHaveBeenCalledTimes(3); // at 0, 8 and 16 s
    expect(acquire.mock.calls.length).toBeGreaterThanOrEqual(16);
    await f.onApplicationShutdown();
  });

  it("off (0), warns when the queue's oldest row is still there a minute later, not when another instance reads it", async () => {
    for (const [oldestLater, warned] of [
      ['7', true],
      ['9', false],
    ] as const) {
      const oldest = ['7', oldestLater];
      const query = jest.fn(() => Promise.resolve([{ first: oldest.shift(), last: '12' }]));
      const { f, poll } = feed(0, true, {}, query);
      const warn = silencedWarn(f);
      f.onApplicationBootstrap();
      await jest.advanceTimersByTimeAsync(59_000);
      expect(warn).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(2_000);
      expect(query).toHaveBeenCalledTimes(2);
      expect(warn.mock.calls.map((c) => c[0].includes('no instance reads'))).toEqual(
        warned ? [true] : [],
      );
      expect(poll).not.toHaveBeenCalled();
      await f.onApplicationShutdown();
    }
  });

  it('off (0), warns too when the queue was empty at its start and nobody reads what comes after, once', async () => {
    // Empty at the start (a new database, or one the last reader drained), then FreeRADIUS's
    // first change, which stays.
    const oldest: Array<string | null> = [null];
    const query = jest.fn(() => {
      const first = oldest.length > 0 ? oldest.shift()! : '3';
      return Promise.resolve([{ first, last: first === null ? null : '40' }]);
    });
    const { f, poll } = feed(0, true, {}, query);
    const warn = silencedWarn(f);
    f.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(61_000);
    expect(warn).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(warn.mock.calls.map((c) => c[0].includes('no instance reads'))).toEqual([true]);
    expect(warn.mock.calls[0][0]).toContain('up to 38 change(s)');
    await jest.advanceTimersByTimeAsync(120_000);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(poll).not.toHaveBeenCalled();
    await f.onApplicationShutdown();
  });

  it('goes on polling when the wall clock steps back', async () => {
    const { f, poll } = feed(500, true);
    f.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(1_100);
    const before = poll.mock.calls.length;
    jest.setSystemTime(Date.now() - 60_000);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(poll.mock.calls.length - before).toBeGreaterThanOrEqual(3);
    await f.onApplicationShutdown();
  });

  it('reports its lag from when it took the lead, and a lag that grows while it cannot poll', async () => {
    const { f, acquire, poll, lag } = feed(500, false);
    f.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(10_000); // ten seconds on standby
    acquire.mockResolvedValue(true);
    poll.mockResolvedValueOnce(1000).mockResolvedValueOnce(1000); // two full pages of a backlog
    await jest.advanceTimersByTimeAsync(1_100);
    const seconds = lag.set.mock.calls.map(([v]: [number]) => v);
    expect(Math.max(...seconds)).toBeLessThan(2); // not the ten seconds of standby
    poll.mockRejectedValue(new Error('the database is gone'));
    await jest.advanceTimersByTimeAsync(5_000);
    expect(lag.set.mock.calls.at(-1)![0]).toBeGreaterThan(4);
    await f.onApplicationShutdown();
  });

  it('stops reporting itself the leader once its lease ran out while it could not renew, and its lag goes on growing', async () => {
    const { f, acquire, lag, leaderGauge } = feed(500, true);
    silencedWarn(f);
    f.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(2_000);
    expect(leaderGauge()).toBe(1);
    // Only this instance lost the database: another takes the lease once it runs out (5 s).
    acquire.mockRejectedValue(new Error('connect ETIMEDOUT'));
    await jest.advanceTimersByTimeAsync(3_000);
    expect(leaderGauge()).toBe(1); // its lease may still be its own
    await jest.advanceTimersByTimeAsync(3_000);
    expect(leaderGauge()).toBe(0);
    const grown = lag.set.mock.calls.at(-1)![0] as number;
    expect(grown).toBeGreaterThan(5);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(lag.set.mock.calls.at(-1)![0]).toBeGreaterThan(grown);
    expect(leaderGauge()).toBe(0);
    // Back, and another instance leads: this one's lag is 0 again.
    acquire.mockResolvedValue(false);
    await jest.advanceTimersByTimeAsync(1_100);
    expect(lag.set.mock.calls.at(-1)![0]).toBe(0);
    expect(leaderGauge()).toBe(0);
    await f.onApplicationShutdown();
  });

  it('keeps a page the transport did not take for 30 s, then lets it go', async () => {
    const publish = jest.fn(() => Promise.resolve(false));
    const { f, poll } = feed(500, true, { publish });
    poll.mockRestore();
    const read = jest
      .spyOn(f as unknown as { readPage: () => Promise<unknown> }, 'readPage')
      .mockResolvedValue({
        changes: [{ seq: '7', radAcctId: '70', kind: 1 }],
        rows: [{ radAcctId: '70' }],
      });
    const consume = jest
      .spyOn(f as unknown as { consume: () => Promise<void> }, 'consume')
      .mockResolvedValue();
    await expect(f.pollOnce()).rejects.toThrow('stays queued');
    await jest.advanceTimersByTimeAsync(29_000);
    await expect(f.pollOnce()).rejects.toThrow('stays queued');
    expect(consume).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1_500);
    expect(await f.pollOnce()).toBe(1);
    expect(consume).toHaveBeenCalledWith(['7']);
    // Published again: the next failure starts a new 30 s.
    publish.mockResolvedValueOnce(true);
    expect(await f.pollOnce()).toBe(1);
    await expect(f.pollOnce()).rejects.toThrow('stays queued');
    expect(read).toHaveBeenCalledTimes(5);
  });
});
