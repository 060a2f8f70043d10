import { MigrationInterface, QueryRunner } from 'typeorm';

/** radgraph's own tables for profiles (plans) and PPPoE customers, with the customers' search keys. */
export class ProfilesAndCustomers1763856000000 implements MigrationInterface {
  name = 'ProfilesAndCustomers1763856000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      "CREATE TABLE `rg_profiles` (`id` int NOT NULL AUTO_INCREMENT, `name` varchar(64) NOT NULL, `download_rate_kbps` int NOT NULL, `upload_rate_kbps` int NOT NULL, `data_limit_bytes` bigint NULL, `validity_days` int NOT NULL, `interim_interval_seconds` int NOT NULL DEFAULT '300', `created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), `updated_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), UNIQUE INDEX `UQ_rg_profiles_name` (`name`), PRIMARY KEY (`id`)) ENGINE=InnoDB",
    );
    await q.query(
      'CREATE TABLE `rg_customers` (`id` int NOT NULL AUTO_INCREMENT, `account_no` varchar(32) NOT NULL, `username` varchar(64) NOT NULL, `phone` varchar(32) NULL, `name` varchar(128) NULL, `profile_id` int NOT NULL, `joined_at` datetime NOT NULL, `expires_at` datetime NULL, `suspended` tinyint NOT NULL DEFAULT 0, `search_text` varchar(160) NOT NULL, `created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), `updated_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), INDEX `IDX_rg_customers_expires_at` (`expires_at`), INDEX `IDX_rg_customers_profile` (`profile_id`), INDEX `IDX_rg_customers_search` (`search_text`), UNIQUE INDEX `UQ_rg_customers_account_no` (`account_no`), UNIQUE INDEX `UQ_rg_customers_username` (`username`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
    );
    await q.query(
      'ALTER TABLE `rg_customers` ADD CONSTRAINT `FK_rg_customers_profile` FOREIGN KEY (`profile_id`) REFERENCES `rg_profiles`(`id`) ON DELETE RESTRICT ON UPDATE NO ACTION',
    );
    await q.query(
      'CREATE TABLE `rg_customer_search_keys` (`customer_id` int NOT NULL, `pos` smallint NOT NULL, `k` varchar(16) NOT NULL, INDEX `IDX_rg_customer_search_keys_k` (`k`, `customer_id`), PRIMARY KEY (`customer_id`, `pos`)) ENGINE=InnoDB',
    );
    await q.query(
      'ALTER TABLE `rg_customer_search_keys` ADD CONSTRAINT `FK_rg_customer_search_keys_customer` FOREIGN KEY (`customer_id`) REFERENCES `rg_customers`(`id`) ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE `rg_customer_search_keys`');
    await q.query('DROP TABLE `rg_customers`');
    await q.query('DROP TABLE `rg_profiles`');
  }
}
