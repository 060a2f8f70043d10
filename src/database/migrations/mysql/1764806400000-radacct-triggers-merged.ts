import { MigrationInterface, QueryRunner } from 'typeorm';
import {
  RADACCT_TRIGGERS_MYSQL_MERGED,
  RADACCT_TRIGGERS_MYSQL_SEPARATE,
  replaceRadacctTriggersLocked,
} from '../radacct-triggers';

/**
 * radacct's change-feed and monthly-usage triggers become one trigger per event, each counter's
 * growth computed once (see radacct-triggers.ts): the same rows written, for less of MariaDB's
 * time on every radacct write, FreeRADIUS's as well as radgraph's. MySQL only: SQLite's
 * triggers keep their WHEN conditions.
 */
export class RadacctTriggersMerged1764806400000 implements MigrationInterface {
  name = 'RadacctTriggersMerged1764806400000';

  public async up(q: QueryRunner): Promise<void> {
    await replaceRadacctTriggersLocked(q, RADACCT_TRIGGERS_MYSQL_MERGED);
  }

  public async down(q: QueryRunner): Promise<void> {
    await replaceRadacctTriggersLocked(q, RADACCT_TRIGGERS_MYSQL_SEPARATE);
  }
}
