/** Lets the event loop run once: timers, I/O (packets, requests, signals) due now go first. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * How long a long piece of work in radgraph's one thread (a CSV import of 100,000 rows) runs
 * before it lets the event loop go round: short enough that RADIUS accounting, health probes,
 * subscriptions and signals wait no more than this, long enough that the yields cost nothing.
 */
export const SLICE_MS = 10;

/**
 * Cuts long synchronous work into slices of about `sliceMs`: `pause()` between its units
 * (rows, statements) yields to the event loop once the slice is used up, and otherwise
 * returns at once. Time-based, so the slices stay short on a slow or busy machine too, and
 * work that waits on I/O of its own (which yields anyway) only costs a yield now and then.
 */
export class EventLoopSlices {
  private since = performance.now();

  constructor(private readonly sliceMs = SLICE_MS) {}

  async pause(): Promise<void> {
    if (performance.now() - this.since < this.sliceMs) return;
    await yieldToEventLoop();
    this.since = performance.now();
  }
}
