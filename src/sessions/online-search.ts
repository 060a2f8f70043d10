import type { DataSource } from 'typeorm';
import { likeLiteral } from '../common/sql/like';
import { searchTerm as checkedSearch } from '../common/validation/text';
import { customersWithUsernameContaining } from '../customers/customer-search-keys';
import { macPrefixes } from './mac-prefixes';

/** The longest search term, in characters. */
const MAX_TERM = 100;

/** The trimmed search term, or null for none; BAD_USER_INPUT (field search) when too long. */
export function searchTerm(search: string | null | undefined): string | null {
  return checkedSearch('search', search, MAX_TERM);
}

/**
 * The ids of the open sessions a search finds, as one SQL select of `id` (named parameters):
 * a UNION of index range reads, each on an index that starts with acctstoptime, so only open
 * sessions are read. A session matches when
 * - its username starts with the term (rg_radacct_open_username),
 * - its IP address starts with it (rg_radacct_open_ip),
 * - its MAC address starts with it, written any of the ways macPrefixes gives (':', '-',
 *   none, Cisco's groups of four) (rg_radacct_open_mac),
 * - or its username is a customer's whose username contains the term (the customers' search
 *   keys, then rg_radacct_open_username per username; only for the customers whose username
 *   does not start with the term, whom the first branch already finds).
 * All case-insensitive (MySQL's collation; SQLite's LIKE for ASCII), LIKE's wildcards taken
 * literally. `nas` (the NAS's session addresses) narrows each branch to one NAS's sessions.
 */
export function openSessionMatches(
  dataSource: DataSource,
  term: string,
  nas: readonly string[] | null,
): { sql: string; params: Record<string, unknown> } {
  const prefix = `${likeLiteral(term)}%`;
  // The first branch finds the sessions of the customers whose username starts with the term
  // (both columns have the same collation), so this one looks up only the others'.
  const customers = customersWithUsernameContaining(dataSource, term, 'cs_').andWhere(
    `c.username NOT LIKE :prefix ESCAPE '!'`,
    { prefix },
  );
  const params: Record<string, unknown> = { ...customers.getParameters() };
  const macs = macPrefixes(term).map((mac, i) => {
    params[`mac${i}`] = `${likeLiteral(mac)}%`;
    return `a.callingstationid LIKE :mac${i} ESCAPE '!'`;
  });
  let narrow = '';
  if (nas !== null && nas.length === 0) {
    narrow = ' AND 1 = 0';
  } else if (nas !== null && nas.length === 1) {
    narrow = ' AND a.nasipaddress = :nasName';
    params.nasName = nas[0];
  } else if (nas !== null) {
    narrow = ' AND a.nasipaddress IN (:...nasNames)';
    params.nasNames = [...nas];
  }
  const branch = (condition: string) =>
    `SELECT a.radacctid AS id FROM radacct a WHERE a.acctstoptime IS NULL AND ${condition}${narrow}`;
  const sql = [
    branch(`a.username LIKE :prefix ESCAPE '!'`),
    branch(`a.framedipaddress LIKE :prefix ESCAPE '!'`),
    branch(macs.length === 1 ? macs[0] : `(${macs.join(' OR ')})`),
    branch(`a.username IN (${customers.getQuery()})`),
  ].join(' UNION ');
  return { sql, params };
}
