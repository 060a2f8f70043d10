import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { inParallel } from '../common/async/in-parallel';
import { Clock } from '../common/clock/clock';
import { claimAndAct, RetryBackoff } from '../common/jobs/claimed-action';
import { TransactionsService } from '../database/transactions.service';
import { SessionControlService, type PlanTarget } from '../nas/control/session-control.service';
import { rateLimit } from '../profiles/profile-rules';
import { SessionEventBus } from '../sessions/events/session-event-bus.service';
import { SessionEventType } from '../sessions/models/session-event.model';
import { UsagePeriodEntity } from './usage-period.entity';
import { readSqlDatetime, sqlDatetime } from '../common/sql/datetime';
import { inChunks, placeholders } from '../common/sql/in-list';

/** How often the current month is written for FreeRADIUS (rg_usage_period). */
const PERIOD_SYNC_MS = 30_000;
/**
 * Updated users are checked together, at most this long after their update: one query for
 * every update that came meanwhile (at 10,000 accounting packets a second, a query per write
 * batch was about a hundred a second, each an IN-list of a hundred users).
 */
export const CHECK_AFTER_MS = 250;
/** Over-cap users acted on at once, at most. */
const PARALLEL_ACTIONS = 8;
/** Users per query, at most (SQLite allows 32,766 parameters). */
const CHECK_CHUNK = 1_000;
/**
 * A customer disconnected for the cap whose accounting still says they are online this long
 * after the disconnect is disconnected again. Within it, the updates are those of the session
 * that was ended: its Stop, retransmitted by the NAS until answered (RouterOS tries for several
 * seconds, FreeRADIUS's detail reader may hold packets a little longer), and an Interim-Update
 * sent just before the disconnect. A minute covers those with room to spare, and stays below
 * any interim interval a NAS uses in practice (MikroTik's is at least a minute, usually five),
 * so a session that went on is caught at its next interim. A constant: nothing about a
 * deployment changes how long a NAS takes to report a session's end.
 */
export const DISCONNECT_AGAIN_AFTER_MS = 60_000;

interface OverCap {
  username: string;
  fupRate: string | null;
  /** When this month's disconnect was taken, if the user has one and an open session. */
  disconnectedAt: Date | null;
}

/**
 * Enforces profiles' monthly data limits on customers who are online. Every accounting update
 * (listener, change feed) of a capped customer is checked against the month's usage
 * (rg_usage_monthly), within CHECK_AFTER_MS (the updates meanwhile in one query); the first one
 * over the limit is acted on at once, so within one interim interval of the crossing:
 * - with a FUP rate on the profile: a CoA-Request with that Mikrotik-Rate-Limit, and the
 *   customer stays online;
 * - without: a Disconnect-Request (with the RouterOS fallback).
 * Once per customer and month (rg_cap_actions is claimed first, so one instance acts), unless
 * it did not get through: then the claim is given back and the next update tries again. The next
 * login is FreeRADIUS's business (radius-config): refused with a Reply-Message, or the FUP rate.
 * A disconnected customer whose accounting still shows them online DISCONNECT_AGAIN_AFTER_MS
 * after the disconnect (the NAS acknowledged it and the session went on, or answered that it had
 * no such session and then reported it again) is disconnected again (disconnectAgain).
 * A new month starts from zero: rg_usage_period tells FreeRADIUS which month it is, and the
 * last month's FUP throttles are lifted from the sessions still online (liftThrottles).
 */
