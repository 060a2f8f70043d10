import { createTestDatabase, type TestDatabase } from '../support/test-database';

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
