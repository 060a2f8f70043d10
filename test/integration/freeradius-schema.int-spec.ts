import { FREERADIUS_TABLES } from '../../src/database/freeradius';
import { freeradiusSchemaStatements } from '../support/freeradius-schema';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * radgraph's migrations against FreeRADIUS 3.2's own schema.sql, as Debian ships it:
 * the same tables, columns and indexes, and a database FreeRADIUS made first is adopted
 * with every row kept.
 */

async function columns(db: TestDatabase, table: string) {
  return db.query(
    `SELECT COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA,
            CHARACTER_SET_NAME, COLLATION_NAME
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
      ORDER BY ORDINAL_POSITION`,
    [db.database, table],
  );
}

async function indexes(db: TestDatabase, table: string) {
  return db.query(
    `SELECT INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART, NON_UNIQUE, INDEX_TYPE
       FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
      ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
    [db.database, table],
  );
}

async function tableInfo(db: TestDatabase, table: string) {
  const [row] = await db.query(
    `SELECT ENGINE, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`,
    [db.database, table],
  );
  return row;
}

async function loadFreeradiusSchema(db: TestDatabase): Promise<void> {
  for (const statement of freeradiusSchemaStatements('mysql')) await db.query(statement);
}

describe('FreeRADIUS tables on MariaDB', () => {
  let freeradius: TestDatabase;
  let radgraph: TestDatabase;

  beforeAll(async () => {
    freeradius = await createTestDatabase('mysql', { migrate: false });
    await loadFreeradiusSchema(freeradius);
    radgraph = await createTestDatabase('mysql');
  });

  afterAll(async () => {
    await freeradius?.drop();
    await radgraph?.drop();
  });

  it('schema.sql made every table radgraph knows as FreeRADIUS’s', async () => {
    const rows = await freeradius.query<{ TABLE_NAME: string }>(
      'SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME',
      [freeradius.database],
    );
    expect(rows.map((r) => r.TABLE_NAME)).toEqual([...FREERADIUS_TABLES].sort());
  });

  it.each([...FREERADIUS_TABLES])('%s: the same engine and collation', async (table) => {
    expect(await tableInfo(radgraph, table)).toEqual(await tableInfo(freeradius, table));
  });

  it.each([...FREERADIUS_TABLES])(
    '%s: every column of schema.sql, with the same type, nullability, default and position',
    async (table) => {
      const theirs = await columns(freeradius, table);
      const ours = await columns(radgraph, table);
      expect(theirs.length).toBeGreaterThan(0);
      // radgraph may add columns after FreeRADIUS's; it never changes or reorders theirs.
      expect(ours.slice(0, theirs.length)).toEqual(theirs);
    },
  );

  it.each([...FREERADIUS_TABLES])(
    '%s: every index of schema.sql, with the same columns, prefix lengths and uniqueness',
    async (table) => {
      const theirs = await indexes(freeradius, table);
      const ours = await indexes(radgraph, table);
      expect(theirs.length).toBeGreaterThan(0);
      for (const index of theirs) expect(ours).toContainEqual(index);
    },
  );
});

describe('adopting a database FreeRADIUS created first', () => {
  const ROWS: Record<string, { insert: string; count: string }> = {
    radcheck: {
      insert:
        "INSERT INTO radcheck (username, attribute, op, value) VALUES ('alice', 'Cleartext-Password', ':=', 's3cret'), ('alice', 'Simultaneous-Use', ':=', '1')",
      count: 'SELECT COUNT(*) AS n FROM radcheck',
    },
    radreply: {
      insert:
        "INSERT INTO radreply (username, attribute, op, value) VALUES ('alice', 'Framed-IP-Address', ':=', '10.0.0.5')",
      count: 'SELECT COUNT(*) AS n FROM radreply',
    },
    radgroupcheck: {
      insert:
        "INSERT INTO radgroupcheck (groupname, attribute, op, value) VALUES ('gold', 'Simultaneous-Use', ':=', '2')",
      count: 'SELECT COUNT(*) AS n FROM radgroupcheck',
    },
    radgroupreply: {
      insert:
        "INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES ('gold', 'Mikrotik-Rate-Limit', ':=', '5000k/20000k')",
      count: 'SELECT COUNT(*) AS n FROM radgroupreply',
    },
    radusergroup: {
      insert:
        "INSERT INTO radusergroup (username, groupname, priority) VALUES ('alice', 'gold', 1)",
      count: 'SELECT COUNT(*) AS n FROM radusergroup',
    },
    radacct: {
      insert:
        "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctinputoctets, acctoutputoctets) VALUES ('81a00001', 'f3b1c2d4e5f60718293a4b5c6d7e8f90', 'alice', '10.1.1.1', '2026-11-01 10:00:00', 9007199254740993, 18446744073709551)",
      count: 'SELECT COUNT(*) AS n FROM radacct',
    },
    radpostauth: {
      insert:
        "INSERT INTO radpostauth (username, pass, reply) VALUES ('alice', '', 'Access-Accept')",
      count: 'SELECT COUNT(*) AS n FROM radpostauth',
    },
    nas: {
      insert:
        "INSERT INTO nas (nasname, shortname, type, secret) VALUES ('10.1.1.1', 'core-1', 'other', 'testing123')",
      count: 'SELECT COUNT(*) AS n FROM nas',
    },
    nasreload: {
      insert:
        "INSERT INTO nasreload (nasipaddress, reloadtime) VALUES ('10.1.1.1', '2026-11-01 09:00:00')",
      count: 'SELECT COUNT(*) AS n FROM nasreload',
    },
  };

  let db: TestDatabase;
  let before: Record<string, unknown[]>;

  beforeAll(async () => {
    db = await createTestDatabase('mysql', { migrate: false });
    await loadFreeradiusSchema(db);
    for (const { insert } of Object.values(ROWS)) await db.query(insert);
    before = {};
    for (const table of FREERADIUS_TABLES) before[table] = await db.query(`SELECT * FROM ${table}`);
    await db.migrate();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('records the migration as applied', async () => {
    const rows = await db.query<{ name: string }>('SELECT name FROM radgraph_migrations');
    expect(rows.map((r) => r.name)).toContain('FreeradiusSchema1763769600000');
  });

  /** A table's rows without the columns radgraph added (named rg_...). */
  async function freeradiusColumns(table: string): Promise<unknown[]> {
    const rows = await db.query<Record<string, unknown>>(`SELECT * FROM ${table}`);
    return rows.map((row) =>
      Object.fromEntries(Object.entries(row).filter(([column]) => !column.startsWith('rg_'))),
    );
  }

  it.each([...FREERADIUS_TABLES])('%s keeps every row, unchanged', async (table) => {
    expect(before[table].length).toBeGreaterThan(0);
    expect(await freeradiusColumns(table)).toEqual(before[table]);
  });

  it("adds only radacct.rg_seen_at to FreeRADIUS's columns, set for the rows it found", async () => {
    const rows = await db.query<Record<string, unknown>>('SELECT * FROM radacct');
    expect(Object.keys(rows[0]).filter((c) => c.startsWith('rg_'))).toEqual(['rg_seen_at']);
    expect(rows[0].rg_seen_at).toBeInstanceOf(Date);
  });

  it('keeps 64-bit counters exact', async () => {
    const [row] = await db.query<{ acctinputoctets: string }>(
      'SELECT acctinputoctets FROM radacct',
    );
    expect(row.acctinputoctets).toBe('9007199254740993');
  });

  it('running the migrations again changes nothing', async () => {
    await db.migrate();
    for (const table of FREERADIUS_TABLES) {
      expect(await freeradiusColumns(table)).toEqual(before[table]);
    }
  });
});

describe('adopting an embedded SQLite database FreeRADIUS created first', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite', { migrate: false });
    for (const statement of freeradiusSchemaStatements('sqlite')) await db.query(statement);
    await db.query(
      "INSERT INTO radcheck (username, attribute, op, value) VALUES ('bob', 'Cleartext-Password', ':=', 'pw')",
    );
    await db.query("INSERT INTO nas (nasname, shortname, secret) VALUES ('127.0.0.1', 'lo', 'x')");
    await db.migrate();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('keeps the rows FreeRADIUS’s sqlite schema held', async () => {
    expect(await db.query('SELECT username, attribute, op, value FROM radcheck')).toEqual([
      { username: 'bob', attribute: 'Cleartext-Password', op: ':=', value: 'pw' },
    ]);
    expect(await db.query('SELECT nasname, shortname, secret FROM nas')).toEqual([
      { nasname: '127.0.0.1', shortname: 'lo', secret: 'x' },
    ]);
  });
});
