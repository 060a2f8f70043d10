import { MigrationInterface, QueryRunner } from 'typeorm';

/** A FUP throttle's lift, as on MySQL. */
export class FupLift1764979200000 implements MigrationInterface {
  name = 'FupLift1764979200000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "rg_cap_actions" ADD COLUMN "lifted_at" datetime`);
    await q.query(`CREATE INDEX "rg_cap_actions_month" ON "rg_cap_actions" ("month")`);
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "rg_cap_actions_month"`);
    await q.query(`ALTER TABLE "rg_cap_actions" DROP COLUMN "lifted_at"`);
  }
}
