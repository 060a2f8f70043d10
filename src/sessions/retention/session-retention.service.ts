import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { JobLeases } from '../../common/jobs/job-leases.service';
import { PeriodicTask } from '../../common/jobs/periodic-task';
import { placeholders } from '../../common/sql/in-list';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.tokens';
import { Metrics } from '../../metrics/metrics.service';

/** The lease of the instance that deletes old rows. */
export const RETENTION_LEASE = 'session-retention';

/** Rows read and deleted per statement: each DELETE is short, and locks few rows. */
const PAGE = 1000;

/**
 * At most this many rows of a table per run: a first run on years of history is spread over
 * runs (one an interval), instead of one long stretch of deletes while FreeRADIUS writes.
 */
export const MAX_ROWS_PER_RUN = 200_000;

/** What one run deleted, per table. */
export interface RetentionRun {
  radpostauth: number;
  radacct: number;
}

/**
 * Deletes what FreeRADIUS keeps for ever, past the retention the operator chose:
 * - radpostauth rows (authentication attempts) older than RADPOSTAUTH_RETENTION_DAYS;
 * - radacct rows of sessions that stopped more than RADACCT_RETENTION_DAYS ago. Open sessions
 *   are never deleted, however old; monthly usage (rg_usage_monthly) and the balance ledger
 *   stay as they are.
 * Either is off at 0, the default: nothing is deleted unless asked (many countries require
 * an ISP to keep session records for a set time).
 *
 * One instance runs it (a lease), every RETENTION_INTERVAL_SECONDS, in pages of PAGE rows:
 * each page is its own short DELETE by primary key, so FreeRADIUS's writes never wait long.
 * "Older" is by the database's clock.
 */
