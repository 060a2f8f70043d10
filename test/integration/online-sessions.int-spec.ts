import { startApp, type RunningApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { sqlDatetime } from '../../src/common/sql/datetime';

/** Who is online: open radacct rows, as FreeRADIUS (or the listener) wrote them. */
describe.each(['mysql', 'sqlite'] as const)('online sessions on %s', (kind) => {
  let db: TestDatabase;
  let api: RunningApp;
  let coreId: string;

  async function ok<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const { body } = await api.gql<T>(query, variables);
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data as T;
  }

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    api = await startApp(db);
    await db.query(
      "INSERT INTO nas (nasname, shortname, type, secret) VALUES ('10.0.0.1', 'core-1', 'mikrotik', 's3cret-core')",
    );
    await db.query(
      "INSERT INTO nas (nasname, shortname, type, secret) VALUES ('10.0.0.2', 'edge-2', 'mikrotik', 's3cret-edge')",
    );
    coreId = String(
      (await db.query<{ id: number }>("SELECT id FROM nas WHERE nasname = '10.0.0.1'"))[0].id,
    );
    const insert = `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctstoptime, acctinputoctets, acctoutputoctets, framedipaddress, callingstationid)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
    const at = (d: Date) =>
      kind === 'mysql' ? d : d.toISOString().replace('T', ' ').replace('Z', '');
    const now = Date.now();
    const rows: unknown[][] = [
      [
        'a1',
        'ua1',
        'alice',
        '10.0.0.1',
        at(new Date(now - 3600_000)),
        null,
        '5368709243',
        '100',
        '100.64.0.1',
        'AA:BB:CC:00:00:01',
      ],
      [
        'b1',
        'ub1',
        'bob',
        '10.0.0.1',
        at(new Date(now - 1800_000)),
        null,
        '10',
        '20',
        '100.64.0.2',
        'AA:BB:CC:00:00:02',
      ],
      [
        'c1',
        'uc1',
        'carol',
        '10.0.0.2',
        at(new Date(now - 600_000)),
        null,
        '1000',
        '9007199254740993',
        '100.64.0.3',
        'AA:BB:CC:00:00:03',
      ],
      [
        'd1',
        'ud1',
        'dave',
        '10.0.0.1',
        at(new Date(now - 7200_000)),
        at(new Date(now - 3600_000)),
        '1',
        '1',
        '100.64.0.4',
        'AA:BB:CC:00:00:04',
      ],
      [
        'x1',
        'ux1',
        'xavier',
        '10.9.9.9',
        at(new Date(now - 60_000)),
        null,
        '0',
        '0',
        '100.64.0.9',
        'AA:BB:CC:00:00:09',
      ],
    ];
    for (const r of rows) await db.query(insert, r);
  });

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const LIST = `query($nas: ID, $s: String, $f: Int, $a: String) { onlineSessions(nasId: $nas, search: $s, first: $f, after: $a) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { username ipAddress macAddress nasIpAddress nas { name shortname } } } } }`;
  const users = (data: any) => data.onlineSessions.edges.map((e: any) => e.node.username);

  it('lists only open sessions, newest first, with their NAS', async () => {
    const data = await ok(LIST);
    expect(users(data)).toEqual(['xavier', 'carol', 'bob', 'alice']);
    expect(data.onlineSessions.totalCount).toBe(4);
    expect(data.onlineSessions.edges[1].node.nas).toEqual({
      name: '10.0.0.2',
      shortname: 'edge-2',
    });
    expect(data.onlineSessions.edges[0].node.nas).toBeNull(); // no nas row for 10.9.9.9
  });

  it('filters by NAS and searches username, IP and MAC', async () => {
    expect(users(await ok(LIST, { nas: coreId }))).toEqual(['bob', 'alice']);
    expect(users(await ok(LIST, { s: 'ALI' }))).toEqual(['alice']);
    expect(users(await ok(LIST, { s: '100.64.0.3' }))).toEqual(['carol']);
    expect(users(await ok(LIST, { s: 'aa:bb:cc:00:00:02' }))).toEqual(['bob']);
    expect(users(await ok(LIST, { s: '100.64.0.4' }))).toEqual([]); // dave is offline
    const { body } = await api.gql(LIST, { nas: '999999' });
    expect(body.errors?.[0].extensions).toMatchObject({ code: 'NOT_FOUND', field: 'nasId' });
  });

  it('pages with cursors', async () => {
    const first = await ok(LIST, { f: 3 });
    expect(first.onlineSessions.pageInfo.hasNextPage).toBe(true);
    const next = await ok(LIST, { f: 3, a: first.onlineSessions.pageInfo.endCursor });
    expect(users(next)).toEqual(['alice']);
    expect(next.onlineSessions.pageInfo.hasNextPage).toBe(false);
  });

  it('sums the online sessions per NAS, with exact 64-bit totals', async () => {
    const { onlineSummary } = await ok(
      `{ onlineSummary { total byNas { nasIpAddress count uploadBytes downloadBytes nas { shortname } } } }`,
    );
    expect(onlineSummary.total).toBe(4);
    expect(onlineSummary.byNas).toEqual([
      {
        nasIpAddress: '10.0.0.1',
        count: 2,
        uploadBytes: 5368709253,
        downloadBytes: 120,
        nas: { shortname: 'core-1' },
      },
      {
        nasIpAddress: '10.0.0.2',
        count: 1,
        uploadBytes: 1000,
        downloadBytes: '9007199254740993',
        nas: { shortname: 'edge-2' },
      },
      { nasIpAddress: '10.9.9.9', count: 1, uploadBytes: 0, downloadBytes: 0, nas: null },
    ]);
  });

  it('gives the top sessions by current usage', async () => {
    const { topSessions } = await ok(`{ topSessions(first: 2) { username } }`);
    expect(topSessions).toEqual([{ username: 'carol' }, { username: 'alice' }]);
  });

  it('orders top sessions of equal usage newest row first, the same at every call', async () => {
    const tied = ['tie-1', 'tie-2', 'tie-3', 'tie-4', 'tie-5'];
    for (const u of tied) {
      await db.query(
        'INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctinputoctets, acctoutputoctets) VALUES (?, ?, ?, ?, ?, 0, 0)',
        [u, u, u, '10.0.0.2', kind === 'mysql' ? new Date() : sqlDatetime(new Date())],
      );
    }
    try {
      const { topSessions } = await ok(`{ topSessions(first: 500) { username } }`);
      const order = topSessions.map((s: { username: string }) => s.username);
      expect(order.filter((u: string) => tied.includes(u))).toEqual([...tied].reverse());
    } finally {
      await db.query(`DELETE FROM radacct WHERE acctuniqueid IN ('${tied.join("', '")}')`);
    }
  });

  /** A profile named `profile`, and a customer of it for each of `usernames`. */
  async function createCustomers(profile: string, usernames: readonly string[]): Promise<void> {
    const { createProfile } = await ok(
      `mutation($n: String!) { createProfile(input: { name: $n, downloadRateKbps: 1, uploadRateKbps: 1, validityDays: 1 }) { id } }`,
      { n: profile },
    );
    for (const u of usernames) {
      await ok(
        `mutation($u: String!, $p: ID!) { createCustomer(input: { username: $u, password: "pw", profileId: $p }) { id } }`,
        { u, p: createProfile.id },
      );
    }
  }

  /**
   * The customer `username` and, on SQLite, which compares usernames exactly, another in
   * capitals (MariaDB refuses that one).
   */
  const createCaseTwins = (profile: string, username: string) =>
    createCustomers(profile, kind === 'sqlite' ? [username, username.toUpperCase()] : [username]);

  it("gives a customer's recent authentication attempts from radpostauth, newest first", async () => {
    const { createProfile } = await ok(
      `mutation { createProfile(input: { name: "P", downloadRateKbps: 1, uploadRateKbps: 1, validityDays: 1 }) { id } }`,
    );
    await ok(
      `mutation { createCustomer(input: { username: "alice", password: "pw", profileId: "${createProfile.id}" }) { id } }`,
    );
    const at = (s: string) =>
      kind === 'mysql' ? new Date(s) : s.replace('T', ' ').replace('Z', '');
    for (const [reply, when] of [
      ['Access-Reject', '2026-11-20T08:00:00.000Z'],
      ['Access-Accept', '2026-11-20T08:00:05.000Z'],
      ['Access-Reject', '2026-11-21T09:30:00.000Z'],
    ]) {
      await db.query(
        "INSERT INTO radpostauth (username, pass, reply, authdate) VALUES ('alice', '', ?, ?)",
        [reply, at(when)],
      );
    }
    const { customer } = await ok(
      `{ customer(username: "alice") { authAttempts(last: 2) { at reply accepted } } }`,
    );
    expect(customer.authAttempts).toEqual([
      { at: '2026-11-21T09:30:00.000Z', reply: 'Access-Reject', accepted: false },
      { at: '2026-11-20T08:00:05.000Z', reply: 'Access-Accept', accepted: true },
    ]);
  });

  it("reads a customer's last attempts without reading all of them: a router stuck in a reject loop", async () => {
    await createCustomers('Loop', ['stuck']);
    // 300,000 rejects: one every 10 seconds for a month.
    await db.query(
      kind === 'mysql'
        ? "INSERT INTO radpostauth (username, pass, reply, authdate) SELECT 'stuck', '', 'Access-Reject', '2026-11-01 00:00:00' FROM seq_1_to_300000"
        : "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 300000) INSERT INTO radpostauth (username, pass, reply, authdate) SELECT 'stuck', '', 'Access-Reject', '2026-11-01 00:00:00' FROM s",
    );
    await db.query(
      "INSERT INTO radpostauth (username, pass, reply, authdate) VALUES ('stuck', '', 'Access-Accept', '2026-12-01 09:00:00')",
    );
    try {
      const QUERY = `{ customer(username: "stuck") { authAttempts(last: 2) { at reply } } }`;
      await ok(QUERY); // warm
      // The best of three, so that a moment of load on a shared machine does not decide it.
      let took = Infinity;
      let customer: any;
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        ({ customer } = await ok(QUERY));
        took = Math.min(took, performance.now() - started);
      }
      expect(customer.authAttempts).toEqual([
        { at: '2026-12-01T09:00:00.000Z', reply: 'Access-Accept' },
        { at: '2026-11-01T00:00:00.000Z', reply: 'Access-Reject' },
      ]);
      // Reading all 300,001 rows took 2.5 s on MariaDB and 0.8 s on SQLite; two take
      // milliseconds (the bound leaves room for a loaded machine, and the best of three for a
      // passing one).
      expect(took).toBeLessThan(300);
    } finally {
      await db.query("DELETE FROM radpostauth WHERE username = 'stuck'");
    }
  });

  it('gives a stopped session a duration from its times when FreeRADIUS wrote no acctsessiontime', async () => {
    // FreeRADIUS's Stop query writes acctsessiontime = %{%{Acct-Session-Time}:-NULL}: NULL
    // when the NAS sent none.
    await db.query(
      `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctstoptime, acctsessiontime)
       VALUES ('h1', 'u-h1', 'alice', '10.0.0.1', '2026-11-19 10:00:00', '2026-11-19 11:30:15', NULL),
              ('h2', 'u-h2', 'alice', '10.0.0.1', '2026-11-19 12:00:00', '2026-11-19 13:00:00', 3000),
              ('h3', 'u-h3', 'alice', '10.0.0.1', NULL, '2026-11-19 14:00:00', NULL)`,
    );
    const { customer } = await ok(
      `{ customer(username: "alice") { sessions(first: 3) { edges { node { uniqueId durationSeconds } } } } }`,
    );
    expect(customer.sessions.edges.map((e: any) => e.node)).toEqual([
      { uniqueId: 'u-h3', durationSeconds: null }, // no start: unknown
      { uniqueId: 'u-h2', durationSeconds: 3000 }, // the NAS's own figure wins
      { uniqueId: 'u-h1', durationSeconds: 5415 },
    ]);
    await db.query("DELETE FROM radacct WHERE acctuniqueid IN ('u-h1', 'u-h2', 'u-h3')");
  });

  it("finds a customer's session and attempts whatever the case the NAS sent their name in", async () => {
    // MariaDB compares usernames without case, so FreeRADIUS accepts "CASEY" for the customer
    // "casey", and radacct and radpostauth hold "CASEY".
    const { createProfile } = await ok(
      `mutation { createProfile(input: { name: "Case", downloadRateKbps: 1, uploadRateKbps: 1, validityDays: 1 }) { id } }`,
    );
    await ok(
      `mutation { createCustomer(input: { username: "casey", password: "pw", profileId: "${createProfile.id}" }) { id } }`,
    );
    await db.query(
      "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime) VALUES ('s-case', 'u-case', 'CASEY', '10.0.0.1', '2026-11-20 08:00:00')",
    );
    await db.query(
      "INSERT INTO radpostauth (username, pass, reply, authdate) VALUES ('casey', '', 'Access-Reject', '2026-11-20 07:59:00'), ('CASEY', '', 'Access-Accept', '2026-11-20 08:00:00')",
    );
    const { customer } = await ok(
      `{ customer(username: "casey") { online status currentSession { uniqueId username } authAttempts(last: 5) { reply } } }`,
    );
    if (kind === 'mysql') {
      expect(customer).toEqual({
        online: true,
        status: 'ONLINE',
        currentSession: { uniqueId: 'u-case', username: 'CASEY' },
        authAttempts: [{ reply: 'Access-Accept' }, { reply: 'Access-Reject' }],
      });
    } else {
      // SQLite compares text exactly, as its keys do: "CASEY" is another user there.
      expect(customer).toEqual({
        online: false,
        status: 'OFFLINE',
        currentSession: null,
        authAttempts: [{ reply: 'Access-Reject' }],
      });
    }
    // And the other way: the session's customer, on the Online Customers page and in events.
    const { onlineSessions } = await ok(
      `{ onlineSessions(search: "CASEY") { edges { node { username customer { username } } } } }`,
    );
    expect(onlineSessions.edges).toEqual([
      {
        node: {
          username: 'CASEY',
          customer: kind === 'mysql' ? { username: 'casey' } : null,
        },
      },
    ]);
    await db.query("DELETE FROM radacct WHERE acctuniqueid = 'u-case'");
  });

  it('gives each session its own customer when two logins differ only in case, asked together', async () => {
    await createCaseTwins('Twins', 'twin');
    await db.query(
      "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime) VALUES ('s-tw1', 'u-tw1', 'twin', '10.0.0.1', '2026-11-20 08:00:00'), ('s-tw2', 'u-tw2', 'TWIN', '10.0.0.1', '2026-11-20 08:00:00')",
    );
    try {
      // One page: both sessions' customers are read in one batch.
      const { onlineSessions } = await ok(
        `{ onlineSessions(search: "twin") { edges { node { username customer { username } } } } }`,
      );
      const owners = onlineSessions.edges
        .map((e: any) => [e.node.username, e.node.customer?.username])
        .sort();
      expect(owners).toEqual([
        ['TWIN', kind === 'mysql' ? 'twin' : 'TWIN'],
        ['twin', 'twin'],
      ]);
    } finally {
      await db.query("DELETE FROM radacct WHERE acctuniqueid IN ('u-tw1', 'u-tw2')");
    }
  });

  it('gives a session the customer of its login in another case only where the database compares so, whatever the page holds', async () => {
    await createCustomers('Solo', ['solo']);
    await db.query(
      "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime) VALUES ('s-so1', 'u-so1', 'solo', '10.0.0.1', '2026-11-20 08:00:00'), ('s-so2', 'u-so2', 'SOLO', '10.0.0.1', '2026-11-20 08:00:00')",
    );
    try {
      const owners = async (search: string) =>
        (
          await ok(
            `query($s: String) { onlineSessions(search: $s) { edges { node { username customer { username } } } } }`,
            {
              s: search,
            },
          )
        ).onlineSessions.edges
          .map((e: any) => [e.node.username, e.node.customer?.username ?? null])
          .sort();
      // SQLite compares exactly: "SOLO" is no customer's login there, alone on its page or not.
      const upper = kind === 'mysql' ? 'solo' : null;
      expect(await owners('solo')).toEqual([
        ['SOLO', upper],
        ['solo', 'solo'],
      ]);
      await db.query(
        "UPDATE radacct SET acctstoptime = '2026-11-20 09:00:00' WHERE acctuniqueid = 'u-so1'",
      );
      expect(await owners('solo')).toEqual([['SOLO', upper]]);
    } finally {
      await db.query("DELETE FROM radacct WHERE acctuniqueid IN ('u-so1', 'u-so2')");
    }
  });

  it("never gives a customer another's session or attempts when two logins differ only in case", async () => {
    await createCaseTwins('Pairs', 'pair');
    // Only "PAIR" is online and has tried to log in; both customers are read in one batch.
    await db.query(
      "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime) VALUES ('s-pr', 'u-pr', 'PAIR', '10.0.0.1', '2026-11-20 08:00:00')",
    );
    await db.query(
      "INSERT INTO radpostauth (username, pass, reply, authdate) VALUES ('PAIR', '', 'Access-Accept', '2026-11-20 08:00:00')",
    );
    const CUSTOMERS = `{ customers(search: "pair") { edges { node { username online currentSession { uniqueId } authAttempts { reply } } } } }`;
    const owners = async () =>
      (await ok(CUSTOMERS)).customers.edges
        .map((e: any) => e.node)
        .sort((a: any, b: any) => a.username.localeCompare(b.username));
    try {
      const pr = {
        currentSession: { uniqueId: 'u-pr' },
        authAttempts: [{ reply: 'Access-Accept' }],
      };
      if (kind === 'mysql') {
        // The NAS sent the login in another case: still the customer's.
        expect(await owners()).toEqual([{ username: 'pair', online: true, ...pr }]);
        return;
      }
      expect(await owners()).toEqual([
        { username: 'pair', online: false, currentSession: null, authAttempts: [] },
        { username: 'PAIR', online: true, ...pr },
      ]);
      // Both online, both with attempts: each sees only its own.
      await db.query(
        "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime) VALUES ('s-pl', 'u-pl', 'pair', '10.0.0.1', '2026-11-20 09:00:00')",
      );
      await db.query(
        "INSERT INTO radpostauth (username, pass, reply, authdate) VALUES ('pair', '', 'Access-Reject', '2026-11-20 09:00:00')",
      );
      expect(await owners()).toEqual([
        {
          username: 'pair',
          online: true,
          currentSession: { uniqueId: 'u-pl' },
          authAttempts: [{ reply: 'Access-Reject' }],
        },
        { username: 'PAIR', online: true, ...pr },
      ]);
    } finally {
      await db.query("DELETE FROM radacct WHERE acctuniqueid IN ('u-pr', 'u-pl')");
    }
  });

  it('gives an IPv6 session its addresses: framed address, link prefix and delegated prefix', async () => {
    await db.query(
      `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, framedipaddress, framedipv6address, framedipv6prefix, delegatedipv6prefix)
       VALUES ('s-v6', 'u-v6', 'v6only', '10.0.0.1', '', '2001:db8::5', '2001:db8:1::/64', '2001:db8:100::/56')`,
    );
    try {
      const { onlineSessions } = await ok(
        `{ onlineSessions(search: "v6only") { edges { node { ipAddress ipv6Address ipv6Prefix delegatedIpv6Prefix } } } }`,
      );
      expect(onlineSessions.edges).toEqual([
        {
          node: {
            ipAddress: null,
            ipv6Address: '2001:db8::5',
            ipv6Prefix: '2001:db8:1::/64',
            delegatedIpv6Prefix: '2001:db8:100::/56',
          },
        },
      ]);
    } finally {
      await db.query("DELETE FROM radacct WHERE acctuniqueid = 'u-v6'");
    }
  });

  it('lists the NAS devices with their online counts, never their secret', async () => {
    const { nasDevices } = await ok(
      `{ nasDevices { id name shortname type coaPort onlineCount } }`,
    );
    expect(nasDevices).toEqual([
      {
        id: coreId,
        name: '10.0.0.1',
        shortname: 'core-1',
        type: 'mikrotik',
        coaPort: 3799,
        onlineCount: 2,
      },
      expect.objectContaining({ name: '10.0.0.2', onlineCount: 1 }),
    ]);
    const { body } = await api.gql(`{ nasDevices { secret } }`);
    expect(body.errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  // Runs last: its sessions would change the counts above.
  describe('search', () => {
    const search = async (s: string, more: Record<string, unknown> = {}) =>
      users(await ok(LIST, { s, ...more }));

    beforeAll(async () => {
      const { createProfile } = await ok(
        `mutation { createProfile(input: { name: "Search", downloadRateKbps: 1, uploadRateKbps: 1, validityDays: 1 }) { id } }`,
      );
      for (const username of [
        'grace.wanjiru',
        'jane_doe7',
        'janeXdoe7',
        'long.customer.name.wanjiku',
      ]) {
        await ok(
          `mutation($u: String!, $p: ID!) { createCustomer(input: { username: $u, password: "pw", profileId: $p }) { id } }`,
          { u: username, p: createProfile.id },
        );
      }
      // Oldest first; nocust.kamau and pct%user are FreeRADIUS users with no radgraph customer.
      const sessions = [
        ['grace.wanjiru', '10.0.0.1', '100.70.1.10', '5C:E8:83:12:34:56'],
        ['nocust.kamau', '10.0.0.2', '100.70.1.11', '5C:E8:84:00:00:01'],
        ['jane_doe7', '10.0.0.2', '100.70.12.5', '00:11:22:33:44:55'],
        ['janeXdoe7', '10.0.0.2', '100.71.0.1', '00:11:22:33:44:66'],
        ['pct%user', '10.0.0.2', '100.72.0.1', 'DE-AD-BE-EF-00-01'],
        ['long.customer.name.wanjiku', '10.0.0.2', '100.73.0.1', 'deadbeef0002'],
        ['cisco.kiprop', '10.0.0.2', '100.74.0.1', 'c0ff.ee00.0003'],
      ];
      for (const [username, nas, ip, mac] of sessions) {
        await db.query(
          `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, framedipaddress, callingstationid)
           VALUES (?, ?, ?, ?, ?, ?)`,
          [`s-${username}`, `u-${username}`, username, nas, ip, mac],
        );
      }
    });

    it('finds IP addresses by prefix, not by infix', async () => {
      expect(await search('100.70.1.')).toEqual(['nocust.kamau', 'grace.wanjiru']);
      expect(await search('100.70.1')).toEqual(['jane_doe7', 'nocust.kamau', 'grace.wanjiru']);
      expect(await search('70.1.1')).toEqual([]);
    });

    it("finds MAC addresses by prefix, written with ':', '-' or no separators", async () => {
      expect(await search('5c:e8:83')).toEqual(['grace.wanjiru']);
      expect(await search('5C-E8-8')).toEqual(['nocust.kamau', 'grace.wanjiru']);
      expect(await search('5ce88312')).toEqual(['grace.wanjiru']);
      expect(await search('de:ad:be:ef')).toEqual(['long.customer.name.wanjiku', 'pct%user']);
      expect(await search('DE-AD-BE-EF-00-01')).toEqual(['pct%user']);
      expect(await search('12:34:56')).toEqual([]);
    });

    it('finds customers by a part of their username, in any case', async () => {
      expect(await search('WANJIRU')).toEqual(['grace.wanjiru']);
      expect(await search('wanji')).toEqual(['long.customer.name.wanjiku', 'grace.wanjiru']);
      expect(await search('JANE')).toEqual(['janeXdoe7', 'jane_doe7']);
      expect(await search('doe7')).toEqual(['janeXdoe7', 'jane_doe7']);
      // Longer than a search key (16 characters), and shorter than one (3).
      expect(await search('customer.name.wanjiku')).toEqual(['long.customer.name.wanjiku']);
      expect(await search('nj')).toEqual(['long.customer.name.wanjiku', 'grace.wanjiru']);
    });

    it("finds MAC addresses written in Cisco's groups of four, and finds those written so", async () => {
      expect(await search('5ce8.8312')).toEqual(['grace.wanjiru']);
      expect(await search('DEAD.BEEF')).toEqual(['long.customer.name.wanjiku', 'pct%user']);
      expect(await search('c0:ff:ee:00')).toEqual(['cisco.kiprop']);
      expect(await search('c0ffee')).toEqual(['cisco.kiprop']);
      expect(await search('C0FF.EE00.0003')).toEqual(['cisco.kiprop']);
    });

    it('finds a username with no customer by its prefix only', async () => {
      expect(await search('NoCust.')).toEqual(['nocust.kamau']);
      expect(await search('kamau')).toEqual([]);
    });

    it('takes % and _ literally', async () => {
      expect(await search('pct%')).toEqual(['pct%user']);
      expect(await search('%user')).toEqual([]);
      expect(await search('jane_')).toEqual(['jane_doe7']);
      expect(await search('e_d')).toEqual(['jane_doe7']);
      expect(await search('_')).toEqual(['jane_doe7']);
    });

    it('counts and pages what a search finds, with or without a NAS', async () => {
      const first = await ok(LIST, { s: '100.70.1', f: 2 });
      expect(users(first)).toEqual(['jane_doe7', 'nocust.kamau']);
      expect(first.onlineSessions.totalCount).toBe(3);
      expect(first.onlineSessions.pageInfo.hasNextPage).toBe(true);
      const next = await ok(LIST, {
        s: '100.70.1',
        f: 2,
        a: first.onlineSessions.pageInfo.endCursor,
      });
      expect(users(next)).toEqual(['grace.wanjiru']);
      expect(next.onlineSessions.totalCount).toBe(3);
      expect(next.onlineSessions.pageInfo.hasNextPage).toBe(false);
      const past = await ok(LIST, {
        s: '100.70.1',
        a: next.onlineSessions.pageInfo.endCursor,
      });
      expect(past.onlineSessions).toMatchObject({ totalCount: 3, edges: [] });
      const core = await ok(LIST, { s: '100.70.1', nas: coreId });
      expect(users(core)).toEqual(['grace.wanjiru']);
      expect(core.onlineSessions.totalCount).toBe(1);
      expect((await ok(LIST, { s: 'wanji', f: 0 })).onlineSessions.totalCount).toBe(2);
    });

    it('refuses a term longer than 100 characters', async () => {
      const { body } = await api.gql(LIST, { s: 'x'.repeat(101) });
      expect(body.errors?.[0].extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'search',
      });
    });
  });
});
