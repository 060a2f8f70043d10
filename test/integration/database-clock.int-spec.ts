import { createConnection } from 'mysql2/promise';
import { databaseZoneProblem, readDatabaseZone } from '../../src/database/database-clock';
import { startApp, type RunningApp } from '../support/app';
import { LogCapture } from '../support/log-capture';
import { PrivateMariaDb } from '../support/private-mariadb';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * FreeRADIUS writes radacct's times in the MySQL server's time zone and radgraph reads them as
 * UTC: a server that is not in UTC, all year, is warned about at start, saying how far off.
 */
describe("the MySQL server's time zone", () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('mysql', { migrate: false });
  });

  afterAll(async () => {
    await db?.drop();
  });

  /** The zone, and the problem, of a session in `timeZone` on the shared server. */
  async function zoneOf(timeZone: string) {
    const conn = await createConnection({ ...db.mysql!, database: db.database });
    try {
      await conn.query('SET time_zone = ?', [timeZone]);
      const zone = await readDatabaseZone(
        async (sql) => (await conn.query(sql))[0] as Array<Record<string, unknown>>,
      );
      return { zone, problem: databaseZoneProblem(zone) };
    } finally {
      await conn.end();
    }
  }

  it('reads the offset of a fixed zone, east or west, and finds nothing wrong with UTC', async () => {
    const india = await zoneOf('+05:30');
    expect(india.zone).toMatchObject({ timeZone: '+05:30', offsets: [19_800, 19_800] });
    expect(india.problem).toContain('(time_zone +05:30: UTC+5:30)');
    const brazil = await zoneOf('-03:00');
    expect(brazil.zone.offsets).toEqual([-10_800, -10_800]);
    expect(brazil.problem).toContain('(time_zone -03:00: UTC-3)');
    expect((await zoneOf('+00:00')).problem).toBeNull();
  });

  describe('a server whose system zone has daylight saving time (time_zone SYSTEM)', () => {
    let server: PrivateMariaDb;
    let berlin: TestDatabase;
    let api: RunningApp | undefined;

    beforeAll(async () => {
      server = await PrivateMariaDb.create([], { TZ: 'Europe/Berlin' });
      berlin = await server.createDatabase('radgraph_clock');
    }, 120_000);

    afterAll(async () => {
      await api?.close();
      await server?.destroy();
    });

    it('warns at start, with both offsets and how to fix it', async () => {
      const logs = new LogCapture().start();
      try {
        api = await startApp(berlin, { LOG_LEVEL: 'warn' });
      } finally {
        logs.stop();
      }
      const warning = logs.text();
      expect(warning).toContain(
        "the MySQL server's time zone is not UTC (time_zone SYSTEM, the server's zone CE",
      );
      expect(warning).toContain('UTC+1 in January, UTC+2 in July');
      expect(warning).toContain("default_time_zone = '+00:00' under [mysqld]");
    });
  });
});
