import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.tokens';
import { RadAcct } from '../../database/freeradius';
import { TransactionsService } from '../../database/transactions.service';
import { JobLeases } from '../../common/jobs/job-leases.service';
import { JOB_HEARTBEAT_MS, JOB_LEASE_TTL_MS } from '../../common/jobs/held-lease';
import { PeriodicTask } from '../../common/jobs/periodic-task';
import { chunksOf, inChunks } from '../../common/sql/in-list';
import { SessionEventBus } from '../events/session-event-bus.service';
import { RadacctOrigin } from '../feed/radacct-origin';
import { SessionEventType } from '../models/session-event.model';
import { repliedIntervalSql } from './replied-interval';
import { MIN_INTERIM_SECONDS, STALE_SESSION_CAUSE } from './stale-policy';

const PAGE = 1000;

/** MySQL's zero date, which FreeRADIUS 2's schema and older tools left in radacct (as text in SQLite). */
const ZERO_DATETIME = '0000-00-00 00:00:00';

/**
 * Closes stale sessions: open, with no accounting change (by the server's clock, rg_seen_at)
 * for longer than the stale-session rule (stale-policy.ts) allows. The NAS lost them (it
 * rebooted without Accounting-On, or the Stop never came), and an open row would block the
 * customer's next login (Simultaneous-Use) and show them online for ever. Each is stopped
 * at its last update with cause Stale-Session, and STOPPED is published. If the NAS had it
 * after all (it could not reach radgraph for a while, or radgraph was down), its next
 * Interim-Update or Stop brings it back (radacct-writer.ts, the radacct change feed).
 */
/** The lease of the instance that reaps stale sessions. */
export const REAPER_LEASE = 'stale-session-reaper';

