import { MigrationInterface, QueryRunner } from 'typeorm';

/** radgraph's per-NAS settings, as on MySQL. */
export class NasSettings1764201600000 implements MigrationInterface {
  name = 'NasSettings1764201600000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "rg_nas_settings" ("nas_id" integer PRIMARY KEY NOT NULL, "coa_port" integer NOT NULL DEFAULT (3799), "api_host" varchar(253), "api_port" integer, "api_user" varchar(64), "api_password" varchar(512), "api_tls" boolean NOT NULL DEFAULT (0), "api_tls_verify" boolean NOT NULL DEFAULT (1), "created_at" datetime NOT NULL DEFAULT (datetime('now')), "updated_at" datetime NOT NULL DEFAULT (datetime('now')), CONSTRAINT "FK_rg_nas_settings_nas" FOREIGN KEY ("nas_id") REFERENCES "nas" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "rg_nas_settings"`);
  }
}
