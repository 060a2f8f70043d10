import { MigrationInterface, QueryRunner } from 'typeorm';
import {
  RADACCT_TRIGGERS_MYSQL_BY_STOP,
  RADACCT_TRIGGERS_MYSQL_MERGED,
  replaceRadacctTriggersLocked,
} from '../radacct-triggers';

/**
 * The usage rollup counts a Stop's growth in the month of the stop, not of the last interim
 * (usage-triggers.ts, `reportedAt`). Usage already summed stays where it was counted.
 */
export class UsageMonthOfStop1764892800000 implements MigrationInterface {
  name = 'UsageMonthOfStop1764892800000';

  public async up(q: QueryRunner): Promise<void> {
    await replaceRadacctTriggersLocked(q, RADACCT_TRIGGERS_MYSQL_BY_STOP);
  }

  public async down(q: QueryRunner): Promise<void> {
    await replaceRadacctTriggersLocked(q, RADACCT_TRIGGERS_MYSQL_MERGED);
  }
}
