import { MigrationInterface, QueryRunner } from 'typeorm';
import {
  RADACCT_TRIGGERS_MYSQL,
  RADACCT_TRIGGERS_MYSQL_OPEN_REUSED,
  replaceRadacctTriggersLocked,
} from '../radacct-triggers';

/**
 * An older Interim-Update that FreeRADIUS writes late (lower counters, an earlier update time)
 * into an open row takes back from the month's usage what it lowered the counters by
 * (usage-triggers.ts mysqlLateReport): the next report's growth counted that traffic again.
 */
export class LateReportUsage1765760400000 implements MigrationInterface {
  name = 'LateReportUsage1765760400000';

  public async up(q: QueryRunner): Promise<void> {
    await replaceRadacctTriggersLocked(q, RADACCT_TRIGGERS_MYSQL);
  }

  public async down(q: QueryRunner): Promise<void> {
    await replaceRadacctTriggersLocked(q, RADACCT_TRIGGERS_MYSQL_OPEN_REUSED);
  }
}
