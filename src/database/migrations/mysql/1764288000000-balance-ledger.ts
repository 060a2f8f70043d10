import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Money, exact: a profile's price and a customer's balance in integer minor units, and the
 * ledger (rg_ledger) whose rows the balance is the sum of. Existing profiles cost 0 and
 * existing customers start at 0, which the empty ledger sums to.
 */
export class BalanceLedger1764288000000 implements MigrationInterface {
  name = 'BalanceLedger1764288000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query("ALTER TABLE `rg_profiles` ADD `price_minor` bigint NOT NULL DEFAULT '0'");
    await q.query("ALTER TABLE `rg_customers` ADD `balance_minor` bigint NOT NULL DEFAULT '0'");
    await q.query(
      'CREATE TABLE `rg_ledger` (`id` int NOT NULL AUTO_INCREMENT, `customer_id` int NOT NULL, `amount_minor` bigint NOT NULL, `balance_after_minor` bigint NOT NULL, `kind` varchar(16) NOT NULL, `note` varchar(500) NULL, `actor` varchar(128) NOT NULL, `created_at` datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), INDEX `IDX_rg_ledger_customer` (`customer_id`, `id`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
    );
    await q.query(
      'ALTER TABLE `rg_ledger` ADD CONSTRAINT `FK_rg_ledger_customer` FOREIGN KEY (`customer_id`) REFERENCES `rg_customers`(`id`) ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE `rg_ledger`');
    await q.query('ALTER TABLE `rg_customers` DROP COLUMN `balance_minor`');
    await q.query('ALTER TABLE `rg_profiles` DROP COLUMN `price_minor`');
  }
}
