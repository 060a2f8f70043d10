import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * radacct rows FreeRADIUS wrote before radgraph (an adopted database) get rg_seen_at, the
 * server's time radgraph first saw them, as MySQL's `DEFAULT CURRENT_TIMESTAMP` gives them
 * when LiveSessions1763942400000 adds the column there. SQLite cannot add a column with such
 * a default, so these rows had none: an open one was judged by its NAS-clock times alone
 * (closed at the first reap however recently its NAS spoke before the adoption), and one
 * without any time was never closed. No trigger fires: rg_seen_at is not a change.
 */
export class AdoptedRadacctSeen1765324800000 implements MigrationInterface {
  name = 'AdoptedRadacctSeen1765324800000';

  public async up(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE "radacct" SET "rg_seen_at" = datetime('now') WHERE "rg_seen_at" IS NULL`);
  }

  /** The times stay: they are as true as before. */
  public async down(): Promise<void> {}
}
