import type { DataSource } from 'typeorm';
import { safeReason } from '../common/errors/safe-reason';

/** How long /ready waits for the database's answer to `SELECT 1`. */
export const DATABASE_PING_TIMEOUT_MS = 2000;

/**
 * `SELECT 1` on the app's DataSource: null when it answered within the timeout, else the
 * reason it did not (`timeout of 2000ms exceeded`, or safeReason's code).
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
        (err: unknown) => safeReason(err),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
