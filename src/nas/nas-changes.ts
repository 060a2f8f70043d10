import { randomBytes } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { keptOut, LogThrottle } from '../common/logging/log-throttle';
import {
  createEventTransport,
  subscribeAtStart,
  type EventTransport,
} from '../common/pubsub/event-transport';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.tokens';

/** The transport's topic: the deployment's `nas-changes` channel on Redis. */
export const NAS_CHANGES_TOPIC = 'nas-changes';

/** What travels: which instance made the change (it has told its own listeners already). */
interface NasChanged {
  from: string;
}

/**
 * A typed domain event: the nas table changed (a NAS added, removed, or its secret or address
 * changed). The accounting listener's client list (NasClients) and the subscriptions filtered
 * on a NAS (NasFollower) listen, so the change applies at once.
 *
 * With REDIS_URL, every change is also published on the deployment's `nas-changes` channel
 * (event-transport.ts), and every other instance tells its own listeners on receipt: they read
 * the nas table again at once, not when their list gets older than REFRESH_MS (30 s). A change
 * that does not get through (Redis down) is still seen there within REFRESH_MS; and when events
 * may have been missed on Redis (onMissed: this instance was away from it, or another could
 * not publish), the listeners are told too, since a change may have been among them.
 */
@Injectable()
export class NasChanges implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('NasChanges');
  private readonly listeners = new Set<() => void>();
  /** Null without REDIS_URL: the change stays in this process, as the only instance. */
  private readonly transport: EventTransport | null;
  private readonly instance = randomBytes(6).toString('hex');
  private subscription: number | null = null;
  private readonly publishErrors = new LogThrottle();

  constructor(@Optional() @Inject(APP_CONFIG) config?: AppConfig) {
    this.transport = config?.redisUrl
      ? createEventTransport(config, { topic: NAS_CHANGES_TOPIC, logContext: 'NasChanges' })
      : null;
    this.transport?.onMissed(() => this.notify());
  }

  /**
   * Subscribes to the other instances' changes. Not awaited past 5 s: with Redis down,
   * radgraph still starts, and hears of them once Redis answers (onMissed then reloads).
   */
  async onModuleInit(): Promise<void> {
    if (!this.transport) return;
    await subscribeAtStart(
      this.transport,
      (message: NasChanged) => this.received(message),
      (id) => (this.subscription = id),
      this.log,
      'NAS changes',
    );
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.transport) return;
    if (this.subscription !== null) this.transport.unsubscribe(this.subscription);
    await this.transport.close();
  }

  /** Calls `listener` after every committed change; returns the way to stop. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * After a committed change: tells this instance's listeners at once, and (with REDIS_URL)
   * the other instances. Never throws: a publish that fails is logged (the others then see the
   * change within REFRESH_MS).
   */
  emit(): void {
    this.notify();
    void this.publish();
  }

  private async publish(): Promise<void> {
    if (!this.transport) return;
    const message: NasChanged = { from: this.instance };
    try {
      await this.transport.publish(message);
    } catch (err) {
      const skipped = this.publishErrors.admit();
      if (skipped === undefined) return;
      this.log.warn(
        `cannot publish a NAS change, the other instances see it within 30 s: ${(err as Error).message}${keptOut(skipped, 'failed publishes')}`,
      );
    }
  }

  private received(message: NasChanged): void {
    // This instance's own change, back from Redis: its listeners were told already.
    if (message?.from === this.instance) return;
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
