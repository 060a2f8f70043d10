import { MigrationInterface, QueryRunner } from 'typeorm';

/** rg_audit_log by target and label, as on MySQL (see the MySQL migration). */
export class AuditLogLabelIndex1766106000000 implements MigrationInterface {
  name = 'AuditLogLabelIndex1766106000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX "IDX_rg_audit_log_label" ON "rg_audit_log" ("target_type", "target_label", "id") `,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "IDX_rg_audit_log_label"`);
  }
}
