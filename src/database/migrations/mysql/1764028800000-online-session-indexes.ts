import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who is online, from indexes that start with acctstoptime, so that they read only the open
 * sessions (acctstoptime IS NULL) however long the radacct history grows:
 * - rg_radacct_open_nas (acctstoptime, nasipaddress, radacctid, acctinputoctets,
 *   acctoutputoctets): onlineSummary and Nas.onlineCount (counts and byte totals per NAS from
 *   the index alone), onlineSessions(nasId) (its page newest first, its totalCount);
 * - rg_radacct_open_username (acctstoptime, username): onlineSessions(search) by username
 *   prefix, and the open sessions of the customers whose username contains the term;
 * - rg_radacct_open_ip (acctstoptime, framedipaddress): onlineSessions(search) by IP prefix;
 * - rg_radacct_open_mac (acctstoptime, callingstationid): onlineSessions(search) by MAC prefix.
 * Each costs every writer of radacct: one more index entry per Start, one moved per Stop, and,
 * for rg_radacct_open_nas only (it holds the counters), one changed per Interim-Update.
 * FreeRADIUS's own indexes stay as they are: radgraph only adds to radacct.
 */
export class OnlineSessionIndexes1764028800000 implements MigrationInterface {
  name = 'OnlineSessionIndexes1764028800000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      'CREATE INDEX IF NOT EXISTS `rg_radacct_open_nas` ON `radacct` (`acctstoptime`, `nasipaddress`, `radacctid`, `acctinputoctets`, `acctoutputoctets`)',
    );
    await q.query(
      'CREATE INDEX IF NOT EXISTS `rg_radacct_open_username` ON `radacct` (`acctstoptime`, `username`)',
    );
    await q.query(
      'CREATE INDEX IF NOT EXISTS `rg_radacct_open_ip` ON `radacct` (`acctstoptime`, `framedipaddress`)',
    );
    await q.query(
      'CREATE INDEX IF NOT EXISTS `rg_radacct_open_mac` ON `radacct` (`acctstoptime`, `callingstationid`)',
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const name of [
      'rg_radacct_open_mac',
      'rg_radacct_open_ip',
      'rg_radacct_open_username',
      'rg_radacct_open_nas',
    ]) {
      await q.query(`DROP INDEX IF EXISTS \`${name}\` ON \`radacct\``);
    }
  }
}
