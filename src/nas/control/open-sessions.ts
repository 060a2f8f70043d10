import type { DataSource } from 'typeorm';

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

/** Open sessions: of a user, of every user of a FreeRADIUS group, or of a NAS. */
export async function openSessions(
  ds: DataSource,
  by: { username: string } | { groupname: string } | { nasname: string },
): Promise<OpenSession[]> {
  const [join, where, value] =
    'username' in by
      ? ['', 'a.username = ?', by.username]
      : 'groupname' in by
        ? ['JOIN radusergroup g ON g.username = a.username', 'g.groupname = ?', by.groupname]
        : ['', 'a.nasipaddress = ?', by.nasname];
  const rows: OpenSession[] = await ds.query(
    `SELECT ${COLUMNS} FROM radacct a ${join} WHERE a.acctstoptime IS NULL AND ${where} ORDER BY a.radacctid`,
    [value],
  );
  return rows.map((r) => ({
    ...r,
    id: String(r.id),
    framedIpAddress: r.framedIpAddress || null,
  }));
}
