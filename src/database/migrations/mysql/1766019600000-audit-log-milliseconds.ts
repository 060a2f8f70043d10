import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * rg_audit_log.at to the millisecond: a datetime kept whole seconds, so a change made at
 * 10:00:05.500 read as 10:00:05 and an auditLog(filter: { since: "10:00:05.300" }) missed it.
 */
export class AuditLogMilliseconds1766019600000 implements MigrationInterface {
  name = 'AuditLogMilliseconds1766019600000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE `rg_audit_log` MODIFY `at` datetime(3) NOT NULL');
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE `rg_audit_log` MODIFY `at` datetime NOT NULL');
  }
}
