import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * rg_expiry_actions.alive_after: a disconnect that got through holds when its sessions count
 * as still alive (the database's clock, as radacct.rg_seen_at: NOW(), not UTC_TIMESTAMP()).
 * An open session it covered with an accounting change after then is disconnected again
 * (ExpiryActions). The disconnects recorded before get the time of the migration plus the
 * grace: an expired customer whose row is still being updated now is disconnected again.
 */
export class ExpiryStillAlive1765411200000 implements MigrationInterface {
  name = 'ExpiryStillAlive1765411200000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE `rg_expiry_actions` ADD `alive_after` datetime NULL');
    await q.query(
      'UPDATE `rg_expiry_actions` SET `alive_after` = NOW() + INTERVAL 60 SECOND WHERE `radacct_id` IS NOT NULL',
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE `rg_expiry_actions` DROP COLUMN `alive_after`');
  }
}
