import { MigrationInterface, QueryRunner } from 'typeorm';

/** API keys, as on MySQL. */
export class ApiKeys1764633600000 implements MigrationInterface {
  name = 'ApiKeys1764633600000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "rg_api_keys" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "name" varchar(64) NOT NULL, "role" varchar(16) NOT NULL, "key_hash" char(64) NOT NULL, "prefix" varchar(16) NOT NULL, "created_at" datetime NOT NULL DEFAULT (datetime('now')), "last_used_at" datetime, "revoked_at" datetime)`,
    );
    await q.query(`CREATE UNIQUE INDEX "UQ_rg_api_keys_key_hash" ON "rg_api_keys" ("key_hash") `);
    await q.query(`CREATE UNIQUE INDEX "UQ_rg_api_keys_name" ON "rg_api_keys" ("name") `);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "rg_api_keys"`);
  }
}
