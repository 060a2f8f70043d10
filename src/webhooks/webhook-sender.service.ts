import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { inParallel } from '../common/async/in-parallel';
import { Clock } from '../common/clock/clock';
import { HeldLease } from '../common/jobs/held-lease';
import { JobLeases } from '../common/jobs/job-leases.service';
import type { AppConfig, WebhookConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.tokens';
import { affectedRows } from '../database/bulk-writes';
import { TransactionsService } from '../database/transactions.service';
import { WebhookOutboxEntity } from './webhook-outbox.entity';
import {
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  webhookSignature,
} from './webhook-signature';

export interface WebhookOptions {
  /** The wait after the first failed try; it doubles after each one (with up to 25% jitter). */
  baseDelayMs: number;
  /** The longest wait between two tries. */
  maxDelayMs: number;
  /** Per try: no answer by then counts as a network error. */
  timeoutMs: number;
  /** Deliveries in flight at once. */
  concurrency: number;
  /** How often the instance holding the lease looks for due events when none is known. */
  pollMs: number;
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookOptions = {
  baseDelayMs: 1000,
  maxDelayMs: 10 * 60_000,
  timeoutMs: 10_000,
  concurrency: 4,
  pollMs: 2000,
};

/** The lease (rg_job_leases) that picks the one instance delivering the outbox. */
export const WEBHOOK_LEASE = 'webhooks';
/** Due events read per query: memory stays bounded however many wait. */
const PAGE = 100;
/** A try in flight holds its row this much longer than its timeout (its instance may die). */
const CLAIM_MARGIN_MS = 5000;

type Outcome = { kind: 'delivered' | 'retry' | 'refused'; detail: string };

/**
 * POSTs events as JSON to WEBHOOK_URL, signed (webhook-signature.ts), at least once. `enqueue`
 * writes the event to the outbox (rg_webhook_outbox) in the caller's transaction, so it is
 * stored exactly when what raised it commits; the job that raised it never waits for the
 * receiver. The instance holding the `webhooks` lease (HeldLease) delivers due events, PAGE
 * at a time, `concurrency` at once; each try first claims its row (attempts moves on, and the
 * row is not due again until the try's timeout has passed), so no two instances make the same
 * try. A 2xx deletes the row; a network error, a timeout, a 408, a 429 or a 5xx is tried again
 * after baseDelayMs, doubling up to maxDelayMs, until WEBHOOK_RETRY_HOURS after the event was
 * raised (then logged at error and dropped); any other answer is final (logged, dropped). A
 * try cut short by shutdown is due again at once, for the next instance (or this one
 * restarted). Receivers drop duplicates by the event's id. A user:password in the URL is sent
 * as Basic auth. WEBHOOK_SECRET never appears in a log line, and of the URL only its origin
 * does.
 */
@Injectable()
export class WebhookSender implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('Webhook');
  private readonly target: WebhookConfig | null;
  private readonly origin: string;
  /** WEBHOOK_URL without its user:password, which go as Basic auth (fetch refuses them). */
  private readonly postUrl: string;
  private readonly authorization: Record<string, string>;
  private options: WebhookOptions = DEFAULT_WEBHOOK_OPTIONS;
  private readonly lease: HeldLease;
  private running = false;
  private stopping = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private passing: Promise<void> | null = null;
  /** A wake() during a pass: another pass follows at once (an event may have been missed). */
  private again = false;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly clock: Clock,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: TransactionsService,
    leases: JobLeases,
  ) {
    this.target = config.webhook;
    const url = this.target ? new URL(this.target.url) : null;
    this.origin = url ? url.origin : '';
    this.authorization = {};
    if (url && (url.username !== '' || url.password !== '')) {
      const userinfo = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      this.authorization.authorization = `Basic ${Buffer.from(userinfo, 'utf8').toString('base64')}`;
      url.username = '';
      url.password = '';
    }
    this.postUrl = url ? url.toString() : '';
    this.lease = new HeldLease({
      leases,
      name: WEBHOOK_LEASE,
      log: this.log,
      onTaken: () => this.wake(),
    });
  }

  /** True when WEBHOOK_URL is set. */
  get enabled(): boolean {
    return this.target !== null;
  }

  /** Tunes retries and limits (tests shorten the backoff). */
  configure(options: Partial<WebhookOptions>): void {
    this.options = { ...this.options, ...options };
  }

  /**
   * Writes one event, `{ id, type, createdAt, data }`, to the outbox in `m`'s transaction; a
   * no-op without WEBHOOK_URL. `id` names the event (X-Radgraph-Delivery, the same on every
   * try). Call wake() once the transaction has committed, to deliver it at once.
   */
  async enqueue(m: EntityManager, type: string, id: string, data: unknown): Promise<void> {
    if (!this.target) return;
    const body = JSON.stringify({ id, type, createdAt: this.clock.now().toISOString(), data });
    const now = new Date();
    await m.query(
      'INSERT INTO rg_webhook_outbox (id, type, body, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, 0, ?, ?)',
      [id, type, body, this.datetime('nextAttemptAt', now), this.datetime('createdAt', now)],
    );
  }

  /** Starts delivering (the lease's heartbeat, and a pass now) when WEBHOOK_URL is set. */
  onApplicationBootstrap(): void {
    if (!this.target || this.running) return;
    this.running = true;
    this.stopping = new AbortController();
    this.lease.start();
    this.wake();
  }

  /**
   * Stops delivering, while the database is open: tries in flight are cut short and left due
   * at once, and the lease is given up, so another instance (or this one restarted) goes on.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.stopping.abort();
    await this.passing;
    const waiting = await this.waiting().catch(() => 0);
    if (waiting > 0) {
      this.log.log(
        `stopping: ${waiting} webhook event(s) wait in the outbox for the next instance`,
      );
    }
    await this.lease.stop();
  }

  /** Delivers what is due now, when this instance holds the lease (after enqueue's commit). */
  wake(): void {
    if (!this.running) return;
    if (this.passing) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.passing = this.pass()
      .catch((err: unknown) => {
        this.log.warn(`webhook delivery pass failed: ${(err as Error).message}`);
        return this.options.pollMs;
      })
      .then((nextInMs) => {
        this.passing = null;
        if (!this.running) return;
        if (this.again) {
          this.again = false;
          this.wake();
        } else {
          this.timer = setTimeout(() => this.wake(), nextInMs).unref();
        }
      });
  }

  /**
   * Resolves once the outbox is empty (every event delivered, refused or given up, by
   * whichever instance): for tests and tools.
   */
  async idle(timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while ((await this.waiting()) > 0) {
      if (Date.now() > until) throw new Error(`webhook events still waiting after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Events in the outbox (due or not). */
  async waiting(): Promise<number> {
    return this.transactions.between(() => this.repo().count());
  }

  /**
   * Delivers due events, a page at a time, while this instance holds the lease; returns how
   * long to wait before the next pass (until the earliest event is due, at most pollMs).
   */
  private async pass(): Promise<number> {
    const { pollMs, concurrency } = this.options;
    for (;;) {
      // The heartbeat keeps the lease (and wakes a pass when it takes it): no query here.
      if (!this.running || !this.lease.held) return pollMs;
      const due = await this.transactions.between(() =>
        this.repo()
          .createQueryBuilder('o')
          .where('o.nextAttemptAt <= :now', { now: this.datetime('nextAttemptAt', new Date()) })
          .orderBy('o.nextAttemptAt', 'ASC')
          .addOrderBy('o.id', 'ASC')
          .limit(PAGE)
          .getMany(),
      );
      if (due.length === 0) break;
      const outcomes = await inParallel(due, concurrency, (row) => this.deliver(row));
      // A database error leaves its row due: stop here, not to spin on it.
      if (outcomes.includes(false)) return pollMs;
    }
    const next = await this.transactions.between(() =>
      this.repo().createQueryBuilder('o').orderBy('o.nextAttemptAt', 'ASC').limit(1).getOne(),
    );
    if (!next) return pollMs;
    return Math.min(pollMs, Math.max(0, next.nextAttemptAt.getTime() - Date.now()));
  }

  /** One try of one event, claimed first; false when the database failed it. */
  private async deliver(row: WebhookOutboxEntity): Promise<boolean> {
    const attempt = row.attempts + 1;
    const where = `${row.type} ${row.id} to ${this.origin}`;
    if (this.stopping.signal.aborted) return true;
    try {
      const claimUntil = new Date(Date.now() + this.options.timeoutMs + CLAIM_MARGIN_MS);
      if (!(await this.setNext(row.id, row.attempts, claimUntil, attempt))) return true;
      const outcome = await this.post(row);
      if (this.stopping.signal.aborted && outcome.kind === 'retry') {
        // Cut short by shutdown: due again at once, for whichever instance goes on.
        await this.setNext(row.id, attempt, new Date(), attempt);
        return true;
      }
      if (outcome.kind === 'delivered') {
        this.log.log(`${where}: delivered (${outcome.detail}, try ${attempt})`);
        await this.remove(row.id);
        return true;
      }
      if (outcome.kind === 'refused') {
        this.log.warn(`${where}: refused (${outcome.detail}), not retried`);
        await this.remove(row.id);
        return true;
      }
      const { baseDelayMs, maxDelayMs } = this.options;
      const delay = Math.min(
        maxDelayMs,
        baseDelayMs * 2 ** Math.min(attempt - 1, 40) * (1 + Math.random() * 0.25),
      );
      const next = new Date(Date.now() + delay);
      const giveUpAt = row.createdAt.getTime() + this.target!.retryHours * 3_600_000;
      if (next.getTime() > giveUpAt) {
        this.log.error(
          `${where}: given up after ${attempt} tries over ${this.target!.retryHours} h (last: ${outcome.detail})`,
        );
        await this.remove(row.id);
        return true;
      }
      this.log.debug(`${where}: ${outcome.detail}; try ${attempt + 1} in ${Math.round(delay)} ms`);
      await this.setNext(row.id, attempt, next, attempt);
      return true;
    } catch (err) {
      this.log.warn(`${where}: the outbox could not be read or written: ${(err as Error).message}`);
      return false;
    }
  }

  /** Moves the row's next try to `at`, with `attempts`, if it is still at `seenAttempts`. */
  private async setNext(
    id: string,
    seenAttempts: number,
    at: Date,
    attempts: number,
  ): Promise<boolean> {
    const changed = await this.transactions.between(() =>
      affectedRows(
        this.dataSource,
        'UPDATE rg_webhook_outbox SET attempts = ?, next_attempt_at = ? WHERE id = ? AND attempts = ?',
        [attempts, this.datetime('nextAttemptAt', at), id, seenAttempts],
      ),
    );
    return changed === 1;
  }

  private async remove(id: string): Promise<void> {
    await this.transactions.between(() =>
      affectedRows(this.dataSource, 'DELETE FROM rg_webhook_outbox WHERE id = ?', [id]),
    );
  }

  private repo() {
    return this.dataSource.getRepository(WebhookOutboxEntity);
  }

  /** A date as the driver writes it through the entity, so comparisons match stored values. */
  private datetime(property: 'nextAttemptAt' | 'createdAt', value: Date): unknown {
    const meta = this.dataSource.getMetadata(WebhookOutboxEntity);
    return this.dataSource.driver.preparePersistentValue(
      value,
      meta.findColumnWithPropertyName(property)!,
    );
  }

  /** One try, signed now. */
  private async post(d: WebhookOutboxEntity): Promise<Outcome> {
    const { secret } = this.target!;
    // The wall clock, not Clock: the receiver checks it against its own for freshness.
    const timestamp = String(Math.floor(Date.now() / 1000));
    try {
      const res = await fetch(this.postUrl, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          ...this.authorization,
          'content-type': 'application/json',
          'user-agent': 'radgraph-webhook',
          [EVENT_HEADER]: d.type,
          [DELIVERY_HEADER]: d.id,
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: webhookSignature(secret, timestamp, d.body),
        },
        body: d.body,
        signal: AbortSignal.any([
          AbortSignal.timeout(this.options.timeoutMs),
          this.stopping.signal,
        ]),
      });
      await res.body?.cancel().catch(() => undefined);
      const detail = `HTTP ${res.status}`;
      if (res.status >= 200 && res.status < 300) return { kind: 'delivered', detail };
      if (res.status >= 500 || res.status === 429 || res.status === 408) {
        return { kind: 'retry', detail };
      }
      return { kind: 'refused', detail };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      const detail =
        e.name === 'TimeoutError'
          ? `no answer within ${this.options.timeoutMs} ms`
          : `network error: ${this.redact(e.cause?.code ?? e.message)}`;
      return { kind: 'retry', detail };
    }
  }

  /** An error's text with WEBHOOK_URL, in any form it was given, cut to its origin. */
  private redact(text: string): string {
    const { url } = this.target!;
    let out = text;
    for (const form of new Set([url, this.postUrl, new URL(url).href])) {
      out = out.split(form).join(this.origin);
    }
    return out;
  }
}
