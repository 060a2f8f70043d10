import { startApp, type RunningApp } from '../support/app';
import { createProfile, gqlData, gqlError } from '../support/graphql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * The arguments every list and every lookup share, over HTTP GraphQL on a real database:
 * page sizes (first/last), an empty page (first: 0), and ids.
 */
describe.each(['mysql', 'sqlite'] as const)('API arguments on %s', (kind) => {
  let db: TestDatabase;
  let api: RunningApp;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    api = await startApp(db, { GRAPHQL_RATE_LIMIT_PER_MINUTE: '0' });
    ids.profile = await createProfile(api, { name: 'args-plan' });
    for (const username of ['args-a', 'args-b', 'args-c']) {
      const made = await gqlData(
        api,
        'mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }',
        { i: { username, password: 'pw-args-123', profileId: ids.profile } },
      );
      ids.customer = made.createCustomer.id;
    }
    await gqlData(api, 'mutation($id: ID!) { renewCustomer(id: $id, force: true) { id } }', {
      id: ids.customer,
    });
    const nas = await gqlData(
      api,
      'mutation($i: CreateNasInput!) { createNas(input: $i) { id } }',
      {
        i: { name: '10.0.0.1', secret: 's3cret-args' },
      },
    );
    ids.nas = nas.createNas.id;
    const insert = `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime)
                    VALUES (?, ?, ?, '10.0.0.1', ?)`;
    const start = kind === 'mysql' ? new Date() : new Date().toISOString().replace('T', ' ');
    for (const [i, username] of ['args-a', 'args-b', 'args-c', 'args-c'].entries()) {
      await db.query(insert, [`s${i}`, `u${i}`, username, start]);
    }
  });

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  /** Every query with first/last, as `$n`. */
  const SIZED = [
    'query($n: Int) { customers(first: $n) { totalCount } }',
    'query($n: Int) { onlineSessions(first: $n) { totalCount } }',
    'query($n: Int) { onlineSessions(first: $n, search: "args") { totalCount } }',
    'query($n: Int) { auditLog(first: $n) { totalCount } }',
    'query($n: Int) { expiringCustomers(withinDays: 3660, first: $n) { totalCount } }',
    'query($n: Int!) { topSessions(first: $n) { id } }',
    'query($n: Int) { customers(first: 1) { edges { node { sessions(first: $n) { totalCount } } } } }',
    'query($n: Int) { customers(first: 1) { edges { node { ledger(first: $n) { id } } } } }',
    'query($n: Int!) { customers(first: 1) { edges { node { authAttempts(last: $n) { reply } } } } }',
  ];

  it('refuses a negative first or last as negative (PAGE_SIZE_NEGATIVE), not as too large', async () => {
    for (const query of SIZED) {
      const field = query.includes('last:') ? 'last' : 'first';
      for (const [n, reason] of [
        [-1, 'PAGE_SIZE_NEGATIVE'],
        [-2_147_483_648, 'PAGE_SIZE_NEGATIVE'],
        [501, 'PAGE_TOO_LARGE'],
      ] as const) {
        const error = await gqlError(api, query, { n });
        expect([query, n, error.extensions]).toEqual([
          query,
          n,
          expect.objectContaining({ code: 'BAD_USER_INPUT', field, reason }),
        ]);
        if (n < 0)
          expect(error.message).toMatch(new RegExp(`^${field} must not be negative.*0 to 500`));
      }
    }
    // Inline, as the audit sent it.
    const inline = await gqlError(api, '{ onlineSessions(first: -1) { totalCount } }');
    expect(inline.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'first',
      reason: 'PAGE_SIZE_NEGATIVE',
    });
  });

  it('answers first: 0 with no edges and hasNextPage true when nodes follow, on every connection (Relay)', async () => {
    const connections: Array<[string, string]> = [
      ['customers', 'customers(first: $n, after: $after)'],
      ['onlineSessions', 'onlineSessions(first: $n, after: $after)'],
      ['onlineSessions', 'onlineSessions(first: $n, after: $after, nasId: "NAS")'],
      ['onlineSessions', 'onlineSessions(first: $n, after: $after, search: "args")'],
      ['auditLog', 'auditLog(first: $n, after: $after)'],
      ['expiringCustomers', 'expiringCustomers(withinDays: 3660, first: $n, after: $after)'],
      ['customer.sessions', 'customer(id: "CUSTOMER") { sessions(first: $n, after: $after)'],
    ];
    for (const [name, call] of connections) {
      const nested = name.includes('.');
      const query = `query($n: Int, $after: String) { ${call
        .replace('NAS', ids.nas)
        .replace(
          'CUSTOMER',
          ids.customer,
        )} { totalCount edges { cursor } pageInfo { hasNextPage endCursor } }${nested ? ' }' : ''} }`;
      const read = async (n: number, after: string | null) => {
        const data = await gqlData(api, query, { n, after });
        return nested ? data.customer.sessions : data[name];
      };
      const all = await read(500, null);
      expect([call, all.totalCount > 0, all.pageInfo.hasNextPage]).toEqual([call, true, false]);
      expect([call, await read(0, null)]).toEqual([
        call,
        {
          totalCount: all.totalCount,
          edges: [],
          pageInfo: { hasNextPage: true, endCursor: null },
        },
      ]);
      // After the first node, more follow when there are two or more; after the last, none do.
      const first = all.edges[0].cursor;
      const last = all.edges[all.edges.length - 1].cursor;
      expect([call, (await read(0, first)).pageInfo.hasNextPage]).toEqual([
        call,
        all.edges.length > 1,
      ]);
      expect([call, (await read(0, last)).pageInfo]).toEqual([
        call,
        { hasNextPage: false, endCursor: null },
      ]);
    }
  });
});
