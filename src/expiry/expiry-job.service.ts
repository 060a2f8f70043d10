import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { Clock } from '../common/clock/clock';
import { claimAndAct, RetryBackoff, type ClaimedOutcome } from '../common/jobs/claimed-action';
import { JobLeases } from '../common/jobs/job-leases.service';
import { PeriodicTask } from '../common/jobs/periodic-task';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.tokens';
import type { CustomerEntity } from '../customers/customer.entity';
import { DAY_MS } from '../customers/customer-rules';
import { toCustomer } from '../customers/models/customer.mapper';
import { TransactionsService } from '../database/transactions.service';
import { SessionControlService } from '../nas/control/session-control.service';
import { WebhookSender } from '../webhooks/webhook-sender.service';
import { CustomerExpiringBus } from './events/customer-expiring-bus.service';
import { ExpiryActionKind } from './expiry-action-kind';
import { ExpiryActions } from './expiry-actions.service';
import { ExpiringCustomersService } from './expiring-customers.service';
import type { CustomerExpiringEvent } from './models/customer-expiring-event.model';
import type { ExpiryRun } from './models/expiry-run.model';
import { inParallel } from '../common/async/in-parallel';

/** The lease (rg_job_leases) that picks the one instance running the job. */
export const EXPIRY_JOB_LEASE = 'expiry';
export const CUSTOMER_EXPIRING = 'customerExpiring';
/** Customers read per query. */
const PAGE = 200;
/** Disconnects in flight at once (each may wait for CoA timeouts and RouterOS). */
const PARALLEL_DISCONNECTS = 8;

/**
 * Plans over time, every EXPIRY_CHECK_INTERVAL_SECONDS (20 s by default), on one instance:
 * - a customer online (an open radacct row) whose expiresAt has passed is disconnected
 *   (Disconnect-Request, with the RouterOS fallback), so within about 20 s of expiring;
 *   FreeRADIUS's Expiration check refuses the next login. A disconnect that does not get
 *   through (no ACK, the NAS unreachable, the instance killed before sending it) is tried again
 *   at later runs, spaced out after two failures in a row (RetryBackoff); a session begun after
 *   a disconnect that got through (FreeRADIUS let the customer in: its clock or this
 *   instance's is off) is disconnected too, and so is a session the disconnect got through for
 *   that is still alive: its row open, with an accounting change (radacct.rg_seen_at, the
 *   database's clock) more than DISCONNECT_GRACE_MS (60 s: its Stop, or an Interim-Update
 *   already sent, may arrive that late) after the disconnect. That is a NAS that acknowledged
 *   the Disconnect-Request but kept the session, or one that answered 503 (or RouterOS found
 *   none of the user's sessions), so the row was closed as Stale-Session, and then reported it
 *   again: its Interim-Update reopened the same row (same radacctid);
 * - a customer, not suspended, whose expiresAt is within EXPIRY_REMINDER_DAYS gets one
 *   customerExpiring event: to subscribers, and to WEBHOOK_URL when set (through the webhook
 *   outbox, written with the reminder's claim: delivered at least once, in the background).
 * Each happens once per (customer, expiresAt), a disconnect once per session (and again, a
 * grace after each, while the session stays alive): a renewed customer is handled again at
 * the new expiry. Every instance ticks, the one holding the
 * lease acts (PeriodicTask: the lease moves to a live instance within 10 s of its holder's
 * death), and each action is claimed first (rg_expiry_actions), so overlapping runs cannot
 * repeat one.
 */
