import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, SelectQueryBuilder } from 'typeorm';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.tokens';
import { RadAcct } from '../../database/freeradius';
import { SessionEventBus } from '../events/session-event-bus.service';
import { SessionEventType } from '../models/session-event.model';
import { RadacctChange } from './radacct-change.entity';
import { JobLeases } from '../../common/jobs/job-leases.service';
import { TransactionsService } from '../../database/transactions.service';
import { Metrics } from '../../metrics/metrics.service';
import {
  closedChangeEvent,
  isClosedChange,
  lastClosedChanges,
  reopenClosed,
  CLOSED_AND_STOPPED_KINDS,
} from './closed-rows';
import { keptOut, LogThrottle } from '../../common/logging/log-throttle';

/** The lease that makes one instance of a deployment the feed's reader. */
export const CHANGE_FEED_LEASE = 'radacct-change-feed';
/** How long the reader's lease lasts unrenewed: a dead reader's feed moves on after this. */
const LEASE_MS = 5_000;
/** How often an instance that does not read the feed asks for the lease. */
const STANDBY_MS = 1_000;

/**
 * How long a page the transport (Redis) does not take stays queued, offered again at every
 * poll: a Redis restart or failover loses nothing; a longer outage does not stall the feed.
 */
const KEEP_UNPUBLISHED_MS = 30_000;
/** Queue rows read per poll; a full page is followed by the next at once. */
const PAGE = 1000;
/** With the feed off, how long the queue's oldest row may stay before a warning. */
const NOBODY_READS_CHECK_MS = 60_000;
const KIND: Record<number, SessionEventType> = {
  1: SessionEventType.STARTED,
  2: SessionEventType.UPDATED,
  3: SessionEventType.STOPPED,
};

/**
 * The queued changes of kinds 3, 4 and 5 of these radacct rows, in seq order (the feed's
 * laterChanges). It reads the queue's index by row (RadacctChangesByRow1765674000000), not the
 * whole queue: over a backlog, every page that holds a change of kind 4 or 5 asks it.
 */
export function laterChangesQuery(
  m: EntityManager,
  ids: readonly string[],
): SelectQueryBuilder<RadacctChange> {
  return m
    .getRepository(RadacctChange)
    .createQueryBuilder('c')
    .where({ radAcctId: In([...ids]), kind: In(CLOSED_AND_STOPPED_KINDS) })
    .orderBy('c.seq', 'ASC');
}

/**
 * The radacct change feed: turns the rows FreeRADIUS (or any writer but radgraph) writes into
 * session events. Triggers on radacct queue every change in rg_radacct_changes, numbered by
 * the database (radacct-change-triggers.ts); this polls the queue in seq order every
 * CHANGE_FEED_INTERVAL_MS, publishes, then deletes exactly the rows it published.
 *
 * - Nothing is missed: no clock is involved (acctupdatetime is the NAS's), a change that
 *   commits after a higher seq was read stays queued for the next poll, and a page the
 *   transport (Redis) did not take stays queued too, for up to KEEP_UNPUBLISHED_MS.
 * - A session radgraph closed as stale that FreeRADIUS then writes a later report for is
 *   reopened and STARTED again, or STOPPED when that report is its Stop; a closed row that
 *   FreeRADIUS's Start for a new session reuses (the same acctuniqueid, a later start) becomes
 *   that session and is STARTED (kind 5, closed-rows.ts), and so does an open row whose NAS
 *   lost power and reused its Acct-Session-Id (a Start later than the row's last report).
 * - Nothing is doubled: a published row is deleted, and radgraph's own writes never enter the
 *   queue. A crash between publishing and deleting, a poll that outlasts the lease (below),
 *   or a Redis publish whose reply was lost publishes a page again; each event carries its
 *   queue row's seq (`feedSeq`), and every instance that delivered it drops it the second time
 *   (SessionEventBus), so subscribers get it once.
 * - One instance reads it: the holder of the CHANGE_FEED_LEASE (JobLeases, in the database),
 *   renewed at least every second between polls, whatever the poll interval. When the holder
 *   dies, its lease runs out after 5 s and another instance takes it within a second: rows
 *   queued meanwhile wait in the queue, none is lost. A poll that outlasts the lease (a
 *   publish or a DELETE stuck for more than 5 s) can let another instance read the same page
 *   before it is deleted: then that page is published twice, and delivered once, as after a crash.
 *   On shutdown the holder gives the lease up at once.
 */
