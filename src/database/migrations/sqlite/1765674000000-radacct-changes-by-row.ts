import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An index on rg_radacct_changes (radacctid, kind), as on MySQL (its migration says why): the
 * change feed's look-up of a row's later changes reads it rather than the whole queue.
 */
export class RadacctChangesByRow1765674000000 implements MigrationInterface {
  name = 'RadacctChangesByRow1765674000000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(
      'CREATE INDEX "IDX_rg_radacct_changes_row" ON "rg_radacct_changes" ("radacctid", "kind")',
    );
  }

  public async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX "IDX_rg_radacct_changes_row"');
  }
}
