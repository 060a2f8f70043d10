import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The data cap: the current month by radgraph's clock, which FreeRADIUS's cap check reads
 * (rg_usage_period), and what radgraph did about each customer over the cap, once a month
 * (rg_cap_actions); a profile's fair-use speeds.
 */
export class DataCap1764547200000 implements MigrationInterface {
  name = 'DataCap1764547200000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE `rg_profiles` ADD `fup_upload_rate_kbps` int NULL');
    await q.query('ALTER TABLE `rg_profiles` ADD `fup_download_rate_kbps` int NULL');
    await q.query(
      'CREATE TABLE `rg_usage_period` (`id` int NOT NULL, `month` char(7) NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB',
    );
    await q.query(
      'CREATE TABLE `rg_cap_actions` (`username` varchar(64) NOT NULL, `month` char(7) NOT NULL, `action` varchar(16) NOT NULL, `acted_at` datetime NOT NULL, PRIMARY KEY (`username`, `month`)) ENGINE=InnoDB',
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE `rg_profiles` DROP COLUMN `fup_download_rate_kbps`');
    await q.query('ALTER TABLE `rg_profiles` DROP COLUMN `fup_upload_rate_kbps`');
    await q.query('DROP TABLE `rg_cap_actions`');
    await q.query('DROP TABLE `rg_usage_period`');
  }
}
