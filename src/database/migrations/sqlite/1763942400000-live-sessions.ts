import { MigrationInterface, QueryRunner } from 'typeorm';
import { RADACCT_CHANGE_TRIGGERS_SQLITE } from '../radacct-change-triggers';

/** Live sessions, as on MySQL: radacct.rg_seen_at, the change feed's queue and its triggers. */
export class LiveSessions1763942400000 implements MigrationInterface {
  name = 'LiveSessions1763942400000';

  public async up(q: QueryRunner): Promise<void> {
    const columns = (await q.query(`PRAGMA table_info("radacct")`)) as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'rg_seen_at')) {
      await q.query(`ALTER TABLE "radacct" ADD COLUMN "rg_seen_at" datetime`);
    }
    await q.query(
      `CREATE TABLE "rg_radacct_changes" ("seq" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "radacctid" bigint NOT NULL, "kind" tinyint NOT NULL)`,
    );
    for (const statement of RADACCT_CHANGE_TRIGGERS_SQLITE) await q.query(statement);
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const t of ['rg_radacct_changes_ai', 'rg_radacct_changes_au', 'rg_radacct_seen_au']) {
      await q.query(`DROP TRIGGER IF EXISTS "${t}"`);
    }
    await q.query(`DROP TABLE "rg_radacct_changes"`);
  }
}
