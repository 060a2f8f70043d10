import { MigrationInterface, QueryRunner } from 'typeorm';
import { RADACCT_STALE_CHANGE_TRIGGER_SQLITE } from '../radacct-change-triggers';

/**
 * Another writer's change to a row radgraph closed as stale is queued for the change feed
 * (kind 4, radacct-change-triggers.ts), which reopens the row or publishes STOPPED.
 */
export class StaleSessionChanges1765065600000 implements MigrationInterface {
  name = 'StaleSessionChanges1765065600000';

  public async up(q: QueryRunner): Promise<void> {
    for (const statement of RADACCT_STALE_CHANGE_TRIGGER_SQLITE) await q.query(statement);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER IF EXISTS "rg_radacct_stale_changes_au"');
  }
}
