import { MigrationInterface, QueryRunner } from 'typeorm';
import {
  RADACCT_OPEN_CHANGE_TRIGGER_SQLITE,
  RADACCT_OPEN_REUSED_CHANGE_TRIGGER_SQLITE,
} from '../radacct-change-triggers';

/**
 * Another writer's change that moves an open row's acctstarttime past its last report is
 * queued as kind 5 rather than 2 (radacct-change-triggers.ts): a Start for a new session whose
 * NAS lost power and reused the row, which the feed makes that session and publishes as
 * STARTED.
 */
export class OpenReusedRadacctChanges1765584000000 implements MigrationInterface {
  name = 'OpenReusedRadacctChanges1765584000000';

  public async up(q: QueryRunner): Promise<void> {
    for (const statement of RADACCT_OPEN_REUSED_CHANGE_TRIGGER_SQLITE) await q.query(statement);
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const statement of RADACCT_OPEN_CHANGE_TRIGGER_SQLITE) await q.query(statement);
  }
}
