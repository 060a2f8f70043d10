import { Logger } from '@nestjs/common';
import { PubSub, type PubSubEngine } from 'graphql-subscriptions';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis } from 'ioredis';
import type { AppConfig } from '../../config/app-config';
import { safeReason } from '../errors/safe-reason';
import { keptOut, LogThrottle } from '../logging/log-throttle';
import { watchForMissedEvents } from './missed-events';

/** TCP keepalive's first probe after this long idle (the kernel's default is 2 hours). */
const KEEPALIVE_MS = 10_000;

/** How one stream of events travels between the instances that publish and those that deliver. */
export interface EventTransport {
  engine: PubSubEngine;
  /** The channel: one per radgraph deployment (its database) and stream, so two never mix. */
  channel: string;
  /** 'memory' (one instance) or 'redis' (every instance of the deployment). */
  kind: 'memory' | 'redis';
  /**
   * Publishes on the channel; rejects when the transport did not take it, within
   * REDIS_COMMAND_TIMEOUT_MS when Redis does not answer.
   */
  publish(payload: unknown): Promise<void>;
  /**
   * Calls `listener` each time events published on the channel may not have reached this
   * instance's subscribers (missed-events.ts): its connection to Redis was down and the
   * channel is subscribed again, or another instance's publishes failed and it publishes
   * again. `before` (performance.now()): only subscribers that subscribed before it may have
   * missed any. Never called in memory.
   */
  onMissed(listener: (before: number) => void): void;
  /** Ends the bus's subscription (on shutdown, before close). */
  unsubscribe(id: number): void;
  /** Null when the transport answers; else what is wrong (for /ready). */
  ping(): Promise<string | null>;
  close(): Promise<void>;
}

/** How long a bus's start waits for its SUBSCRIBE before it goes on without it. */
const SUBSCRIBE_WAIT_MS = 5000;

/**
 * A bus's subscription to its transport's channel, made at start (onModuleInit): resolves
 * once subscribed, or after SUBSCRIBE_WAIT_MS when Redis does not answer, so that radgraph
 * still starts (not ready, see /ready) and is subscribed as soon as Redis answers.
 * `subscribed` gets the subscription's id; a failure is logged as `cannot subscribe to
 * <what>`.
 */
export async function subscribeAtStart<T>(
  transport: EventTransport,
  listener: (message: T) => void,
  subscribed: (id: number) => void,
  log: Logger,
  what: string,
): Promise<void> {
  const subscribing = transport.engine
    .subscribe(transport.channel, listener, {})
    .then(subscribed, (err: Error) => log.error(`cannot subscribe to ${what}: ${err.message}`));
  await Promise.race([
    subscribing,
    new Promise<void>((resolve) => setTimeout(resolve, SUBSCRIBE_WAIT_MS).unref()),
  ]);
}

export interface EventTransportOptions {
  /** The stream's name, the channel's last part: `radgraph:<deployment>:<topic>`. */
  topic: string;
  /** JSON.parse's reviver for what comes from Redis (JSON carries Dates as text). */
  reviver?: (key: string, value: unknown) => unknown;
  /** The logger context of the Redis connections' warnings. */
  logContext: string;
}

/**
 * In memory, or, with REDIS_URL, through Redis (graphql-redis-subscriptions on ioredis): every
 * instance subscribes once to the deployment's channel, so an event published on any instance
 * reaches every subscriber on every instance exactly once, the publisher's own included (it
 * too delivers what comes back from Redis; its own copy only when the publish failed, see
 * SessionEventBus.publish and CustomerExpiringBus.publish). Each stream (topic) has its own
 * channel and its own two connections.
 *
 * A publish while Redis is unreachable fails at once (no offline queue that would grow without
 * bound); the publisher logs it, and dashboards catch up from the queries. A Redis that stops
 * answering without closing the connection (a partition, a hung server) fails a publish after
 * REDIS_COMMAND_TIMEOUT_MS: the publisher then drops that connection and connects again, so the
 * next publishes fail at once until Redis answers (instead of each waiting, or the socket
 * waiting for the kernel to give up, some 15 min), and does not send a publish that failed again
 * after reconnecting (one already on the wire may still arrive: the bus drops that copy where
 * it delivered the event itself). TCP keepalive, from 10 s idle, finds a dead peer of an idle
 * connection (the subscriber's) within minutes rather than hours.
 */
