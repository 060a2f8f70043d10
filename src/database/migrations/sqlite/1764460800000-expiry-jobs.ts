import { MigrationInterface, QueryRunner } from 'typeorm';

/** Job leases and the expiry job's once-only actions, as on MySQL. */
export class ExpiryJobs1764460800000 implements MigrationInterface {
  name = 'ExpiryJobs1764460800000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "rg_job_leases" ("name" varchar(64) PRIMARY KEY NOT NULL, "holder" varchar(128) NOT NULL, "expires_at" datetime NOT NULL)`,
    );
    await q.query(
      `CREATE TABLE "rg_expiry_actions" ("customer_id" integer NOT NULL, "expires_at" datetime NOT NULL, "action" varchar(16) NOT NULL, "acted_at" datetime NOT NULL, CONSTRAINT "FK_rg_expiry_actions_customer" FOREIGN KEY ("customer_id") REFERENCES "rg_customers" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, PRIMARY KEY ("customer_id", "expires_at", "action"))`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "rg_expiry_actions"`);
    await q.query(`DROP TABLE "rg_job_leases"`);
  }
}
