import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { inParallel } from '../common/async/in-parallel';
import { Clock } from '../common/clock/clock';
import { RetryBackoff } from '../common/jobs/claimed-action';
import { TransactionsService } from '../database/transactions.service';
import { DISCONNECT_GRACE_MS } from '../nas/control/gone-sessions';
import { SessionControlService, type PlanTarget } from '../nas/control/session-control.service';
import { SessionEventBus } from '../sessions/events/session-event-bus.service';
import { SessionEventType } from '../sessions/models/session-event.model';
import { UsagePeriodEntity } from './usage-period.entity';
import { sqlDatetime } from '../common/sql/datetime';
import { CapActionStore, type OverCap } from './cap-action.store';
import { actOnce, PARALLEL_ACTIONS, retryable } from './cap-claims';
import { CapResets } from './cap-resets';

/** How often the current month is written for FreeRADIUS (rg_usage_period). */
const PERIOD_SYNC_MS = 30_000;
/**
 * Updated users are checked together, at most this long after their update: one query for
 * every update that came meanwhile (at 10,000 accounting packets a second, a query per write
 * batch was about a hundred a second, each an IN-list of a hundred users).
 */
export const CHECK_AFTER_MS = 250;

/**
 * Enforces profiles' monthly data limits on customers who are online. Every accounting update
 * (listener, change feed) of a capped customer is checked against the month's usage
 * (rg_usage_monthly), within CHECK_AFTER_MS (the updates meanwhile in one query); the first one
 * over the limit is acted on at once, so within one interim interval of the crossing:
 * - with a FUP rate on the profile: a CoA-Request with that Mikrotik-Rate-Limit, and the
 *   customer stays online;
 * - without: a Disconnect-Request (with the RouterOS fallback).
 * Once per customer and month (rg_cap_actions is claimed first, so one instance acts: see
 * CapActionStore), unless it did not get through: then the claim is given back and the next
 * update tries again. The next login is FreeRADIUS's business (radius-config): refused with a
 * Reply-Message, or the FUP rate.
 * A disconnected customer whose accounting still shows them online DISCONNECT_GRACE_MS
 * after the disconnect (the NAS acknowledged it and the session went on, or answered that it had
 * no such session and then reported it again) is disconnected again (disconnectAgain).
 * A new month starts from zero: rg_usage_period tells FreeRADIUS which month it is, and the
 * last month's FUP throttles are lifted from the sessions still online (liftThrottles). A plan
 * change gives back the month's actions of its customers (reapply). Both are CapResets', run
 * from here.
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
  /** The lift running now, if any (one at a time). */
  private lifting: Promise<void> | null = null;
  /** Last month's throttles lifted, and the actions given back after a plan change. */
  private readonly resets: CapResets;

  constructor(
    private readonly clock: Clock,
    private readonly bus: SessionEventBus,
    private readonly control: SessionControlService,
    private readonly transactions: TransactionsService,
    private readonly store: CapActionStore,
  ) {
    this.resets = new CapResets({
      clock,
      control,
      store,
      log: this.log,
      recheck: (username) => this.checkLater(username),
    });
  }

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
    this.resets.stop(); // no lift is started (one claimed and then killed would never be sent)
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

  /** Lifts last month's FUP throttles: see CapResets.liftThrottles. */
  liftThrottles(): Promise<string[]> {
    return this.resets.liftThrottles();
  }

  /** Holds a plan's customers to the plan they have now: see CapResets.reapply. */
  reapply(target: PlanTarget): Promise<string[]> {
    return this.resets.reapply(target);
  }

  /** Those of `usernames` throttled to their FUP rate this month (as rg_cap_actions has them). */
  async throttled(usernames: readonly string[]): Promise<string[]> {
    return this.store.throttled(usernames, this.clock.month());
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
    const due = retryable(this.failures, month, await this.store.overCap(usernames, month));
    const graceEnd = this.clock.now().getTime() - DISCONNECT_GRACE_MS;
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
    return actOnce(this.log, this.failures, over.username, month, {
      what: `act on ${over.username} over the ${month} data limit`,
      claim: () => this.store.claim(over.username, month, action, sqlDatetime(this.clock.now())),
      act: () => this.act(over, month),
      unclaim: () => this.store.giveBack(over.username, month, action),
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
    const graceEnd = sqlDatetime(new Date(now.getTime() - DISCONNECT_GRACE_MS));
    return actOnce(this.log, this.failures, over.username, month, {
      what: `disconnect ${over.username} again, over the ${month} data limit`,
      claim: async () =>
        (await this.store.moveActedAt(over.username, month, graceEnd, at, true)) === 1,
      act: () =>
        this.act(over, month, Math.round((now.getTime() - disconnectedAt.getTime()) / 1000)),
      unclaim: () => this.store.moveActedAt(over.username, month, at, before, false),
    });
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
}
