import { MigrationInterface, QueryRunner } from 'typeorm';

/** The audit trail: one row per mutation, written in the mutation's own transaction. */
export class AuditLog1764720000000 implements MigrationInterface {
  name = 'AuditLog1764720000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      'CREATE TABLE `rg_audit_log` (`id` int NOT NULL AUTO_INCREMENT, `at` datetime NOT NULL, `actor` varchar(128) NOT NULL, `actor_kind` varchar(16) NOT NULL, `operation` varchar(64) NOT NULL, `target_type` varchar(32) NOT NULL, `target_id` varchar(64) NULL, `target_label` varchar(128) NULL, `changes` text NOT NULL, `outcome` varchar(500) NULL, INDEX `IDX_rg_audit_log_at` (`at`), INDEX `IDX_rg_audit_log_operation` (`operation`, `id`), INDEX `IDX_rg_audit_log_actor` (`actor`, `id`), INDEX `IDX_rg_audit_log_target` (`target_type`, `target_id`, `id`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE `rg_audit_log`');
  }
}
