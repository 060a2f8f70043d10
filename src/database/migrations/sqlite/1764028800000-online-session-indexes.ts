import { MigrationInterface, QueryRunner } from 'typeorm';

/** Who is online, as on MySQL (see the MySQL migration for what each index serves). */
export class OnlineSessionIndexes1764028800000 implements MigrationInterface {
  name = 'OnlineSessionIndexes1764028800000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX IF NOT EXISTS "rg_radacct_open_nas" ON "radacct" ("acctstoptime", "nasipaddress", "radacctid", "acctinputoctets", "acctoutputoctets")`,
    );
    await q.query(
      `CREATE INDEX IF NOT EXISTS "rg_radacct_open_username" ON "radacct" ("acctstoptime", "username")`,
    );
    await q.query(
      `CREATE INDEX IF NOT EXISTS "rg_radacct_open_ip" ON "radacct" ("acctstoptime", "framedipaddress")`,
    );
    await q.query(
      `CREATE INDEX IF NOT EXISTS "rg_radacct_open_mac" ON "radacct" ("acctstoptime", "callingstationid")`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const name of [
      'rg_radacct_open_mac',
      'rg_radacct_open_ip',
      'rg_radacct_open_username',
      'rg_radacct_open_nas',
    ]) {
      await q.query(`DROP INDEX IF EXISTS "${name}"`);
    }
  }
}
