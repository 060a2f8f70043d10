import type { DataSource } from 'typeorm';
import { laterChangesQuery } from '../../src/sessions/feed/radacct-change-feed.service';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/** Queued changes in the backlog below: 100,000 (a feed that was down), for 20,000 rows. */
const QUEUED = 100_000;

/**
 * The change feed's look-up of a row's later changes (laterChangesQuery), over a backlog: every
 * page of 1,000 that holds a change of kind 4 or 5 asks it, so a look-up that reads the whole
 * queue made draining a backlog quadratic (measured: 146 ms a page at 100,000 queued, 385 ms
 * at 300,000). It must read the queue's index by row, a few entries per row.
 */
describe.each(['mysql', 'sqlite'] as const)('the change feed over a backlog on %s', (kind) => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    ds = await db.openDataSource();
    // Every 50th change a kind 4 (a row closed as stale that FreeRADIUS wrote again).
    const fill = (numbers: string, n: string) =>
      `INSERT INTO rg_radacct_changes (radacctid, kind) ${numbers} ` +
      `SELECT ${n} % 20000 + 1, CASE WHEN ${n} % 50 = 9 THEN 4 ELSE 2 END FROM ${kind === 'mysql' ? `seq_1_to_${QUEUED}` : 'n'}`;
    if (kind === 'mysql') {
      await db.query(fill('', 'seq'));
      await db.query('ANALYZE TABLE rg_radacct_changes');
    } else {
      await db.query(
        fill(
          `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${QUEUED})`,
          'i',
        ),
      );
      await db.query('ANALYZE');
    }
  }, 60_000);

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  const ids = ['10', '20', '30'];

  it("finds a row's later changes, in seq order", async () => {
    const found = await laterChangesQuery(ds.manager, ids).getMany();
    // Row 10's changes are seq 9, 20,009, …: every one ≡ 9 (mod 50), kind 4. Rows 20 and
    // 30 have only kind 2 (seq ≡ 19, 29), which the look-up leaves out.
    expect(found.map((c) => [String(c.radAcctId), Number(c.kind)])).toEqual(
      [9, 20_009, 40_009, 60_009, 80_009].map(() => ['10', 4]),
    );
    const seqs = found.map((c) => Number(c.seq));
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  });

  it('reads a few index entries per row, not the queue', async () => {
    const [sql, params] = laterChangesQuery(ds.manager, ids).getQueryAndParameters();
    if (kind === 'mysql') {
      // MariaDB's ANALYZE runs the statement: r_rows is how many rows it read.
      const plan = await db.query<{ table: string; key: string | null; r_rows: unknown }>(
        `ANALYZE ${sql}`,
        params,
      );
      expect(plan.map((p) => [p.key, Number(p.r_rows) <= 20])).toEqual([
        ['IDX_rg_radacct_changes_row', true],
      ]);
    } else {
      const plan = await db.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params);
      const reads = plan.map((p) => p.detail).filter((d) => /^(SCAN|SEARCH) /.test(d));
      expect(reads).toEqual([
        expect.stringMatching(/^SEARCH c USING .*INDEX IDX_rg_radacct_changes_row/),
      ]);
    }
  });
});
