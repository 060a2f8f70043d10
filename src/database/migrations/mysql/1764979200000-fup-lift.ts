import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A FUP throttle is lifted when its month is over: `lifted_at` records (and claims, so that one
 * instance sends it) the CoA-Request that gave an online customer the profile's rate back. The
 * month index finds the last month's throttles without reading every month's.
 */
export class FupLift1764979200000 implements MigrationInterface {
  name = 'FupLift1764979200000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE `rg_cap_actions` ADD `lifted_at` datetime NULL');
    await q.query('CREATE INDEX `rg_cap_actions_month` ON `rg_cap_actions` (`month`)');
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX `rg_cap_actions_month` ON `rg_cap_actions`');
    await q.query('ALTER TABLE `rg_cap_actions` DROP COLUMN `lifted_at`');
  }
}
