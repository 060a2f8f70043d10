import { MigrationInterface, QueryRunner } from 'typeorm';

const COLUMNS =
  '"id", "at", "actor", "actor_kind", "operation", "target_type", "target_id", "target_label", "changes", "outcome"';

/**
 * rg_audit_log.at declared datetime(3), as on MySQL (SQLite kept the milliseconds already):
 * the table made again with its rows, ids and indexes.
 */
export class AuditLogMilliseconds1766019600000 implements MigrationInterface {
  name = 'AuditLogMilliseconds1766019600000';

  public async up(q: QueryRunner): Promise<void> {
    await this.remake(q, 'datetime(3)');
  }

  public async down(q: QueryRunner): Promise<void> {
    await this.remake(q, 'datetime');
  }

  private async remake(q: QueryRunner, at: string): Promise<void> {
    await q.query(
      `CREATE TABLE "temporary_rg_audit_log" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "at" ${at} NOT NULL, "actor" varchar(128) NOT NULL, "actor_kind" varchar(16) NOT NULL, "operation" varchar(64) NOT NULL, "target_type" varchar(32) NOT NULL, "target_id" varchar(64), "target_label" varchar(128), "changes" text NOT NULL, "outcome" varchar(500))`,
    );
    await q.query(
      `INSERT INTO "temporary_rg_audit_log" (${COLUMNS}) SELECT ${COLUMNS} FROM "rg_audit_log"`,
    );
    await q.query(`DROP TABLE "rg_audit_log"`);
    await q.query(`ALTER TABLE "temporary_rg_audit_log" RENAME TO "rg_audit_log"`);
    await q.query(`CREATE INDEX "IDX_rg_audit_log_at" ON "rg_audit_log" ("at") `);
    await q.query(
      `CREATE INDEX "IDX_rg_audit_log_operation" ON "rg_audit_log" ("operation", "id") `,
    );
    await q.query(`CREATE INDEX "IDX_rg_audit_log_actor" ON "rg_audit_log" ("actor", "id") `);
    await q.query(
      `CREATE INDEX "IDX_rg_audit_log_target" ON "rg_audit_log" ("target_type", "target_id", "id") `,
    );
  }
}
