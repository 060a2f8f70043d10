import { MigrationInterface, QueryRunner } from 'typeorm';
import { USAGE_TRIGGERS_SQLITE, USAGE_TRIGGERS_SQLITE_BY_REPORT } from '../usage-triggers';

/**
 * The usage rollup counts a Stop's growth in the month of the stop, not of the last interim
 * (usage-triggers.ts, `reportedAt`). Usage already summed stays where it was counted.
 */
export class UsageMonthOfStop1764892800000 implements MigrationInterface {
  name = 'UsageMonthOfStop1764892800000';

  public async up(q: QueryRunner): Promise<void> {
    for (const statement of USAGE_TRIGGERS_SQLITE_BY_REPORT) await q.query(statement);
  }

  public async down(q: QueryRunner): Promise<void> {
    for (const statement of USAGE_TRIGGERS_SQLITE) await q.query(statement);
  }
}
