/**
 * A username as MariaDB compares it: whatever the case (radgraph's tables and FreeRADIUS's use
 * case-insensitive collations). FreeRADIUS accepts "JOHN" for the customer "john", and then
 * radacct and radpostauth hold "JOHN": results read by username are matched to the names asked
 * for through this, and so are subscription filters.
 */
export const foldUsername = (username: string): string => username.toLowerCase();

/** Rows keyed by their folded username, handed back under each name asked for. */
export function byAskedUsername<V>(
  asked: readonly string[],
  found: ReadonlyMap<string, V>,
): Map<string, V> {
  const out = new Map<string, V>();
  for (const username of asked) {
    const value = found.get(foldUsername(username));
    if (value !== undefined) out.set(username, value);
  }
  return out;
}
