import { UsageMonthOfStop1764892800000 } from '../../src/database/migrations/mysql/1764892800000-usage-month-of-stop';
import { RadacctTriggersMerged1764806400000 } from '../../src/database/migrations/mysql/1764806400000-radacct-triggers-merged';
import { StaleSessionChanges1765065600000 } from '../../src/database/migrations/mysql/1765065600000-stale-session-changes';
import { ReusedRadacctChanges1765497600000 } from '../../src/database/migrations/mysql/1765497600000-reused-radacct-changes';
import { ReusedRadacctChanges1765497600000 as ReusedRadacctChangesSqlite } from '../../src/database/migrations/sqlite/1765497600000-reused-radacct-changes';
import { OpenReusedRadacctChanges1765584000000 } from '../../src/database/migrations/mysql/1765584000000-open-reused-radacct-changes';
import { OpenReusedRadacctChanges1765584000000 as OpenReusedRadacctChangesSqlite } from '../../src/database/migrations/sqlite/1765584000000-open-reused-radacct-changes';
import { LateReportUsage1765760400000 } from '../../src/database/migrations/mysql/1765760400000-late-report-usage';
import { LateReportUsage1765760400000 as LateReportUsageSqlite } from '../../src/database/migrations/sqlite/1765760400000-late-report-usage';
import { CustomerVersion1765933200000 } from '../../src/database/migrations/mysql/1765933200000-customer-version';
import { CustomerVersion1765933200000 as CustomerVersionSqlite } from '../../src/database/migrations/sqlite/1765933200000-customer-version';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { createDataSource } from '../../src/database/data-source-options';
import { MYSQL_MIGRATIONS } from '../../src/database/migrations/mysql';

/**
 * The committed migrations and the entities describe the same schema: after the
 * migrations, TypeORM's schema builder finds nothing to change. When this fails, the
 * entities changed without a migration (or the other way round): write the migration for
 * both dialects (src/database/migrations/{mysql,sqlite}).
 */
describe.each(['mysql', 'sqlite'] as const)('migrations on %s', (kind) => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('match the entities exactly', async () => {
    const ds = await db.openDataSource();
    try {
      const { upQueries } = await ds.driver.createSchemaBuilder().log();
      expect(upQueries.map((q) => q.query)).toEqual([]);
    } finally {
      await ds.destroy();
    }
  });

  it('are all applied, and a second run applies none', async () => {
    const ds = await db.openDataSource();
    try {
      expect(await ds.showMigrations()).toBe(false);
      expect(await ds.runMigrations()).toEqual([]);
    } finally {
      await ds.destroy();
    }
  });
});

