import {
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import { RecentSet } from '../../common/collections/recent-set';
import {
  CoalescingQueue,
  EventsMissedError,
  type SubscriptionEndedError,
} from '../../common/pubsub/coalescing-queue';
import { OwnCopies } from '../../common/pubsub/own-copies';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.tokens';
import type { RadAcct } from '../../database/freeradius';
import { SessionEvent, SessionEventType } from '../models/session-event.model';
import { toSession } from '../models/session.mapper';
import { usernameKey } from '../usernames';
import { batchQueue, EventBatcher, mergeEvents, type BatchMember } from './event-batches';
import { createSessionEventTransport, type SessionEventTransport } from './session-event-transport';
import { subscribeAtStart } from '../../common/pubsub/event-transport';
import { Metrics } from '../../metrics/metrics.service';
import { isNasNetwork, NasAddressMatcher } from '../../nas/nas-address-match';
import { NasClients } from '../../nas/nas-clients';
import { NasChanges } from '../../nas/nas-changes';
import { NasFollower } from './nas-follower';
import { keptOut, LogThrottle } from '../../common/logging/log-throttle';

/** Each session's change of each type once, where it first came, with its latest row. */
function onePerSessionAndType(events: SessionEvent[]): SessionEvent[] {
  // Nearly always each session once (a batch has one packet per session): nothing to merge.
  const sessions = new Set<string>();
  for (const e of events) sessions.add(e.session.id);
  if (sessions.size === events.length) return events;
  const kept = new Map<string, SessionEvent>();
  for (const e of events) kept.set(`${e.session.id}:${e.type}`, e);
  const seen = new Set<string>();
  return events.flatMap((e) => {
    const key = `${e.session.id}:${e.type}`;
    if (seen.has(key)) return [];
    seen.add(key);
    return [kept.get(key)!];
  });
}

/** Events waiting for one subscriber before they coalesce to the latest state per session. */
export const COALESCE_ABOVE = 1_000;
/** Sessions waiting for one subscriber (coalesced): past this it is dropped. */
export const MAX_PENDING_SESSIONS = 20_000;
/**
 * How long, and how many, change-feed events an instance remembers having delivered. A page is
 * published again within seconds (a lease handover: 5 s; a page Redis took but did not answer:
 * the next poll), so two minutes is ample; remembering longer would risk a queue seq that comes
 * again for another change (the queue's counter reset) being taken for a repeat.
 */
const FEED_REPEAT_WINDOW_MS = 120_000;
const FEED_EVENTS_KEPT = 200_000;

export interface SessionEventFilter {
  /**
   * Only sessions of this NAS: radacct.nasipaddress = nas.nasname, or, for a NAS entered as a
   * network ("10.0.0.0/24"), an address it holds that no nas row of its own or longer network
   * claims (the NAS the address belongs to, as onlineSessions(nasId) and FreeRADIUS match it).
   */
  nasName?: string;
  /**
   * The NAS (its id) whose nasname nasName is: the subscription follows it, and ends when the
   * NAS's nasname changes (NAS_CHANGED) or the NAS is deleted (NOT_FOUND), see NasFollower.
   */
  nasId?: string;
  /**
   * Only this user's sessions: whatever the case on MariaDB, exactly on SQLite, as the database
   * compares usernames (usernameKey).
   */
  username?: string;
}

/**
 * Whether a session address belongs to a NAS entered as a network: the nas table's owner of
 * the address (NasClients, longest prefix) is that network. Answers are kept per network and
 * address (a NAS has few session addresses) for as long as the nas list they came from.
 */
class NetworkOwnership {
  private readonly networks = new Map<
    string,
    { inside: NasAddressMatcher<true>; seen: Map<string, boolean> }
  >();
  private generation = -1;

  constructor(private readonly clients: NasClients) {}

  refresh(): Promise<void> {
    return this.clients.refresh();
  }

  owns(network: string, address: string): boolean {
    // A list older than NasClients trusts is read again (its load moves the generation on):
    // with no accounting listener (FreeRADIUS alone writes radacct), nothing else would.
    if (this.clients.stale) void this.clients.refresh().catch(() => undefined);
    if (this.clients.generation !== this.generation) {
      this.networks.clear();
      this.generation = this.clients.generation;
    }
    let entry = this.networks.get(network);
    if (!entry) {
      entry = { inside: new NasAddressMatcher([[network, true]]), seen: new Map() };
      if (this.networks.size > 1000) this.networks.clear();
      this.networks.set(network, entry);
    }
    const known = entry.seen.get(address);
    if (known !== undefined) return known;
    if (entry.inside.find(address) === null) return this.remember(entry.seen, address, false);
    const owner = this.clients.lookupNow(address);
    if (owner === undefined) {
      // The nas list is being read again (above): the address is inside the network, which is
      // what the list said last; the answer is not kept, so the next event asks the new list.
      return true;
    }
    return this.remember(entry.seen, address, owner?.nasname === network);
  }

  private remember(seen: Map<string, boolean>, address: string, owned: boolean): boolean {
    if (seen.size > 10_000) seen.clear();
    seen.set(address, owned);
    return owned;
  }
}

interface Subscriber {
  filter: SessionEventFilter;
  queue: CoalescingQueue<SessionEvent>;
  /** performance.now() when it subscribed (EVENTS_MISSED ends those older than the miss). */
  since: number;
}

interface BatchGroup {
  filter: SessionEventFilter;
  batcher: EventBatcher;
}

/**
 * The one stream of session events. The accounting listener, the radacct change feed and the
 * stale-session reaper publish here after their writes commit. Publishing goes through a
 * graphql-subscriptions PubSubEngine: in memory for one instance, Redis (REDIS_URL) for
 * several (session-event-transport.ts). Each instance delivers what comes from the engine:
 * - filters run first, before anything is queued or executed;
 * - `subscribe`: one event per message, through a bounded per-subscriber queue that coalesces
 *   per session when the subscriber lags, and drops it past MAX_PENDING_SESSIONS;
 * - `subscribeBatches`: subscribers with the same filter and latency share one batcher, whose
 *   batch (one array) goes to all of them, so its payload is built once per selection.
 */
@Injectable()
export class SessionEventBus implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private readonly log = new Logger('SessionEvents');
  private readonly transport: SessionEventTransport;
  private readonly subscribers = new Set<Subscriber>();
  private readonly groups = new Map<string, BatchGroup>();
  private subscription: number | null = null;
  private published = 0;
  private delivered = 0;
  private readonly publishErrors = new LogThrottle();
  private readonly listeners = new Set<(events: readonly SessionEvent[]) => void>();
  /** The change-feed events delivered here lately, by queue seq (see fanOut). */
  private readonly feedDelivered = new RecentSet(FEED_EVENTS_KEPT, FEED_REPEAT_WINDOW_MS);
  /** This instance's batches, delivered here once whether or not their publish failed. */
  private readonly own = new OwnCopies(FEED_EVENTS_KEPT);
  private readonly ownership: NetworkOwnership;
  private readonly follower: NasFollower;
  /** How a username filter and an event's username compare: as the database compares them. */
  private readonly userKey: (username: string) => string;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: Metrics,
    clients: NasClients,
    changes: NasChanges,
  ) {
    this.userKey = usernameKey(config.database.kind);
    this.transport = createSessionEventTransport(config);
    this.ownership = new NetworkOwnership(clients);
    this.follower = new NasFollower(clients, changes);
    this.transport.onMissed((before) => this.endMissed(before));
  }

  /**
   * Ends every subscription here made before `before` (performance.now()) with EVENTS_MISSED:
   * events did not come through Redis (this instance was away from it, or another instance
   * could not publish), and a dashboard would go on showing sessions in a state they left (a
   * STOPPED missed leaves one online for ever). The client subscribes again and reloads
   * (announceLive tells it when); a subscription made since missed nothing, and goes on.
   */
  private endMissed(before: number): void {
    const queues = [
      ...this.subscribers,
      ...[...this.groups.values()].flatMap((g) => [...g.batcher.members]),
    ]
      .filter((s) => s.since < before)
      .map((s) => s.queue);
    if (queues.length === 0) return;
    this.log.warn(
      `session events may have been lost on Redis (this or another instance lost it): ended ${queues.length} subscription(s) here (EVENTS_MISSED)`,
    );
    const err = new EventsMissedError(
      "Session events may have been missed: a server's connection to Redis was lost and is back. Subscribe again and reload the sessions (onlineSessions).",
    );
    for (const queue of queues) queue.end(err);
  }

  /**
   * Subscribes to the transport. Not awaited: with Redis down, radgraph still starts (not
   * ready, see /ready) and delivers as soon as Redis answers.
   */
  async onModuleInit(): Promise<void> {
    // Normally subscribed before the app serves; a Redis that does not answer holds it 5 s.
    await subscribeAtStart(
      this.transport,
      (events: SessionEvent[]) => this.fromTransport(events),
      (id) => (this.subscription = id),
      this.log,
      'session events',
    );
  }

  /** Ends this instance's subscriptions: their clients are leaving with the server. */
  onModuleDestroy(): void {
    this.follower.close();
    for (const s of this.subscribers) void s.queue.return();
    for (const g of this.groups.values()) {
      g.batcher.stop();
      for (const m of g.batcher.members) void m.queue.return();
    }
  }

  /**
   * Closes the transport last: the accounting listener and the periodic jobs finish their work
   * before (beforeApplicationShutdown), and the events of what they commit meanwhile still
   * reach the other instances' subscribers through Redis.
   */
  async onApplicationShutdown(): Promise<void> {
    if (this.subscription !== null) this.transport.unsubscribe(this.subscription);
    await this.transport.close();
  }

  /** Null when the transport (Redis) answers; else what is wrong. */
  async ping(): Promise<string | null> {
    const problem = await this.transport.ping();
    return problem ?? (this.subscription === null ? 'not subscribed to session events yet' : null);
  }

  /**
   * Publishes committed radacct changes, in order (one event per session per call). radgraph's
   * own rules (onEvents: the data cap) get them first, whatever the transport does. Resolves
   * false when the transport (Redis) did not take them, within REDIS_COMMAND_TIMEOUT_MS when it
   * does not answer: this instance's subscribers still get them, the other instances' do not
   * (queries still have the rows), and a caller that can offer them again (the change feed,
   * whose queue keeps them) should.
   */
  async publish(
    changes: ReadonlyArray<{ type: SessionEventType; row: RadAcct; feedSeq?: string }>,
  ): Promise<boolean> {
    if (changes.length === 0) return true;
    const now = new Date();
    const publishId = this.own.next();
    // A write batch (or a feed page) that changed a session twice read its row once, after
    // both: the same state twice is one event (STARTED and STOPPED stay, repeated UPDATEDs go).
    const events = onePerSessionAndType(
      changes.map((c): SessionEvent => {
        const event: SessionEvent = { type: c.type, session: toSession(c.row, now), publishId };
        return c.feedSeq === undefined ? event : { ...event, feedSeq: c.feedSeq };
      }),
    );
    for (const listener of this.listeners) {
      // A rule of radgraph's that throws must not keep the events from anyone else.
      try {
        listener(events);
      } catch (err) {
        this.log.error(`a session-event listener failed: ${(err as Error).message}`);
      }
    }
    try {
      await this.transport.publish(events);
      this.published += events.length;
      this.metrics.eventsPublished.inc(events.length);
      return true;
    } catch (err) {
      const skipped = this.publishErrors.admit();
      if (skipped !== undefined) {
        this.log.warn(
          `cannot publish ${events.length} session event(s), delivered on this instance only: ${(err as Error).message}${keptOut(skipped, 'failed publishes')}`,
        );
      }
      // Delivered here, unless Redis took it after all and its copy came back already (the
      // answer to the publish was late, not the message); a copy that comes back later is
      // dropped (OwnCopies).
      if (this.own.failed(publishId)) this.fanOut(events);
      return false;
    }
  }

  /**
   * For radgraph's own rules (the data cap): `listener` gets every batch this instance
   * publishes, before the transport (Redis) has it, so a Redis that does not answer never holds
   * them back (the change feed may offer a batch whose publish failed again). It must not
   * throw, and must not block.
   */
  onEvents(listener: (events: readonly SessionEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A subscriber's stream; it ends when the client leaves (return()) or reads too slowly. */
  subscribe(filter: SessionEventFilter): AsyncIterableIterator<SessionEvent> {
    let unfollow = () => {};
    const subscriber: Subscriber = {
      filter: this.normalized(filter),
      since: performance.now(),
      queue: new CoalescingQueue<SessionEvent>({
        key: (e) => e.session.id,
        merge: mergeEvents,
        coalesceAbove: COALESCE_ABOVE,
        maxPending: MAX_PENDING_SESSIONS,
        onClose: () => {
          unfollow();
          this.subscribers.delete(subscriber);
          this.countSubscriptions();
        },
      }),
    };
    unfollow = this.follow(filter, subscriber.queue);
    this.subscribers.add(subscriber);
    this.countSubscriptions();
    return subscriber.queue;
  }

  /**
   * A subscriber's stream of batches, at most `maxLatencyMs` after their first event. With
   * `announceLive`, its first batch is an empty one, for it alone, queued once it is in its
   * group: every event delivered from then on is behind it, so a snapshot read after the
   * client has it misses none.
   */
  subscribeBatches(
    filter: SessionEventFilter,
    maxLatencyMs: number,
    announceLive = false,
  ): AsyncIterableIterator<SessionEvent[]> {
    filter = this.normalized(filter);
    const key = JSON.stringify([
      filter.nasId ?? null,
      filter.nasName ?? null,
      filter.username ?? null,
      maxLatencyMs,
    ]);
    let group = this.groups.get(key);
    if (!group) {
      group = { filter, batcher: new EventBatcher(maxLatencyMs) };
      this.groups.set(key, group);
    }
    const { batcher } = group;
    let unfollow = () => {};
    const member: BatchMember = {
      since: performance.now(),
      queue: batchQueue(() => {
        unfollow();
        batcher.members.delete(member);
        if (batcher.members.size === 0) {
          batcher.stop();
          this.groups.delete(key);
        }
        this.countSubscriptions();
      }),
    };
    unfollow = this.follow(filter, member.queue);
    batcher.members.add(member);
    // A new array: payloads are shared per object (shared-subscribe.ts).
    if (announceLive) member.queue.push([]);
    this.countSubscriptions();
    return member.queue;
  }

  /** A subscription filtered on a NAS follows it (NasFollower); returns the way to stop. */
  private follow(
    filter: SessionEventFilter,
    queue: { end: (err: SubscriptionEndedError) => void },
  ): () => void {
    if (filter.nasId === undefined || filter.nasName === undefined) return () => {};
    return this.follower.follow(filter.nasId, filter.nasName, (err) => queue.end(err));
  }

  get stats(): { subscribers: number; published: number; delivered: number } {
    let batchSubscribers = 0;
    for (const g of this.groups.values()) batchSubscribers += g.batcher.members.size;
    return {
      subscribers: this.subscribers.size + batchSubscribers,
      published: this.published,
      delivered: this.delivered,
    };
  }

  private countSubscriptions(): void {
    this.metrics.subscriptions.set(this.stats.subscribers);
  }

  /** What the transport brings, delivered, but for a batch delivered here already (OwnCopies). */
  private fromTransport(received: SessionEvent[]): void {
    if (this.own.arrived(received[0]?.publishId ?? '')) this.fanOut(received);
  }

  /**
   * Delivers events to this instance's subscribers. A change-feed event whose queue row this
   * instance delivered already is dropped: the feed publishes a page again when its reader
   * died (or its lease ran out) between publishing and deleting it, or when its publish failed
   * or Redis took a publish whose answer was lost, and every instance that was up for both
   * delivers it once.
   */
  private fanOut(received: SessionEvent[]): void {
    const events = received.some((e) => e.feedSeq !== undefined)
      ? received.filter((e) => e.feedSeq === undefined || this.firstDelivery(e))
      : received;
    if (events.length < received.length) {
      this.metrics.feedEventsRepeated.inc(received.length - events.length);
    }
    const before = this.delivered;
    const users = events.map((e) => this.userKey(e.session.username));
    for (const s of this.subscribers) {
      for (let i = 0; i < events.length; i++) {
        const e = events[i];
        if (!this.matches(s.filter, e, users[i])) continue;
        s.queue.push(e, events.length);
        this.delivered++;
      }
    }
    for (const g of this.groups.values()) {
      for (let i = 0; i < events.length; i++) {
        const e = events[i];
        if (!this.matches(g.filter, e, users[i])) continue;
        g.batcher.push(e);
        this.delivered += g.batcher.members.size;
      }
    }
    this.metrics.eventsDelivered.inc(this.delivered - before);
  }

  /**
   * The filter, once what it needs to match events is at hand: for a NAS entered as a network,
   * a fresh list of the nas rows, so that its first events already leave out the addresses
   * another nas row claims.
   */
  async prepare(filter: SessionEventFilter): Promise<SessionEventFilter> {
    if (filter.nasName !== undefined && isNasNetwork(filter.nasName)) {
      await this.ownership.refresh();
    }
    return filter;
  }

  /** The filter as matches() takes it: the username keyed once, not per event. */
  private normalized(f: SessionEventFilter): SessionEventFilter {
    return f.username === undefined ? f : { ...f, username: this.userKey(f.username) };
  }

  /** `user`: the event's username, keyed once for every filter it is matched against. */
  private matches(f: SessionEventFilter, e: SessionEvent, user: string): boolean {
    if (f.username !== undefined && user !== f.username) return false;
    if (f.nasName === undefined) return true;
    const address = e.session.nasIpAddress;
    if (address === f.nasName) return true;
    return isNasNetwork(f.nasName) && this.ownership.owns(f.nasName, address);
  }

  /**
   * Whether this change-feed event is new here. Its key is the queue seq with the session and
   * the event type: a seq alone would come again for another change if the queue's counter
   * were reset (a TRUNCATE of rg_radacct_changes), and that change must not be dropped.
   */
  private firstDelivery(e: SessionEvent): boolean {
    const key = `${e.feedSeq}:${e.session.id}:${e.type}`;
    if (this.feedDelivered.has(key)) return false;
    this.feedDelivered.add(key);
    return true;
  }
}
