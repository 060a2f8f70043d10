import { randomBytes } from 'node:crypto';
import { RecentSet } from '../collections/recent-set';

/** How long a batch's copy may still come back through the transport. */
const WINDOW_MS = 120_000;

/**
 * Exactly once on the publishing instance, for a bus that publishes through an EventTransport
 * and delivers what comes back from it: when a publish fails, the publisher delivers the batch
 * itself, and Redis may have taken it after all (only its answer was lost or late). Its copy
 * can then come back after that local delivery, or before the publish failed (the answer came
 * after REDIS_COMMAND_TIMEOUT_MS); either way the batch is delivered once. Each batch carries
 * a publishId, `<instance>:<n>`.
 */
export class OwnCopies {
  /** This instance, in the publishId of every batch it publishes. */
  private readonly instance = randomBytes(6).toString('hex');
  private publishes = 0;
  /** Batches (publishId) delivered here without the transport: their publish failed. */
  private readonly deliveredLocally: RecentSet;
  /** This instance's own batches that came back through the transport. */
  private readonly returned: RecentSet;

  /** `kept`: how many publishIds each set remembers, at most (within WINDOW_MS). */
  constructor(kept: number) {
    this.deliveredLocally = new RecentSet(kept, WINDOW_MS);
    this.returned = new RecentSet(kept, WINDOW_MS);
  }

  /** The publishId of the next batch. */
  next(): string {
    return `${this.instance}:${++this.publishes}`;
  }

  /** A batch came through the transport: whether to deliver it. */
  arrived(publishId: string): boolean {
    if (this.deliveredLocally.has(publishId)) return false;
    if (publishId.startsWith(`${this.instance}:`)) this.returned.add(publishId);
    return true;
  }

  /** The batch's publish failed: whether to deliver it here (its copy has not come back). */
  failed(publishId: string): boolean {
    if (this.returned.has(publishId)) return false;
    this.deliveredLocally.add(publishId);
    return true;
  }
}