describe('radacct triggers on mysql', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('mysql');
  });

  afterAll(async () => {
    await db?.drop();
  });

  const triggers = async () =>
    (
      await db.query<{ name: string }>(
        `SELECT trigger_name AS name FROM information_schema.triggers
         WHERE event_object_schema = DATABASE() AND event_object_table = 'radacct' ORDER BY 1`,
      )
    ).map((t) => t.name);

  it('are one per event, and the merge reverts to the four of before and back', async () => {
    expect(await triggers()).toEqual(['rg_radacct_ai', 'rg_radacct_au']);
    const ds = await db.openDataSource();
    const runner = ds.createQueryRunner();
    try {
      const migration = new RadacctTriggersMerged1764806400000();
      await migration.down(runner);
      expect(await triggers()).toEqual([
        'rg_radacct_changes_ai',
        'rg_radacct_changes_au',
        'rg_radacct_usage_ai',
        'rg_radacct_usage_au',
      ]);
      await migration.up(runner);
      expect(await triggers()).toEqual(['rg_radacct_ai', 'rg_radacct_au']);
      // Then the month of a Stop's usage: its stop time first, and back.
      const body = async (name: string) =>
        Object.values(
          (await db.query<Record<string, string>>(`SHOW CREATE TRIGGER \`${name}\``))[0],
        ).join(' ');
      const byStop = async () => [
        (await body('rg_radacct_ai')).includes('COALESCE(NEW.acctstoptime, NEW.acctupdatetime'),
        (await body('rg_radacct_au')).includes('THEN NEW.acctstoptime ELSE'),
      ];
      const ofStop = new UsageMonthOfStop1764892800000();
      await ofStop.up(runner);
      expect(await byStop()).toEqual([true, true]);
      await ofStop.down(runner);
      expect(await byStop()).toEqual([false, false]);
      expect(await body('rg_radacct_au')).toContain(
        'COALESCE(NEW.acctupdatetime, NEW.acctstoptime',
      );
      await ofStop.up(runner);
      expect(await byStop()).toEqual([true, true]);
      // Then the queue row of another writer's change to a row closed as stale, and back.
      const staleKind = async () => (await body('rg_radacct_au')).includes("'Stale-Session'");
      const stale = new StaleSessionChanges1765065600000();
      expect(await staleKind()).toBe(false); // as UsageMonthOfStop's up left them
      await stale.up(runner);
      expect(await staleKind()).toBe(true);
      expect(await byStop()).toEqual([true, true]);
      await stale.down(runner);
      expect(await staleKind()).toBe(false);
      await stale.up(runner);
      expect(await staleKind()).toBe(true);
      // Then the queue row of a later Start that reuses a closed row, and back.
      const reusedKind = async () =>
        (await body('rg_radacct_au')).includes('NEW.`acctstarttime` > NEW.`acctstoptime`');
      const reused = new ReusedRadacctChanges1765497600000();
      expect(await reusedKind()).toBe(false); // as StaleSessionChanges's up left them
      await reused.up(runner);
      expect([await reusedKind(), await staleKind()]).toEqual([true, true]);
      expect(await byStop()).toEqual([true, true]);
      expect(await triggers()).toEqual(['rg_radacct_ai', 'rg_radacct_au']);
      await reused.down(runner);
      expect([await reusedKind(), await staleKind()]).toEqual([false, true]);
      await reused.up(runner);
      expect(await reusedKind()).toBe(true);
      // Then kind 5 for a later Start that reuses an open row, and back.
      const openReusedKind = async () =>
        (await body('rg_radacct_au')).includes(
          'NEW.`acctstarttime` > COALESCE(OLD.`acctupdatetime`, OLD.`acctstarttime`)',
        );
      const openReused = new OpenReusedRadacctChanges1765584000000();
      expect(await openReusedKind()).toBe(false); // as ReusedRadacctChanges's up left them
      await openReused.up(runner);
      expect([await openReusedKind(), await reusedKind(), await staleKind()]).toEqual([
        true,
        true,
        true,
      ]);
      expect(await byStop()).toEqual([true, true]);
      expect(await triggers()).toEqual(['rg_radacct_ai', 'rg_radacct_au']);
      await openReused.down(runner);
      expect([await openReusedKind(), await reusedKind()]).toEqual([false, true]);
      await openReused.up(runner);
      expect(await openReusedKind()).toBe(true);
      // Then the take-back of an older report written late, and back.
      const takesBack = async () =>
        (await body('rg_radacct_au')).includes('NEW.`acctupdatetime` < OLD.`acctupdatetime`');
      const late = new LateReportUsage1765760400000();
      expect(await takesBack()).toBe(false); // as OpenReusedRadacctChanges's up left them
      await late.up(runner);
      expect([await takesBack(), await openReusedKind(), await staleKind()]).toEqual([
        true,
        true,
        true,
      ]);
      expect(await byStop()).toEqual([true, true]);
      expect(await triggers()).toEqual(['rg_radacct_ai', 'rg_radacct_au']);
      await late.down(runner);
      expect([await takesBack(), await openReusedKind()]).toEqual([false, true]);
      await late.up(runner);
      expect(await takesBack()).toBe(true);
    } finally {
      await runner.release();
      await ds.destroy();
    }
  });
});

describe('radacct triggers on sqlite', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
  });

  afterAll(async () => {
    await db?.drop();
  });

  it("queue a later Start's reuse of a closed row, and the migration's down takes it back", async () => {
    const body = async () =>
      (
        await db.query<{ sql: string }>(
          "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'rg_radacct_stale_changes_au'",
        )
      ).map((t) => [
        t.sql.includes('NEW."acctstarttime" > NEW."acctstoptime"'),
        t.sql.includes("'Stale-Session'"),
      ]);
    expect(await body()).toEqual([[true, true]]);
    const ds = await db.openDataSource();
    const runner = ds.createQueryRunner();
    try {
      const migration = new ReusedRadacctChangesSqlite();
      await migration.down(runner);
      expect(await body()).toEqual([[false, true]]);
      await migration.up(runner);
      expect(await body()).toEqual([[true, true]]);
    } finally {
      await runner.release();
      await ds.destroy();
    }
  });

  it("take back an older report's lowering of an open row's counters, and the migration's down drops it", async () => {
    const late = async () =>
      (
        await db.query<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name = 'rg_radacct_usage_late_au'",
        )
      ).length;
    expect(await late()).toBe(1);
    const ds = await db.openDataSource();
    const runner = ds.createQueryRunner();
    try {
      const migration = new LateReportUsageSqlite();
      await migration.down(runner);
      expect(await late()).toBe(0);
      await migration.up(runner);
      expect(await late()).toBe(1);
    } finally {
      await runner.release();
      await ds.destroy();
    }
  });

  it("queue a later Start's reuse of an open row as kind 5, and the migration's down takes it back", async () => {
    const triggers = async () =>
      (
        await db.query<{ name: string; sql: string }>(
          "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'radacct' ORDER BY name",
        )
      ).map((t) => [
        t.name,
        t.sql.includes('NEW."acctstarttime" > COALESCE(OLD."acctupdatetime", OLD."acctstarttime")'),
      ]);
    // Only the open row's trigger changes; the others (usage, stale rows) stay as they are.
    const today = await triggers();
    expect(today.filter(([, reused]) => reused)).toEqual([['rg_radacct_changes_au', true]]);
    const before = today.map(([name]) => [name, false]);
    const ds = await db.openDataSource();
    const runner = ds.createQueryRunner();
    try {
      const migration = new OpenReusedRadacctChangesSqlite();
      await migration.down(runner);
      expect(await triggers()).toEqual(before);
      await migration.up(runner);
      expect(await triggers()).toEqual(today);
    } finally {
      await runner.release();
      await ds.destroy();
    }
  });
});

