import { MigrationInterface, QueryRunner } from 'typeorm';
import { RADACCT_TRIGGERS_MYSQL, RADACCT_TRIGGERS_MYSQL_SEPARATE } from '../radacct-triggers';

/**
 * radacct's change-feed and monthly-usage triggers become one trigger per event, each counter's
 * growth computed once (see radacct-triggers.ts): the same rows written, for less of MariaDB's
 * time on every radacct write, FreeRADIUS's as well as radgraph's. MySQL only: SQLite's
 * triggers keep their WHEN conditions.
 */
export class RadacctTriggersMerged1764806400000 implements MigrationInterface {
  name = 'RadacctTriggersMerged1764806400000';

  public async up(q: QueryRunner): Promise<void> {
    await replaceLocked(q, RADACCT_TRIGGERS_MYSQL);
  }

  public async down(q: QueryRunner): Promise<void> {
    await replaceLocked(q, RADACCT_TRIGGERS_MYSQL_SEPARATE);
  }
}

/**
 * Drops and creates the triggers with radacct and the tables they write locked: a FreeRADIUS
 * writing meanwhile waits those few milliseconds instead of writing a row no trigger sees
 * (no usage added, no change-feed row).
 */
async function replaceLocked(q: QueryRunner, statements: readonly string[]): Promise<void> {
  await q.query(
    'LOCK TABLES `radacct` WRITE, `rg_radacct_changes` WRITE, `rg_usage_monthly` WRITE',
  );
  try {
    for (const statement of statements) await q.query(statement);
  } finally {
    await q.query('UNLOCK TABLES');
  }
}