export function createEventTransport(
  config: AppConfig,
  options: EventTransportOptions,
): EventTransport {
  const db = config.database;
  const deployment = db.kind === 'mysql' ? `${db.host}:${db.port}/${db.database}` : db.file;
  const channel = `radgraph:${deployment}:${options.topic}`;
  if (!config.redisUrl) {
    const engine = new PubSub();
    return {
      engine,
      channel,
      kind: 'memory',
      publish: (payload) => engine.publish(channel, payload),
      onMissed: () => undefined,
      unsubscribe: (id) => engine.unsubscribe(id),
      ping: () => Promise.resolve(null),
      close: () => Promise.resolve(),
    };
  }
  const log = new Logger(options.logContext);
  // One line every 10 s at most, for both connections: a Redis that is down fails every retry.
  const errors = new LogThrottle();
  const connect = (role: string) => {
    const client = new Redis(config.redisUrl!, {
      // The subscriber waits for Redis (its SUBSCRIBE goes out once Redis is there, and
      // ioredis subscribes again after every reconnect); the publisher fails at once.
      enableOfflineQueue: role === 'subscriber',
      maxRetriesPerRequest: role === 'subscriber' ? null : 1,
      // A publish that failed (timed out) stays failed: not sent after a reconnect.
      autoResendUnfulfilledCommands: role === 'subscriber',
      // Only the publisher's commands: the subscriber's SUBSCRIBE waits for Redis.
      ...(role === 'publisher' ? { commandTimeout: config.redisCommandTimeoutMs } : {}),
      keepAlive: KEEPALIVE_MS,
      lazyConnect: false,
    });
    client.on('error', (err: Error) => {
      const skipped = errors.admit();
      if (skipped === undefined) return;
      log.warn(`Redis ${role}: ${err.message}${keptOut(skipped, 'Redis errors')}`);
    });
    return client;
  };
  const publisher = connect('publisher');
  const subscriber = connect('subscriber');
  const engine = new RedisPubSub({ publisher, subscriber, reviver: options.reviver });
  const missed = watchForMissedEvents(publisher, subscriber, channel);
  return {
    engine,
    channel,
    kind: 'redis',
    publish: async (payload) => {
      try {
        await engine.publish(channel, payload);
        missed.published();
      } catch (err) {
        missed.publishFailed();
        // Redis did not answer in time: the connection is not to be trusted (the next
        // publishes would each wait out the timeout behind this one); a new one is.
        if ((err as Error).message === 'Command timed out' && publisher.status === 'ready') {
          publisher.disconnect(true);
        }
        throw err;
      }
    },
    onMissed: (listener) => missed.onMissed(listener),
    // Nothing to send: close() ends the subscriber's connection, and with it the subscription
    // (RedisPubSub's UNSUBSCRIBE, unanswered before that, would reject with nobody to catch it).
    unsubscribe: () => undefined,
    ping: async () => {
      const timeout = new Promise<string>((resolve) => {
        setTimeout(() => resolve('no answer within 2 s'), 2000).unref();
      });
      const answer = publisher
        .ping()
        .then(() =>
          subscriber.status === 'ready' ? null : `subscriber connection: ${subscriber.status}`,
        );
      // A connection error's code (ECONNREFUSED...), not its message, which names the host and
      // port: /ready answers anyone. ioredis's own errors carry no code: their text says it.
      return Promise.race([
        answer.catch((err: unknown) => safeReason(err, (err as Error).message)),
        timeout,
      ]);
    },
    close: () => {
      // disconnect, not quit: a quit waits for a Redis that may not be there.
      publisher.disconnect();
      subscriber.disconnect();
      return Promise.resolve();
    },
  };
}
