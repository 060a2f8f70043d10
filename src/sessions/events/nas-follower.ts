import { SubscriptionEndedError } from '../../common/pubsub/coalescing-queue';
import { NasChanges } from '../../nas/nas-changes';
import { NasClients, REFRESH_MS, type NasNames } from '../../nas/nas-clients';

/**
 * How often a follower looks at the age of the nas list: it reads the table once the list is
 * older than REFRESH_MS less this, so a rename elsewhere is seen within REFRESH_MS. (Refreshing
 * every REFRESH_MS found the list, loaded REFRESH_MS before at that very timer, not yet older
 * than it, and read it only at the next: every 60 s.)
 */
const CHECK_MS = 5_000;

/**
 * Ends a subscription filtered on a NAS whose address (nasname) changed: its events would
 * still be matched against the old one. The client subscribes again (the filter then means
 * the new address) and reloads its snapshot.
 */
export class NasChangedError extends SubscriptionEndedError {
  override name = 'NasChangedError';
  readonly code = 'NAS_CHANGED';
  override readonly field = 'nasId';
}

/** Ends a subscription filtered on a NAS that was deleted. */
export class NasDeletedError extends SubscriptionEndedError {
  override name = 'NasDeletedError';
  readonly code = 'NOT_FOUND';
  override readonly field = 'nasId';
}

/** A subscription filtered on a NAS: the nasname it matches, since which load of the table. */
interface Follower {
  nasId: string;
  nasName: string;
  /** NasClients.loadsStarted once its nasname was read: later loads may tell it otherwise. */
  since: number;
  end: (err: SubscriptionEndedError) => void;
}

/**
 * Keeps subscriptions filtered on a NAS (nasId) true to it. Their filter is the nasname read
 * when they started; every load of the nas table (NasClients) is compared with it, and one that
 * gives the NAS another nasname ends them with NAS_CHANGED, one that has no such NAS with
 * NOT_FOUND. A nas write through radgraph's API (NasChanges: on this instance, or, with
 * REDIS_URL, on another one) reloads the table at once; one by another tool, or one whose
 * message Redis lost, is seen at the next load: NasClients reloads on the accounting
 * listener's lookups, and here at least every REFRESH_MS while a subscription is followed.
 * The accounting listener's lookups are untouched: this only listens to the loads.
 */
export class NasFollower {
  private readonly followers = new Set<Follower>();
  private timer: NodeJS.Timeout | null = null;
  private readonly stops: Array<() => void>;

  constructor(
    private readonly clients: NasClients,
    changes: NasChanges,
  ) {
    this.stops = [
      clients.onLoad((names) => this.check(names)),
      changes.subscribe(() => {
        if (this.followers.size === 0) return;
        // NasClients invalidated its list already (it listens too); not counting on the order.
        clients.invalidate();
        this.reload();
      }),
    ];
  }

  /** Follows a subscription on `nasId` (whose nasname is `nasName`); returns the way to stop. */
  follow(nasId: string, nasName: string, end: Follower['end']): () => void {
    const follower: Follower = { nasId, nasName, since: this.clients.loadsStarted, end };
    this.followers.add(follower);
    if (this.timer === null) {
      this.timer = setInterval(() => this.reload(REFRESH_MS - CHECK_MS), CHECK_MS);
      this.timer.unref();
    }
    return () => {
      this.followers.delete(follower);
      if (this.followers.size === 0) this.stopTimer();
    };
  }

  close(): void {
    this.stopTimer();
    for (const stop of this.stops) stop();
  }

  /**
   * Reads the table when the list is older than `olderThanMs` (REFRESH_MS without it: at once
   * after invalidate()). A failed load keeps the last list (NasClients logs it): followers stay
   * as they are.
   */
  private reload(olderThanMs?: number): void {
    void this.clients.refresh(olderThanMs).catch(() => undefined);
  }

  private check(names: NasNames): void {
    for (const f of this.followers) {
      // A load begun before the subscription read its nasname may be older than that read.
      if (names.seq <= f.since) continue;
      const now = names.byId.get(f.nasId);
      if (now === undefined) {
        f.end(
          new NasDeletedError(
            `The NAS with id ${f.nasId} (nasId), ${f.nasName}, was deleted: its session events end here.`,
          ),
        );
      } else if (now !== f.nasName) {
        f.end(
          new NasChangedError(
            `The address of the NAS with id ${f.nasId} (nasId) changed from ${f.nasName} to ${now}: subscribe again to follow its sessions at the new address, and reload them (onlineSessions).`,
          ),
        );
      }
    }
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
