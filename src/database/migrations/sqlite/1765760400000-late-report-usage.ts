import { MigrationInterface, QueryRunner } from 'typeorm';
import { USAGE_LATE_TRIGGER_SQLITE } from '../usage-triggers';

/**
 * An older report written late into an open row takes back from the month's usage what it
 * lowered the counters by (usage-triggers.ts mysqlLateReport), in a trigger of its own.
 */
export class LateReportUsage1765760400000 implements MigrationInterface {
  name = 'LateReportUsage1765760400000';

  public async up(q: QueryRunner): Promise<void> {
    for (const statement of USAGE_LATE_TRIGGER_SQLITE) await q.query(statement);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER IF EXISTS "rg_radacct_usage_late_au"');
  }
}
