import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * rg_audit_log by target and label (a customer's username): what a CSV import reads to tell a
 * row of an old export whose customer was deleted since (AuditService.removals), without
 * reading the whole log.
 */
export class AuditLogLabelIndex1766106000000 implements MigrationInterface {
  name = 'AuditLogLabelIndex1766106000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      'CREATE INDEX `IDX_rg_audit_log_label` ON `rg_audit_log` (`target_type`, `target_label`, `id`)',
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX `IDX_rg_audit_log_label` ON `rg_audit_log`');
  }
}
