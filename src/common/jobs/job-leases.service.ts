import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { affectedRows } from '../../database/bulk-writes';
import { uniqueViolation } from '../../database/database-errors';
import { TransactionsService } from '../../database/transactions.service';

/** The database's own time (UTC), and that time plus a lease's length, per dialect. */
export interface LeaseSql {
  now: string;
  /** Whole seconds from the column `expires_at` to now (negative while it has not run out). */
  sinceExpiry: string;
  /** Takes one parameter: the lease's length (ttl()). */
  until: string;
  /** A second ago: a given-up lease has run out, and counts as unheld from then. */
  secondAgo: string;
  ttl: (ms: number) => unknown;
}

const MYSQL: LeaseSql = {
  now: 'UTC_TIMESTAMP()',
  sinceExpiry: 'TIMESTAMPDIFF(SECOND, expires_at, UTC_TIMESTAMP())',
  until: 'UTC_TIMESTAMP() + INTERVAL ? SECOND',
  secondAgo: 'UTC_TIMESTAMP() - INTERVAL 1 SECOND',
  // DATETIME keeps whole seconds: round the length up, never down to nothing.
  ttl: (ms) => Math.max(1, Math.ceil(ms / 1000)),
};

const SQLITE: LeaseSql = {
  // The format TypeORM writes DATETIME in on SQLite, so values compare as text.
  now: "strftime('%Y-%m-%d %H:%M:%f', 'now')",
  sinceExpiry: "CAST((julianday('now') - julianday(expires_at)) * 86400 AS INTEGER)",
  until: "strftime('%Y-%m-%d %H:%M:%f', 'now', ?)",
  secondAgo: "strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 seconds')",
  ttl: (ms) => `+${(Math.max(1, ms) / 1000).toFixed(3)} seconds`,
};

/** The holder of a lease given up (release): no instance. */
export const RELEASED = '';

/** The database's clock in SQL, for leases and for claims that run out (ExpiryActions). */
export function leaseSql(dataSource: DataSource): LeaseSql {
  return dataSource.options.type === 'better-sqlite3' ? SQLITE : MYSQL;
}

/**
 * Leases that make a periodic job's due action run on one instance at a time, on MySQL and
 * SQLite alike (rg_job_leases). Every instance asks for the lease (on a heartbeat: HeldLease,
 * or the change feed's own), and only the one that holds it does the work:
 * - `UPDATE … WHERE name = ? AND (expires_at < now OR holder = me)` renews our own lease or
 *   takes an expired one, atomically (the database settles two instances racing for it);
 * - when there is no row yet, the INSERT makes it, and the primary key refuses the loser.
 * A holder that dies stops renewing, and the lease moves on once it expires.
 *
 * Lease time is the database's clock, not each instance's (nor the injectable Clock): one
 * clock for every instance, so a host whose clock is ahead (or a test that moves Clock) cannot
 * hold a lease for longer than it asked.
 *
 * A lease is not a lock: a paused process (its heartbeat frozen past the lease) can go on with
 * its run once the next holder has begun one. Actions that must happen once also claim a
 * unique row of their own.
 */
@Injectable()
export class JobLeases {
  /** This instance: host, process id, and a random part (a restarted process is someone else). */
  readonly holder: string;
  private readonly sql: LeaseSql;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: TransactionsService,
  ) {
    this.holder = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`.slice(-128);
    this.sql = leaseSql(dataSource);
  }

  /**
   * Takes the lease `name` for `ttlMs` from now, or renews it when this instance holds it.
   * True when this instance holds it now.
   */
  async acquire(name: string, ttlMs: number): Promise<boolean> {
    const { now, until, ttl } = this.sql;
    const updated = await this.run(
      `UPDATE rg_job_leases SET holder = ?, expires_at = ${until} WHERE name = ? AND (expires_at < ${now} OR holder = ?)`,
      [this.holder, ttl(ttlMs), name, this.holder],
    );
    if (updated > 0) return true;
    try {
      await this.run(
        `INSERT INTO rg_job_leases (name, holder, expires_at) VALUES (?, ?, ${until})`,
        [name, this.holder, ttl(ttlMs)],
      );
      return true;
    } catch (err) {
      if (uniqueViolation(err) === null) throw err;
    }
    // Someone else's, or ours renewed with unchanged values (a driver that counts only
    // changed rows says 0 then): the row says which.
    return (await this.holderOf(name)) === this.holder;
  }

  /**
   * Gives the lease up (on shutdown), so another instance takes it at its next heartbeat: it
   * runs out now, and its holder becomes RELEASED (nobody: it was not lost by a dying holder).
   */
  async release(name: string): Promise<void> {
    await this.run(
      `UPDATE rg_job_leases SET holder = ?, expires_at = ${this.sql.secondAgo} WHERE name = ? AND holder = ?`,
      [RELEASED, name, this.holder],
    );
  }

  /**
   * The lease `name` as it is now: who held it last (RELEASED when given up) and how long, in
   * seconds by the database's clock, nobody has held it (since it ran out or was given up; 0
   * or less while it is held). Null when it was never taken (a new database).
   */
  async lease(name: string): Promise<{ holder: string; unheldSeconds: number } | null> {
    const rows: Array<{ holder: string; s: number | string }> = await this.dataSource.query(
      `SELECT holder, ${this.sql.sinceExpiry} AS s FROM rg_job_leases WHERE name = ?`,
      [name],
    );
    return rows.length === 0 ? null : { holder: rows[0].holder, unheldSeconds: Number(rows[0].s) };
  }

  /** Who holds `name` now (null when nobody does). */
  async holderOf(name: string): Promise<string | null> {
    const rows: Array<{ holder: string }> = await this.dataSource.query(
      `SELECT holder FROM rg_job_leases WHERE name = ? AND expires_at >= ${this.sql.now}`,
      [name],
    );
    return rows[0]?.holder ?? null;
  }

  /**
   * Runs a write outside every other caller's transaction (TransactionsService.between): on
   * SQLite's one shared connection, a renewal made inside another caller's open transaction
   * would be undone by its rollback, and another instance would take a lease this one still
   * counts as its own. Returns the rows it matched.
   */
  private run(sql: string, params: unknown[]): Promise<number> {
    return this.transactions.between(() => affectedRows(this.dataSource, sql, params));
  }
}
