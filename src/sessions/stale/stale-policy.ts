import type { StaleSessionConfig } from '../../config/app-config';

/**
 * The terminate cause of a session radgraph closed as stale (the reaper, or a reconcile that
 * found the NAS no longer has it). Such a row comes back to life when the NAS reports the
 * session again, later than the close (radacct-writer.ts, the radacct change feed).
 */
export const STALE_SESSION_CAUSE = 'Stale-Session';

/**
 * acctinterval below this is not an interim interval: RFC 2869 forbids an Acct-Interim-Interval
 * under 60 s (radgraph's profiles refuse one too), and acctinterval is only the gap between the
 * last two updates. A retransmitted Interim-Update that the NAS sent again with a new
 * Acct-Delay-Time (so a new Identifier, as RFC 2866 requires) is a new packet, written again
 * one second after the first or in the same second: taken as the interval, that gap would cut
 * the session's allowance to the floor, and a live session would be closed before its next
 * interim.
 */
export const MIN_INTERIM_SECONDS = 60;

/**
 * How long an open session may go without an accounting change before it is stale: the
 * multiplier times its interim interval, and never less than the floor. With the multiplier 0
 * nothing is stale.
 *
 * Its interim interval is acctinterval, once that is plausible (see MIN_INTERIM_SECONDS).
 * Before that (no second update yet, or reopened after a stale close) it is the configured
 * default, or the Acct-Interim-Interval FreeRADIUS replies to the user when that is longer
 * (replied-interval.ts): a plan with hourly interims must not have its sessions closed after
 * three times the default, before their first interim.
 */
export function staleAfterSeconds(
  interimIntervalSeconds: number | null,
  config: StaleSessionConfig,
  repliedIntervalSeconds = 0,
): number {
  const interval = hasOwnInterval(interimIntervalSeconds)
    ? interimIntervalSeconds
    : Math.max(config.defaultIntervalSeconds, repliedIntervalSeconds);
  return Math.max(config.minSeconds, config.multiplier * interval);
}

/** Whether acctinterval is a plausible interim interval; if not, the replied one counts. */
export function hasOwnInterval(
  interimIntervalSeconds: number | null,
): interimIntervalSeconds is number {
  return interimIntervalSeconds !== null && interimIntervalSeconds >= MIN_INTERIM_SECONDS;
}

export function isStale(
  session: {
    stoppedAt: Date | null;
    lastSeenAt: Date | null;
    interimIntervalSeconds: number | null;
  },
  config: StaleSessionConfig,
  now: Date = new Date(),
  repliedIntervalSeconds = 0,
): boolean {
  if (config.multiplier === 0 || session.stoppedAt !== null || session.lastSeenAt === null) {
    return false;
  }
  const age = (now.getTime() - session.lastSeenAt.getTime()) / 1000;
  return age > staleAfterSeconds(session.interimIntervalSeconds, config, repliedIntervalSeconds);
}