@Injectable()
export class DataCapEnforcer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('DataCap');
  private timer: NodeJS.Timeout | null = null;
  private stopListening: (() => void) | null = null;
  private stopWatchingRates: (() => void) | null = null;
  private stopHoldingRates: (() => void) | null = null;
  private pending = new Set<string>();
  private running: Promise<void> = Promise.resolve();
  /** The check of `pending`, due at most CHECK_AFTER_MS after its first update. */
  private due: NodeJS.Timeout | null = null;
  /** Users whose action failed this month: how often in a row, and when to try again. */
  private readonly failures = new RetryBackoff();
  /** The same, for the lifts of last month's throttles. */
  private readonly liftFailures = new RetryBackoff();
  /** The lift running now, if any (one at a time). */
  private lifting: Promise<void> | null = null;
  /** Shutting down: no lift is started (one claimed and then killed would never be sent). */
  private stopping = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly bus: SessionEventBus,
    private readonly control: SessionControlService,
    private readonly transactions: TransactionsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.stopListening = this.bus.onEvents((events) => {
      for (const e of events)
        if (e.type !== SessionEventType.STOPPED) this.checkLater(e.session.username);
    });
    // A plan's new rate skips the customers throttled this month; reapply sends theirs.
    this.stopHoldingRates = this.control.holdRates((usernames) => this.throttled(usernames));
    this.stopWatchingRates = this.control.onPlanChange((target) => {
      this.reapply(target).catch((err: Error) =>
        this.log.warn(`cannot check the data cap after a plan change: ${err.message}`),
      );
    });
    await this.syncPeriod().catch((err: Error) =>
      this.log.warn(`cannot write the current month: ${err.message}`),
    );
    this.timer = setInterval(() => {
      this.syncPeriod().catch((err: Error) =>
        this.log.warn(`cannot write the current month: ${err.message}`),
      );
      this.lifting ??= this.liftThrottles()
        .then(() => undefined)
        .catch((err: Error) => this.log.warn(`cannot lift last month's throttles: ${err.message}`))
        .finally(() => (this.lifting = null));
    }, PERIOD_SYNC_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.stopListening?.();
    this.stopWatchingRates?.();
    this.stopHoldingRates?.();
    if (this.timer) clearInterval(this.timer);
    this.checkSoon(); // the users updated just before: checked now, not dropped
    await Promise.all([this.running, this.lifting]);
  }

  /** Checks the user within CHECK_AFTER_MS, with the others updated meanwhile. */
  private checkLater(username: string): void {
    this.pending.add(username);
    this.due ??= setTimeout(() => this.checkSoon(), CHECK_AFTER_MS);
  }

  /** Checks the users updated since the last check, after the check running now. */
  private checkSoon(): void {
    if (this.due) clearTimeout(this.due);
    this.due = null;
    this.running = this.running.then(() => this.checkPending());
  }

  /** Writes the clock's month for FreeRADIUS's cap check; returns it. */
  async syncPeriod(): Promise<string> {
    const month = this.clock.month();
    await this.transactions.alone((m) =>
      m.getRepository(UsagePeriodEntity).upsert({ id: 1, month }, ['id']),
    );
    return month;
  }

  /**
   * Checks these users now (also what every accounting update does); returns who was acted on.
   * An action that did not get through (the NAS did not acknowledge, or the user's sessions
   * could not be reached) gives its claim back, so the user's next accounting update tries
   * again: a failed disconnect must not leave an over-cap customer online for the rest of the
   * month. After two failures in a row the tries are spaced out (RETRY_AFTER_MS).
   */
  async check(usernames: readonly string[]): Promise<string[]> {
    const month = this.clock.month();
    const due = retryable(this.failures, month, await this.overCap(usernames, month));
    const graceEnd = this.clock.now().getTime() - DISCONNECT_AGAIN_AFTER_MS;
    // Several at a time: an action that fails may wait for the CoA timeouts and retries (4.5 s by
    // default), and one failing NAS must not hold back every other customer's action.
    const acted = await inParallel(due, PARALLEL_ACTIONS, (over) => {
      // A disconnect again only while the plan has no FUP rate (a plan change gave it back).
      if (!over.disconnectedAt || over.fupRate) return this.claimAndAct(over, month);
      // Disconnected a moment ago: the updates of the session it ended may still be arriving.
      if (over.disconnectedAt.getTime() >= graceEnd) return Promise.resolve(null);
      return this.disconnectAgain(over, over.disconnectedAt, month);
    });
    return acted.flatMap((username) => (username ? [username] : []));
  }

  /** The user's name when this call acted on them, else null (claimed elsewhere, or failed). */
  private claimAndAct(over: OverCap, month: string): Promise<string | null> {
    const action = over.fupRate ? 'fup' : 'disconnect';
    return this.once(over.username, month, this.failures, {
      what: `act on ${over.username} over the ${month} data limit`,
      claim: () => this.claim(over.username, month, action),
      act: () => this.act(over, month),
      unclaim: () => this.giveBack(over.username, month, action),
    });
  }

  /**
   * Disconnects again a user still online after this month's disconnect (`disconnectedAt`); the
   * user's name when this call did. The claim is the row's acted_at, moved to now only if it is
   * still older than the grace (one instance wins); so the next try waits for a grace after
   * this one. A disconnect that did not get through puts the earlier time back: the row stays
   * (the customer was disconnected this month, and is over the cap), and the next update tries
   * again, spaced out as a first disconnect's failures are.
   */
  private disconnectAgain(over: OverCap, disconnectedAt: Date, month: string) {
    const now = this.clock.now();
    const at = sqlDatetime(now);
    const before = sqlDatetime(disconnectedAt);
    const moveActedAt = (from: string, to: string, older: boolean) =>
      this.affected(
        `UPDATE rg_cap_actions SET acted_at = ? WHERE username = ? AND month = ? AND action = 'disconnect' AND acted_at ${older ? '<' : '='} ?`,
        [to, over.username, month, from],
      );
    const graceEnd = sqlDatetime(new Date(now.getTime() - DISCONNECT_AGAIN_AFTER_MS));
    return this.once(over.username, month, this.failures, {
      what: `disconnect ${over.username} again, over the ${month} data limit`,
      claim: async () => (await moveActedAt(graceEnd, at, true)) === 1,
      act: () =>
        this.act(over, month, Math.round((now.getTime() - disconnectedAt.getTime()) / 1000)),
      unclaim: () => moveActedAt(at, before, false),
    });
  }

  /** claimAndAct (RetryBackoff under the user and month): the user's name when it acted. */
  private async once(
    username: string,
    month: string,
    failures: RetryBackoff,
    step: Parameters<typeof claimAndAct>[4],
  ): Promise<string | null> {
    const outcome = await claimAndAct(this.log, failures, username, month, step);
    return outcome === 'done' ? username : null;
  }

  /**
   * Throttles or disconnects an over-cap user; true when every open session was reached.
   * `againAfter`: a disconnect again, this many seconds after the last one.
   */
  private async act(over: OverCap, month: string, againAfter?: number): Promise<boolean> {
    if (over.fupRate) {
      const report = await this.control.changeUserRate(over.username, over.fupRate, {
        announce: false,
      });
      const done = report.sessions > 0 && report.reached === report.sessions;
      this.log.log(
        `${over.username} is over the ${month} data limit: FUP rate ${over.fupRate} sent to ${report.reached} of ${report.sessions} session(s)${done ? '' : ', to be tried again'}`,
      );
      return done;
    }
    const result = await this.control.disconnectUser(over.username);
    const what =
      againAfter === undefined
        ? 'disconnect'
        : `still online ${againAfter} s after its disconnect: disconnecting again,`;
    this.log.log(
      `${over.username} is over the ${month} data limit: ${what} ${result.ok ? 'done' : 'failed, to be tried again'} (${result.method}): ${result.message}`,
    );
    return result.ok;
  }

  private async checkPending(): Promise<void> {
    const usernames = [...this.pending];
    this.pending = new Set();
    if (usernames.length === 0) return;
    await this.check(usernames).catch((err: Error) =>
      this.log.warn(`data cap check failed: ${err.message}`),
    );
  }

  /**
   * Lifts last month's FUP throttles (with the month sync, every PERIOD_SYNC_MS); returns who got
   * their rate back. A customer throttled last month and still online gets the profile's own
   * rate again on every open session (a CoA-Request with its Mikrotik-Rate-Limit), as a new
   * login would: without it the FUP rate stayed until the customer reconnected. Every open
   * session, not only those begun before this month: FreeRADIUS learns the new month only at a
   * sync, and the start time is the NAS's clock, so a login just after midnight may have had
   * the FUP rate too; the rate again does no harm.
   * - Not when radgraph has acted on this month's cap already (over it again). One over it
   *   while the lift was on its way gets its action taken again (see lift).
   * - Once per throttle: its row's lifted_at is claimed first, so one instance sends it; given
   *   back when a session did not take the rate, and tried again at the next sync, spaced out
   *   after two failures in a row as check() does.
   */
  async liftThrottles(): Promise<string[]> {
    const month = this.clock.month();
    const last = previousMonth(month);
    const rows: Array<{ username: string; up: number; down: number }> =
      await this.transactions.alone((m) =>
        m.query(
          `SELECT a.username AS username, p.upload_rate_kbps AS up, p.download_rate_kbps AS down
         FROM rg_cap_actions a
         JOIN rg_customers c ON c.username = a.username
         JOIN rg_profiles p ON p.id = c.profile_id
         WHERE a.month = ? AND a.action = 'fup' AND a.lifted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM rg_cap_actions n WHERE n.username = a.username AND n.month = ?)
           AND EXISTS (SELECT 1 FROM radacct r WHERE r.acctstoptime IS NULL AND r.username = a.username)`,
          [last, month],
        ),
      );
    const due = retryable(
      this.liftFailures,
      month,
      rows.map((r) => ({ username: r.username, rate: rateLimit(r.up, r.down) })),
    );
    const lifted = await inParallel(due, PARALLEL_ACTIONS, (t) => this.lift(t, last, month));
    return lifted.flatMap((username) => (username ? [username] : []));
  }

  /**
   * The user's name when this call lifted their throttle, else null. Never throws. When the
   * customer went over this month's cap while the rate was on its way, the FUP rate sent for it
   * may have been overtaken: that action's claim is given back and the customer checked again,
   * so it is sent again.
   */
  private lift(t: { username: string; rate: string }, last: string, month: string) {
    if (this.stopping) return Promise.resolve(null);
    return this.once(t.username, month, this.liftFailures, {
      what: `lift the ${last} FUP throttle of ${t.username}`,
      claim: () => this.claimLift(t.username, last, sqlDatetime(this.clock.now())),
      act: async () => {
        const report = await this.control.changeUserRate(t.username, t.rate, { announce: false });
        const done = report.reached === report.sessions;
        this.log.log(
          `${t.username}: the ${last} FUP throttle is over, rate ${t.rate} sent to ${report.reached} of ${report.sessions} session(s)${done ? '' : ', to be tried again'}`,
        );
        // Even when only some sessions took it: those may now hold the plan's rate.
        if (report.reached > 0) await this.giveBackAndCheck(t.username, month);
        return done;
      },
      unclaim: () => this.claimLift(t.username, last, null),
    });
  }

  /**
   * After a plan changed (SessionControlService.onPlanChange): this month's cap actions of its
   * customers were taken under the plan they had, and their claims would keep radgraph from
   * acting again. Each is given back, and a customer who is online is held to the plan they have
   * now: over its cap, acted on again (its FUP rate, or a disconnect without one); under it (an
   * upgrade, a raised limit), a throttled customer gets the plan's rate, even when the plan's
   * rate just went out (a NAS may not have taken it); either way a later crossing this month is
   * acted on. Offline customers are FreeRADIUS's at their next login, and the plan's other
   * customers are checked at their next accounting update. Returns the customers whose action
   * was given back.
   */
  async reapply(target: PlanTarget): Promise<string[]> {
    const month = this.clock.month();
    const rows: Array<{
      username: string;
      action: string;
      up: number;
      down: number;
      online: number | string;
    }> = await this.transactions.alone((m) =>
      m.query(
        `SELECT a.username AS username, a.action AS action,
           p.upload_rate_kbps AS up, p.download_rate_kbps AS down,
           EXISTS (SELECT 1 FROM radacct r WHERE r.acctstoptime IS NULL AND r.username = a.username) AS online
         FROM rg_cap_actions a
         JOIN rg_customers c ON c.username = a.username
         JOIN rg_profiles p ON p.id = c.profile_id
         WHERE a.month = ? AND ${'username' in target ? 'a.username' : 'p.name'} = ?`,
        [month, 'username' in target ? target.username : target.groupname],
      ),
    );
    const reopened: string[] = [];
    const online: typeof rows = [];
    for (const row of rows) {
      if (!(await this.giveBack(row.username, month))) continue;
      reopened.push(row.username);
      if (Number(row.online) === 1) online.push(row);
    }
    const over = new Set(
      (
        await this.overCap(
          online.map((r) => r.username),
          month,
        )
      ).map((o) => o.username),
    );
    for (const username of over) this.checkLater(username);
    const under = online.filter((r) => !over.has(r.username) && r.action === 'fup');
    await inParallel(under, PARALLEL_ACTIONS, async (r) => {
      const rate = rateLimit(r.up, r.down);
      try {
        const report = await this.control.changeUserRate(r.username, rate, { announce: false });
        this.log.log(
          `${r.username} is under the ${month} data limit of the changed plan: rate ${rate} sent to ${report.reached} of ${report.sessions} session(s)`,
        );
        // Crossed the cap while this rate was on its way: the FUP rate goes again (see lift).
        await this.giveBackAndCheck(r.username, month);
      } catch (err) {
        this.log.warn(`cannot send ${r.username} the plan's rate: ${(err as Error).message}`);
      }
    });
    return reopened;
  }

  /**
   * Gives back the user's cap action of `month` (only if it is `action`, when given); true when
   * there was one. Its claim is free again: the next check acts anew.
   */
  private async giveBack(username: string, month: string, action?: string): Promise<boolean> {
    const sql = 'DELETE FROM rg_cap_actions WHERE username = ? AND month = ?';
    const changed = await this.affected(
      action === undefined ? sql : `${sql} AND action = ?`,
      action === undefined ? [username, month] : [username, month, action],
    );
    return changed > 0;
  }

  /** Gives back the user's action of `month`, if any, and checks the user again soon. */
  private async giveBackAndCheck(username: string, month: string): Promise<void> {
    if (await this.giveBack(username, month)) this.checkLater(username);
  }

  /**
   * Claims the lift of a throttle (true for the one caller that sets lifted_at), or gives it back
   * (`at` null).
   */
  private async claimLift(username: string, month: string, at: string | null): Promise<boolean> {
    const changed = await this.affected(
      `UPDATE rg_cap_actions SET lifted_at = ? WHERE username = ? AND month = ? AND action = 'fup' AND lifted_at IS ${at === null ? 'NOT NULL' : 'NULL'}`,
      [at, username, month],
    );
    return changed === 1;
  }

  /** Those of `usernames` throttled to their FUP rate this month (as rg_cap_actions has them). */
  async throttled(usernames: readonly string[]): Promise<string[]> {
    const month = this.clock.month();
    const rows = await inChunks(
      usernames,
      (chunk) =>
        this.transactions.alone<Array<{ username: string }>>((m) =>
          m.query(
            `SELECT username FROM rg_cap_actions WHERE month = ? AND action = 'fup' AND username IN (${placeholders(chunk.length)})`,
            [month, ...chunk],
          ),
        ),
      CHECK_CHUNK,
    );
    return rows.map((r) => r.username);
  }

  /** Capped customers among `usernames` whose usage this month reached the limit. */
  private async overCap(usernames: readonly string[], month: string): Promise<OverCap[]> {
    // Users gathered while a slow check ran can be many: a bounded IN list each query.
    return inChunks(usernames, (chunk) => this.overCapOf(chunk, month), CHECK_CHUNK);
  }

  private async overCapOf(usernames: readonly string[], month: string): Promise<OverCap[]> {
    if (usernames.length === 0) return [];
    const rows: Array<{
      username: string;
      fupUp: number | null;
      fupDown: number | null;
      disconnectedAt?: Date | string | null;
    }> = await this.transactions.alone((m) =>
      m.query(
        // With this month's disconnect, if any, of a user still online (see disconnectAgain).
        `SELECT c.username AS username, p.fup_upload_rate_kbps AS fupUp, p.fup_download_rate_kbps AS fupDown,
           a.acted_at AS disconnectedAt
       FROM rg_customers c
       JOIN rg_profiles p ON p.id = c.profile_id
       JOIN rg_usage_monthly u ON u.username = c.username AND u.month = ?
       LEFT JOIN rg_cap_actions a ON a.username = c.username AND a.month = u.month
         AND a.action = 'disconnect'
         AND EXISTS (SELECT 1 FROM radacct r WHERE r.acctstoptime IS NULL AND r.username = c.username)
       WHERE c.username IN (${placeholders(usernames.length)})
         AND p.data_limit_bytes IS NOT NULL
         AND CAST(u.upload_bytes AS DECIMAL(20, 0)) + u.download_bytes >= p.data_limit_bytes`,
        [month, ...usernames],
      ),
    );
    return rows.map((r) => ({
      username: r.username,
      fupRate: r.fupUp && r.fupDown ? rateLimit(r.fupUp, r.fupDown) : null,
      disconnectedAt: r.disconnectedAt ? readSqlDatetime(r.disconnectedAt) : null,
    }));
  }

  /** True for the one caller that records this month's action for the user. */
  private async claim(username: string, month: string, action: string): Promise<boolean> {
    const ignore = this.dataSource.options.type === 'better-sqlite3' ? 'OR IGNORE' : 'IGNORE';
    const changed = await this.affected(
      `INSERT ${ignore} INTO rg_cap_actions (username, month, action, acted_at) VALUES (?, ?, ?, ?)`,
      [username, month, action, sqlDatetime(this.clock.now())],
    );
    return changed === 1;
  }

  /**
   * Runs one write to rg_cap_actions in a transaction of its own (TransactionsService: on SQLite
   * not inside another caller's, whose rollback would undo it) and says how many rows it changed,
   * which decides who holds a claim.
   */
  private affected(sql: string, params: unknown[]): Promise<number> {
    return this.transactions.run(async (m) => {
      const result = await m.queryRunner!.query(sql, params, true);
      return (result as { affected?: number }).affected ?? 0;
    });
  }
}

/** Drops the failures of other months; the items whose user may be tried now. */
function retryable<T extends { username: string }>(
  failures: RetryBackoff,
  month: string,
  items: T[],
): T[] {
  failures.forgetOtherScopes(month);
  return items.filter((item) => failures.due(item.username, month));
}

/** The month before "YYYY-MM". */
export function previousMonth(month: string): string {
  const [year, m] = month.split('-').map(Number);
  return new Date(Date.UTC(year, m - 2, 1)).toISOString().slice(0, 7);
}
