import type { DataSource } from 'typeorm';

/**
 * A username as MariaDB compares it: whatever the case (radgraph's tables and FreeRADIUS's use
 * case-insensitive collations). FreeRADIUS accepts "JOHN" for the customer "john", and then
 * radacct and radpostauth hold "JOHN": results read by username are matched to the names asked
 * for through this, and so are subscription filters.
 */
export const foldUsername = (username: string): string => username.toLowerCase();

/**
 * The key that matches rows read by username to the names asked for, as the database compared
 * them: folded on MariaDB; exact on SQLite, whose columns are BINARY, so that "twin" and "TWIN"
 * are two users there and one's rows are never handed to the other. The database is its
 * DataSource, or its kind (DatabaseConfig) where no DataSource is at hand.
 */
export function usernameKey(
  database: DataSource | 'mysql' | 'sqlite',
): (username: string) => string {
  const sqlite =
    typeof database === 'string'
      ? database === 'sqlite'
      : database.options.type === 'better-sqlite3';
  return sqlite ? (username) => username : foldUsername;
}

/** Rows keyed by `key` (usernameKey), handed back under each name asked for. */
export function byAskedUsername<V>(
  asked: readonly string[],
  found: ReadonlyMap<string, V>,
  key: (username: string) => string,
): Map<string, V> {
  const out = new Map<string, V>();
  for (const username of asked) {
    const value = found.get(key(username));
    if (value !== undefined) out.set(username, value);
  }
  return out;
}
