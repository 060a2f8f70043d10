/**
 * Recognizes constraint violations from MySQL/MariaDB (mysql2) and SQLite (better-sqlite3),
 * so services can turn a race the database settled into a typed CONFLICT.
 */
interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
  sqlMessage?: string;
  driverError?: DriverError;
}

function unwrap(err: unknown): DriverError {
  const e = (err ?? {}) as DriverError;
  return e.driverError ?? e;
}

/**
 * The unique index a duplicate hit: MySQL names the key (`Duplicate entry 'x' for key
 * 'UQ_…'`, possibly prefixed with the table), SQLite the columns (`rg_customers.username`).
 * Returns the key name or "table.column", or null when it is not a unique violation.
 */
export function uniqueViolation(err: unknown): string | null {
  const e = unwrap(err);
  const message = e.sqlMessage ?? e.message ?? '';
  if (e.code === 'ER_DUP_ENTRY' || e.errno === 1062) {
    const match = /for key '(?:[^'.]+\.)?([^']+)'/.exec(message);
    return match ? match[1] : '';
  }
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const match = /constraint failed: (\S+)/.exec(message);
    return match ? match[1] : '';
  }
  return null;
}

/** A row still referenced by a foreign key (ON DELETE RESTRICT). */
export function isForeignKeyViolation(err: unknown): boolean {
  const e = unwrap(err);
  return (
    e.code === 'ER_ROW_IS_REFERENCED_2' ||
    e.code === 'ER_ROW_IS_REFERENCED' ||
    e.errno === 1451 ||
    e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' ||
    // SQLite reports ON DELETE RESTRICT as SQLITE_CONSTRAINT_TRIGGER.
    (typeof e.code === 'string' &&
      e.code.startsWith('SQLITE_CONSTRAINT') &&
      /FOREIGN KEY constraint failed/.test(e.message ?? ''))
  );
}

/**
 * A transaction that lost a lock race (MySQL/MariaDB): a deadlock, which InnoDB settled by
 * rolling this transaction back, or a lock wait that timed out. Nothing of it was written.
 */
export function isLockConflict(err: unknown): boolean {
  const e = unwrap(err);
  return isDeadlock(err) || e.code === 'ER_LOCK_WAIT_TIMEOUT' || e.errno === 1205;
}

/**
 * A deadlock alone: InnoDB rolled this transaction back at once, so running it again is quick
 * (not a lock wait that timed out after innodb_lock_wait_timeout, 50 s by default).
 */
export function isDeadlock(err: unknown): boolean {
  const e = unwrap(err);
  return e.code === 'ER_LOCK_DEADLOCK' || e.errno === 1213;
}
