import { JobLeases } from '../../src/common/jobs/job-leases.service';
import { RECONCILER_LEASE } from '../../src/nas/control/nas-reconciler.service';
import {
  REAPER_LEASE,
  StaleSessionReaper,
} from '../../src/sessions/stale/stale-session-reaper.service';
import { startApp, type RunningApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * The periodic jobs (here the stale-session reaper and the NAS reconciler, every 60 s) run on
 * one instance, and move to another within 10 s when that one dies without giving its leases
 * up: their leases are short and kept up by a heartbeat, not renewed only at each run (which
 * held the reaper's for two intervals, and moved it after up to three minutes).
 */
describe.each(['mysql', 'sqlite'] as const)('a periodic job whose holder dies, on %s', (kind) => {
  let db: TestDatabase;
  let a: RunningApp | undefined;
  let b: RunningApp | undefined;
  const env = {
    STALE_SESSION_REAP_INTERVAL_SECONDS: '60',
    NAS_RECONCILE_INTERVAL_SECONDS: '60',
    CHANGE_FEED_INTERVAL_MS: '0',
  };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
    await db?.drop();
  });

  const ago = (hours: number) =>
    kind === 'mysql' ? `NOW() - INTERVAL ${hours} HOUR` : `datetime('now', '-${hours} hours')`;
  const now = kind === 'mysql' ? 'UTC_TIMESTAMP()' : "strftime('%Y-%m-%d %H:%M:%f', 'now')";

  /** Who holds `name` now (null when nobody does). */
  const holder = async (name: string) =>
    (
      await db.query<{ holder: string }>(
        `SELECT holder FROM rg_job_leases WHERE name = ? AND expires_at >= ${now}`,
        [name],
      )
    )[0]?.holder ?? null;

  const causeOf = async (uid: string) =>
    (
      await db.query<{ cause: string | null }>(
        'SELECT acctterminatecause AS cause FROM radacct WHERE acctuniqueid = ?',
        [uid],
      )
    )[0]?.cause ?? null;

  async function until(check: () => Promise<boolean>, ms: number, what: string) {
    const end = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('moves within 10 s, and the new holder runs it then', async () => {
    a = await startApp(db, env);
    const holderA = a.app.get(JobLeases).holder;
    // A reaps (nothing yet), and holds the reaper's lease.
    expect(await a.app.get(StaleSessionReaper).runOnce()).toBe(0);
    await until(async () => (await holder(REAPER_LEASE)) === holderA, 5000, 'A to hold the reaper');
    b = await startApp(db, env);
    const holderB = b.app.get(JobLeases).holder;
    await new Promise((r) => setTimeout(r, 3000)); // B's heartbeats leave A's live lease alone
    expect(await holder(REAPER_LEASE)).toBe(holderA);

    // A session its NAS lost: no accounting for three hours.
    await db.query(
      `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, acctinputoctets, acctoutputoctets)
       VALUES ('lost-1', 'failover-lost-1', 'failover', '10.0.0.1', ${ago(3)}, ${ago(3)}, 0, 0)`,
    );
    await db.query(
      `UPDATE radacct SET rg_seen_at = ${ago(3)} WHERE acctuniqueid = 'failover-lost-1'`,
    );

    // A dies: its timers stop and its connections close, and it gives no lease up.
    jest.spyOn(a.app.get(JobLeases), 'release').mockResolvedValue(undefined);
    const died = Date.now();
    await a.close();
    a = undefined;
    expect(await holder(REAPER_LEASE)).toBe(holderA);

    await until(
      async () =>
        (await holder(REAPER_LEASE)) === holderB &&
        (await holder(RECONCILER_LEASE)) === holderB &&
        (await causeOf('failover-lost-1')) === 'Stale-Session',
      10_000,
      'B to take the jobs over and reap',
    );
    expect(Date.now() - died).toBeLessThan(10_000);
  }, 30_000);
});
