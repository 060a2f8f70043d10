import { CHANGE_FEED_LEASE } from '../../src/sessions/feed/radacct-change-feed.service';
import { RunningApp, startApp } from '../support/app';
import { until } from '../support/until';
import { createTestDatabase, TestDatabase } from '../support/test-database';

/**
 * The change feed's lease is renewed every second whatever CHANGE_FEED_INTERVAL_MS is: with a
 * poll interval longer than the lease (5 s), renewing only at each poll let the lease lapse
 * between polls, and a dead reader's feed moved only after the interval and the lease.
 */
describe('the change feed lease with a long poll interval', () => {
  let db: TestDatabase;
  let api: RunningApp;

  beforeAll(async () => {
    db = await createTestDatabase('mysql');
    api = await startApp(db, { CHANGE_FEED_INTERVAL_MS: '8000' });
  });

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('stays held, and never lapses between polls 8 s apart', async () => {
    const lease = async () =>
      (
        await db.query<{ holder: string; live: number | string }>(
          'SELECT holder, expires_at > UTC_TIMESTAMP() AS live FROM rg_job_leases WHERE name = ?',
          [CHANGE_FEED_LEASE],
        )
      )[0];
    await until(async () => (await lease()) !== undefined, 'the feed to take its lease');
    const first = await lease();
    expect(first).toBeDefined();
    const samples: Array<{ holder: string; live: number }> = [];
    for (let i = 0; i < 9; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const now = await lease();
      samples.push({ holder: now.holder, live: Number(now.live) });
    }
    expect(samples).toEqual(samples.map(() => ({ holder: first.holder, live: 1 })));
  }, 20_000);
});
