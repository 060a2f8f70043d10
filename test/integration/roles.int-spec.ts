import { Logger } from '@nestjs/common';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLObjectType,
} from 'graphql';
import type { Client } from 'graphql-ws';
import { GraphQLModule } from '@nestjs/graphql';
import WebSocket, { type WebSocketServer } from 'ws';
import { AuthService } from '../../src/auth/auth.service';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Role } from '../../src/auth/principal';
import { DataSource } from 'typeorm';
import { ApiKeyEntity } from '../../src/auth/api-keys/api-key.entity';
import {
  API_KEY_PREFIX,
  ApiKeysService,
  hashApiKey,
  REVOCATION_CHECK_MS,
} from '../../src/auth/api-keys/api-keys.service';
import { startApp, TEST_TOKEN, type RunningApp } from '../support/app';
import { gqlData } from '../support/graphql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { BUILT_CLI, ensureBuilt } from '../support/built-app';

ensureBuilt(); // these tests run radgraph as built (built-app.ts)

/** The role each operation needs: the issue's table. Every operation of the schema is here. */
const REQUIRED: Record<string, Role> = {
  // Queries and subscriptions: VIEWER, except the API keys.
  accountingListener: Role.VIEWER,
  customer: Role.VIEWER,
  customers: Role.VIEWER,
  exportCustomers: Role.VIEWER,
  expiringCustomers: Role.VIEWER,
  nas: Role.VIEWER,
  nasDevices: Role.VIEWER,
  onlineSessions: Role.VIEWER,
  onlineSummary: Role.VIEWER,
  profile: Role.VIEWER,
  profiles: Role.VIEWER,
  topSessions: Role.VIEWER,
  viewer: Role.VIEWER,
  apiKeys: Role.ADMIN,
  auditLog: Role.ADMIN,
  customerExpiring: Role.VIEWER,
  heartbeat: Role.VIEWER,
  sessionEvents: Role.VIEWER,
  sessionEventBatches: Role.VIEWER,
  // Customer and session mutations: OPERATOR.
  changeCustomerProfile: Role.OPERATOR,
  createCustomer: Role.OPERATOR,
  creditCustomer: Role.OPERATOR,
  deleteCustomer: Role.OPERATOR,
  importCustomers: Role.OPERATOR,
  disconnectCustomer: Role.OPERATOR,
  renewCustomer: Role.OPERATOR,
  resetCustomerPassword: Role.OPERATOR,
  resumeCustomer: Role.OPERATOR,
  suspendCustomer: Role.OPERATOR,
  updateCustomer: Role.OPERATOR,
  // NAS devices, profiles and API keys: ADMIN.
  createNas: Role.ADMIN,
  deleteNas: Role.ADMIN,
  reconcileNas: Role.ADMIN,
  updateNas: Role.ADMIN,
  adoptFreeradiusAccounts: Role.ADMIN,
  createProfile: Role.ADMIN,
  deleteProfile: Role.ADMIN,
  updateProfile: Role.ADMIN,
  createApiKey: Role.ADMIN,
  revokeApiKey: Role.ADMIN,
};

const RANK = [Role.VIEWER, Role.OPERATOR, Role.ADMIN];
type Caller = 'none' | Role;
type Outcome = 'allowed' | 'FORBIDDEN' | 'UNAUTHENTICATED';

function expected(caller: Caller, required: Role): Outcome {
  if (caller === 'none') return 'UNAUTHENTICATED';
  return RANK.indexOf(caller) >= RANK.indexOf(required) ? 'allowed' : 'FORBIDDEN';
}

/** Any non-auth error (NOT_FOUND, BAD_USER_INPUT…) means the caller got past the guard. */
function outcome(errors: readonly any[] | undefined): string {
  const codes = (errors ?? []).map((e) => e?.extensions?.code ?? e?.message ?? String(e));
  if (codes.includes('UNAUTHENTICATED')) return 'UNAUTHENTICATED';
  if (codes.includes('FORBIDDEN')) return 'FORBIDDEN';
  return 'allowed';
}

