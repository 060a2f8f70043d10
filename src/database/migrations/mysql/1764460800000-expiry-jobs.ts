import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Jobs on several instances: leases that pick the one instance running a periodic job
 * (rg_job_leases), and what the expiry job did about each expiry of each customer, claimed
 * once (rg_expiry_actions: disconnects and reminders).
 */
export class ExpiryJobs1764460800000 implements MigrationInterface {
  name = 'ExpiryJobs1764460800000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      'CREATE TABLE `rg_job_leases` (`name` varchar(64) NOT NULL, `holder` varchar(128) NOT NULL, `expires_at` datetime NOT NULL, PRIMARY KEY (`name`)) ENGINE=InnoDB',
    );
    await q.query(
      'CREATE TABLE `rg_expiry_actions` (`customer_id` int NOT NULL, `expires_at` datetime NOT NULL, `action` varchar(16) NOT NULL, `acted_at` datetime NOT NULL, PRIMARY KEY (`customer_id`, `expires_at`, `action`)) ENGINE=InnoDB',
    );
    await q.query(
      'ALTER TABLE `rg_expiry_actions` ADD CONSTRAINT `FK_rg_expiry_actions_customer` FOREIGN KEY (`customer_id`) REFERENCES `rg_customers`(`id`) ON DELETE CASCADE ON UPDATE NO ACTION',
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE `rg_expiry_actions`');
    await q.query('DROP TABLE `rg_job_leases`');
  }
}
