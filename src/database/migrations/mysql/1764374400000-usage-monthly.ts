import { MigrationInterface, QueryRunner } from 'typeorm';
import { USAGE_TRIGGERS_MYSQL } from '../usage-triggers';

/**
 * Usage per user per calendar month, kept by triggers on radacct (see usage-triggers.ts).
 * It starts empty: months before this migration are not rolled up.
 */
export class UsageMonthly1764374400000 implements MigrationInterface {
  name = 'UsageMonthly1764374400000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      "CREATE TABLE `rg_usage_monthly` (`username` varchar(64) NOT NULL, `month` char(7) NOT NULL, `upload_bytes` bigint NOT NULL DEFAULT '0', `download_bytes` bigint NOT NULL DEFAULT '0', PRIMARY KEY (`username`, `month`)) ENGINE=InnoDB",
    );
    for (const statement of USAGE_TRIGGERS_MYSQL) await q.query(statement);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER IF EXISTS `rg_radacct_usage_ai`');
    await q.query('DROP TRIGGER IF EXISTS `rg_radacct_usage_au`');
    await q.query('DROP TABLE `rg_usage_monthly`');
  }
}
