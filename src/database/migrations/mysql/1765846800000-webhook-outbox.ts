import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The webhook outbox: each event still to deliver, written with what raised it (a reminder's
 * claim) and deleted once delivered, refused or given up on, so a receiver down for hours, or
 * a restart, no longer loses it.
 */
export class WebhookOutbox1765846800000 implements MigrationInterface {
  name = 'WebhookOutbox1765846800000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      'CREATE TABLE `rg_webhook_outbox` (`id` varchar(191) NOT NULL, `type` varchar(64) NOT NULL, `body` text NOT NULL, `attempts` int NOT NULL DEFAULT 0, `next_attempt_at` datetime(3) NOT NULL, `created_at` datetime NOT NULL, INDEX `IDX_rg_webhook_outbox_next_attempt` (`next_attempt_at`), PRIMARY KEY (`id`)) ENGINE=InnoDB',
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE `rg_webhook_outbox`');
  }
}
