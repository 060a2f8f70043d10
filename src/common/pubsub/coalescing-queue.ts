/**
 * Ends a subscriber's stream: the client gets it as an error with `code` (extensions.code),
 * `field` (extensions.field, the argument it is about, if any) and its message, as the
 * subscription's last message.
 */
export abstract class SubscriptionEndedError extends Error {
  abstract readonly code: string;
  readonly field?: string;
}

/** Thrown into a subscriber's iterator when it fell too far behind and was dropped. */
export class SlowConsumerError extends SubscriptionEndedError {
  override name = 'SlowConsumerError';
  readonly code = 'SLOW_CONSUMER';
}

/**
 * Thrown into a subscriber's iterator when events may not have reached it: the instance's
 * connection to the transport (Redis) was lost and is back, and what other instances published
 * meanwhile never came. The client subscribes again and reloads what it shows.
 */
export class EventsMissedError extends SubscriptionEndedError {
  override name = 'EventsMissedError';
  readonly code = 'EVENTS_MISSED';
}

export interface CoalescingQueueOptions<T> {
  /** Items with the same key coalesce once the consumer lags: only the latest state waits. */
  key: (item: T) => string;
  /** The waiting item and a newer one with the same key become one. */
  merge: (waiting: T, newer: T) => T;
  /** Up to this many waiting items, every item is delivered; past it, they coalesce per key. */
  coalesceAbove: number;
  /**
   * More distinct keys waiting than this, even coalesced, and the consumer is dropped. (It is
   * checked when the queue compacts, each time it has doubled, so at most 2 × maxPending
   * items ever wait.) One publish larger than this raises the limit by its size until the
   * consumer has read that much (see push): then at most twice maxPending plus the largest
   * publish wait.
   */
  maxPending: number;
  /** Called once when the iterator ends (the client left, or was dropped). */
  onClose?: () => void;
}

/**
 * An async iterator fed by `push`, whose memory is bounded however slow its consumer is.
 * A consumer that keeps up gets every item, in order. One that lags by more than
 * `coalesceAbove` items gets, from then on, the latest state per key (the merged item takes
 * the position of the key's first waiting item, so per-key order holds); one that lags by more
 * than `maxPending` distinct keys gets a SlowConsumerError and is dropped. This replaces
 * graphql-subscriptions' in-memory PubSub iterator, whose queue has no bound.
 */
export class CoalescingQueue<T> implements AsyncIterableIterator<T> {
  private pending: T[] = [];
  private compactAt: number;
  /** maxPending, or more while a publish larger than it is being read (see push). */
  private limit: number;
  private waiting: ((r: IteratorResult<T>) => void) | null = null;
  private failWaiting: ((err: Error) => void) | null = null;
  private failure: Error | null = null;
  private done = false;

  constructor(private readonly opts: CoalescingQueueOptions<T>) {
    this.compactAt = opts.coalesceAbove;
    this.limit = opts.maxPending;
  }

  get closed(): boolean {
    return this.done;
  }

  get size(): number {
    return this.pending.length;
  }

  /**
   * Queues an item. `burst`: how many items the publish it belongs to holds. One publish can
   * be larger than maxPending by itself (an Accounting-On from a NAS with 30,000 sessions is
   * 30,000 STOPPED at once), and no consumer can read while it is pushed: it raises the limit
   * to maxPending plus its size, and the raise shrinks by one for each item read. A consumer
   * that keeps up reads it all; one that does not read is dropped once more new sessions wait
   * (at the queue's next compaction).
   */
  push(item: T, burst = 1): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.failWaiting = null;
      resolve({ value: item, done: false });
      return;
    }
    this.pending.push(item);
    if (this.pending.length <= this.compactAt) return;
    this.compact();
    if (burst > this.opts.maxPending) {
      const raised = Math.min(this.pending.length, this.opts.maxPending + burst);
      this.limit = Math.max(this.limit, raised);
    }
    if (this.pending.length > this.limit) {
      this.fail(
        new SlowConsumerError(
          `Subscriber dropped: more than ${this.opts.maxPending} sessions' updates waiting (it reads too slowly)`,
        ),
      );
      return;
    }
    // Compacting again only after the queue doubles keeps a push O(1) amortised.
    this.compactAt = Math.max(this.opts.coalesceAbove, 2 * this.pending.length);
  }

  /**
   * Ends the stream with `err`: what is waiting is dropped, and the reader gets `err` (at once
   * when it is waiting for an item), then the end. Nothing once it has ended.
   */
  end(err: SubscriptionEndedError): void {
    if (this.done) return;
    const reject = this.failWaiting;
    if (reject) {
      this.waiting = this.failWaiting = null;
      reject(err);
      this.close();
      return;
    }
    this.fail(err);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.failure) {
      const err = this.failure;
      this.failure = null;
      return Promise.reject(err);
    }
    if (this.pending.length > 0) {
      const value = this.pending.shift() as T;
      if (this.limit > this.opts.maxPending) this.limit--;
      if (this.pending.length === 0) this.compactAt = this.opts.coalesceAbove;
      return Promise.resolve({ value, done: false });
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.failWaiting = reject;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(err?: unknown): Promise<IteratorResult<T>> {
    this.close();
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  /** One item per key: the merge of its waiting items, where the first of them was. */
  private compact(): void {
    const byKey = new Map<string, T>();
    for (const item of this.pending) {
      const key = this.opts.key(item);
      const before = byKey.get(key);
      byKey.set(key, before === undefined ? item : this.opts.merge(before, item));
    }
    this.pending = [...byKey.values()];
  }

  private fail(err: Error): void {
    this.failure = err;
    this.close();
  }

  private close(): void {
    if (this.done) return;
    this.done = true;
    this.pending = [];
    const resolve = this.waiting;
    this.waiting = this.failWaiting = null;
    resolve?.({ value: undefined, done: true });
    this.opts.onClose?.();
  }
}
