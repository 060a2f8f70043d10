import { MigrationInterface, QueryRunner } from 'typeorm';

/** The webhook outbox, as on MySQL. */
export class WebhookOutbox1765846800000 implements MigrationInterface {
  name = 'WebhookOutbox1765846800000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "rg_webhook_outbox" ("id" varchar(191) PRIMARY KEY NOT NULL, "type" varchar(64) NOT NULL, "body" text NOT NULL, "attempts" integer NOT NULL DEFAULT (0), "next_attempt_at" datetime(3) NOT NULL, "created_at" datetime NOT NULL)`,
    );
    await q.query(
      `CREATE INDEX "IDX_rg_webhook_outbox_next_attempt" ON "rg_webhook_outbox" ("next_attempt_at") `,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "rg_webhook_outbox"`);
  }
}
