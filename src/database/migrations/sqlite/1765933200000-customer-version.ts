import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * rg_customers.version, as on MySQL. SQLite's triggers cannot set NEW, so an AFTER UPDATE
 * trigger sets it to one more than before with an UPDATE of its own, whatever the statement
 * set it to; its WHEN leaves alone a row already there (its own UPDATE, were recursive
 * triggers on), so it never runs twice for one change.
 */
export class CustomerVersion1765933200000 implements MigrationInterface {
  name = 'CustomerVersion1765933200000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "rg_customers" ADD COLUMN "version" integer NOT NULL DEFAULT (1)`);
    await q.query(`DROP TRIGGER IF EXISTS "rg_customers_version_au"`);
    await q.query(
      `CREATE TRIGGER "rg_customers_version_au" AFTER UPDATE ON "rg_customers" FOR EACH ROW ` +
        `WHEN NEW."version" IS NOT OLD."version" + 1 BEGIN ` +
        `UPDATE "rg_customers" SET "version" = OLD."version" + 1 WHERE "id" = NEW."id"; END`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER IF EXISTS "rg_customers_version_au"`);
    await q.query(`ALTER TABLE "rg_customers" DROP COLUMN "version"`);
  }
}
