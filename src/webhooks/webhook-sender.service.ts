import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import type { AppConfig, WebhookConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.tokens';
import { Clock } from '../common/clock/clock';
import {
  DELIVERY_HEADER,
  EVENT_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  webhookSignature,
} from './webhook-signature';

export interface WebhookOptions {
  /** Tries per event, the first included. */
  maxAttempts: number;
  /** The wait before the second try; it doubles for each one after (with up to 25% jitter). */
  baseDelayMs: number;
  /** Per try: no answer by then counts as a network error. */
  timeoutMs: number;
  /** Deliveries in flight at once. */
  concurrency: number;
  /** Events waiting beyond this are dropped (and logged): memory stays bounded. */
  maxQueued: number;
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookOptions = {
  maxAttempts: 5,
  baseDelayMs: 1000,
  timeoutMs: 10_000,
  concurrency: 4,
  maxQueued: 10_000,
};

interface Delivery {
  id: string;
  type: string;
  body: string;
}

type Outcome = { kind: 'delivered' | 'retry' | 'refused'; detail: string };

/**
 * POSTs events as JSON to WEBHOOK_URL, signed (webhook-signature.ts), in the background:
 * `send` only queues, so the job that raised the event never waits for the receiver. A
 * network error, a timeout, a 429 or a 5xx is tried again with exponential backoff, up to
 * maxAttempts tries; any other answer that is not 2xx is final. Events are not persisted: a
 * delivery still waiting when the process stops is lost (and logged). A user:password in the
 * URL is sent as Basic auth. WEBHOOK_SECRET never appears in a log line, and of the URL only
 * its origin does.
 */
@Injectable()
export class WebhookSender implements OnApplicationShutdown {
  private readonly log = new Logger('Webhook');
  private readonly target: WebhookConfig | null;
  private readonly origin: string;
  /** WEBHOOK_URL without its user:password, which go as Basic auth (fetch refuses them). */
  private readonly postUrl: string;
  private readonly authorization: Record<string, string>;
  private options: WebhookOptions = DEFAULT_WEBHOOK_OPTIONS;
  private readonly queue: Delivery[] = [];
  private active = 0;
  private readonly stopping = new AbortController();
  private idleWaiters: Array<() => void> = [];

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly clock: Clock,
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
   * Queues one event: `{ id, type, createdAt, data }`. `id` names the event (the same on
   * every retry: X-Radgraph-Delivery). Returns at once; a no-op without WEBHOOK_URL.
   */
  send(type: string, id: string, data: unknown): void {
    if (!this.target || this.stopping.signal.aborted) return;
    if (this.full) {
      this.log.warn(`${type} ${id} dropped: ${this.queue.length} webhook deliveries waiting`);
      return;
    }
    const body = JSON.stringify({ id, type, createdAt: this.clock.now().toISOString(), data });
    this.queue.push({ id, type, body });
    this.pump();
  }

  /** Resolves once nothing is queued or in flight (every event delivered or given up). */
  idle(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get pending(): number {
    return this.active + this.queue.length;
  }

  /**
   * True while `send` would drop an event (maxQueued waiting): a caller that can raise its
   * event later (the expiry job's reminders) holds it back rather than losing it.
   */
  get full(): boolean {
    return this.target !== null && this.queue.length >= this.options.maxQueued;
  }

  async onApplicationShutdown(): Promise<void> {
    const waiting = this.pending;
    if (waiting > 0) this.log.warn(`stopping: ${waiting} webhook deliveries not made`);
    this.queue.length = 0;
    this.stopping.abort();
    await this.idle();
  }

  private pump(): void {
    while (this.active < this.options.concurrency && this.queue.length > 0) {
      const delivery = this.queue.shift()!;
      this.active++;
      void this.deliver(delivery).finally(() => {
        this.active--;
        this.pump();
        if (this.active === 0 && this.queue.length === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const resolve of waiters) resolve();
        }
      });
    }
  }

  private async deliver(d: Delivery): Promise<void> {
    const { maxAttempts, baseDelayMs } = this.options;
    for (let attempt = 1; ; attempt++) {
      if (this.stopping.signal.aborted) return;
      const outcome = await this.post(d);
      const where = `${d.type} ${d.id} to ${this.origin}`;
      if (outcome.kind === 'delivered') {
        this.log.log(`${where}: delivered (${outcome.detail}, try ${attempt})`);
        return;
      }
      if (outcome.kind === 'refused') {
        this.log.warn(`${where}: refused (${outcome.detail}), not retried`);
        return;
      }
      if (attempt >= maxAttempts) {
        this.log.warn(`${where}: given up after ${attempt} tries (last: ${outcome.detail})`);
        return;
      }
      const delay = baseDelayMs * 2 ** (attempt - 1) * (1 + Math.random() * 0.25);
      this.log.debug(`${where}: ${outcome.detail}; try ${attempt + 1} in ${Math.round(delay)} ms`);
      await this.sleep(delay);
    }
  }

  /** One try, signed now. */
  private async post(d: Delivery): Promise<Outcome> {
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
      if (res.status >= 500 || res.status === 429) return { kind: 'retry', detail };
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

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.stopping.signal;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
