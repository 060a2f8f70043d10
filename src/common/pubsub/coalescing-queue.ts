/** Thrown into a subscriber's iterator when it fell too far behind and was dropped. */
export class SlowConsumerError extends Error {
  override name = 'SlowConsumerError';
}

export interface CoalescingQueueOptions<T> {
  /** Items with the same key coalesce: only the latest state of each key waits. */
  key: (item: T) => string;
  /** The waiting item and a newer one with the same key become one. */
  merge: (waiting: T, newer: T) => T;
  /** More distinct keys waiting than this, and the consumer is dropped. */
  maxPending: number;
  /** Called once when the iterator ends (the client left, or was dropped). */
  onClose?: () => void;
}

/**
 * An async iterator fed by `push`, whose memory is bounded however slow its consumer is:
 * waiting items coalesce per key (in the position of the first, so per-key order holds), and
 * past `maxPending` distinct keys the consumer gets a SlowConsumerError and is dropped. This
 * replaces graphql-subscriptions' in-memory PubSub iterator, whose queue has no bound.
 */
export class CoalescingQueue<T> implements AsyncIterableIterator<T> {
  private pending = new Map<string, T>();
  private waiting: ((r: IteratorResult<T>) => void) | null = null;
  private failWaiting: ((err: Error) => void) | null = null;
  private failure: Error | null = null;
  private done = false;

  constructor(private readonly opts: CoalescingQueueOptions<T>) {}

  get closed(): boolean {
    return this.done;
  }

  get size(): number {
    return this.pending.size;
  }

  push(item: T): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = this.failWaiting = null;
      resolve({ value: item, done: false });
      return;
    }
    const key = this.opts.key(item);
    const before = this.pending.get(key);
    if (before !== undefined) {
      this.pending.set(key, this.opts.merge(before, item));
      return;
    }
    if (this.pending.size >= this.opts.maxPending) {
      this.fail(
        new SlowConsumerError(
          `Subscriber dropped: more than ${this.opts.maxPending} updates waiting (it reads too slowly)`,
        ),
      );
      return;
    }
    this.pending.set(key, item);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.failure) {
      const err = this.failure;
      this.failure = null;
      return Promise.reject(err);
    }
    const firstKey = this.pending.keys().next();
    if (!firstKey.done) {
      const value = this.pending.get(firstKey.value) as T;
      this.pending.delete(firstKey.value);
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

  private fail(err: Error): void {
    this.pending.clear();
    if (this.failWaiting) {
      const reject = this.failWaiting;
      this.close();
      reject(err);
      return;
    }
    this.failure = err;
    this.close();
  }

  private close(): void {
    if (this.done) return;
    this.done = true;
    this.pending.clear();
    const resolve = this.waiting;
    this.waiting = this.failWaiting = null;
    resolve?.({ value: undefined, done: true });
    this.opts.onClose?.();
  }
}