@Injectable()
export class SessionRetention implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('SessionRetention');
  private readonly task: PeriodicTask<RetentionRun>;
  private readonly sqlite: boolean;
  /** Set when the application shuts down: a run in progress stops after its current page. */
  private stopping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    leases: JobLeases,
    private readonly metrics: Metrics,
  ) {
    this.sqlite = dataSource.options.type === 'better-sqlite3';
    const { radpostauthDays, radacctDays, intervalSeconds } = config.retention;
    this.task = new PeriodicTask({
      log: this.log,
      // Nothing to delete when both retentions are off (0).
      everySeconds: radpostauthDays === 0 && radacctDays === 0 ? 0 : intervalSeconds,
      // The first run soon after start, then one an interval.
      firstAfterSeconds: Math.min(intervalSeconds, 60),
      lease: { leases, name: RETENTION_LEASE },
      run: () => this.deleteOld(),
      failure: 'deleting old session records failed',
    });
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  /**
   * Before the application shuts down: a run in progress stops after the page it is deleting
   * (the next run goes on from there), so a SIGTERM during a long catch-up is not held for it.
   */
  beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    return this.task.stop();
  }

  /**
   * One run: takes (or renews) the lease and, holding it, deletes. Null when another instance
   * holds it.
   */
  runOnce(): Promise<RetentionRun | null> {
    return this.task.runOnce();
  }

  /**
   * Whether a run goes on to its next page: not once the application is shutting down, nor
   * once this instance lost the lease (another instance runs it now); renews the lease.
   */
  private async goOn(): Promise<boolean> {
    return !this.stopping && (await this.task.hold());
  }

  /** Deletes what is past the retention now (at most MAX_ROWS_PER_RUN rows a table). */
  async deleteOld(): Promise<RetentionRun> {
    const { radpostauthDays, radacctDays } = this.config.retention;
    const run: RetentionRun = {
      radpostauth: radpostauthDays > 0 ? await this.deleteAuthAttempts(radpostauthDays) : 0,
      radacct:
        radacctDays > 0 && !this.stopping ? await this.deleteStoppedSessions(radacctDays) : 0,
    };
    for (const [table, days] of [
      ['radpostauth', radpostauthDays],
      ['radacct', radacctDays],
    ] as const) {
      if (run[table] === 0) continue;
      this.metrics.retentionDeleted.inc({ table }, run[table]);
      this.log.log(
        `deleted ${run[table]} ${table} row(s) older than ${days} day(s)` +
          (run[table] >= MAX_ROWS_PER_RUN ? ' (more at the next run)' : ''),
      );
    }
    return run;
  }

  /** The SQL for "before `days` days ago", by the database's clock; one parameter: days. */
  private before(): string {
    return this.sqlite ? "datetime('now', '-' || ? || ' days')" : 'NOW() - INTERVAL ? DAY';
  }

  /**
   * radpostauth has no index on authdate (FreeRADIUS's schema, which radgraph keeps): its rows
   * are walked by id, oldest first, a page at a time, deleting the old ones of each page, up
   * to the first page with none (the attempts are written in time order, so that is where the
   * recent ones begin). A row with a wrong, future authdate does not stop the walk.
   */
  private async deleteAuthAttempts(days: number): Promise<number> {
    let deleted = 0;
    let after = 0;
    while (deleted < MAX_ROWS_PER_RUN) {
      const page: Array<{ id: number | string; old: number | string }> =
        await this.dataSource.query(
          `SELECT id, CASE WHEN authdate < ${this.before()} THEN 1 ELSE 0 END AS old ` +
            'FROM radpostauth WHERE id > ? ORDER BY id LIMIT ?',
          [days, after, PAGE],
        );
      if (page.length === 0) break;
      after = Number(page[page.length - 1].id);
      const old = page.filter((r) => Number(r.old) === 1).map((r) => Number(r.id));
      if (old.length === 0) break;
      deleted += await this.deleteIds('radpostauth', 'id', `authdate < ${this.before()}`, old, [
        days,
      ]);
      if (page.length < PAGE || !(await this.goOn())) break;
    }
    return deleted;
  }

  /** Stopped sessions, by FreeRADIUS's index on acctstoptime (open rows have none: never read). */
  private async deleteStoppedSessions(days: number): Promise<number> {
    let deleted = 0;
    while (deleted < MAX_ROWS_PER_RUN) {
      const page: Array<{ id: number | string }> = await this.dataSource.query(
        `SELECT radacctid AS id FROM radacct WHERE ${this.stoppedBefore()} ` +
          'ORDER BY acctstoptime LIMIT ?',
        [...this.stoppedBeforeParams(days), PAGE],
      );
      if (page.length === 0) break;
      const n = await this.deleteIds(
        'radacct',
        'radacctid',
        this.stoppedBefore(),
        page.map((r) => Number(r.id)),
        this.stoppedBeforeParams(days),
      );
      deleted += n;
      // Nothing deleted: rows read as old were changed since (a late Stop rewrote the time).
      if (page.length < PAGE || n === 0 || !(await this.goOn())) break;
    }
    return deleted;
  }

  /**
   * A stopped session past the retention: its Stop, and every other time of the row, before
   * `days` days ago. A row whose Start came after its Stop is the open session of a NAS that
   * reused the Acct-Session-Id after a reboot (FreeRADIUS's Start writes the new start into the
   * old, stopped row): it goes only when its start, its last update and its last change
   * (rg_seen_at, the server's clock) are all that old. Deleting it would lose the live
   * session, and its next Interim-Update would insert it again and count its traffic twice
   * in the month's usage. Parameters: stoppedBeforeParams.
   */
  private stoppedBefore(): string {
    const b = this.before();
    return (
      `acctstoptime < ${b} AND COALESCE(acctstarttime, acctstoptime) < ${b} ` +
      `AND COALESCE(acctupdatetime, acctstoptime) < ${b} ` +
      `AND (acctstarttime IS NULL OR acctstarttime <= acctstoptime OR rg_seen_at IS NULL OR rg_seen_at < ${b})`
    );
  }

  private stoppedBeforeParams(days: number): number[] {
    return [days, days, days, days];
  }

  /**
   * Deletes the rows `ids` that still meet `condition` (another writer may have changed one
   * since it was read), in one statement; how many it deleted.
   */
  private async deleteIds(
    table: string,
    key: string,
    condition: string,
    ids: number[],
    params: number[],
  ): Promise<number> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const result = (await runner.query(
        `DELETE FROM ${table} WHERE ${key} IN (${placeholders(ids.length)}) AND ${condition}`,
        [...ids, ...params],
        true,
      )) as { affected?: number };
      return result.affected ?? 0;
    } finally {
      await runner.release();
    }
  }
}
