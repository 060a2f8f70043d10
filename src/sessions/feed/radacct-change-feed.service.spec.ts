import type { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/app-config';
import type { JobLeases } from '../../common/jobs/job-leases.service';
import type { TransactionsService } from '../../database/transactions.service';
import type { Metrics } from '../../metrics/metrics.service';
import type { SessionEventBus } from '../events/session-event-bus.service';
import { RadacctChangeFeed } from './radacct-change-feed.service';

/** The feed's schedule alone: its lease and its polls, on fake timers (no database). */
function feed(intervalMs: number, leader: boolean) {
  const acquire = jest.fn(() => Promise.resolve(leader));
  const gauge = { set: jest.fn() };
  const f = new RadacctChangeFeed(
    { changeFeedIntervalMs: intervalMs } as AppConfig,
    { options: { type: 'mariadb' } } as unknown as DataSource,
    {} as SessionEventBus,
    { acquire, release: jest.fn(() => Promise.resolve()) } as unknown as JobLeases,
    { changeFeedLeader: gauge, changeFeedLag: gauge } as unknown as Metrics,
    {} as TransactionsService,
  );
  const poll = jest.spyOn(f, 'pollOnce').mockResolvedValue(0);
  return { f, acquire, poll };
}

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
});
