import { startApp, type RunningApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

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
});
