import type { EntityManager } from 'typeorm';

export type RowLockMode = 'pessimistic_read' | 'pessimistic_write';

/**
 * A find's `lock` for rows read in `m`'s transaction: FOR SHARE / FOR UPDATE on MySQL; none on
 * SQLite, which runs one transaction at a time anyway (and whose TypeORM driver refuses them).
 */
export function rowLock(m: EntityManager, mode: RowLockMode): { mode: RowLockMode } | undefined {
  return m.connection.options.type === 'better-sqlite3' ? undefined : { mode };
}
