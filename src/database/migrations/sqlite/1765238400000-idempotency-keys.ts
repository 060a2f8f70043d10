import { MigrationInterface, QueryRunner } from 'typeorm';

/** Idempotency keys of the billing mutations, as on MySQL. */
export class IdempotencyKeys1765238400000 implements MigrationInterface {
  name = 'IdempotencyKeys1765238400000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "rg_idempotency_keys" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "key_hash" char(64) NOT NULL, "operation" varchar(32) NOT NULL, "customer_id" integer NOT NULL, "request_hash" char(64) NOT NULL, "ledger_entry_id" integer, "created_at" datetime NOT NULL, CONSTRAINT "FK_rg_idempotency_keys_customer" FOREIGN KEY ("customer_id") REFERENCES "rg_customers" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "UQ_rg_idempotency_keys_key_hash" ON "rg_idempotency_keys" ("key_hash") `,
    );
    await q.query(
      `CREATE INDEX "IDX_rg_idempotency_keys_customer" ON "rg_idempotency_keys" ("customer_id") `,
    );
    await q.query(
      `CREATE INDEX "IDX_rg_idempotency_keys_created" ON "rg_idempotency_keys" ("created_at") `,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "rg_idempotency_keys"`);
  }
}
