import type { DataSource } from 'typeorm';
import { placeholders } from '../../common/sql/in-list';

/** An open radacct row, as much of it as a CoA or a RouterOS request needs. */
export interface OpenSession {
  id: string;
  username: string;
  acctSessionId: string;
  framedIpAddress: string | null;
  nasIpAddress: string;
}

const COLUMNS =
  'a.radacctid AS id, a.username AS username, a.acctsessionid AS acctSessionId, ' +
  'a.framedipaddress AS framedIpAddress, a.nasipaddress AS nasIpAddress';

/**
 * Open sessions: of a user, of every user of a FreeRADIUS group, or of a NAS (its session
 * addresses: NasService.sessionAddresses).
 */
export async function openSessions(
  ds: DataSource,
  by: { username: string } | { groupname: string } | { nasAddresses: readonly string[] },
): Promise<OpenSession[]> {
  if ('nasAddresses' in by && by.nasAddresses.length === 0) return [];
  const [join, where, values] =
    'username' in by
      ? ['', 'a.username = ?', [by.username]]
      : 'groupname' in by
        ? ['JOIN radusergroup g ON g.username = a.username', 'g.groupname = ?', [by.groupname]]
        : ['', `a.nasipaddress IN (${placeholders(by.nasAddresses.length)})`, [...by.nasAddresses]];
  const rows: OpenSession[] = await ds.query(
    `SELECT ${COLUMNS} FROM radacct a ${join} WHERE a.acctstoptime IS NULL AND ${where} ORDER BY a.radacctid`,
    values,
  );
  return rows.map((r) => ({
    ...r,
    id: String(r.id),
    framedIpAddress: r.framedIpAddress || null,
  }));
}
