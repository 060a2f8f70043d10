import type { DataSource } from 'typeorm';
import { DISCONNECT_GRACE_MS } from '../nas/control/gone-sessions';

/**
 * The database's time now plus the grace, in the form radacct.rg_seen_at is kept in, so the
 * two compare as they are: MySQL keeps rg_seen_at with CURRENT_TIMESTAMP (the server's time
 * zone, hence NOW(), not UTC_TIMESTAMP()); SQLite's triggers with datetime('now') (UTC, whole
 * seconds, as text). Takes one parameter: `param`.
 */
export function aliveAfterSql(dataSource: DataSource): { sql: string; param: unknown } {
  const seconds = Math.ceil(DISCONNECT_GRACE_MS / 1000);
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
