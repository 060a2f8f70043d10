import type { EntityManager } from 'typeorm';

/**
 * Marks a transaction's radacct writes as radgraph's own, so the change feed does not publish
 * them a second time (the writer publishes its own events after commit). See
 * database/migrations/radacct-change-triggers.ts.
 *
 * Usage, inside one transaction: `const mark = await RadacctOrigin.begin(m)`, the writes,
 * then `await mark.end()` before the transaction commits.
 */
export class RadacctOrigin {
  private constructor(
    private readonly manager: EntityManager,
    private readonly sqliteSeq: number | null,
  ) {}

  static async begin(manager: EntityManager): Promise<RadacctOrigin> {
    if (manager.connection.options.type === 'better-sqlite3') {
      // One connection and one writer at a time: every queue row added from here to the end
      // of this transaction is this transaction's.
      const rows: Array<{ s: number | string }> = await manager.query(
        'SELECT COALESCE(MAX("seq"), 0) AS "s" FROM "rg_radacct_changes"',
      );
      return new RadacctOrigin(manager, Number(rows[0]?.s ?? 0));
    }
    await manager.query('SET @rg_origin = 1');
    return new RadacctOrigin(manager, null);
  }

  async end(): Promise<void> {
    if (this.sqliteSeq !== null) {
      await this.manager.query('DELETE FROM "rg_radacct_changes" WHERE "seq" > ?', [
        this.sqliteSeq,
      ]);
      return;
    }
    await this.manager.query('SET @rg_origin = NULL');
  }

  /** Runs `work` with radacct writes marked, and the mark cleared even when `work` fails. */
  static async around<T>(manager: EntityManager, work: () => Promise<T>): Promise<T> {
    const mark = await RadacctOrigin.begin(manager);
    let ok = false;
    try {
      const result = await work();
      ok = true;
      return result;
    } finally {
      if (ok) await mark.end();
      else await mark.end().catch(() => undefined);
    }
  }
}
