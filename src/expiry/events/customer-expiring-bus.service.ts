import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { PubSub } from 'graphql-subscriptions';
import { CoalescingQueue } from '../../common/pubsub/coalescing-queue';
import { CustomerExpiringEvent } from '../models/customer-expiring-event.model';

export const CUSTOMER_EXPIRING_TOPIC = 'customer-expiring';

/** Events waiting for one subscriber before duplicates of one expiry merge. */
const COALESCE_ABOVE = 1_000;
/** Distinct expiries waiting for one subscriber: past this it is dropped. */
const MAX_PENDING = 20_000;

const keyOf = (e: CustomerExpiringEvent) => `${e.customer.id}:${e.expiresAt.toISOString()}`;

/**
 * The customerExpiring stream: the expiry job publishes, graphql-ws subscribers read through
 * bounded queues (CoalescingQueue), so a slow client cannot grow memory without limit.
 * Publishing goes through a graphql-subscriptions PubSubEngine (in memory for one instance).
 */
@Injectable()
export class CustomerExpiringBus implements OnModuleInit, OnModuleDestroy {
  private readonly pubsub = new PubSub();
  private readonly subscribers = new Set<CoalescingQueue<CustomerExpiringEvent>>();
  private subscription: number | null = null;

  async onModuleInit(): Promise<void> {
    this.subscription = await this.pubsub.subscribe(
      CUSTOMER_EXPIRING_TOPIC,
      (event: CustomerExpiringEvent) => {
        for (const queue of this.subscribers) queue.push(event);
      },
    );
  }

  onModuleDestroy(): void {
    if (this.subscription !== null) this.pubsub.unsubscribe(this.subscription);
    for (const queue of this.subscribers) void queue.return();
  }

  publish(event: CustomerExpiringEvent): Promise<void> {
    return this.pubsub.publish(CUSTOMER_EXPIRING_TOPIC, event);
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
}
