import type { StaleSessionConfig } from '../../config/app-config';

/**
 * How long an open session may go without an accounting change before it is stale: the
 * multiplier times its interim interval (acctinterval, or the configured default before it
 * has one), and never less than the floor. With the multiplier 0 nothing is stale.
 */
export function staleAfterSeconds(
  interimIntervalSeconds: number | null,
  config: StaleSessionConfig,
): number {
  const interval =
    interimIntervalSeconds && interimIntervalSeconds > 0
      ? interimIntervalSeconds
      : config.defaultIntervalSeconds;
  return Math.max(config.minSeconds, config.multiplier * interval);
}

export function isStale(
  session: {
    stoppedAt: Date | null;
    lastSeenAt: Date | null;
    interimIntervalSeconds: number | null;
  },
  config: StaleSessionConfig,
  now: Date = new Date(),
): boolean {
  if (config.multiplier === 0 || session.stoppedAt !== null || session.lastSeenAt === null) {
    return false;
  }
  const age = (now.getTime() - session.lastSeenAt.getTime()) / 1000;
  return age > staleAfterSeconds(session.interimIntervalSeconds, config);
}