/** A minimal value of an argument's type: only required input fields filled. */
function dummy(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return dummy(type.ofType);
  if (isListType(type)) return [];
  if (isEnumType(type)) return type.getValues()[0].value;
  if (isInputObjectType(type)) {
    const out: Record<string, unknown> = {};
    for (const f of Object.values(type.getFields())) {
      if (isNonNullType(f.type) && f.defaultValue === undefined) out[f.name] = dummy(f.type);
    }
    return out;
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'Int':
        return 1;
      case 'Float':
        return 1;
      case 'Boolean':
        return false;
      case 'ID':
        return '987654';
      case 'Money':
        return '1';
      case 'DateTime':
        return new Date(0).toISOString();
      default:
        return 'x';
    }
  }
  throw new Error(`no dummy value for ${String(type)}`);
}

interface Operation {
  name: string;
  kind: 'query' | 'mutation' | 'subscription';
  query: string;
  variables: Record<string, unknown>;
}

function operation(kind: Operation['kind'], field: GraphQLField<unknown, unknown>): Operation {
  const required = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
  const defs = required.map((a) => `$${a.name}: ${String(a.type)}`).join(', ');
  const args = required.map((a) => `${a.name}: $${a.name}`).join(', ');
  const selection = isObjectType(getNamedType(field.type)) ? ' { __typename }' : '';
  return {
    name: field.name,
    kind,
    query: `${kind} Op${defs ? `(${defs})` : ''} { ${field.name}${args ? `(${args})` : ''}${selection} }`,
    variables: Object.fromEntries(required.map((a) => [a.name, dummy(a.type)])),
  };
}

/** The first answer of an operation over graphql-ws: its errors, or none. */
function overWs(client: Client, op: Operation): Promise<readonly any[] | undefined> {
  return new Promise((resolve) => {
    let unsubscribe: () => void = () => undefined;
    const done = (errors: readonly any[] | undefined) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(errors);
    };
    // A subscription that was let through may stay quiet: no answer within the time is allowed.
    const timer = setTimeout(() => done(undefined), 1_000);
    unsubscribe = client.subscribe(
      { query: op.query, variables: op.variables },
      {
        next: (value) => done(value.errors),
        error: (err) => done(Array.isArray(err) ? err : [err]),
        complete: () => done(undefined),
      },
    );
  });
}

