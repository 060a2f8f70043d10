/** A UTC DATETIME literal both databases take ("YYYY-MM-DD HH:MM:SS"). */
export function sqlDatetime(at: Date): string {
  return at.toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * A DATETIME column as a raw query reads it back: a Date from MySQL (the connection's timezone
 * is UTC), the stored "YYYY-MM-DD HH:MM:SS" text from SQLite, which is UTC too (sqlDatetime).
 */
export function readSqlDatetime(value: Date | string): Date {
  return value instanceof Date ? value : new Date(`${value.replace(' ', 'T')}Z`);
}