@Injectable()
export class StaleSessionReaper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('StaleSessionReaper');
  private readonly task: PeriodicTask<number>;
  private readonly sqlite: boolean;
  /** performance.now() when a gap in reaping ended (see taken), or null. */
  private graceFrom: number | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: TransactionsService,
    private readonly bus: SessionEventBus,
    leases: JobLeases,
  ) {
    this.sqlite = dataSource.options.type === 'better-sqlite3';
    const { multiplier, reapIntervalSeconds } = config.staleSessions;
    // One instance reaps (two would both publish STOPPED for the same rows): the lease holder.
    this.task = new PeriodicTask({
      log: this.log,
      everySeconds: multiplier === 0 ? 0 : reapIntervalSeconds,
      lease: { leases, name: REAPER_LEASE, onTaken: (unheld) => this.taken(unheld) },
      run: () => this.reap(),
      failure: 'reaping failed',
    });
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  /** One run now (what each tick does): reaps when this instance holds the lease; how many. */
  async runOnce(): Promise<number> {
    return (await this.task.runOnce()) ?? 0;
  }

  /**
   * This instance took the reaper's lease after not holding it. Taking it after nobody held
   * it for longer than the stale floor (STALE_SESSION_MIN_SECONDS) means no radgraph reaped
   * for that long: radgraph, or its database, was down. Whatever NAS devices sent to
   * radgraph's listener then was lost, so an old last update says nothing about a session:
   * from then on every session is given a whole stale period counted from that moment
   * (graceFrom), time for its NAS's next Interim-Update, instead of being closed at the first
   * tick with the rest of the network. A normal handover (a holder that died, or gave it up)
   * takes it within a heartbeat of its running out, well under a lease and a heartbeat.
   */
  private taken(unheld: number | null): void {
    const { minSeconds } = this.config.staleSessions;
    const handoverSeconds = (JOB_LEASE_TTL_MS + JOB_HEARTBEAT_MS) / 1000;
    if (unheld === null || unheld <= Math.max(minSeconds, handoverSeconds)) return;
    this.graceFrom = performance.now();
    this.log.warn(
      `no instance reaped stale sessions for ${unheld} s (radgraph or its database was down): each open session gets a whole stale period from now before it is closed`,
    );
  }

  /** Before the application shuts down: a run in progress finishes, its events published. */
  beforeApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  /** Closes every session stale now; returns how many. */
  async reap(): Promise<number> {
    let total = 0;
    for (;;) {
      const closed = await this.reapPage();
      total += closed;
      if (closed < PAGE) return total;
    }
  }

  private staleCondition(): { sql: string; params: unknown[] } {
    const { multiplier, minSeconds, defaultIntervalSeconds } = this.config.staleSessions;
    // As staleAfterSeconds: a gap under MIN_INTERIM_SECONDS is no interval, and then the
    // default or the user's replied Acct-Interim-Interval counts, whichever is longer.
    const greatest = this.sqlite ? 'MAX' : 'GREATEST';
    const replied = repliedIntervalSql(this.sqlite, 'radacct.username');
    const interval =
      `CASE WHEN acctinterval >= ${MIN_INTERIM_SECONDS} THEN acctinterval ` +
      `ELSE ${greatest}(?, ${replied}) END`;
    const lastSeen = 'COALESCE(rg_seen_at, acctupdatetime, acctstarttime)';
    const ago = (param: string) =>
      this.sqlite
        ? `datetime('now', '-' || ${param} || ' seconds')`
        : `NOW() - INTERVAL ${param} SECOND`;
    // After a gap in reaping, nothing older than its end counts (runOnce).
    const grace =
      this.graceFrom === null ? null : Math.floor((performance.now() - this.graceFrom) / 1000);
    const seen = grace === null ? lastSeen : `${greatest}(${lastSeen}, ${ago('?')})`;
    // The floor first: a row heard from within it is never stale, and the rest (the interval's
    // subqueries) is only worked out for the others.
    const sql =
      `acctstoptime IS NULL AND ${lastSeen} < ${ago('?')} AND ` +
      `${seen} < ${ago(`${greatest}(?, ? * ${interval})`)}`;
    const limit = [minSeconds, multiplier, defaultIntervalSeconds];
    return { sql, params: [minSeconds, ...(grace === null ? [] : [grace]), ...limit] };
  }

  private async reapPage(): Promise<number> {
    const stale = this.staleCondition();
    const candidates: Array<{ id: number | string }> = await this.dataSource.query(
      `SELECT radacctid AS id FROM radacct WHERE ${stale.sql} LIMIT ${PAGE}`,
      stale.params,
    );
    if (candidates.length === 0) return 0;
    await this.close(
      candidates.map((c) => String(c.id)),
      stale,
    );
    return candidates.length;
  }

  /**
   * Closes these sessions as stale now, whatever their age (reconciliation found the NAS no
   * longer has them): each stops at its last update with cause Stale-Session, and STOPPED is
   * published. Returns the rows it closed (sessions closed meanwhile are left alone).
   */
  closeStale(ids: readonly string[]): Promise<RadAcct[]> {
    return this.close(ids, { sql: 'acctstoptime IS NULL', params: [] });
  }

  /**
   * Closes the sessions among `ids` that still meet `condition`, in one transaction, and
   * returns exactly those: a session closed meanwhile (by a Stop, or as stale by another
   * caller, e.g. the reconciler and the reaper at once) is neither closed nor announced again.
   */
  private async close(
    ids: readonly string[],
    condition: { sql: string; params: unknown[] },
  ): Promise<RadAcct[]> {
    if (ids.length === 0) return [];
    const unix = (e: string) =>
      this.sqlite ? `CAST(strftime('%s', ${e}) AS INTEGER)` : `UNIX_TIMESTAMP(${e})`;
    // Its last update, else its start, else (a row written without either, or with an old
    // tool's zero dates) when the server last saw it change: never NULL, which would leave
    // the row open for ever, nor a zero date, which no reader takes for a time.
    // (MySQL compares no zero-date literal: with NO_ZERO_DATE, strict mode makes that an error.)
    const known = (column: string) =>
      this.sqlite
        ? `NULLIF(${column}, '${ZERO_DATETIME}')`
        : `IF(YEAR(${column}) > 0, ${column}, NULL)`;
    const start = known('acctstarttime');
    const last = `COALESCE(${known('acctupdatetime')}, ${start}, rg_seen_at)`;
    const list = (n: number) => Array.from({ length: n }, () => '?').join(', ');
    // A bounded IN list each statement: the reconciler may close every session of a NAS
    // (tens of thousands, more than SQLite binds in one statement).
    const rows = await this.transactions.run((m) =>
      RadacctOrigin.around(m, async () => {
        // The condition again, under the rows' locks (SQLite has one writer anyway): an update
        // that came since the caller looked keeps its session.
        const due = await inChunks(ids, (part) =>
          m.query<Array<{ id: number | string }>>(
            `SELECT radacctid AS id FROM radacct WHERE radacctid IN (${list(part.length)}) AND ${condition.sql}` +
              (this.sqlite ? '' : ' FOR UPDATE'),
            [...part, ...condition.params],
          ),
        );
        const closing = due.map((d) => String(d.id));
        if (closing.length === 0) return [];
        // A session time from the times is never below 0 (acctsessiontime is unsigned): a NAS
        // whose clock went back between its Start and its last update must not fail the page.
        const span = `${unix(last)} - ${unix(start)}`;
        const sessionTime = this.sqlite ? `MAX(${span}, 0)` : `GREATEST(${span}, 0)`;
        for (const part of chunksOf(closing)) {
          await m.query(
            `UPDATE radacct SET acctsessiontime = COALESCE(acctsessiontime, ${sessionTime}), ` +
              `acctterminatecause = ?, acctstoptime = ${last} ` +
              `WHERE radacctid IN (${list(part.length)})`,
            [STALE_SESSION_CAUSE, ...part],
          );
        }
        return inChunks(closing, (part) =>
          m.getRepository(RadAcct).findBy({ radAcctId: In(part) }),
        );
      }),
    );
    const closed = rows.filter((r) => r.acctStopTime !== null);
    if (closed.length > 0) {
      this.log.log(`closed ${closed.length} stale session(s)`);
      await this.bus.publish(closed.map((row) => ({ type: SessionEventType.STOPPED, row })));
    }
    return closed;
  }
}
