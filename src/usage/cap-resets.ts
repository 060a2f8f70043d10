import type { Logger } from '@nestjs/common';
import { inParallel } from '../common/async/in-parallel';
import type { Clock } from '../common/clock/clock';
import { RetryBackoff } from '../common/jobs/claimed-action';
import { sqlDatetime } from '../common/sql/datetime';
import type { PlanTarget, SessionControlService } from '../nas/control/session-control.service';
import { rateLimit } from '../profiles/profile-rules';
import type { CapActionStore } from './cap-action.store';
import { actOnce, PARALLEL_ACTIONS, retryable } from './cap-claims';

/**
 * Gives back the data cap's actions that no longer hold: last month's FUP throttles once the
 * month is over (liftThrottles), and this month's actions of customers whose plan changed
 * (reapply). Part of DataCapEnforcer, which runs these and owns the checks: `recheck` puts a
 * customer in its next check, for one who may have crossed the cap meanwhile.
 */
export class CapResets {
  /** The lifts of last month's throttles that failed: how often in a row, and when to try again. */
  private readonly liftFailures = new RetryBackoff();
  /** Shutting down: no lift is started (one claimed and then killed would never be sent). */
  private stopping = false;

  constructor(
    private readonly deps: {
      clock: Clock;
      control: SessionControlService;
      store: CapActionStore;
      log: Logger;
      recheck: (username: string) => void;
    },
  ) {}

  /** Starts no lift from now on (the application is shutting down). */
  stop(): void {
    this.stopping = true;
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
   *   after two failures in a row as DataCapEnforcer.check does.
   */
  async liftThrottles(): Promise<string[]> {
    const month = this.deps.clock.month();
    const last = previousMonth(month);
    const rows = await this.deps.store.throttledBefore(last, month);
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
    const { clock, control, store, log } = this.deps;
    return actOnce(log, this.liftFailures, t.username, month, {
      what: `lift the ${last} FUP throttle of ${t.username}`,
      claim: () => store.claimLift(t.username, last, sqlDatetime(clock.now())),
      act: async () => {
        const report = await control.changeUserRate(t.username, t.rate, { announce: false });
        const done = report.reached === report.sessions;
        log.log(
          `${t.username}: the ${last} FUP throttle is over, rate ${t.rate} sent to ${report.reached} of ${report.sessions} session(s)${done ? '' : ', to be tried again'}`,
        );
        // Even when only some sessions took it: those may now hold the plan's rate.
        if (report.reached > 0) await this.giveBackAndCheck(t.username, month);
        return done;
      },
      unclaim: () => store.claimLift(t.username, last, null),
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
    const { clock, control, store, log } = this.deps;
    const month = clock.month();
    const rows = await store.ofPlan(target, month);
    const reopened: string[] = [];
    const online: typeof rows = [];
    for (const row of rows) {
      if (!(await store.giveBack(row.username, month))) continue;
      reopened.push(row.username);
      if (Number(row.online) === 1) online.push(row);
    }
    const over = new Set(
      (
        await store.overCap(
          online.map((r) => r.username),
          month,
        )
      ).map((o) => o.username),
    );
    for (const username of over) this.deps.recheck(username);
    const under = online.filter((r) => !over.has(r.username) && r.action === 'fup');
    await inParallel(under, PARALLEL_ACTIONS, async (r) => {
      const rate = rateLimit(r.up, r.down);
      try {
        const report = await control.changeUserRate(r.username, rate, { announce: false });
        log.log(
          `${r.username} is under the ${month} data limit of the changed plan: rate ${rate} sent to ${report.reached} of ${report.sessions} session(s)`,
        );
        // Crossed the cap while this rate was on its way: the FUP rate goes again (see lift).
        await this.giveBackAndCheck(r.username, month);
      } catch (err) {
        log.warn(`cannot send ${r.username} the plan's rate: ${(err as Error).message}`);
      }
    });
    return reopened;
  }

  /** Gives back the user's action of `month`, if any, and checks the user again soon. */
  private async giveBackAndCheck(username: string, month: string): Promise<void> {
    if (await this.deps.store.giveBack(username, month)) this.deps.recheck(username);
  }
}

/** The month before "YYYY-MM". */
export function previousMonth(month: string): string {
  const [year, m] = month.split('-').map(Number);
  return new Date(Date.UTC(year, m - 2, 1)).toISOString().slice(0, 7);
}
