import { DefaultNamingStrategy, NamingStrategyInterface } from 'typeorm';
import { FREERADIUS_TABLES } from './freeradius/tables';

/**
 * Index names of the FreeRADIUS tables, as FreeRADIUS's own schema files name them, so that
 * the entities, the migrations and a database that FreeRADIUS created agree.
 * MySQL names an unnamed single-column KEY after its column; SQLite index names are global
 * to the database, so FreeRADIUS's sqlite schema.sql prefixes some of them.
 */
const SQLITE_FREERADIUS_INDEX: Record<string, Record<string, string>> = {
  radcheck: { username: 'check_username' },
  radgroupcheck: { groupname: 'check_groupname' },
  radgroupreply: { groupname: 'reply_groupname' },
  radreply: { username: 'reply_username' },
  radusergroup: { username: 'usergroup_username' },
  radpostauth: { username: 'radpostauth_username', class: 'radpostauth_class' },
};

const FREERADIUS_TABLE_SET: ReadonlySet<string> = new Set(FREERADIUS_TABLES);

export class RadgraphNamingStrategy
  extends DefaultNamingStrategy
  implements NamingStrategyInterface
{
  constructor(private readonly dialect: 'mysql' | 'sqlite') {
    super();
  }

  override indexName(
    tableOrName: Parameters<DefaultNamingStrategy['indexName']>[0],
    columnNames: string[],
    where?: string,
  ): string {
    const table = typeof tableOrName === 'string' ? tableOrName : tableOrName.name;
    if (FREERADIUS_TABLE_SET.has(table) && columnNames.length === 1 && where === undefined) {
      const column = columnNames[0];
      if (this.dialect === 'sqlite') return SQLITE_FREERADIUS_INDEX[table]?.[column] ?? column;
      return column;
    }
    return super.indexName(tableOrName, columnNames, where);
  }
}
