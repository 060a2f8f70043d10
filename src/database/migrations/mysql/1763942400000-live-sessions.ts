import { MigrationInterface, QueryRunner } from 'typeorm';
import { RADACCT_CHANGE_TRIGGERS_MYSQL_V1 } from '../radacct-change-triggers';

/**
 * Live sessions:
 * - radacct.rg_seen_at, the server's time of the row's last change (MySQL maintains it with
 *   ON UPDATE CURRENT_TIMESTAMP), for stale sessions: acctupdatetime is the NAS's clock;
 * - rg_radacct_changes, the radacct change feed's queue, filled by triggers on radacct for
 *   every writer except radgraph's own (see radacct-change-triggers.ts).
 * Only additions to radacct: nothing FreeRADIUS's queries.conf uses changes.
 */
export class LiveSessions1763942400000 implements MigrationInterface {
  name = 'LiveSessions1763942400000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      'ALTER TABLE `radacct` ADD COLUMN IF NOT EXISTS `rg_seen_at` datetime NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP',
    );
    await q.query(
      'CREATE TABLE `rg_radacct_changes` (`seq` bigint NOT NULL AUTO_INCREMENT, `radacctid` bigint NOT NULL, `kind` tinyint NOT NULL, PRIMARY KEY (`seq`)) ENGINE=InnoDB',
    );
    for (const statement of RADACCT_CHANGE_TRIGGERS_MYSQL_V1) await q.query(statement);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER IF EXISTS `rg_radacct_changes_ai`');
    await q.query('DROP TRIGGER IF EXISTS `rg_radacct_changes_au`');
    await q.query('DROP TABLE `rg_radacct_changes`');
    await q.query('ALTER TABLE `radacct` DROP COLUMN `rg_seen_at`');
  }
}
