import { MigrationInterface, QueryRunner } from 'typeorm';

/** The audit trail, as on MySQL. */
export class AuditLog1764720000000 implements MigrationInterface {
  name = 'AuditLog1764720000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "rg_audit_log" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "at" datetime NOT NULL, "actor" varchar(128) NOT NULL, "actor_kind" varchar(16) NOT NULL, "operation" varchar(64) NOT NULL, "target_type" varchar(32) NOT NULL, "target_id" varchar(64), "target_label" varchar(128), "changes" text NOT NULL, "outcome" varchar(500))`,
    );
    await q.query(`CREATE INDEX "IDX_rg_audit_log_at" ON "rg_audit_log" ("at") `);
    await q.query(
      `CREATE INDEX "IDX_rg_audit_log_operation" ON "rg_audit_log" ("operation", "id") `,
    );
    await q.query(`CREATE INDEX "IDX_rg_audit_log_actor" ON "rg_audit_log" ("actor", "id") `);
    await q.query(
      `CREATE INDEX "IDX_rg_audit_log_target" ON "rg_audit_log" ("target_type", "target_id", "id") `,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "rg_audit_log"`);
  }
}
