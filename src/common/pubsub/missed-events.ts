import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** What a Redis transport tells about events that may not have reached its subscribers. */
export interface MissedEvents {
  /** A publish of this instance's failed: the other instances did not get it. */
  publishFailed(): void;
  /** A publish of this instance's went through: Redis is back for it (see publishFailed). */
  published(): void;
  /**
   * Calls `listener` each time this instance's subscribers may have missed events: those that
   * subscribed before `before` (performance.now()); one that subscribed later missed nothing.
   */
  onMissed(listener: (before: number) => void): void;
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
 *   is ready, or a publish went through) it says so on `<channel>:missed`, with how long ago
 *   its last failed publish was; every other instance hears it, and only its subscriptions
 *   made before then missed anything (a client that subscribed again since, after its own
 *   instance's EVENTS_MISSED on the same Redis outage, is not ended once more for each
 *   instance that had failed publishes).
 */
export function watchForMissedEvents(
  publisher: Redis,
  subscriber: Redis,
  channel: string,
): MissedEvents {
  const instance = randomBytes(6).toString('hex');
  const notices = `${channel}:missed`;
  const listeners = new Set<(before: number) => void>();
  const missed = (before: number) => listeners.forEach((listener) => listener(before));
  let unannounced = false;
  /** performance.now() at this instance's last failed publish. */
  let failedAt = 0;
  const announce = () => {
    if (!unannounced || publisher.status !== 'ready') return;
    unannounced = false;
    const ago = Math.max(0, Math.round(performance.now() - failedAt));
    publisher.publish(notices, `${instance} ${ago}`).catch(() => {
      unannounced = true; // down again: the next 'ready' or publish tries again
    });
  };
  publisher.on('ready', announce);
  subscriber.on('ready', () => {
    // ioredis sends its SUBSCRIBEs again (and the bus's first one) right after 'ready': one
    // more, after them, answers once the channels are subscribed.
    setImmediate(() => {
      subscriber.subscribe(channel, notices).then(
        () => missed(performance.now()),
        () => undefined,
      );
    });
  });
  subscriber.on('message', (from: string, message: string) => {
    if (from !== notices) return;
    const [sender, ago] = message.split(' ');
    if (sender === instance) return;
    // Its last failed publish, as this instance's clock has it (a little later, by the time
    // the notice took: on the safe side). A notice without it: every subscription.
    const agoMs = Number(ago);
    missed(performance.now() - (ago !== undefined && agoMs >= 0 ? agoMs : 0));
  });
  return {
    publishFailed: () => {
      unannounced = true;
      failedAt = performance.now();
    },
    published: announce,
    onMissed: (listener) => {
      listeners.add(listener);
    },
  };
}
