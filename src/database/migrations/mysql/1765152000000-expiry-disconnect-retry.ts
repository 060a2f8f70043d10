import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An expiry disconnect is tried again until it gets through, and again for a session begun
 * after it (rg_expiry_actions): `claimed_until` holds a disconnect in flight (the database's
 * clock; a claim whose instance died runs out), `radacct_id` the newest session a disconnect
 * that got through was for. The disconnects recorded before stay done for the sessions there
 * are now.
 */
export class ExpiryDisconnectRetry1765152000000 implements MigrationInterface {
  name = 'ExpiryDisconnectRetry1765152000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      'ALTER TABLE `rg_expiry_actions` ADD `radacct_id` bigint NULL, ADD `claimed_until` datetime NULL',
    );
    await q.query(
      "UPDATE `rg_expiry_actions` SET `radacct_id` = (SELECT COALESCE(MAX(`radacctid`), 0) FROM `radacct`) WHERE `action` = 'disconnect'",
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(
      'ALTER TABLE `rg_expiry_actions` DROP COLUMN `claimed_until`, DROP COLUMN `radacct_id`',
    );
  }
}
