import { MigrationInterface, QueryRunner } from 'typeorm';
import {
  RADACCT_TRIGGERS_MYSQL_BY_STOP,
  RADACCT_TRIGGERS_MYSQL_STALE,
  replaceRadacctTriggersLocked,
} from '../radacct-triggers';

/**
 * Another writer's change to a row radgraph closed as stale is queued for the change feed
 * (kind 4, radacct-change-triggers.ts): FreeRADIUS writing an Interim-Update or a Stop for a
 * session the reaper closed, which the feed then reopens, or publishes as STOPPED.
 */
export class StaleSessionChanges1765065600000 implements MigrationInterface {
  name = 'StaleSessionChanges1765065600000';

  public async up(q: QueryRunner): Promise<void> {
    await replaceRadacctTriggersLocked(q, RADACCT_TRIGGERS_MYSQL_STALE);
  }

  public async down(q: QueryRunner): Promise<void> {
    await replaceRadacctTriggersLocked(q, RADACCT_TRIGGERS_MYSQL_BY_STOP);
  }
}
