import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * rg_customers.version: which version of a customer a CSV export wrote (its `version` column),
 * so that importing an older file cannot undo what happened since (a renewal's expiry, a
 * profile change). A trigger raises it on every UPDATE of the row, whatever writes it
 * (TypeORM's save, the ledger's balance, a CSV import's bulk UPDATE, SQL by hand).
 */
export class CustomerVersion1765933200000 implements MigrationInterface {
  name = 'CustomerVersion1765933200000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE `rg_customers` ADD `version` int NOT NULL DEFAULT 1');
    await q.query('DROP TRIGGER IF EXISTS `rg_customers_version_bu`');
    await q.query(
      'CREATE TRIGGER `rg_customers_version_bu` BEFORE UPDATE ON `rg_customers` FOR EACH ROW ' +
        'SET NEW.`version` = OLD.`version` + 1',
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER IF EXISTS `rg_customers_version_bu`');
    await q.query('ALTER TABLE `rg_customers` DROP COLUMN `version`');
  }
}
