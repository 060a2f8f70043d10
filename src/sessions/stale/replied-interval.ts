import type { DataSource } from 'typeorm';
import { byAskedUsername, usernameKey } from '../usernames';
import { placeholders } from '../../common/sql/in-list';

/**
 * The Acct-Interim-Interval FreeRADIUS replies to a user with: the largest of the user's own
 * (radreply) and their groups' (radusergroup, radgroupreply; a radgraph customer's profile is
 * such a group). The NAS sends Interim-Updates at that interval, so a session that has not
 * shown its own interval yet (its first interim is still to come, or radgraph reopened it
 * after a stale close) must be allowed that long. The largest: a user with two values is
 * never taken for stale early.
 */
const ATTRIBUTE = 'Acct-Interim-Interval';

/**
 * An SQL expression for the replied interval of the user named by `username` (a column of
 * the outer query), in seconds, or 0 when none is replied. Correlated subqueries by username
 * (radreply and radusergroup have an index on it): cheap in a CASE branch that only sessions
 * without an interval of their own reach.
 */
export function repliedIntervalSql(sqlite: boolean, username: string): string {
  const seconds = (column: string) =>
    sqlite ? `CAST(${column} AS INTEGER)` : `CAST(${column} AS UNSIGNED)`;
  const own =
    `SELECT MAX(${seconds('r.value')}) FROM radreply r ` +
    `WHERE r.username = ${username} AND r.attribute = '${ATTRIBUTE}'`;
  const group =
    `SELECT MAX(${seconds('g.value')}) FROM radusergroup ug ` +
    `JOIN radgroupreply g ON g.groupname = ug.groupname ` +
    `WHERE ug.username = ${username} AND g.attribute = '${ATTRIBUTE}'`;
  const greatest = sqlite ? 'MAX' : 'GREATEST';
  return `${greatest}(COALESCE((${own}), 0), COALESCE((${group}), 0))`;
}

/** The replied interval (seconds, 0 for none) of each of these users. */
export async function repliedIntervals(
  dataSource: DataSource,
  usernames: readonly string[],
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (usernames.length === 0) return found;
  const sqlite = dataSource.options.type === 'better-sqlite3';
  const list = placeholders(usernames.length);
  const rows: Array<{ username: string; seconds: number | string | null }> = await dataSource.query(
    `SELECT u.username AS username, ${repliedIntervalSql(sqlite, 'u.username')} AS seconds ` +
      `FROM (SELECT DISTINCT username FROM radusergroup WHERE username IN (${list}) ` +
      `UNION SELECT DISTINCT username FROM radreply WHERE username IN (${list})) u`,
    [...usernames, ...usernames],
  );
  // As the database compared the names (usernameKey): on MariaDB the session may hold the
  // login in another case; on SQLite "nap" and "NAP" are two users, each with its own reply.
  const key = usernameKey(dataSource);
  for (const row of rows) found.set(key(row.username), Number(row.seconds ?? 0));
  return byAskedUsername(usernames, found, key);
}
