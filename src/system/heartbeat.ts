/**
 * An async iterator that yields `make()` every `intervalMs`, first at once. Unlike an
 * async generator sleeping in a timer, `return()` (the client unsubscribing) stops it at once
 * and clears its timer.
 */
export function intervalIterator<T>(intervalMs: number, make: () => T): AsyncIterableIterator<T> {
  let timer: NodeJS.Timeout | undefined;
  let waiting: ((r: IteratorResult<T>) => void) | undefined;
  let done = false;
  let first = true;
  const finish = (): Promise<IteratorResult<T>> => {
    done = true;
    if (timer) clearTimeout(timer);
    waiting?.({ value: undefined, done: true });
    waiting = undefined;
    return Promise.resolve({ value: undefined, done: true });
  };
  return {
    next(): Promise<IteratorResult<T>> {
      if (done) return Promise.resolve({ value: undefined, done: true });
      if (first) {
        first = false;
        return Promise.resolve({ value: make(), done: false });
      }
      return new Promise((resolve) => {
        waiting = resolve;
        timer = setTimeout(() => {
          waiting = undefined;
          resolve({ value: make(), done: false });
        }, intervalMs);
      });
    },
    return: finish,
    throw: finish,
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
