import { GraphQLSchemaHost } from '@nestjs/graphql';
import {
  getNamedType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { startApp, type RunningApp } from '../support/app';
import { closedPort } from '../support/routeros-double';
import { gqlData } from '../support/graphql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/** Text an attacker, a broken client or a copy-paste sends. */
const HOSTILE: Array<[string, string]> = [
  ['quote', "' OR '1'='1"],
  ['stacked', "x'; DROP TABLE rg_customers; --"],
  ['union', "' UNION SELECT secret FROM nas -- "],
  ['double quote', '"); DELETE FROM radcheck; --'],
  ['backslash', 'abc\\'],
  ['backslash quote', "\\' OR 1=1 #"],
  ['LIKE wildcards', '%_%'],
  ['NUL', 'ab\u0000cd'],
  ['RTL override', 'abc\u202Etxt.exe'],
  ['emoji', 'cust😀🚀'],
  ['ZWJ sequence', 'fam👩‍👩‍👧'],
  ['lone surrogate', 'abc\ud800'],
  ['combining', 'jose\u0301'],
  ['oversized', 'y'.repeat(100_000)],
  ['empty', ''],
];

/** The only answers hostile input may get: a result, or one of these. */
const CLEAN = new Set(['BAD_USER_INPUT', 'NOT_FOUND', 'CONFLICT', 'GRAPHQL_VALIDATION_FAILED']);

/** A path to a String or ID argument, through input objects: ['input', 'name']. */
type Leaf = string[];

function leaves(type: GraphQLInputType, path: string[], depth = 0): Leaf[] {
  const t = isNonNullType(type) ? type.ofType : type;
  if (isListType(t) || depth > 3) return [];
  if (isInputObjectType(t)) {
    return Object.values(t.getFields()).flatMap((f) =>
      leaves(f.type, [...path, f.name], depth + 1),
    );
  }
  return ['String', 'ID'].includes(getNamedType(t).name) ? [path] : [];
}

function setPath(vars: Record<string, any>, path: Leaf, value: unknown): Record<string, any> {
  const out = structuredClone(vars);
  let at = out;
  for (const key of path.slice(0, -1)) at = at[key] ??= {};
  at[path[path.length - 1]] = value;
  return out;
}

/** The fields a mutation's answer echoes back, to check what was stored. */
const ECHO: Record<string, string> = {
  Customer: 'id accountNo username phone name',
  Profile: 'id name',
  Nas: 'id name shortname description',
  CreatedApiKey: 'apiKey { id name }',
};

function document(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): string {
  const defs = field.args.map((a: GraphQLArgument) => `$${a.name}: ${String(a.type)}`).join(', ');
  const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
  const named = getNamedType(field.type);
  const selection = isObjectType(named) ? ` { __typename ${ECHO[named.name] ?? ''} }` : '';
  return `${kind} Op${defs ? `(${defs})` : ''} { ${field.name}${args ? `(${args})` : ''}${selection} }`;
}

/**
 * Hostile input through the whole API, on a real database: SQL metacharacters, NUL, bidi
 * overrides, emoji, lone surrogates and 100,000-character strings in every String and ID
 * argument and input field of every query and mutation, and huge `first` values. Each gets
 * a result or a clean error, what is stored is what was sent, a search matches only what
 * contains its text, and no table or row outside the operation is touched.
 */
describe.each(['mysql', 'sqlite'] as const)('hostile input on %s', (kind) => {
  let db: TestDatabase;
  let api: RunningApp;
  const ids: Record<string, string> = {};
  let canary: unknown[];
  let tables: string[];

  const listTables = async () =>
    (kind === 'mysql'
      ? (await db.query('SHOW TABLES')).map((r) => String(Object.values(r)[0]))
      : (await db.query("SELECT name FROM sqlite_master WHERE type = 'table'")).map((r) => r.name)
    ).sort();
  const canaryRows = () =>
    db.query(
      "SELECT attribute, op, value FROM radcheck WHERE username = 'canary' ORDER BY attribute",
    );

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    api = await startApp(db, {
      COA_TIMEOUT_MS: '100',
      COA_RETRIES: '0',
      GRAPHQL_RATE_LIMIT_PER_MINUTE: '0', // thousands of requests, one caller
    });
    const p = await gqlData(
      api,
      'mutation { createProfile(input: { name: "base", downloadRateKbps: 1024, uploadRateKbps: 512, validityDays: 30 }) { id } }',
    );
    ids.profile = p.createProfile.id;
    const mk = async (username: string) =>
      (
        await gqlData(
          api,
          'mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }',
          {
            i: { username, password: 'pw-canary-1', profileId: ids.profile, phone: '0700 111 222' },
          },
        )
      ).createCustomer.id as string;
    ids.customer = await mk('target');
    await mk('canary');
    const nas = await gqlData(
      api,
      'mutation($i: CreateNasInput!) { createNas(input: $i) { id } }',
      { i: { name: '127.0.0.1', secret: 'nas-s3cret', coaPort: await closedPort() } },
    );
    ids.nas = nas.createNas.id;
    const key = await gqlData(
      api,
      'mutation { createApiKey(name: "target-key", role: VIEWER) { apiKey { id } } }',
    );
    ids.apiKey = key.createApiKey.apiKey.id;
    canary = await canaryRows();
    tables = await listTables();
  });

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  let seq = 0;
  /** Valid variables for each operation; a leaf then gets the hostile value. */
  const base = (name: string): Record<string, unknown> => {
    seq++;
    const customerOps = [
      'updateCustomer',
      'changeCustomerProfile',
      'renewCustomer',
      'suspendCustomer',
      'resumeCustomer',
      'disconnectCustomer',
      'deleteCustomer',
      'creditCustomer',
      'resetCustomerPassword',
    ];
    if (customerOps.includes(name)) {
      return {
        id: ids.customer,
        profileId: ids.profile,
        input: {},
        amount: '1',
        force: true,
      };
    }
    switch (name) {
      case 'createCustomer':
        return { input: { username: `h${seq}`, password: 'pw-123456', profileId: ids.profile } };
      case 'createProfile':
        return {
          input: { name: `hp${seq}`, downloadRateKbps: 1, uploadRateKbps: 1, validityDays: 1 },
        };
      case 'updateProfile':
        return { id: ids.profile, input: {} };
      case 'createNas':
        return { input: { name: `10.77.${seq >> 8}.${seq & 255}`, secret: 'nas-secret-2' } };
      case 'updateNas':
        return { id: ids.nas, input: {} };
      case 'createApiKey':
        return { name: `hk${seq}`, role: 'VIEWER' };
      case 'revokeApiKey':
        return { id: ids.apiKey };
      case 'nas':
      case 'deleteNas':
        return { id: ids.nas };
      case 'reconcileNas':
        return { nasId: ids.nas };
      case 'profile':
      case 'deleteProfile':
        return { id: ids.profile };
      default:
        return {};
    }
  };

  it('gives every String and ID input of every operation a result or a clean error, and stores what was sent', async () => {
    const { schema } = api.app.get(GraphQLSchemaHost);
    const roots = [
      ['query', schema.getQueryType()!],
      ['mutation', schema.getMutationType()!],
    ] as const;
    const failures: string[] = [];
    let calls = 0;
    let stored = 0;
    for (const [kind_, root] of roots) {
      for (const field of Object.values(root.getFields())) {
        const query = document(kind_, field);
        for (const leaf of field.args.flatMap((a) => leaves(a.type, [a.name]))) {
          for (const [label, value] of HOSTILE) {
            const variables = setPath(base(field.name), leaf, value);
            const { status, body } = await api.gql(query, variables);
            calls++;
            const where = `${field.name}(${leaf.join('.')} = ${label})`;
            const codes = (body.errors ?? []).map((e: any) => e.extensions?.code ?? 'none');
            if (status >= 500 || codes.some((c: string) => !CLEAN.has(c))) {
              failures.push(`${where}: HTTP ${status} ${JSON.stringify(body.errors)}`);
              continue;
            }
            const answer = body.data?.[field.name];
            if (codes.length > 0 || kind_ !== 'mutation' || !answer || typeof answer !== 'object') {
              continue;
            }
            // Stored as sent: the answer echoes the field, and so does a fresh read.
            const echoed = leaf.length === 2 ? (answer.apiKey ?? answer)[leaf[1]] : undefined;
            // An empty optional text clears the field (null), or leaves it to radgraph (accountNo).
            if (echoed === undefined || value === '') continue;
            stored++;
            if (echoed !== value) failures.push(`${where}: answered ${JSON.stringify(echoed)}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(500);
    expect(stored).toBeGreaterThan(10);
  });

  it('reads stored hostile text back exactly', async () => {
    const name = `O'Brien "; DROP TABLE nas; -- 😀 \\ %_`;
    const made = await gqlData(
      api,
      'mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }',
      { i: { username: 'emoji😀user', password: 'pa\'ss\\wo"rd%', profileId: ids.profile, name } },
    );
    const read = await gqlData(api, 'query($u: String!) { customer(username: $u) { id name } }', {
      u: 'emoji😀user',
    });
    expect(read.customer).toEqual({ id: made.createCustomer.id, name });
    const [pw] = await db.query(
      "SELECT value FROM radcheck WHERE username = 'emoji😀user' AND attribute = 'Cleartext-Password'",
    );
    expect(pw.value).toBe('pa\'ss\\wo"rd%');
  });

  it('matches a search only against text that contains it: no wildcard, no injected condition', async () => {
    const all = await gqlData(
      api,
      '{ customers(first: 500) { totalCount edges { node { accountNo username phone } } } }',
    );
    expect(all.customers.totalCount).toBeGreaterThan(3);
    for (const [label, term] of HOSTILE.filter(([, t]) => t.length > 0 && t.length < 1000)) {
      const { body } = await api.gql(
        'query($s: String) { customers(search: $s, first: 500) { totalCount edges { node { accountNo username phone } } } }',
        { s: term },
      );
      if (body.errors) {
        expect([label, body.errors[0].extensions.code]).toEqual([label, 'BAD_USER_INPUT']);
        continue;
      }
      const lower = term.toLowerCase();
      for (const { node } of body.data.customers.edges) {
        const text = [node.accountNo, node.username, node.phone ?? ''].join('\n').toLowerCase();
        expect([label, node.username, text.includes(lower)]).toEqual([label, node.username, true]);
      }
      expect(body.data.customers.totalCount).toBe(body.data.customers.edges.length);
    }
    for (const [label, term] of HOSTILE.filter(([, t]) => t.length > 0 && t.length < 1000)) {
      const { body } = await api.gql(
        'query($s: String) { onlineSessions(search: $s) { totalCount } }',
        { s: term },
      );
      const result = body.errors
        ? body.errors[0].extensions.code
        : body.data.onlineSessions.totalCount;
      expect([label, result]).toEqual([label, body.errors ? 'BAD_USER_INPUT' : 0]);
    }
  });

  it('refuses huge, negative and overflowing first values with BAD_USER_INPUT, at the root and nested', async () => {
    const lists = [
      'query($n: Int) { customers(first: $n) { totalCount } }',
      'query($n: Int) { onlineSessions(first: $n) { totalCount } }',
      'query($n: Int) { auditLog(first: $n) { totalCount } }',
      'query($n: Int) { expiringCustomers(withinDays: 7, first: $n) { totalCount } }',
      'query($n: Int!) { topSessions(first: $n) { id } }',
      'query($n: Int) { customers(first: 1) { edges { node { sessions(first: $n) { totalCount } } } } }',
      'query($n: Int) { customers(first: 1) { edges { node { ledger(first: $n) { id } } } } }',
    ];
    for (const query of lists) {
      for (const n of [100_000, 2_147_483_647, -1, 2_147_483_648, 1e300]) {
        const { body } = await api.gql(query, { n });
        expect([query, n, body.errors?.[0]?.extensions?.code]).toEqual([
          query,
          n,
          'BAD_USER_INPUT',
        ]);
      }
    }
  });

  it('subscribes with hostile filters to nothing, or refuses them cleanly', async () => {
    const client = api.wsClient();
    for (const [label, value] of HOSTILE) {
      for (const arg of ['nasId', 'username']) {
        const outcome = await new Promise<string>((resolve) => {
          const timer = setTimeout(() => {
            stop();
            resolve('subscribed');
          }, 150);
          const stop = client.subscribe(
            {
              query: `subscription($v: ${arg === 'nasId' ? 'ID' : 'String'}) { sessionEvents(${arg}: $v) { type } }`,
              variables: { v: value },
            },
            {
              next: (v) => {
                clearTimeout(timer);
                resolve(
                  (v.errors?.[0]?.extensions?.code as string | undefined) ?? 'unexpected event',
                );
              },
              error: (e) => {
                clearTimeout(timer);
                const code = Array.isArray(e) ? e[0]?.extensions?.code : undefined;
                resolve(code ?? `error ${String(e)}`);
              },
              complete: () => undefined,
            },
          );
        });
        expect([label, arg, outcome, outcome === 'subscribed' || CLEAN.has(outcome)]).toEqual([
          label,
          arg,
          outcome,
          true,
        ]);
      }
    }
  });

  it('leaves every table and the rows no operation named as they were', async () => {
    expect(await listTables()).toEqual(tables);
    expect(await canaryRows()).toEqual(canary);
    const [nas] = await db.query('SELECT COUNT(*) AS n FROM nas');
    expect(Number(nas.n)).toBeGreaterThanOrEqual(1);
  });
});