describe('migrations on mysql, several instances starting at once', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('mysql', { migrate: false });
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('run each migration once: the instances take turns, and the later ones find none pending', async () => {
    // As replicas do that all start with RUN_MIGRATIONS=true (the app's DataSource options).
    const instances = await Promise.all(
      [1, 2, 3].map(() => createDataSource(db.config, { runMigrations: true })),
    );
    try {
      await Promise.all(instances.map((ds) => ds.initialize()));
      const rows = await db.query<{ name: string; runs: number | string }>(
        'SELECT name, COUNT(*) AS runs FROM radgraph_migrations GROUP BY name',
      );
      expect(rows.filter((r) => Number(r.runs) !== 1)).toEqual([]);
      expect(rows.map((r) => r.name).sort()).toEqual(MYSQL_MIGRATIONS.map((m) => m.name).sort());
      expect(await instances[0].showMigrations()).toBe(false);
    } finally {
      await Promise.all(instances.filter((ds) => ds.isInitialized).map((ds) => ds.destroy()));
    }
  });
});

describe.each(['mysql', 'sqlite'] as const)('rg_customers.version on %s', (kind) => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('is 1 for a new row and one more with every UPDATE, whatever writes it; down and up again', async () => {
    await db.query(
      'INSERT INTO rg_profiles (name, download_rate_kbps, upload_rate_kbps, validity_days) VALUES (?, ?, ?, ?)',
      ['Home', 1024, 512, 30],
    );
    await db.query(
      `INSERT INTO rg_customers (account_no, username, profile_id, joined_at, search_text)
       SELECT 'RG-1', 'v.user', id, '2026-01-01 00:00:00', 'v.user' FROM rg_profiles`,
    );
    const version = async () =>
      Number(
        (
          await db.query<{ v: number }>(
            "SELECT version AS v FROM rg_customers WHERE username = 'v.user'",
          )
        )[0].v,
      );
    expect(await version()).toBe(1);
    await db.query("UPDATE rg_customers SET phone = '0700' WHERE username = 'v.user'");
    expect(await version()).toBe(2);
    await db.query('UPDATE rg_customers SET balance_minor = balance_minor + 500');
    expect(await version()).toBe(3);
    // A write that sets the version itself gets one more than the stored one, not its own.
    await db.query("UPDATE rg_customers SET version = 1, name = 'V' WHERE username = 'v.user'");
    expect(await version()).toBe(4);

    const ds = await db.openDataSource();
    const runner = ds.createQueryRunner();
    try {
      const migration =
        kind === 'mysql' ? new CustomerVersion1765933200000() : new CustomerVersionSqlite();
      await migration.down(runner);
      // Asked of the migration's own connection: in .ci/run-like load the test's other
      // SQLite connection once still read the column right after it was dropped.
      const columns = async () =>
        (
          (await runner.query(
            kind === 'mysql'
              ? "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'rg_customers'"
              : "SELECT name FROM pragma_table_info('rg_customers')",
          )) as Array<{ name: string }>
        ).map((c) => c.name);
      expect(await columns()).not.toContain('version');
      await migration.up(runner);
      expect(await version()).toBe(1);
      await db.query("UPDATE rg_customers SET phone = '0711' WHERE username = 'v.user'");
      expect(await version()).toBe(2);
    } finally {
      await runner.release();
      await ds.destroy();
    }
  });
});
