import { Logger } from '@nestjs/common';
import { PubSub, type PubSubEngine } from 'graphql-subscriptions';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis } from 'ioredis';
import type { AppConfig } from '../../config/app-config';

/** The Session fields that are times: JSON carries them as text, they come back as Dates. */
const DATE_FIELDS = new Set(['startedAt', 'updatedAt', 'stoppedAt', 'lastSeenAt']);

export function reviveSessionDates(key: string, value: unknown): unknown {
  return DATE_FIELDS.has(key) && typeof value === 'string' ? new Date(value) : value;
}

/** How session events travel between the instances that publish and those that deliver. */
export interface SessionEventTransport {
  engine: PubSubEngine;
  /** The channel: one per radgraph deployment (its database), so two never mix. */
  channel: string;
  /** 'memory' (one instance) or 'redis' (every instance of the deployment). */
  kind: 'memory' | 'redis';
  /** Null when the transport answers; else what is wrong (for /ready). */
  ping(): Promise<string | null>;
  close(): Promise<void>;
}

/**
 * In memory, or, with REDIS_URL, through Redis (graphql-redis-subscriptions on ioredis): every
 * instance subscribes once to the deployment's channel, so an event published on any instance
 * reaches every subscriber on every instance exactly once, the publisher's own included (it
 * too delivers what comes back from Redis, never its own copy as well).
 *
 * A publish while Redis is unreachable fails at once (no offline queue that would grow without
 * bound); the publisher logs it, and dashboards catch up from the queries.
 */
export function createSessionEventTransport(config: AppConfig): SessionEventTransport {
  const db = config.database;
  const deployment = db.kind === 'mysql' ? `${db.host}:${db.port}/${db.database}` : db.file;
  const channel = `radgraph:${deployment}:session-events`;
  if (!config.redisUrl) {
    return {
      engine: new PubSub(),
      channel,
      kind: 'memory',
      ping: () => Promise.resolve(null),
      close: () => Promise.resolve(),
    };
  }
  const log = new Logger('SessionEvents');
  let lastError = 0;
  const connect = (role: string) => {
    const client = new Redis(config.redisUrl!, {
      // The subscriber waits for Redis (its SUBSCRIBE goes out once Redis is there, and
      // ioredis subscribes again after every reconnect); the publisher fails at once.
      enableOfflineQueue: role === 'subscriber',
      maxRetriesPerRequest: role === 'subscriber' ? null : 1,
      lazyConnect: false,
    });
    client.on('error', (err: Error) => {
      if (Date.now() - lastError < 10_000) return;
      lastError = Date.now();
      log.warn(`Redis ${role}: ${err.message}`);
    });
    return client;
  };
  const publisher = connect('publisher');
  const subscriber = connect('subscriber');
  const engine = new RedisPubSub({ publisher, subscriber, reviver: reviveSessionDates });
  return {
    engine,
    channel,
    kind: 'redis',
    ping: async () => {
      const timeout = new Promise<string>((resolve) => {
        setTimeout(() => resolve('no answer within 2 s'), 2000).unref();
      });
      const answer = publisher
        .ping()
        .then(() =>
          subscriber.status === 'ready' ? null : `subscriber connection: ${subscriber.status}`,
        );
      return Promise.race([answer.catch((err: Error) => err.message), timeout]);
    },
    close: () => {
      // disconnect, not quit: a quit waits for a Redis that may not be there.
      publisher.disconnect();
      subscriber.disconnect();
      return Promise.resolve();
    },
  };
}
