import type { ConnectionOptions } from 'mysql2';

/**
 * mysql2's typeCast for radgraph's MariaDB/MySQL connections: a zero date
 * ('0000-00-00 00:00:00', which FreeRADIUS 2's schema used as a default and which older
 * tools still write when the server's sql_mode allows it) comes back as null, not as an
 * Invalid Date that no DateTime field can serialize and no date arithmetic survives.
 * Every other value is mysql2's own.
 */
export const zeroDatesAsNull: NonNullable<ConnectionOptions['typeCast']> = (_field, next) =>
  validDateOrNull(next());

/** A zero date as mysql2 reads it without zeroDatesAsNull (an Invalid Date), as null. */
export function validDateOrNull<T>(value: T): T | null {
  return value instanceof Date && Number.isNaN(value.getTime()) ? null : value;
}
