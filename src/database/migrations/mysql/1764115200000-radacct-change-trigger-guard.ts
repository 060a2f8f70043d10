import { MigrationInterface, QueryRunner } from 'typeorm';
import {
  RADACCT_CHANGE_TRIGGERS_MYSQL,
  RADACCT_CHANGE_TRIGGERS_MYSQL_V1,
} from '../radacct-change-triggers';

/**
 * The change-feed triggers on radacct test @rg_origin in an IF before running anything, so
 * radgraph's own writes (the accounting listener's batches) run no statement per row. Same
 * queue rows as before for every other writer. MySQL only: SQLite's triggers already have a
 * WHEN condition.
 */
export class RadacctChangeTriggerGuard1764115200000 implements MigrationInterface {
  name = 'RadacctChangeTriggerGuard1764115200000';

  public async up(q: QueryRunner): Promise<void> {
    for (const statement of RADACCT_CHANGE_TRIGGERS_MYSQL) await q.query(statement);
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const statement of RADACCT_CHANGE_TRIGGERS_MYSQL_V1) await q.query(statement);
  }
}
