import type { Logger } from '@nestjs/common';
import { RELEASED, type JobLeases } from './job-leases.service';

/** How long a job's lease lasts unrenewed: a dead holder's job moves on once it runs out. */
export const JOB_LEASE_TTL_MS = 6_000;
/**
 * How often every instance renews, or asks for, each job's lease, whatever the job's
 * interval: a live instance takes a dead holder's lease within JOB_LEASE_TTL_MS + this (8 s).
 */
export const JOB_HEARTBEAT_MS = 2_000;

/** How this instance came to hold a lease it did not hold before. */
export interface Takeover {
  /** How long nobody held it (JobLeases.lease); null when it was never taken. */
  unheldSeconds: number | null;
  /** Taken from another instance that did not give it up: it died (or stopped answering). */
  fromLost: boolean;
}

export interface HeldLeaseSpec {
  leases: JobLeases;
  name: string;
  /** The owning service's logger. */
  log: Logger;
  /** Called when this instance takes the lease after not holding it, before it returns. */
  onTaken?: (takeover: Takeover) => void;
}

/**
 * One job's lease as this instance sees it, kept up by a heartbeat that does not depend on the
 * job's interval, nor wait for its runs:
 * - every JOB_HEARTBEAT_MS (and at start) it renews the lease for JOB_LEASE_TTL_MS, or asks for
 *   it when it is free; an instance that does not hold it reads the row first, and leaves a
 *   live one alone (one query a beat);
 * - a beat that fails (the database down) makes the instance count as not holding, logged at
 *   warn once per outage; it is back at the first beat that gets an answer;
 * - a renewal counts for JOB_LEASE_TTL_MS from when it was asked for (the database cannot have
 *   made it earlier), not from when its answer came: an answer that comes after that (an
 *   event-loop pause, a slow database) finds the lease run out, maybe taken and run by another
 *   instance, and this one does not hold it (a run that shares that beat does not start);
 * - stop() ends the beats and gives the lease up, so another instance takes it at its next
 *   beat instead of after the lease runs out.
 */
export class HeldLease {
  /** Whether the database gave this instance the lease at its last answered request. */
  private renewed = false;
  /** performance.now() until which that renewal surely lasts: asked then, plus the lease. */
  private until = 0;
  private timer: NodeJS.Timeout | null = null;
  private asking: Promise<boolean> | null = null;
  private failing = false;

  constructor(private readonly spec: HeldLeaseSpec) {}

  /** Whether this instance holds the lease now: its last renewal has not run out. */
  get held(): boolean {
    return this.renewed && performance.now() < this.until;
  }

  /** Starts the heartbeat (on an unref'd timer), with a beat now. */
  start(): void {
    if (this.timer) return;
    void this.hold();
    this.timer = setInterval(() => void this.hold(), JOB_HEARTBEAT_MS).unref();
  }

  /**
   * Renews the lease, or takes it when it is free; whether this instance holds it now. Never
   * throws (a failure counts as not holding); a call while one is under way shares it.
   */
  hold(): Promise<boolean> {
    this.asking ??= this.ask().finally(() => {
      this.asking = null;
    });
    return this.asking;
  }

  /** Ends the heartbeat and gives the lease up, when held (errors ignored: it runs out). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.asking;
    // Even a renewal that may have run out: release() gives up only what is still ours.
    if (!this.renewed) return;
    this.renewed = false;
    await this.spec.leases.release(this.spec.name).catch(() => undefined);
  }

  private async ask(): Promise<boolean> {
    const { leases, name, log } = this.spec;
    try {
      const before = this.held ? undefined : await leases.lease(name);
      if (before && before.holder !== leases.holder && before.unheldSeconds < 0) {
        this.renewed = false; // another instance's, and live
      } else {
        const asked = performance.now();
        this.renewed = await leases.acquire(name, JOB_LEASE_TTL_MS);
        this.until = asked + JOB_LEASE_TTL_MS;
        if (this.held && before !== undefined) {
          this.spec.onTaken?.({
            unheldSeconds: before?.unheldSeconds ?? null,
            fromLost: before !== null && ![leases.holder, RELEASED].includes(before.holder),
          });
        }
      }
      if (this.failing) log.log(`the ${name} lease can be renewed again`);
      this.failing = false;
    } catch (err) {
      this.renewed = false;
      if (!this.failing) {
        log.warn(
          `cannot renew or take the ${name} lease, so this instance does not run the job until it can: ${(err as Error).message}`,
        );
      }
      this.failing = true;
    }
    return this.held;
  }
}
