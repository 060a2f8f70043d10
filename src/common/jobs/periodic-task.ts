import type { Logger } from '@nestjs/common';
import type { JobLeases } from './job-leases.service';

/**
 * How long a periodic job's lease lasts when it runs every `everySeconds`: long enough to
 * outlive a tick or two (a slow run does not lose it), short enough that the job moves on to
 * another instance soon after its holder dies.
 */
export function leaseTtlMs(everySeconds: number): number {
  return Math.max(2 * everySeconds, 10) * 1000;
}

export interface PeriodicTaskSpec<T> {
  /** The owning service's logger: a failed run is logged under its name. */
  log: Logger;
  /** Seconds between runs; 0 turns the task off (start() sets no timer). */
  everySeconds: number;
  /** When set, the first run comes after this many seconds instead of a whole interval. */
  firstAfterSeconds?: number;
  /**
   * The lease that picks the one instance that runs it: each run takes (or renews) it for
   * ttlMs first (leaseTtlMs of the interval), and runs only while this instance holds it.
   * Left out by a job that takes its lease in `run` itself (the stale-session reaper reads
   * first how long nobody held it).
   */
  lease?: { leases: JobLeases; name: string; ttlMs: number };
  /** What one run does: the service's own rules. */
  run: () => Promise<T>;
  /** The start of the warn line of a failed run, before ": <the error's message>". */
  failure: string;
}

/**
 * The timer part of a periodic job, shared by the services that run one on every instance:
 * - one run every `everySeconds` (after `firstAfterSeconds` first, when set), on unref'd timers
 *   so that a pending run never keeps the process alive; none at all when everySeconds is 0;
 * - each run takes the lease first, when there is one, and does nothing without it;
 * - a tick while a run is in progress is skipped: runs never overlap;
 * - a run that fails is logged at warn and the next tick runs as usual;
 * - stop() (from beforeApplicationShutdown) clears the timers, then waits for the run in progress,
 *   so that it finishes before the database is closed.
 * What a run does, and when it is off, stay the service's.
 */
export class PeriodicTask<T> {
  private first: NodeJS.Timeout | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(private readonly spec: PeriodicTaskSpec<T>) {}

  start(): void {
    const { everySeconds, firstAfterSeconds } = this.spec;
    if (everySeconds === 0) return;
    const tick = () => this.tick();
    if (firstAfterSeconds !== undefined) {
      this.first = setTimeout(tick, firstAfterSeconds * 1000).unref();
    }
    this.timer = setInterval(tick, everySeconds * 1000).unref();
  }

  /**
   * One run now, outside the schedule (tests, a caller that wants it at once): takes the lease
   * first when there is one; null when another instance holds it. Not guarded against a
   * scheduled run in progress.
   */
  async runOnce(): Promise<T | null> {
    const { lease } = this.spec;
    if (lease && !(await lease.leases.acquire(lease.name, lease.ttlMs))) {
      return null;
    }
    return this.spec.run();
  }

  /** Stops the timers, then waits for the run in progress (a failed one was logged already). */
  async stop(): Promise<void> {
    if (this.first) clearTimeout(this.first);
    if (this.timer) clearInterval(this.timer);
    this.first = this.timer = null;
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.runOnce()
      .catch((err: unknown) =>
        this.spec.log.warn(`${this.spec.failure}: ${(err as Error).message}`),
      )
      .finally(() => {
        this.running = null;
      });
  }
}
