import { MigrationInterface, QueryRunner } from 'typeorm';

/** An expiry disconnect's claim in flight and the newest session it was for, as on MySQL. */
export class ExpiryDisconnectRetry1765152000000 implements MigrationInterface {
  name = 'ExpiryDisconnectRetry1765152000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "rg_expiry_actions" ADD COLUMN "radacct_id" bigint`);
    await q.query(`ALTER TABLE "rg_expiry_actions" ADD COLUMN "claimed_until" datetime`);
    await q.query(
      `UPDATE "rg_expiry_actions" SET "radacct_id" = (SELECT COALESCE(MAX("radacctid"), 0) FROM "radacct") WHERE "action" = 'disconnect'`,
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "rg_expiry_actions" DROP COLUMN "claimed_until"`);
    await q.query(`ALTER TABLE "rg_expiry_actions" DROP COLUMN "radacct_id"`);
  }
}