@Injectable()
export class RadacctChangeFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('RadacctChangeFeed');
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private stopped = false;
  private readonly pollErrors = new LogThrottle();
  /** Events published since start. */
  published = 0;
  /** Whether this instance read the feed at its last poll. */
  leader = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly bus: SessionEventBus,
    private readonly leases: JobLeases,
    private readonly metrics: Metrics,
    private readonly transactions: TransactionsService,
  ) {
    this.sqlite = dataSource.options.type === 'better-sqlite3';
  }

  private readonly sqlite: boolean;

  /**
   * When this instance last read a page that was not full, so had caught up (performance.now();
   * for the lag metric, the age of the backlog being read).
   */
  private caughtUpAt = performance.now();

  onApplicationBootstrap(): void {
    if (this.config.changeFeedIntervalMs > 0) this.schedule(0);
    else void this.warnIfNobodyReads();
  }

  /**
   * With the feed off here, another instance must run it while FreeRADIUS writes radacct. The
   * queue's oldest row still there a minute later says none does: the queue then grows by a
   * row per write, and FreeRADIUS's sessions get no events, data cap or reopening. Checked
   * every minute for as long as this instance runs, not only at its start: a queue empty then
   * (a new database, or one the last reader drained) says nothing about the writes to come.
   * Warned once per oldest row.
   */
  private async warnIfNobodyReads(): Promise<void> {
    const oldest = async () => {
      // MIN(seq) reads one end of the primary key; a COUNT of a queue that nobody reads could
      // take long. The newest seq says roughly how many wait.
      const [row] = await this.dataSource.query<
        Array<{ first: number | string | null; last: number | string | null }>
      >('SELECT MIN(seq) AS first, MAX(seq) AS last FROM rg_radacct_changes');
      return {
        n: row?.first == null ? 0 : Number(row.last) - Number(row.first) + 1,
        seq: row?.first == null ? null : String(row.first),
      };
    };
    let before: string | null = null;
    let warned: string | null = null;
    while (!this.stopped) {
      try {
        const now = await oldest();
        if (now.seq !== null && now.seq === before && now.seq !== warned) {
          warned = now.seq;
          this.log.warn(
            `CHANGE_FEED_INTERVAL_MS=0 here, and no instance reads the radacct change queue (up to ${now.n} change(s) waiting): sessions FreeRADIUS writes get no events, data cap or reopening, and the queue keeps growing`,
          );
        }
        before = now.seq;
      } catch (err) {
        this.log.warn(`cannot read the radacct change queue: ${(err as Error).message}`);
      }
      await new Promise<void>((resolve) => {
        this.timer = setTimeout(resolve, NOBODY_READS_CHECK_MS);
        this.timer.unref();
      });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
    if (this.leader) await this.leases.release(CHANGE_FEED_LEASE).catch(() => undefined);
  }

  /** Publishes one page of queued changes; returns how many queue rows it consumed. */
  async pollOnce(): Promise<number> {
    const { changes, rows } = await this.readPage();
    if (changes.length === 0) return 0;
    const byId = new Map(rows.map((r) => [String(r.radAcctId), r]));
    // A row's changes of kinds 4 and 5 make one event per page, which says what the row is now:
    // at its last such change, whose seq it carries (a page published again that also holds a
    // newer one is then not taken for a repeat), or none when the row has a later one still
    // queued (laterChanges), which publishes what the row is then.
    let lastClosed = lastClosedChanges(changes);
    if (lastClosed.size > 0) {
      const reusedIds = new Set([...lastClosed].filter(([, l]) => l.reused).map(([id]) => id));
      await this.reopen([...lastClosed.keys()], reusedIds, byId);
      lastClosed = lastClosedChanges([
        ...changes,
        ...(await this.laterChanges(changes, [...lastClosed.keys()])),
      ]);
    }
    const events = changes.flatMap((c) => {
      const row = byId.get(String(c.radAcctId));
      if (!row) return [];
      const feedSeq = String(c.seq);
      if (!isClosedChange(c)) {
        return KIND[c.kind] ? [{ type: KIND[c.kind], row, feedSeq }] : [];
      }
      const last = lastClosed.get(String(c.radAcctId));
      if (last?.seq !== feedSeq) return [];
      const type = closedChangeEvent(row, last.stoppedAfter);
      return type ? [{ type, row, feedSeq }] : [];
    });
    if (await this.bus.publish(events)) {
      this.unpublishedSince = null;
    } else {
      // The transport (Redis) did not take them: the page stays queued and is offered again at
      // the next poll, for up to KEEP_UNPUBLISHED_MS. Past that it goes (lost for live
      // subscribers, as the listener's own events are), so that the queue does not grow without
      // end and the feed moves on: radgraph's own rules (the data cap) got every page already.
      const now = performance.now();
      this.unpublishedSince ??= now;
      if (now - this.unpublishedSince < KEEP_UNPUBLISHED_MS) {
        throw new Error('session events not published; the page stays queued');
      }
      this.log.warn(
        `session events not published for ${Math.round((now - this.unpublishedSince) / 1000)} s: ` +
          `${events.length} dropped for live subscribers`,
      );
    }
    this.published += events.length;
    await this.consume(changes.map((c) => c.seq));
    return changes.length;
  }

  /**
   * Reopens the rows of the page's changes of kinds 4 and 5 that are live again
   * (closed-rows.ts) and replaces them in `byId` with the rows as they are now.
   */
  private async reopen(
    ids: string[],
    reusedIds: ReadonlySet<string>,
    byId: Map<string, RadAcct>,
  ): Promise<void> {
    const { reused, revived, restarted } = await reopenClosed(
      this.transactions,
      ids,
      byId,
      reusedIds,
    );
    if (revived > 0) {
      this.log.log(`reopened ${revived} session(s) closed as stale: their NAS reported them again`);
    }
    if (reused > 0) {
      this.log.log(
        `reopened ${reused} closed row(s) as new sessions: a later Start reused their Acct-Session-Id`,
      );
    }
    if (restarted > 0) {
      this.log.log(
        `made ${restarted} open row(s) new sessions: a later Start reused their Acct-Session-Id (the NAS lost power)`,
      );
    }
  }

  /**
   * The next page of the queue and the radacct rows it names, read alone (TransactionsService):
   * on SQLite, read inside another caller's open transaction, it would see radgraph's own queue
   * rows (which RadacctOrigin deletes before that transaction commits) and publish them a second
   * time, or rows that are then rolled back.
   */
  private readPage(): Promise<{ changes: RadacctChange[]; rows: RadAcct[] }> {
    const read = async (m: EntityManager) => {
      const changes = await m
        .getRepository(RadacctChange)
        .find({ order: { seq: 'ASC' }, take: PAGE });
      if (changes.length === 0) return { changes, rows: [] };
      const ids = [...new Set(changes.map((c) => String(c.radAcctId)))];
      return { changes, rows: await m.getRepository(RadAcct).findBy({ radAcctId: In(ids) }) };
    };
    return this.transactions.alone(read);
  }

  /**
   * The changes of kinds 3, 4 and 5 of these rows (the page's of kind 4 or 5) that are queued
   * but not in the page, read after every read of the rows (readPage, reopenClosed's). The
   * rows are read as they are by then, so a later Stop (3) or change (4, 5) may be in them
   * already: beyond a full page, or committed after the page was read (on MySQL each read has
   * its own snapshot, and reopenClosed reads its rows again on both databases). That change
   * publishes in a later page, with the row as it is then: the page's must not publish the
   * same state too. Of one row, a later change has a higher seq than the page's (its writes
   * take turns on the row's lock), but not always higher than the whole page's.
   */
  private laterChanges(
    page: readonly RadacctChange[],
    ids: readonly string[],
  ): Promise<RadacctChange[]> {
    const inPage = new Set(page.map((c) => String(c.seq)));
    return this.transactions.alone(async (m) =>
      (await laterChangesQuery(m, ids).getMany()).filter((c) => !inPage.has(String(c.seq))),
    );
  }

  /**
   * Deletes exactly the queue rows published. On MySQL the DELETE must reach each row through
   * the primary key: a scan (what the optimizer picks for `seq IN (...)` on a small table)
   * waits for the lock of a writer's row that is not committed yet, and every trigger insert
   * waits behind it. Driving the join from the list of seqs (STRAIGHT_JOIN) looks each one up,
   * and READ COMMITTED takes no gap locks. On SQLite it is a transaction of its own in the
   * queue, not a statement inside another caller's transaction (whose rollback would undo it).
   */
  private async consume(seqs: string[]): Promise<void> {
    if (this.sqlite) {
      await this.transactions.alone((m) =>
        m.getRepository(RadacctChange).delete({ seq: In(seqs) }),
      );
      return;
    }
    const list = seqs.map((_, i) => (i === 0 ? 'SELECT ? AS s' : 'SELECT ?')).join(' UNION ALL ');
    await this.dataSource.transaction('READ COMMITTED', (m) =>
      m.query(
        `DELETE c FROM (${list}) AS x STRAIGHT_JOIN rg_radacct_changes c ON c.seq = x.s`,
        seqs.map(Number),
      ),
    );
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.tick().finally(() => {
        this.polling = null;
      });
    }, delayMs);
    this.timer.unref();
  }

  /**
   * The leader renews its lease at least every STANDBY_MS between polls, whatever the poll
   * interval, and polls when the interval has passed (at once again after a full page); an
   * instance that does not lead asks for the lease every STANDBY_MS. Renewing only at each poll
   * let a lease of LEASE_MS lapse between polls longer than that (the lead changed hands at
   * every poll), and made a dead reader's feed wait the interval on top of the lease. Times are
   * monotonic (performance.now()): a wall clock stepped back must not stop the polls.
   */
  private async tick(): Promise<void> {
    const interval = this.config.changeFeedIntervalMs;
    let next = Math.min(interval, STANDBY_MS);
    try {
      const asked = performance.now();
      this.leader = await this.leases.acquire(CHANGE_FEED_LEASE, LEASE_MS);
      this.metrics.changeFeedLeader.set(this.leader ? 1 : 0);
      const now = performance.now();
      if (this.leader) this.renewedAt = asked;
      this.lagging = this.leader;
      if (!this.leader) {
        next = STANDBY_MS;
        this.lastPoll = null; // a new reader polls at once
        this.caughtUpAt = now; // and its lag counts from when it took over
        this.metrics.changeFeedLag.set(0);
      } else if (this.lastPoll === null || now - this.lastPoll >= interval) {
        this.lastPoll = now;
        const consumed = await this.pollOnce();
        const done = performance.now();
        if (consumed === PAGE) {
          next = 0; // a backlog: the next page at once
          this.lastPoll = null;
        } else {
          this.caughtUpAt = done;
        }
        this.metrics.changeFeedLag.set(consumed === PAGE ? (done - this.caughtUpAt) / 1000 : 0);
      } else {
        next = Math.max(0, Math.min(next, this.lastPoll + interval - now));
      }
    } catch (err) {
      // A feed that cannot poll falls behind: the lag keeps growing from when it last caught up,
      // on the instance that led, until an instance reads the queue again (which may be this one).
      const now = performance.now();
      if (this.lagging) this.metrics.changeFeedLag.set((now - this.caughtUpAt) / 1000);
      // Its lease has run out by now (another instance may hold it): it no longer leads, so that
      // the leader gauges of all instances add up to one, as they do when all can renew.
      if (this.leader && now - this.renewedAt >= LEASE_MS) {
        this.leader = false;
        this.metrics.changeFeedLeader.set(0);
      }
      const skipped = this.pollErrors.admit();
      if (skipped !== undefined) {
        this.log.warn(`poll failed, retrying: ${(err as Error).message}${keptOut(skipped)}`);
      }
    }
    this.schedule(next);
  }

  /** Since when pages have not been published (performance.now()), or null. */
  private unpublishedSince: number | null = null;

  /** When this instance last asked for the lease and got it (performance.now()). */
  private renewedAt = 0;

  /** Whether this instance led at its last answered lease request: its lag grows while it fails. */
  private lagging = false;

  /** When this instance last polled (performance.now(); null: poll at the next tick). */
  private lastPoll: number | null = null;
}
