import {
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import { CoalescingQueue } from '../../common/pubsub/coalescing-queue';
import { OwnCopies } from '../../common/pubsub/own-copies';
import {
  createEventTransport,
  subscribeAtStart,
  type EventTransport,
} from '../../common/pubsub/event-transport';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.tokens';
import { CustomerExpiringEvent } from '../models/customer-expiring-event.model';
import { keptOut, LogThrottle } from '../../common/logging/log-throttle';

/** The transport's topic: the deployment's `customer-expiring` channel on Redis. */
export const CUSTOMER_EXPIRING_TOPIC = 'customer-expiring';

/** Events waiting for one subscriber before duplicates of one expiry merge. */
const COALESCE_ABOVE = 1_000;
/** Distinct expiries waiting for one subscriber: past this it is dropped. */
const MAX_PENDING = 20_000;
/** The events of this instance remembered, to deliver each once (OwnCopies). */
const OWN_KEPT = 20_000;

const keyOf = (e: CustomerExpiringEvent) => `${e.customer.id}:${e.expiresAt.toISOString()}`;

/** The event's (and its customer's) fields that are times: JSON carries them as text. */
const DATE_FIELDS = new Set(['expiresAt', 'joinedAt']);

export function reviveCustomerExpiringDates(key: string, value: unknown): unknown {
  return DATE_FIELDS.has(key) && typeof value === 'string' ? new Date(value) : value;
}

/** What travels: the event, and which publish it is (the instance and a counter). */
interface Published {
  publishId: string;
  event: CustomerExpiringEvent;
}

/**
 * The customerExpiring stream. The expiry job publishes (on the one instance holding its
 * lease), through the same kind of transport as session events (event-transport.ts): in
 * memory for one instance, with REDIS_URL the deployment's own Redis channel, so every instance
 * delivers each event once to its own subscribers, whichever instance ran the job. They read
 * through bounded queues (CoalescingQueue), so a slow client cannot grow memory without limit.
 */
@Injectable()
export class CustomerExpiringBus implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private readonly log = new Logger('CustomerExpiring');
  private readonly transport: EventTransport;
  private readonly subscribers = new Set<CoalescingQueue<CustomerExpiringEvent>>();
  private subscription: number | null = null;
  private readonly publishErrors = new LogThrottle();
  /** This instance's events, delivered here once whether or not their publish failed. */
  private readonly own = new OwnCopies(OWN_KEPT);

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.transport = createEventTransport(config, {
      topic: CUSTOMER_EXPIRING_TOPIC,
      reviver: reviveCustomerExpiringDates,
      logContext: 'CustomerExpiring',
    });
  }

  /**
   * Subscribes to the transport. Not awaited past 5 s: with Redis down, radgraph still starts
   * (not ready, see /ready) and delivers as soon as Redis answers.
   */
  async onModuleInit(): Promise<void> {
    await subscribeAtStart(
      this.transport,
      (message: Published) => this.received(message),
      (id) => (this.subscription = id),
      this.log,
      'customerExpiring',
    );
  }

  /** Ends this instance's subscriptions: their clients are leaving with the server. */
  onModuleDestroy(): void {
    for (const queue of this.subscribers) void queue.return();
  }

  /**
   * Closes the transport last: the expiry job finishes its run before
   * (beforeApplicationShutdown), and what it raises meanwhile still reaches the other instances.
   */
  async onApplicationShutdown(): Promise<void> {
    if (this.subscription !== null) this.transport.unsubscribe(this.subscription);
    await this.transport.close();
  }

  /** Null when the transport (Redis) answers and the bus is subscribed; else what is wrong. */
  async ping(): Promise<string | null> {
    const problem = await this.transport.ping();
    return (
      problem ?? (this.subscription === null ? 'not subscribed to customerExpiring yet' : null)
    );
  }

  /**
   * Publishes to every instance's subscribers. Never rejects: when the transport (Redis) does
   * not take it (within REDIS_COMMAND_TIMEOUT_MS when it does not answer), this instance's
   * subscribers still get it, the other instances' do not, and it resolves false.
   */
  async publish(event: CustomerExpiringEvent): Promise<boolean> {
    const message: Published = { publishId: this.own.next(), event };
    try {
      await this.transport.publish(message);
      return true;
    } catch (err) {
      const skipped = this.publishErrors.admit();
      if (skipped !== undefined) {
        this.log.warn(
          `cannot publish customerExpiring, delivered on this instance only: ${(err as Error).message}${keptOut(skipped)}`,
        );
      }
      // Delivered here, unless Redis took it after all and its copy came back already; a copy
      // that comes back later is dropped (OwnCopies).
      if (this.own.failed(message.publishId)) this.deliver(event);
      return false;
    }
  }

  /** A subscriber's stream; it ends when the client leaves or reads too slowly. */
  subscribe(): AsyncIterableIterator<CustomerExpiringEvent> {
    const queue: CoalescingQueue<CustomerExpiringEvent> = new CoalescingQueue({
      key: keyOf,
      merge: (_waiting, newer) => newer,
      coalesceAbove: COALESCE_ABOVE,
      maxPending: MAX_PENDING,
      onClose: () => this.subscribers.delete(queue),
    });
    this.subscribers.add(queue);
    return queue;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  private received(message: Published): void {
    if (this.own.arrived(message.publishId)) this.deliver(message.event);
  }

  private deliver(event: CustomerExpiringEvent): void {
    for (const queue of this.subscribers) queue.push(event);
  }
}
