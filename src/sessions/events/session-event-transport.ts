import type { AppConfig } from '../../config/app-config';
import { createEventTransport, type EventTransport } from '../../common/pubsub/event-transport';

/** The Session fields that are times: JSON carries them as text, they come back as Dates. */
const DATE_FIELDS = new Set(['startedAt', 'updatedAt', 'stoppedAt', 'lastSeenAt']);

export function reviveSessionDates(key: string, value: unknown): unknown {
  return DATE_FIELDS.has(key) && typeof value === 'string' ? new Date(value) : value;
}

/** How session events travel between the instances that publish and those that deliver. */
export type SessionEventTransport = EventTransport;

/**
 * The session events' transport (event-transport.ts): in memory, or, with REDIS_URL, the
 * deployment's `session-events` channel on Redis.
 */
export function createSessionEventTransport(config: AppConfig): SessionEventTransport {
  return createEventTransport(config, {
    topic: 'session-events',
    reviver: reviveSessionDates,
    logContext: 'SessionEvents',
  });
}
