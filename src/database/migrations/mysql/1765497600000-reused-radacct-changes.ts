import { MigrationInterface, QueryRunner } from 'typeorm';
import {
  RADACCT_TRIGGERS_MYSQL_REUSED,
  RADACCT_TRIGGERS_MYSQL_STALE,
  replaceRadacctTriggersLocked,
} from '../radacct-triggers';

/**
 * Another writer's change that moves a closed row's acctstarttime past its acctstoptime is
 * queued for the change feed (kind 5, radacct-change-triggers.ts): FreeRADIUS's Start for a new
 * session that reuses the row (a NAS that rebooted and gave the same user and port an
 * Acct-Session-Id it had given before), whose INSERT fails on the acctuniqueid and whose
 * fallback UPDATE leaves the row stopped. The feed makes the row that session and publishes
 * STARTED.
 */
export class ReusedRadacctChanges1765497600000 implements MigrationInterface {
  name = 'ReusedRadacctChanges1765497600000';

  public async up(q: QueryRunner): Promise<void> {
    await replaceRadacctTriggersLocked(q, RADACCT_TRIGGERS_MYSQL_REUSED);
  }

  public async down(q: QueryRunner): Promise<void> {
    await replaceRadacctTriggersLocked(q, RADACCT_TRIGGERS_MYSQL_STALE);
  }
}
