import { MigrationInterface, QueryRunner } from 'typeorm';
import {
  RADACCT_TRIGGERS_MYSQL_OPEN_REUSED,
  RADACCT_TRIGGERS_MYSQL_REUSED,
  replaceRadacctTriggersLocked,
} from '../radacct-triggers';

/**
 * Another writer's change that moves an open row's acctstarttime past its last report
 * (acctupdatetime, else acctstarttime) is queued as kind 5 rather than 2
 * (radacct-change-triggers.ts): FreeRADIUS's Start for a new session whose NAS lost power (no
 * Stop, no Accounting-On) and gave the same user and port the same Acct-Session-Id, whose
 * INSERT fails on the acctuniqueid and whose fallback UPDATE leaves the old session's
 * counters. The feed makes the row that session and publishes STARTED.
 */
export class OpenReusedRadacctChanges1765584000000 implements MigrationInterface {
  name = 'OpenReusedRadacctChanges1765584000000';

  public async up(q: QueryRunner): Promise<void> {
    await replaceRadacctTriggersLocked(q, RADACCT_TRIGGERS_MYSQL_OPEN_REUSED);
  }

  public async down(q: QueryRunner): Promise<void> {
    await replaceRadacctTriggersLocked(q, RADACCT_TRIGGERS_MYSQL_REUSED);
  }
}
