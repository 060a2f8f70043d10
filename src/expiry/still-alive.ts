import type { DataSource } from 'typeorm';

/**
 * How long after an expiry disconnect got through its sessions may still show an accounting
 * change without counting as alive. The NAS's Stop for the session it ended, and an
 * Interim-Update it sent just before the Disconnect-Request, may still be on their way: a NAS
 * retransmits an unanswered accounting packet for a while, FreeRADIUS's detail reader forwards
 * them late, and radgraph writes them in batches. A minute covers those with room to spare,
 * while a session the NAS kept is disconnected again about a minute (plus its interim
 * interval) later: whatever the interval, its Interim-Updates go on past the grace.
 */
export const STILL_ALIVE_GRACE_MS = 60_000;

/**
 * The database's time now plus the grace, in the form radacct.rg_seen_at is kept in, so the
 * two compare as they are: MySQL keeps rg_seen_at with CURRENT_TIMESTAMP (the server's time
 * zone, hence NOW(), not UTC_TIMESTAMP()); SQLite's triggers with datetime('now') (UTC, whole
 * seconds, as text). Takes one parameter: `param`.
 */
export function aliveAfterSql(dataSource: DataSource): { sql: string; param: unknown } {
  const seconds = Math.ceil(STILL_ALIVE_GRACE_MS / 1000);
  return dataSource.options.type === 'better-sqlite3'
    ? { sql: `datetime('now', ?)`, param: `+${seconds} seconds` }
    : { sql: 'NOW() + INTERVAL ? SECOND', param: seconds };
}

/**
 * SQL: the open radacct row `a` was covered by the settled disconnect `x` (rg_expiry_actions)
 * and has changed since its grace ran out: its session is still alive, and is disconnected
 * again. A disconnect settled before alive_after existed (null) never counts its sessions so.
 */
export function stillAliveSql(x: string, a: string): string {
  return `(${x}.radacct_id >= ${a}.radacctid AND ${x}.alive_after IS NOT NULL AND ${a}.rg_seen_at > ${x}.alive_after)`;
}

/** SQL: the radacct row `a` is done for the disconnect `x`: covered, and not still alive. */
export function disconnectedSql(x: string, a: string): string {
  return `(${x}.radacct_id >= ${a}.radacctid AND (${x}.alive_after IS NULL OR ${a}.rg_seen_at IS NULL OR ${a}.rg_seen_at <= ${x}.alive_after))`;
}
