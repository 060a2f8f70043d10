import { DataSource, type QueryRunner } from 'typeorm';
import { SessionRetention } from '../../src/sessions/retention/session-retention.service';
import { startApp, type RunningApp } from '../support/app';
import { scrapeMetrics } from '../support/metrics';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * RADPOSTAUTH_RETENTION_DAYS and RADACCT_RETENTION_DAYS: old authentication attempts and old
 * stopped sessions are deleted, in pages, by the database's clock; open sessions and recent
 * rows stay, whatever their place in the table.
 */
describe.each(['mysql', 'sqlite'] as const)('session retention on %s', (kind) => {
  let db: TestDatabase;
  let api: RunningApp;

  /** The database's time `days` ago (negative: ahead), as SQL. */
  const daysAgo = (days: number) =>
    kind === 'mysql' ? `NOW() - INTERVAL ${days} DAY` : `datetime('now', '${-days} days')`;

  const addAttempts = async (username: string, count: number, days: number) => {
    for (let done = 0; done < count; done += 500) {
      const n = Math.min(500, count - done);
      const rows = Array.from(
        { length: n },
        () => `('${username}', 'pw', 'Access-Accept', ${daysAgo(days)})`,
      );
      await db.query(
        `INSERT INTO radpostauth (username, pass, reply, authdate) VALUES ${rows.join(', ')}`,
      );
    }
  };

  const addSession = (uid: string, startedDaysAgo: number, stoppedDaysAgo: number | null) =>
    db.query(
      `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, acctstoptime, acctinputoctets, acctoutputoctets)
       VALUES (?, ?, 'kept-user', '10.0.0.1', ${daysAgo(startedDaysAgo)}, ${daysAgo(startedDaysAgo)}, ${stoppedDaysAgo === null ? 'NULL' : daysAgo(stoppedDaysAgo)}, 10, 20)`,
      [`s-${uid}`, uid],
    );

  const attempts = async () =>
    (
      await db.query<{ username: string; n: number | string }>(
        'SELECT username, COUNT(*) AS n FROM radpostauth GROUP BY username ORDER BY username',
      )
    ).map((r) => [r.username, Number(r.n)]);

  const sessions = async () =>
    (
      await db.query<{ uid: string }>(
        'SELECT acctuniqueid AS uid FROM radacct ORDER BY acctuniqueid',
      )
    ).map((r) => r.uid);

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    api = await startApp(db, {
      RADPOSTAUTH_RETENTION_DAYS: '30',
      RADACCT_RETENTION_DAYS: '90',
      // Runs only when the test asks (the first timed run is a minute after start).
      RETENTION_INTERVAL_SECONDS: '3600',
    });
  });

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('deletes attempts past RADPOSTAUTH_RETENTION_DAYS and stopped sessions past RADACCT_RETENTION_DAYS, and nothing else', async () => {
    // In id order: a recent attempt first (a FreeRADIUS with its clock ahead), then 2,300 old
    // ones (more than two pages), one in the future, recent ones, and an old one written late.
    await addAttempts('recent-first', 1, 1);
    await addAttempts('old', 2300, 40);
    await addAttempts('future', 1, -3);
    await addAttempts('recent', 5, 29);
    await addAttempts('old-late', 1, 31);
    await addSession('open-ancient', 400, null);
    await addSession('stopped-old', 200, 100);
    await addSession('stopped-91', 95, 91);
    await addSession('stopped-89', 95, 89);
    await addSession('stopped-recent', 2, 1);

    const run = await api.app.get(SessionRetention).runOnce();

    expect(run).toEqual({ radpostauth: 2301, radacct: 2 });
    expect(await attempts()).toEqual([
      ['future', 1],
      ['recent', 5],
      ['recent-first', 1],
    ]);
    expect(await sessions()).toEqual(['open-ancient', 'stopped-89', 'stopped-recent']);
    const metrics = await scrapeMetrics(api);
    expect(metrics.get('radgraph_retention_deleted_rows_total{table="radpostauth"}')).toBe(2301);
    expect(metrics.get('radgraph_retention_deleted_rows_total{table="radacct"}')).toBe(2);

    // Nothing more to delete: a second run changes nothing.
    expect(await api.app.get(SessionRetention).runOnce()).toEqual({ radpostauth: 0, radacct: 0 });
    expect(await sessions()).toEqual(['open-ancient', 'stopped-89', 'stopped-recent']);
  });

  it('keeps a row a NAS restarted into (its Acct-Session-Id reused after a reboot), however old its Stop', async () => {
    // FreeRADIUS's Start (and radgraph's) for an acctuniqueid that has a stopped row writes the
    // new start into that row and leaves the old acctstoptime: the row is the new, open session.
    const restart = (uid: string, stoppedDaysAgo: number, startedDaysAgo: number) =>
      db.query(
        `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, acctstoptime, acctinputoctets, acctoutputoctets)
         VALUES (?, ?, 'restarted-user', '10.0.0.1', ${daysAgo(startedDaysAgo)}, ${daysAgo(startedDaysAgo)}, ${daysAgo(stoppedDaysAgo)}, 10, 20)`,
        [`s-${uid}`, uid],
      );
    await restart('restarted-today', 200, 0);
    // Started 95 days ago without an Interim-Update since, but written to (rg_seen_at) now.
    await restart('restarted-quiet', 200, 95);
    await addSession('stopped-again-old', 300, 100);

    const run = await api.app.get(SessionRetention).runOnce();

    expect(run).toEqual({ radpostauth: 0, radacct: 1 });
    const left = await sessions();
    expect(left).toEqual(expect.arrayContaining(['restarted-today', 'restarted-quiet']));
    expect(left).not.toContain('stopped-again-old');
  });

  it('stops a run in progress at a shutdown after the page it is deleting, instead of holding the shutdown for the rest', async () => {
    // 3,500 old sessions: four pages.
    for (let done = 0; done < 3500; done += 500) {
      const rows = Array.from(
        { length: 500 },
        (_, i) =>
          `('s-long-${done + i}', 'long-${done + i}', 'long-user', '10.0.0.1', ${daysAgo(101)}, ${daysAgo(101)}, ${daysAgo(100)})`,
      );
      await db.query(
        `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, acctstoptime) VALUES ${rows.join(', ')}`,
      );
    }
    // The second page's DELETE waits until the shutdown has begun. (SQLite's data source hands
    // out one query runner for all: each runner is wrapped once.)
    const dataSource = api.app.get(DataSource);
    const createRunner = dataSource.createQueryRunner.bind(dataSource);
    const wrapped = new Set<QueryRunner>();
    let deletes = 0;
    let atSecondPage!: () => void;
    const reached = new Promise<void>((resolve) => (atSecondPage = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    jest.spyOn(dataSource, 'createQueryRunner').mockImplementation((mode) => {
      const runner = createRunner(mode);
      if (wrapped.has(runner)) return runner;
      wrapped.add(runner);
      const query = runner.query.bind(runner);
      runner.query = (async (sql: string, ...rest: [any?, any?]) => {
        if (sql.startsWith('DELETE FROM radacct') && ++deletes === 2) {
          atSecondPage();
          await released;
        }
        return query(sql, ...rest);
      }) as typeof runner.query;
      return runner;
    });
    const retention = api.app.get(SessionRetention);
    const run = retention.runOnce();
    await reached;

    const stopped = retention.beforeApplicationShutdown();
    release();
    await stopped;

    // The page under way was deleted; the two after it are left for the next run.
    expect(await run).toEqual({ radpostauth: 0, radacct: 2000 });
    const [left] = await db.query<{ n: number | string }>(
      "SELECT COUNT(*) AS n FROM radacct WHERE username = 'long-user'",
    );
    expect(Number(left.n)).toBe(1500);
  });
});
