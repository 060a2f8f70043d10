import { MigrationInterface, QueryRunner } from 'typeorm';
import {
  RADACCT_CLOSED_CHANGE_TRIGGER_SQLITE,
  RADACCT_STALE_CHANGE_TRIGGER_SQLITE,
} from '../radacct-change-triggers';

/**
 * Another writer's change that moves a closed row's acctstarttime past its acctstoptime is
 * queued for the change feed (kind 5, radacct-change-triggers.ts): a Start for a new session
 * that reuses the row, which the feed makes that session and publishes as STARTED.
 */
export class ReusedRadacctChanges1765497600000 implements MigrationInterface {
  name = 'ReusedRadacctChanges1765497600000';

  public async up(q: QueryRunner): Promise<void> {
    for (const statement of RADACCT_CLOSED_CHANGE_TRIGGER_SQLITE) await q.query(statement);
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const statement of RADACCT_STALE_CHANGE_TRIGGER_SQLITE) await q.query(statement);
  }
}
