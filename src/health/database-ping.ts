import type { DataSource } from 'typeorm';

/** How long /ready waits for the database's answer to `SELECT 1`. */
export const DATABASE_PING_TIMEOUT_MS = 2000;

/**
 * Why the database did not answer, short and safe for an unauthenticated answer: the driver's
 * code (ECONNREFUSED, ETIMEDOUT, ER_ACCESS_DENIED_ERROR, PROTOCOL_CONNECTION_LOST,
 * SQLITE_CANTOPEN), else the error's class name, never the driver's message (which may name
 * the host, the port or the user).
 */
export function databaseDownReason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(code)) return code;
  const name = err instanceof Error ? err.name : '';
  if (/^[A-Za-z]{1,64}$/.test(name) && name !== 'Error') return name;
  return 'query failed';
}

/**
 * `SELECT 1` on the app's DataSource: null when it answered within the timeout, else the
 * reason it did not (`timeout of 2000ms exceeded`, or databaseDownReason's code).
 */
export async function pingDatabase(
  dataSource: DataSource,
  timeoutMs = DATABASE_PING_TIMEOUT_MS,
): Promise<string | null> {
  if (!dataSource.isInitialized) return 'not connected';
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`timeout of ${timeoutMs}ms exceeded`), timeoutMs);
  });
  try {
    return await Promise.race([
      dataSource.query('SELECT 1').then(
        () => null,
        (err: unknown) => databaseDownReason(err),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