describe('API keys and roles', () => {
  let db: TestDatabase;
  let api: RunningApp;
  const keys = {} as Record<Role, string>;
  let operations: Operation[];

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    api = await startApp(db);
    for (const role of RANK) {
      const data = await gqlData(
        api,
        'mutation($name: String!, $role: Role!) { createApiKey(name: $name, role: $role) { key apiKey { id name role prefix } } }',
        { name: `table-${role.toLowerCase()}`, role },
      );
      keys[role] = data.createApiKey.key;
    }
    const { schema } = api.app.get(GraphQLSchemaHost);
    const roots: Array<[Operation['kind'], GraphQLObjectType | null | undefined]> = [
      ['query', schema.getQueryType()],
      ['mutation', schema.getMutationType()],
      ['subscription', schema.getSubscriptionType()],
    ];
    operations = roots.flatMap(([kind, type]) =>
      Object.values(type?.getFields() ?? {}).map((f) => operation(kind, f)),
    );
  });

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('has a declared role for every operation of the schema, and no stale entries', () => {
    const names = operations.map((o) => o.name).sort();
    expect(names.filter((n) => !(n in REQUIRED))).toEqual([]);
    expect(Object.keys(REQUIRED).filter((n) => !names.includes(n))).toEqual([]);
  });

  const callers: Caller[] = ['none', Role.VIEWER, Role.OPERATOR, Role.ADMIN];
  const token = (caller: Caller) => (caller === 'none' ? null : keys[caller]);

  it('gives every operation × caller the outcome of the table over HTTP', async () => {
    const actual: Record<string, Record<string, string>> = {};
    const want: Record<string, Record<string, string>> = {};
    for (const op of operations.filter((o) => o.kind !== 'subscription')) {
      for (const caller of callers) {
        const { body } = await api.gql(op.query, op.variables, token(caller));
        (actual[op.name] ??= {})[caller] = outcome(body.errors);
        (want[op.name] ??= {})[caller] = expected(caller, REQUIRED[op.name]);
      }
    }
    expect(actual).toEqual(want);
  });

  it('gives every operation × caller the outcome of the table over graphql-ws', async () => {
    const actual: Record<string, Record<string, string>> = {};
    const want: Record<string, Record<string, string>> = {};
    for (const caller of callers) {
      const client = api.wsClient(token(caller));
      for (const op of operations) {
        (actual[op.name] ??= {})[caller] = outcome(await overWs(client, op));
        (want[op.name] ??= {})[caller] = expected(caller, REQUIRED[op.name]);
      }
      await client.dispose();
    }
    expect(actual).toEqual(want);
  });

  it('keeps only a hash of each key, shows it once, and records its last use', async () => {
    const { apiKeys } = await gqlData(api, '{ apiKeys { name role prefix lastUsedAt revokedAt } }');
    expect(apiKeys).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'table-viewer', role: 'VIEWER', revokedAt: null }),
      ]),
    );
    const viewer = apiKeys.find((k: any) => k.name === 'table-viewer');
    expect(keys.VIEWER.startsWith(viewer.prefix)).toBe(true);
    expect(viewer.lastUsedAt).not.toBeNull();
    const rows = await db.query('SELECT * FROM rg_api_keys');
    expect(JSON.stringify(rows)).not.toContain(keys.VIEWER);
    expect(JSON.stringify(rows)).not.toContain(keys.VIEWER.slice(13));
  });

  it('answers the key as itself (viewer), ADMIN_TOKEN as the bootstrap admin', async () => {
    const mine = await api.gql('{ viewer { name role } }', undefined, keys.OPERATOR);
    expect(mine.body.data).toEqual({ viewer: { name: 'table-operator', role: 'OPERATOR' } });
    const admin = await api.gql('{ viewer { name role } }', undefined, TEST_TOKEN);
    expect(admin.body.data).toEqual({ viewer: { name: 'admin-token', role: 'ADMIN' } });
  });

  it('refuses a second key with the same name with CONFLICT', async () => {
    const { body } = await api.gql(
      'mutation { createApiKey(name: "table-viewer", role: VIEWER) { key } }',
    );
    expect(body.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('stops a revoked key at once: its open graphql-ws connection and subscriptions close, HTTP is UNAUTHENTICATED', async () => {
    const created = await gqlData(
      api,
      'mutation { createApiKey(name: "revoke-me", role: VIEWER) { key apiKey { id } } }',
    );
    const { key, apiKey } = created.createApiKey;
    const ok = await api.gql('{ viewer { name } }', undefined, key);
    expect(ok.body.data).toEqual({ viewer: { name: 'revoke-me' } });

    const client = api.wsClient(key);
    const closed = new Promise<number>((resolve) =>
      client.on('closed', (event) => resolve((event as { code: number }).code)),
    );
    const events: unknown[] = [];
    const ended = new Promise<string>((resolve) => {
      client.subscribe(
        { query: 'subscription { heartbeat(intervalSeconds: 1) }' },
        {
          next: (value) => events.push(value),
          error: () => resolve('error'),
          complete: () => resolve('complete'),
        },
      );
    });
    const deadline = Date.now() + 5_000;
    while (events.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(events.length).toBeGreaterThan(0);

    const revoked = await gqlData(
      api,
      'mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }',
      {
        id: apiKey.id,
      },
    );
    expect(revoked.revokeApiKey.revokedAt).not.toBeNull();
    expect(await closed).toBe(4403);
    expect(await ended).toBe('error');

    const after = await api.gql('{ viewer { name } }', undefined, key);
    expect(after.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const again = api.wsClient(key);
    expect(
      outcome(
        await overWs(
          again,
          operations.find((o) => o.name === 'viewer')!,
        ),
      ),
    ).toBe('UNAUTHENTICATED');
  });
  it("forgets a key's graphql-ws socket that closed while its token was being checked", async () => {
    const created = await gqlData(
      api,
      'mutation { createApiKey(name: "closes-early", role: VIEWER) { key apiKey { id } } }',
    );
    const { key } = created.createApiKey;
    const keyId = Number(created.createApiKey.apiKey.id);
    const connections = api.app.get(AuthService).connections;
    // The server's end of the socket: its close is what must come before the check ends.
    const graphql = api.app.get(GraphQLModule, { strict: false });
    const wss = (graphql.graphQlAdapter as any)._subscriptionService.wss as WebSocketServer;
    const serverClosed = new Promise<void>((resolve) =>
      wss.once('connection', (s: WebSocket) => s.once('close', () => resolve())),
    );
    // A slow database: the key's lookup answers only once the socket is gone.
    const keys = api.app.get(ApiKeysService);
    const lookup = keys.authenticate.bind(keys);
    let checked!: Promise<unknown>;
    const asked = new Promise<void>((resolve) => {
      jest.spyOn(keys, 'authenticate').mockImplementationOnce((k) => {
        resolve();
        checked = serverClosed
          .then(() => new Promise((r) => setTimeout(r, 50)))
          .then(() => lookup(k));
        return checked as ReturnType<typeof lookup>;
      });
    });
    const socket = new WebSocket(api.wsUrl, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(
      JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } }),
    );
    await asked;
    socket.terminate();
    await checked;
    await new Promise((r) => setTimeout(r, 50)); // onConnect's last steps
    expect(connections.count(keyId)).toBe(0);
  });

  it('makes, lists and revokes keys from the CLI, on the same database', async () => {
    // Asynchronous: a synchronous child would stall this process's event loop for seconds, and
    // its idle keep-alive connections to the app with it (ECONNRESET on the next request).
    const cli = async (...args: string[]) =>
      (
        await promisify(execFile)(process.execPath, [BUILT_CLI, ...args], {
          env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'error' },
          encoding: 'utf8',
        })
      ).stdout;
    const created = await cli('apikey', 'create', '--role', 'viewer', '--name', 'grafana');
    const key = /^(rgk_\S+)$/m.exec(created)?.[1];
    expect(key).toBeDefined();
    {
      const ok = await api.gql('{ viewer { name role } }', undefined, key);
      expect(ok.body.data).toEqual({ viewer: { name: 'grafana', role: 'VIEWER' } });
      expect(await cli('apikey', 'list')).toMatch(/grafana\tVIEWER\trgk_/);
      // A subscription open on the app when another process (the CLI) revokes the key.
      const client = api.wsClient(key);
      const closed = new Promise<number>((resolve) =>
        client.on('closed', (event) => resolve((event as { code: number }).code)),
      );
      const ticks: unknown[] = [];
      client.subscribe(
        { query: 'subscription { heartbeat(intervalSeconds: 1) }' },
        { next: (v) => ticks.push(v), error: () => undefined, complete: () => undefined },
      );
      while (ticks.length === 0) await new Promise((r) => setTimeout(r, 20));
      await cli('apikey', 'revoke', 'grafana');
      // From the CLI's exit, just after its commit (its start-up, seconds under load, is not
      // the sweep's doing).
      const revokedAt = Date.now();
      const after = await api.gql('{ viewer { name } }', undefined, key);
      expect(after.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(await closed).toBe(4403);
      expect(Date.now() - revokedAt).toBeLessThan(REVOCATION_CHECK_MS + 2_000);
      // The CLI's changes are in the audit trail, under the user who ran it.
      const trail = await gqlData(
        api,
        '{ auditLog(filter: { targetType: "apiKey" }, first: 500) { edges { node { actor actorKind operation targetLabel } } } }',
      );
      const cliRows = trail.auditLog.edges
        .map((e: any) => e.node)
        .filter((n: any) => n.targetLabel === 'grafana');
      expect(cliRows.map((n: any) => [n.actorKind, n.operation])).toEqual([
        ['cli', 'apikey revoke'],
        ['cli', 'apikey create'],
      ]);
      expect(cliRows[0].actor).toMatch(/^cli:\S+$/);
    }
  });
});

describe('API key names that stand for other callers (MariaDB)', () => {
  let db: TestDatabase;
  let api: RunningApp;

  beforeAll(async () => {
    db = await createTestDatabase('mysql');
    api = await startApp(db, {
      GRAPHQL_RATE_LIMIT_PER_MINUTE: '60', // one a second
      GRAPHQL_RATE_LIMIT_BURST: '4',
    });
  });

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it.each(['admin-token', 'ADMIN-Token', 'cli', 'system', 'System', 'admin'])(
    'refuses to make a key named "%s" with BAD_USER_INPUT naming the field',
    async (name) => {
      await sleep(1100); // a token back in the admin's bucket
      const { body } = await api.gql(
        'mutation($name: String!) { createApiKey(name: $name, role: VIEWER) { key } }',
        { name },
      );
      expect(body.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'name',
        reason: 'RESERVED_NAME',
      });
      expect(body.errors?.[0]?.message).toContain('reserved');
      expect(await db.query('SELECT name FROM rg_api_keys')).toEqual([]);
    },
  );

  it('gives a key named "admin-token" from before (still working) its own rate limit, and the audit trail tells it apart by actorKind', async () => {
    // Made as createApiKey did before such names were refused.
    const legacyKey = `${API_KEY_PREFIX}legacy-admin-token-key-0123456789abcdef`;
    await api.app
      .get(DataSource)
      .getRepository(ApiKeyEntity)
      .save({
        name: 'admin-token',
        role: Role.ADMIN,
        keyHash: hashApiKey(legacyKey),
        prefix: legacyKey.slice(0, 12),
        lastUsedAt: null,
        revokedAt: null,
      });
    // As at each start: a warning names it.
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      await api.app.get(ApiKeysService).warnReservedNames();
      expect(warn.mock.calls.map(([message]) => String(message))).toEqual([
        expect.stringMatching(/^API key \d+ is named "admin-token", a name reserved/),
      ]);
    } finally {
      warn.mockRestore();
    }

    await sleep(4100); // full buckets
    const create = 'mutation($name: String!) { createApiKey(name: $name, role: VIEWER) { key } }';
    const byLegacy = await api.gql(create, { name: 'made-by-the-key' }, legacyKey);
    expect(byLegacy.body.errors).toBeUndefined();
    const byAdmin = await api.gql(create, { name: 'made-by-the-token' });
    expect(byAdmin.body.errors).toBeUndefined();

    // The key uses up its budget (a burst of 4, one spent above): of twelve requests sent at
    // once, the bucket's three take 200 and the rest 429 (a token refilled meanwhile, on a
    // loaded machine, can add one more 200; sent one by one, a slow machine refilled enough to
    // give the fourth a 200). The admin token is not limited for it.
    const statuses = await Promise.all(
      Array.from({ length: 12 }, async () => {
        return (await api.gql('{ viewer { name } }', undefined, legacyKey)).status;
      }),
    );
    const ok = statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(ok).toBeGreaterThanOrEqual(3);
    expect(ok).toBeLessThan(8);
    const admin = await api.gql('{ viewer { name role } }');
    expect(admin.status).toBe(200);
    expect(admin.body.data).toEqual({ viewer: { name: 'admin-token', role: 'ADMIN' } });

    await sleep(2100);
    const trail = async (filter: string) =>
      (
        await api.gql(
          `{ auditLog(filter: ${filter}) { edges { node { actor actorKind targetLabel } } } }`,
        )
      ).body.data.auditLog.edges.map((e: any) => e.node);
    expect(await trail('{ actor: "admin-token", actorKind: "admin-token" }')).toEqual([
      { actor: 'admin-token', actorKind: 'admin-token', targetLabel: 'made-by-the-token' },
    ]);
    expect(await trail('{ actor: "admin-token", actorKind: "api-key" }')).toEqual([
      { actor: 'admin-token', actorKind: 'api-key', targetLabel: 'made-by-the-key' },
    ]);
  });
});
