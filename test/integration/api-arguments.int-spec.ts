import { GraphQLSchemaHost } from '@nestjs/graphql';
import {
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { startApp, type RunningApp } from '../support/app';
import { createProfile, gqlData, gqlError } from '../support/graphql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/** The paths to every ID argument and ID input field: ['input', 'profileId']. */
function idLeaves(type: GraphQLInputType, path: string[], depth = 0): string[][] {
  const t = isNonNullType(type) ? type.ofType : type;
  if (isListType(t) || depth > 3) return [];
  if (isInputObjectType(t)) {
    return Object.values(t.getFields()).flatMap((f) =>
      idLeaves(f.type, [...path, f.name], depth + 1),
    );
  }
  return getNamedType(t).name === 'ID' ? [path] : [];
}

function setPath(vars: Record<string, any>, path: string[], value: unknown): Record<string, any> {
  const out = structuredClone(vars);
  let at = out;
  for (const key of path.slice(0, -1)) at = at[key] ??= {};
  at[path[path.length - 1]] = value;
  return out;
}

function operation(kind: string, field: GraphQLField<unknown, unknown>): string {
  const defs = field.args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
  const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const selection = isObjectType(getNamedType(field.type)) ? ' { __typename }' : '';
  return `${kind} Op${defs ? `(${defs})` : ''} { ${field.name}${args ? `(${args})` : ''}${selection} }`;
}

/** Ids that are no id: empty, not a number, not positive, not whole, padded, too large. */
const MALFORMED = ['', 'abc', '-1', '0', '1.5', '1e3', ' 7', '99999999999999999999'];
/** A well-formed id that no row has. */
const MISSING = '999999';

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

  /** Valid variables for each operation with an ID argument; the ID leaf is then replaced. */
  const base = (name: string): Record<string, unknown> => {
    switch (name) {
      case 'createCustomer':
        return { input: { username: 'args-new', password: 'pw-args-123', profileId: ids.profile } };
      case 'updateProfile':
      case 'updateNas':
        return { id: name === 'updateNas' ? ids.nas : ids.profile, input: {} };
      case 'profile':
      case 'deleteProfile':
        return { id: ids.profile };
      case 'nas':
      case 'deleteNas':
        return { id: ids.nas, force: false };
      case 'reconcileNas':
        return { nasId: ids.nas };
      case 'revokeApiKey':
        return { id: ids.apiKey };
      default:
        return { id: ids.customer, profileId: ids.profile, input: {}, amount: '1', force: true };
    }
  };

  /** Every ID argument of every query and mutation, with base variables to send it in. */
  const idArguments = () => {
    const { schema } = api.app.get(GraphQLSchemaHost);
    return (
      [
        ['query', schema.getQueryType()!],
        ['mutation', schema.getMutationType()!],
      ] as const
    ).flatMap(([kind_, root]) =>
      Object.values(root.getFields()).flatMap((field) =>
        field.args
          .flatMap((a) => idLeaves(a.type, [a.name]))
          .map((leaf) => ({ field, leaf, query: operation(kind_, field) })),
      ),
    );
  };

  it('refuses a malformed id in every ID argument with BAD_USER_INPUT naming it (INVALID_ID), not NOT_FOUND', async () => {
    ids.apiKey = (
      await gqlData(
        api,
        'mutation { createApiKey(name: "args-key", role: VIEWER) { apiKey { id } } }',
      )
    ).createApiKey.apiKey.id;
    const all = idArguments();
    const named = all.map((a) => `${a.field.name}(${a.leaf.join('.')})`);
    // The ones the audit named are among them, and they all are checked below.
    expect(named).toEqual(
      expect.arrayContaining([
        'customer(id)',
        'nas(id)',
        'profile(id)',
        'onlineSessions(nasId)',
        'customers(profileId)',
        'auditLog(filter.targetId)',
        'exportCustomers(filter.profileId)',
        'updateProfile(id)',
        'changeCustomerProfile(id)',
        'changeCustomerProfile(profileId)',
        'createCustomer(input.profileId)',
        'reconcileNas(nasId)',
        'revokeApiKey(id)',
      ]),
    );
    const wrong: string[] = [];
    for (const { field, leaf, query } of all) {
      for (const value of MALFORMED) {
        const { status, body } = await api.gql(query, setPath(base(field.name), leaf, value));
        const got = (body.errors ?? []).map((e: any) => ({
          code: e.extensions?.code,
          field: e.extensions?.field,
          reason: e.extensions?.reason,
        }));
        const want = [{ code: 'BAD_USER_INPUT', field: leaf.join('.'), reason: 'INVALID_ID' }];
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          wrong.push(
            `${field.name}(${leaf.join('.')}: ${JSON.stringify(value)}): HTTP ${status} ${JSON.stringify(got)}`,
          );
        }
      }
    }
    expect(wrong).toEqual([]);
    const error = await gqlError(api, '{ onlineSessions(nasId: "") { totalCount } }');
    expect(error.message).toBe(
      'nasId must be an id: a positive integer (digits only, at most 9007199254740991)',
    );
  });

  it('answers a well-formed id with no row as before: NOT_FOUND naming it, or no result', async () => {
    const wrong: string[] = [];
    let notFound = 0;
    for (const { field, leaf, query } of idArguments()) {
      const { body } = await api.gql(query, setPath(base(field.name), leaf, MISSING));
      const error = body.errors?.[0];
      if (error) {
        notFound++;
        if (error.extensions?.code !== 'NOT_FOUND' || error.extensions?.field !== leaf.join('.')) {
          wrong.push(`${field.name}(${leaf.join('.')}): ${JSON.stringify(body.errors)}`);
        }
        continue;
      }
      const answer = body.data?.[field.name];
      const empty =
        answer === null ||
        answer?.__typename?.endsWith('Connection') ||
        (typeof answer === 'string' && answer.split('\n').filter(Boolean).length === 1);
      if (!empty)
        wrong.push(`${field.name}(${leaf.join('.')}): answered ${JSON.stringify(answer)}`);
    }
    expect(wrong).toEqual([]);
    expect(notFound).toBeGreaterThan(10);
    const lists = await gqlData(
      api,
      `query($id: ID) {
        customers(profileId: $id) { totalCount }
        auditLog(filter: { targetId: $id }) { totalCount }
        customer(id: $id) { id }
      }`,
      { id: MISSING },
    );
    expect(lists).toEqual({
      customers: { totalCount: 0 },
      auditLog: { totalCount: 0 },
      customer: null,
    });
    // The well-formed ids that have rows still find them.
    const found = await gqlData(
      api,
      `query($c: ID, $p: ID!, $n: ID!) {
        customer(id: $c) { id }
        profile(id: $p) { id }
        nas(id: $n) { id }
        customers(profileId: $p) { totalCount }
        auditLog(filter: { targetId: $c }) { totalCount }
        onlineSessions(nasId: $n) { totalCount }
      }`,
      { c: ids.customer, p: ids.profile, n: ids.nas },
    );
    expect(found).toMatchObject({
      customer: { id: ids.customer },
      profile: { id: ids.profile },
      nas: { id: ids.nas },
      customers: { totalCount: 3 },
      onlineSessions: { totalCount: 4 },
    });
    expect(found.auditLog.totalCount).toBeGreaterThan(0);
  });

  it('refuses a malformed nasId of sessionEvents and sessionEventBatches over graphql-ws the same way', async () => {
    const client = api.wsClient();
    try {
      for (const query of [
        'subscription($v: ID) { sessionEvents(nasId: $v) { type } }',
        'subscription($v: ID) { sessionEventBatches(nasId: $v) { type } }',
      ]) {
        for (const value of [...MALFORMED, MISSING]) {
          const outcome = await new Promise<unknown>((resolve) => {
            const timer = setTimeout(() => {
              stop();
              resolve('subscribed');
            }, 2000);
            const stop = client.subscribe(
              { query, variables: { v: value } },
              {
                next: (v) => {
                  clearTimeout(timer);
                  resolve(v.errors?.map((e) => e.extensions) ?? 'event');
                },
                error: (e) => {
                  clearTimeout(timer);
                  resolve(Array.isArray(e) ? e.map((x) => x.extensions) : String(e));
                },
                complete: () => undefined,
              },
            );
          });
          const want =
            value === MISSING
              ? { code: 'NOT_FOUND', field: 'nasId' }
              : { code: 'BAD_USER_INPUT', field: 'nasId', reason: 'INVALID_ID' };
          expect([query, value, outcome]).toEqual([query, value, [expect.objectContaining(want)]]);
        }
      }
    } finally {
      await client.dispose();
    }
  });
});
