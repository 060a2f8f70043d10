/**
 * Why a dependency failed, short and safe for an unauthenticated answer (/ready): the driver's
 * code (ECONNREFUSED, ETIMEDOUT, ER_ACCESS_DENIED_ERROR, PROTOCOL_CONNECTION_LOST,
 * SQLITE_CANTOPEN), else the error's class name (other than Error), else `fallback`; never the
 * message of an error with a code (a connection error's names the host and the port).
 */
export function safeReason(err: unknown, fallback = 'query failed'): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(code)) return code;
  const name = err instanceof Error ? err.name : '';
  if (/^[A-Za-z]{1,64}$/.test(name) && name !== 'Error') return name;
  return fallback;
}
