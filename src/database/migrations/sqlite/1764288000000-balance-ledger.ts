import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Money and the ledger, as on MySQL. The two columns are added in place (ADD COLUMN), not by
 * copying rg_profiles and rg_customers into new tables as TypeORM's schema builder would:
 * dropping the old rg_customers would cascade to the customers' search keys.
 */
export class BalanceLedger1764288000000 implements MigrationInterface {
  name = 'BalanceLedger1764288000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "rg_profiles" ADD COLUMN "price_minor" bigint NOT NULL DEFAULT (0)`);
    await q.query(
      `ALTER TABLE "rg_customers" ADD COLUMN "balance_minor" bigint NOT NULL DEFAULT (0)`,
    );
    await q.query(
      `CREATE TABLE "rg_ledger" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "customer_id" integer NOT NULL, "amount_minor" bigint NOT NULL, "balance_after_minor" bigint NOT NULL, "kind" varchar(16) NOT NULL, "note" varchar(500), "actor" varchar(128) NOT NULL, "created_at" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT "FK_rg_ledger_customer" FOREIGN KEY ("customer_id") REFERENCES "rg_customers" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await q.query(`CREATE INDEX "IDX_rg_ledger_customer" ON "rg_ledger" ("customer_id", "id")`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "rg_ledger"`);
    await q.query(`ALTER TABLE "rg_customers" DROP COLUMN "balance_minor"`);
    await q.query(`ALTER TABLE "rg_profiles" DROP COLUMN "price_minor"`);
  }
}
