import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { PubSub } from 'graphql-subscriptions';
import { CoalescingQueue } from '../../common/pubsub/coalescing-queue';
import type { RadAcct } from '../../database/freeradius';
import { SessionEvent, SessionEventType } from '../models/session-event.model';
import { toSession } from '../models/session.mapper';

export const SESSION_EVENTS_TOPIC = 'session-events';

/** Events waiting for one subscriber before they coalesce to the latest state per session. */
export const COALESCE_ABOVE = 1_000;
/** Sessions waiting for one subscriber (coalesced): past this it is dropped. */
export const MAX_PENDING_SESSIONS = 20_000;

export interface SessionEventFilter {
  /** Only sessions of this NAS (radacct.nasipaddress = nas.nasname). */
  nasName?: string;
  username?: string;
}

interface Subscriber {
  filter: SessionEventFilter;
  queue: CoalescingQueue<SessionEvent>;
}

/** A waiting STARTED stays STARTED when an update follows; otherwise the newer type wins. */
function mergeEvents(waiting: SessionEvent, newer: SessionEvent): SessionEvent {
  const type =
    waiting.type === SessionEventType.STARTED && newer.type === SessionEventType.UPDATED
      ? SessionEventType.STARTED
      : newer.type;
  return { type, session: newer.session };
}

/**
 * The one stream of session events. The accounting listener, the radacct change feed and the
 * stale-session reaper publish here after their writes commit; graphql-ws subscribers read
 * through bounded, per-session coalescing queues, filtered before anything is queued.
 * Publishing goes through a graphql-subscriptions PubSubEngine (in memory for one instance).
 */
@Injectable()
export class SessionEventBus implements OnModuleInit, OnModuleDestroy {
  private readonly pubsub = new PubSub();
  private readonly subscribers = new Set<Subscriber>();
  private subscription: number | null = null;
  private published = 0;
  private readonly listeners = new Set<(events: readonly SessionEvent[]) => void>();

  async onModuleInit(): Promise<void> {
    this.subscription = await this.pubsub.subscribe(
      SESSION_EVENTS_TOPIC,
      (events: SessionEvent[]) => this.fanOut(events),
    );
  }

  onModuleDestroy(): void {
    if (this.subscription !== null) this.pubsub.unsubscribe(this.subscription);
    for (const s of this.subscribers) void s.queue.return();
  }

  /** Publishes committed radacct changes, in order. */
  async publish(changes: ReadonlyArray<{ type: SessionEventType; row: RadAcct }>): Promise<void> {
    if (changes.length === 0) return;
    const now = new Date();
    const events = changes.map((c) => ({ type: c.type, session: toSession(c.row, now) }));
    this.published += events.length;
    await this.pubsub.publish(SESSION_EVENTS_TOPIC, events);
    for (const listener of this.listeners) listener(events);
  }

  /**
   * For radgraph's own rules (the data cap): `listener` gets every batch this instance
   * publishes, after it is published. It must not throw, and must not block.
   */
  onEvents(listener: (events: readonly SessionEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A subscriber's stream; it ends when the client leaves (return()) or reads too slowly. */
  subscribe(filter: SessionEventFilter): AsyncIterableIterator<SessionEvent> {
    const subscriber: Subscriber = {
      filter,
      queue: new CoalescingQueue<SessionEvent>({
        key: (e) => e.session.id,
        merge: mergeEvents,
        coalesceAbove: COALESCE_ABOVE,
        maxPending: MAX_PENDING_SESSIONS,
        onClose: () => this.subscribers.delete(subscriber),
      }),
    };
    this.subscribers.add(subscriber);
    return subscriber.queue;
  }

  get stats(): { subscribers: number; published: number } {
    return { subscribers: this.subscribers.size, published: this.published };
  }

  private fanOut(events: SessionEvent[]): void {
    for (const s of this.subscribers) {
      for (const e of events) {
        if (s.filter.nasName !== undefined && e.session.nasIpAddress !== s.filter.nasName) continue;
        if (s.filter.username !== undefined && e.session.username !== s.filter.username) continue;
        s.queue.push(e);
      }
    }
  }
}
