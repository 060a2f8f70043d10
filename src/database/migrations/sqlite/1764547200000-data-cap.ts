import { MigrationInterface, QueryRunner } from 'typeorm';

/** The data cap, as on MySQL. */
export class DataCap1764547200000 implements MigrationInterface {
  name = 'DataCap1764547200000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "rg_profiles" ADD COLUMN "fup_upload_rate_kbps" integer`);
    await q.query(`ALTER TABLE "rg_profiles" ADD COLUMN "fup_download_rate_kbps" integer`);
    await q.query(
      `CREATE TABLE "rg_usage_period" ("id" integer PRIMARY KEY NOT NULL, "month" char(7) NOT NULL)`,
    );
    await q.query(
      `CREATE TABLE "rg_cap_actions" ("username" varchar(64) NOT NULL, "month" char(7) NOT NULL, "action" varchar(16) NOT NULL, "acted_at" datetime NOT NULL, PRIMARY KEY ("username", "month"))`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "rg_profiles" DROP COLUMN "fup_download_rate_kbps"`);
    await q.query(`ALTER TABLE "rg_profiles" DROP COLUMN "fup_upload_rate_kbps"`);
    await q.query(`DROP TABLE "rg_cap_actions"`);
    await q.query(`DROP TABLE "rg_usage_period"`);
  }
}
