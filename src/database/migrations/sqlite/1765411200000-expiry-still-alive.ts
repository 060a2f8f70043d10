import { MigrationInterface, QueryRunner } from 'typeorm';

/** An expiry disconnect's time after which its sessions count as still alive, as on MySQL. */
export class ExpiryStillAlive1765411200000 implements MigrationInterface {
  name = 'ExpiryStillAlive1765411200000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "rg_expiry_actions" ADD COLUMN "alive_after" datetime`);
    // datetime('now'): the format the radacct triggers write rg_seen_at in, so they compare.
    await q.query(
      `UPDATE "rg_expiry_actions" SET "alive_after" = datetime('now', '+60 seconds') WHERE "radacct_id" IS NOT NULL`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "rg_expiry_actions" DROP COLUMN "alive_after"`);
  }
}
