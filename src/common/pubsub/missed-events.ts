import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** What a Redis transport tells about events that may not have reached its subscribers. */
export interface MissedEvents {
  /** A publish of this instance's failed: the other instances did not get it. */
  publishFailed(): void;
  /** A publish of this instance's went through: Redis is back for it (see publishFailed). */
  published(): void;
  /** Calls `listener` each time this instance's subscribers may have missed events. */
  onMissed(listener: () => void): void;
}

/**
 * Redis pub/sub keeps nothing for a subscriber that is away, and a publish that fails is not
 * sent again (no offline queue that would grow without bound), so events go missing in two
 * ways, and the instances whose subscribers missed them hear of it here:
 * - this instance's subscriber connection was down (a Redis restart, a network cut, Redis not
 *   there at start): once `channel` is subscribed again (after ioredis's 'ready', confirmed by
 *   one more SUBSCRIBE, which is harmless), what was published meanwhile never came;
 * - another instance's publishes failed (its connection to Redis was down or did not answer):
 *   it delivered them to its own subscribers only, and once it publishes again (its publisher
 *   is ready, or a publish went through) it says so on `<channel>:missed`; every other
 *   instance hears it.
 */
export function watchForMissedEvents(
  publisher: Redis,
  subscriber: Redis,
  channel: string,
): MissedEvents {
  const instance = randomBytes(6).toString('hex');
  const notices = `${channel}:missed`;
  const listeners = new Set<() => void>();
  const missed = () => listeners.forEach((listener) => listener());
  let unannounced = false;
  const announce = () => {
    if (!unannounced || publisher.status !== 'ready') return;
    unannounced = false;
    publisher.publish(notices, instance).catch(() => {
      unannounced = true; // down again: the next 'ready' or publish tries again
    });
  };
  publisher.on('ready', announce);
  subscriber.on('ready', () => {
    // ioredis sends its SUBSCRIBEs again (and the bus's first one) right after 'ready': one
    // more, after them, answers once the channels are subscribed.
    setImmediate(() => {
      subscriber.subscribe(channel, notices).then(missed, () => undefined);
    });
  });
  subscriber.on('message', (from: string, message: string) => {
    if (from === notices && message !== instance) missed();
  });
  return {
    publishFailed: () => {
      unannounced = true;
    },
    published: announce,
    onMissed: (listener) => {
      listeners.add(listener);
    },
  };
}
