import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency keys of the billing mutations (creditCustomer, renewCustomer): one row per key
 * used, written with the ledger row, kept 24 hours.
 */
export class IdempotencyKeys1765238400000 implements MigrationInterface {
  name = 'IdempotencyKeys1765238400000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      'CREATE TABLE `rg_idempotency_keys` (`id` int NOT NULL AUTO_INCREMENT, `key_hash` char(64) NOT NULL, `operation` varchar(32) NOT NULL, `customer_id` int NOT NULL, `request_hash` char(64) NOT NULL, `ledger_entry_id` int NULL, `created_at` datetime NOT NULL, UNIQUE INDEX `UQ_rg_idempotency_keys_key_hash` (`key_hash`), INDEX `IDX_rg_idempotency_keys_customer` (`customer_id`), INDEX `IDX_rg_idempotency_keys_created` (`created_at`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
    );
    await q.query(
      'ALTER TABLE `rg_idempotency_keys` ADD CONSTRAINT `FK_rg_idempotency_keys_customer` FOREIGN KEY (`customer_id`) REFERENCES `rg_customers`(`id`) ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE `rg_idempotency_keys`');
  }
}
