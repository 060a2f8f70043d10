import { MigrationInterface, QueryRunner } from 'typeorm';

/** radgraph's own tables for profiles (plans) and PPPoE customers, with the customers' search keys. */
export class ProfilesAndCustomers1763856000000 implements MigrationInterface {
  name = 'ProfilesAndCustomers1763856000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "rg_profiles" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar(64) NOT NULL, "download_rate_kbps" integer NOT NULL, "upload_rate_kbps" integer NOT NULL, "data_limit_bytes" bigint, "validity_days" integer NOT NULL, "interim_interval_seconds" integer NOT NULL DEFAULT (300), "created_at" datetime NOT NULL DEFAULT (datetime('now')), "updated_at" datetime NOT NULL DEFAULT (datetime('now')))`,
    );
    await q.query(`CREATE UNIQUE INDEX "UQ_rg_profiles_name" ON "rg_profiles" ("name")`);
    await q.query(
      `CREATE TABLE "rg_customers" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "account_no" varchar(32) NOT NULL, "username" varchar(64) NOT NULL, "phone" varchar(32), "name" varchar(128), "profile_id" integer NOT NULL, "joined_at" datetime NOT NULL, "expires_at" datetime, "suspended" boolean NOT NULL DEFAULT (0), "search_text" varchar(160) NOT NULL, "created_at" datetime NOT NULL DEFAULT (datetime('now')), "updated_at" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT "FK_rg_customers_profile" FOREIGN KEY ("profile_id") REFERENCES "rg_profiles" ("id") ON DELETE RESTRICT ON UPDATE NO ACTION)`,
    );
    await q.query(`CREATE INDEX "IDX_rg_customers_expires_at" ON "rg_customers" ("expires_at")`);
    await q.query(`CREATE INDEX "IDX_rg_customers_profile" ON "rg_customers" ("profile_id")`);
    await q.query(`CREATE INDEX "IDX_rg_customers_search" ON "rg_customers" ("search_text")`);
    await q.query(
      `CREATE UNIQUE INDEX "UQ_rg_customers_account_no" ON "rg_customers" ("account_no")`,
    );
    await q.query(`CREATE UNIQUE INDEX "UQ_rg_customers_username" ON "rg_customers" ("username")`);
    await q.query(
      `CREATE TABLE "rg_customer_search_keys" ("customer_id" integer NOT NULL, "pos" smallint NOT NULL, "k" varchar(16) NOT NULL, CONSTRAINT "FK_rg_customer_search_keys_customer" FOREIGN KEY ("customer_id") REFERENCES "rg_customers" ("id") ON DELETE CASCADE ON UPDATE NO ACTION, PRIMARY KEY ("customer_id", "pos"))`,
    );
    await q.query(
      `CREATE INDEX "IDX_rg_customer_search_keys_k" ON "rg_customer_search_keys" ("k", "customer_id")`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "rg_customer_search_keys"`);
    await q.query(`DROP TABLE "rg_customers"`);
    await q.query(`DROP TABLE "rg_profiles"`);
  }
}
