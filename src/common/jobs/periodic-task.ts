import type { Logger } from '@nestjs/common';
import { HeldLease } from './held-lease';
import type { JobLeases } from './job-leases.service';

export interface PeriodicTaskSpec<T> {
  /** The owning service's logger: a failed run is logged under its name. */
  log: Logger;
  /** Seconds between runs; 0 turns the task off (start() sets no timer, nor heartbeat). */
  everySeconds: number;
  /** When set, the first run comes after this many seconds instead of a whole interval. */
  firstAfterSeconds?: number;
  /**
   * The lease that picks the one instance that runs it (HeldLease: kept up by a heartbeat of
   * its own, whatever the interval); each run renews it first, and runs only while this
   * instance holds it. onTaken: called when this instance takes it after not holding it, with
   * how long nobody held it (null: never taken), before it runs as the holder.
   */
  lease?: {
    leases: JobLeases;
    name: string;
    onTaken?: (unheldSeconds: number | null) => void;
  };
  /** What one run does: the service's own rules. */
  run: () => Promise<T>;
  /** The start of the warn line of a failed run, before ": <the error's message>". */
  failure: string;
}

/**
 * The timer part of a periodic job, shared by the services that run one on every instance:
 * - one run every `everySeconds` (after `firstAfterSeconds` first, when set), on unref'd timers
 *   so that a pending run never keeps the process alive; none at all when everySeconds is 0;
 * - with a lease, a heartbeat (HeldLease) keeps it, or asks for it, every 2 s whatever the
 *   interval and during runs, so that the job moves to a live instance within 10 s of its
 *   holder's death; each run renews it first, and does nothing without it. An instance that
 *   takes it from a holder that died (did not give it up) runs at once: that one may have
 *   died mid-run, and nobody knows when it last ran; then once an interval;
 * - runs never overlap: a tick while a run is in progress is skipped, and runOnce waits for it;
 * - a run that fails is logged at warn and the next tick runs as usual;
 * - stop() (from beforeApplicationShutdown) clears the timers, waits for the run in progress,
 *   so that it finishes before the database is closed, and gives the lease up.
 * What a run does, and when it is off, stay the service's.
 */
export class PeriodicTask<T> {
  private first: NodeJS.Timeout | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private readonly lease: HeldLease | null;

  constructor(private readonly spec: PeriodicTaskSpec<T>) {
    const lease = spec.lease;
    this.lease = lease
      ? new HeldLease({
          leases: lease.leases,
          name: lease.name,
          log: spec.log,
          onTaken: ({ unheldSeconds, fromLost }) => {
            lease.onTaken?.(unheldSeconds);
            if (fromLost && this.timer) this.tick();
          },
        })
      : null;
  }

  /** Whether this instance holds the lease now (HeldLease.held; true without a lease). */
  get holding(): boolean {
    return this.lease?.held ?? true;
  }

  start(): void {
    const { everySeconds, firstAfterSeconds } = this.spec;
    if (everySeconds === 0) return;
    const tick = () => this.tick();
    if (firstAfterSeconds !== undefined) {
      this.first = setTimeout(tick, firstAfterSeconds * 1000).unref();
    }
    this.timer = setInterval(tick, everySeconds * 1000).unref();
    this.lease?.start();
  }

  /**
   * Renews the lease now, or takes it when free: whether this instance holds it (a long run
   * asks between pages, and stops when it lost it). Never throws. True without a lease.
   */
  hold(): Promise<boolean> {
    return this.lease ? this.lease.hold() : Promise.resolve(true);
  }

  /**
   * One run now, outside the schedule (tests, a caller that wants it at once): renews or takes
   * the lease first when there is one; null when this instance does not get it. A call during
   * a run waits for it, then runs.
   */
  runOnce(): Promise<T | null> {
    const before = this.running ?? Promise.resolve();
    const run = before
      .catch(() => undefined)
      .then(async () => ((await this.hold()) ? this.spec.run() : null));
    this.running = run;
    const done = () => {
      if (this.running === run) this.running = null;
    };
    run.then(done, done);
    return run;
  }

  /**
   * Stops the timers and the heartbeat, waits for the run in progress (a failed one was
   * logged already), then gives the lease up.
   */
  async stop(): Promise<void> {
    if (this.first) clearTimeout(this.first);
    if (this.timer) clearInterval(this.timer);
    this.first = this.timer = null;
    await this.running?.catch(() => undefined);
    await this.lease?.stop();
  }

  private tick(): void {
    if (this.running) return;
    this.runOnce().catch((err: unknown) =>
      this.spec.log.warn(`${this.spec.failure}: ${(err as Error).message}`),
    );
  }
}
