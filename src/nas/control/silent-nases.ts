import type { CoaResult } from '../../radius/coa/coa-client';

/**
 * One bulk push of CoA-Requests (a profile's new speeds, a CSV import's profile changes): the
 * NAS routers that left `limit` requests in a row unanswered (timeouts: no answer at all after
 * every retransmission; a NAK is an answer) are given up on, and their remaining sessions are
 * failed without sending. Otherwise each of those sessions would wait its full
 * (1 + COA_RETRIES) × COA_TIMEOUT_MS, and the push would not return for minutes. An answer
 * (ACK or NAK) starts a NAS's count again, and it is tried again; a NAS that answers is never
 * given up on. `limit` 0: never give up (COA_GIVE_UP_AFTER_TIMEOUTS).
 */
export class SilentNases {
  /** Timeouts in a row, per NAS (its CoA address). */
  private readonly timeouts = new Map<string, number>();
  /** Sessions not tried, per NAS given up on. */
  private readonly skipped = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** True when `nas` is given up on: its session is to be failed with `skip`, not sent. */
  givenUp(nas: string): boolean {
    return this.limit > 0 && (this.timeouts.get(nas) ?? 0) >= this.limit;
  }

  /** Counts a request's result to `nas`. */
  record(nas: string, result: CoaResult): void {
    if (result.kind === 'timeout') this.timeouts.set(nas, (this.timeouts.get(nas) ?? 0) + 1);
    else if (result.kind !== 'error') this.timeouts.delete(nas); // it answers
  }

  /** Counts a session of a NAS given up on as not tried; the reason, for its failure line. */
  skip(nas: string): string {
    this.skipped.set(nas, (this.skipped.get(nas) ?? 0) + 1);
    return `not tried: NAS ${nas} did not answer ${this.limit} CoA-Requests in a row`;
  }

  /** One line per NAS given up on: why, and how many of its sessions were not tried. */
  summaries(): string[] {
    return [...this.skipped].map(
      ([nas, count]) =>
        `NAS ${nas} did not answer ${this.limit} CoA-Requests in a row; its remaining ${count} session(s) were not tried`,
    );
  }
}