@Injectable()
export class ExpiryJob implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('ExpiryJob');
  private readonly task: PeriodicTask<ExpiryRun>;
  /** Customers whose disconnect failed: how often in a row, and when to try again. */
  private readonly failures = new RetryBackoff();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    leases: JobLeases,
    private readonly customers: ExpiringCustomersService,
    private readonly actions: ExpiryActions,
    private readonly control: SessionControlService,
    private readonly bus: CustomerExpiringBus,
    private readonly webhooks: WebhookSender,
    private readonly transactions: TransactionsService,
  ) {
    this.task = new PeriodicTask({
      log: this.log,
      everySeconds: config.expiry.checkIntervalSeconds,
      lease: { leases, name: EXPIRY_JOB_LEASE },
      run: () => this.run(),
      failure: 'expiry run failed',
    });
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  /** Stops ticking, lets a run finish and gives the lease up, while the database is open. */
  beforeApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  /**
   * One run now (what each tick does): acts only when this instance holds the lease. A call
   * during a run waits for it, then runs again.
   */
  async runOnce(): Promise<ExpiryRun> {
    return (
      (await this.task.runOnce()) ?? {
        leader: false,
        disconnected: 0,
        disconnectsFailed: 0,
        reminded: 0,
      }
    );
  }

  private async run(): Promise<ExpiryRun> {
    const now = this.clock.now();
    const { disconnected, failed } = await this.disconnectExpired(now);
    const reminded = this.config.expiry.reminderDays > 0 ? await this.remind(now) : 0;
    if (disconnected + failed + reminded > 0) {
      this.log.log(
        `expired and disconnected: ${disconnected}; disconnects failed (to be tried again): ${failed}; reminded: ${reminded}`,
      );
    }
    return { leader: true, disconnected, disconnectsFailed: failed, reminded };
  }

  /**
   * Every customer online past expiresAt with a session not yet disconnected for it; returns how
   * many disconnects got through and how many failed.
   */
  private async disconnectExpired(now: Date): Promise<{ disconnected: number; failed: number }> {
    const counts = { disconnected: 0, failed: 0 };
    const seen = new Set<string>();
    for (let afterId = 0; ;) {
      const page = await this.customers.expiredOnline(now, afterId, PAGE);
      afterId = page.length === 0 ? afterId : page[page.length - 1].customer.id;
      for (const { customer } of page) seen.add(String(customer.id));
      const due = page.filter(
        (e) =>
          e.newestSession !== null &&
          this.failures.due(String(e.customer.id), e.customer.expiresAt!.toISOString()),
      );
      const outcomes = await inParallel(due, PARALLEL_DISCONNECTS, (e) =>
        this.disconnect(e.customer, e.newestSession!, e.aliveAfterS, now),
      );
      counts.disconnected += outcomes.filter((o) => o === 'done').length;
      counts.failed += outcomes.filter((o) => o === 'failed').length;
      if (page.length < PAGE) {
        // Every one still to act on was read: the failures of the others are over.
        this.failures.forgetAllBut(seen);
        return counts;
      }
      // A long run renews the lease between pages, and stops if it was lost meanwhile.
      if (!(await this.task.hold())) return counts;
    }
  }

  /**
   * Disconnects the customer's open sessions up to `newestSession`, unless claimed elsewhere;
   * `aliveAfterS`: one of them is still alive that many seconds after its disconnect.
   */
  private disconnect(
    c: CustomerEntity,
    newestSession: string,
    aliveAfterS: number | null,
    now: Date,
  ): Promise<ClaimedOutcome> {
    const expiresAt = c.expiresAt!;
    const line = `${c.username} expired at ${expiresAt.toISOString()} while online: disconnect`;
    const again =
      aliveAfterS === null
        ? ''
        : `${c.username} expired at ${expiresAt.toISOString()} is still online ${aliveAfterS} s after its disconnect (an accounting change of its session): disconnecting again`;
    return claimAndAct(this.log, this.failures, String(c.id), expiresAt.toISOString(), {
      what: `disconnect ${c.username}, expired at ${expiresAt.toISOString()}`,
      claim: () => this.actions.claimDisconnect(c.id, expiresAt, newestSession, now),
      act: async () => {
        if (again) this.log.log(again);
        const result = await this.control.disconnectUser(c.username);
        if (result.ok) {
          this.log.log(`${line} done (${result.method}): ${result.message}`);
          await this.actions.settleDisconnect(c.id, expiresAt, newestSession);
        } else {
          this.log.warn(`${line} failed, to be tried again (${result.method}): ${result.message}`);
        }
        return result.ok;
      },
      unclaim: () => this.actions.settleDisconnect(c.id, expiresAt, null),
    });
  }

  /** One customerExpiring per customer due and not yet reminded; returns how many. */
  private async remind(now: Date): Promise<number> {
    const until = new Date(now.getTime() + this.config.expiry.reminderDays * DAY_MS);
    let done = 0;
    for (let afterId = 0; ;) {
      const page = await this.customers.dueForReminder(now, until, afterId, PAGE);
      if (page.length === 0) return done;
      afterId = page[page.length - 1].id;
      for (const c of page) if (await this.remindOne(c, now)) done++;
      if (page.length < PAGE || !(await this.task.hold())) return done;
    }
  }

  /**
   * Claims the reminder and writes its webhook event to the outbox in one transaction (both or
   * neither: a claimed reminder is always delivered, at least once), then tells subscribers.
   */
  private async remindOne(c: CustomerEntity, now: Date): Promise<boolean> {
    const expiresAt = c.expiresAt!;
    const daysLeft = Math.max(1, Math.ceil((expiresAt.getTime() - now.getTime()) / DAY_MS));
    const claimed = await this.transactions.run(async (m) => {
      if (!(await this.actions.claim(c.id, expiresAt, ExpiryActionKind.REMINDER, now, m))) {
        return false;
      }
      await this.webhooks.enqueue(
        m,
        CUSTOMER_EXPIRING,
        `${CUSTOMER_EXPIRING}:${c.id}:${expiresAt.toISOString()}`,
        {
          customer: {
            id: String(c.id),
            accountNo: c.accountNo,
            username: c.username,
            name: c.name,
            phone: c.phone,
            expiresAt: expiresAt.toISOString(),
          },
          expiresAt: expiresAt.toISOString(),
          daysLeft,
        },
      );
      return true;
    });
    if (!claimed) return false;
    const event: CustomerExpiringEvent = { customer: toCustomer(c), expiresAt, daysLeft };
    this.log.log(
      `${c.username} expires at ${expiresAt.toISOString()} (${daysLeft} day(s)): customerExpiring sent`,
    );
    this.webhooks.wake();
    await this.bus.publish(event);
    return true;
  }
}
