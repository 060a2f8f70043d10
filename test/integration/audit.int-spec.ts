import { GraphQLSchemaHost } from '@nestjs/graphql';
import { Clock } from '../../src/common/clock/clock';
import { startApp, type RunningApp } from '../support/app';
import { startCoaResponder, type CoaResponder } from '../support/coa-responder';
import { gqlData, gqlError } from '../support/graphql';
import { LogCapture } from '../support/log-capture';
import { startRouterOsDouble, type RouterOsDouble } from '../support/routeros-double';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const NAS_SECRET = 'first-Nas-s3cret';
const NAS_SECRET_2 = 'second-Nas-s3cret';
const API_PASSWORD = 'ros-Api-Passw0rd';
const ALICE_PASSWORD = 'alice-Pw-0001';
const ALICE_PASSWORD_2 = 'alice-Pw-0002';
const NAS_IP = '127.0.0.1';

/** The tables a mutation can change: compared whole before and after a refused one. */
const TABLES = [
  'rg_profiles',
  'rg_customers',
  'rg_customer_search_keys',
  'rg_ledger',
  'rg_nas_settings',
  'rg_api_keys',
  'rg_audit_log',
  'nas',
  'radcheck',
  'radusergroup',
  'radgroupreply',
  'radgroupcheck',
  'radacct',
];

interface Change {
  field: string;
  before: string | null;
  after: string | null;
}
interface Entry {
  actor: string;
  actorKind: string;
  operation: string;
  targetType: string;
  targetId: string | null;
  targetLabel: string | null;
  changes: Change[];
  outcome: string | null;
}

/**
 * The audit trail on a real database: every mutation of the schema, run as an API key, leaves
 * its row (secrets as ***), over HTTP and graphql-ws; and with the audit table refusing
 * writes, every mutation fails and changes nothing, not even through a NAS.
 */
describe.each(['mysql', 'sqlite'] as const)('audit trail on %s', (kind) => {
  let db: TestDatabase;
  let api: RunningApp;
  let coa: CoaResponder;
  let router: RouterOsDouble;
  let key: string;
  const logs = new LogCapture();
  /** Every secret the run hands to radgraph or gets from it. */
  const secrets = [NAS_SECRET, NAS_SECRET_2, API_PASSWORD, ALICE_PASSWORD, ALICE_PASSWORD_2];
  const called = new Set<string>();
  const ids: Record<string, string> = {};

  const FIELDS = 'id username generatedPassword';

  /** Runs a mutation as the "auditor" key (over graphql-ws when `ws`); its data, or throws. */
  async function mutate(
    name: string,
    query: string,
    variables: Record<string, unknown> = {},
    ws = false,
  ): Promise<any> {
    called.add(name);
    const body = ws ? await overWs(query, variables) : (await api.gql(query, variables, key)).body;
    if (body.errors?.length || !body.data) {
      throw new Error(`${name} failed: ${JSON.stringify(body.errors ?? body)}`);
    }
    return body.data[name];
  }

  function overWs(query: string, variables: Record<string, unknown>): Promise<any> {
    const client = api.wsClient(key);
    return new Promise((resolve, reject) => {
      let result: unknown;
      client.subscribe(
        { query, variables },
        { next: (v) => (result = v), error: reject, complete: () => resolve(result) },
      );
    });
  }

  /** The newest row of an operation. */
  async function latest(operation: string): Promise<Entry> {
    const data = await gqlData(
      api,
      `query($f: AuditLogFilter) { auditLog(filter: $f, first: 1) { totalCount edges { node {
         actor actorKind operation targetType targetId targetLabel outcome changes { field before after } } } } }`,
      { f: { operation } },
    );
    expect(data.auditLog.totalCount).toBeGreaterThanOrEqual(1);
    return data.auditLog.edges[0].node;
  }

  const change = (e: Entry, field: string) => e.changes.find((c) => c.field === field);

  async function tableState(): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const t of TABLES) {
      const rows = await db.query(`SELECT * FROM ${t}`);
      out[t] = rows.map((r) => JSON.stringify(r)).sort();
    }
    return out;
  }

  beforeAll(async () => {
    logs.start();
    db = await createTestDatabase(kind);
    coa = await startCoaResponder({ secret: NAS_SECRET_2 });
    router = await startRouterOsDouble({ user: 'radgraph', password: API_PASSWORD });
    api = await startApp(db, {
      LOG_LEVEL: 'verbose',
      COA_TIMEOUT_MS: '300',
      COA_RETRIES: '0',
    });
    const created = await gqlData(
      api,
      'mutation { createApiKey(name: "auditor", role: ADMIN) { key } }',
    );
    key = created.createApiKey.key;
    secrets.push(key);
    called.clear(); // the bootstrap key above was made by the admin token
  });

  afterAll(async () => {
    await api?.close();
    await coa?.close();
    await router?.close();
    await db?.drop();
    logs.stop();
  });

  it('writes a row for every mutation of the schema, naming the key, with secrets as ***', async () => {
    const profile = (name: string) =>
      mutate(
        'createProfile',
        `mutation($i: CreateProfileInput!) { createProfile(input: $i) { id } }`,
        {
          i: { name, downloadRateKbps: 10240, uploadRateKbps: 5120, validityDays: 30, price: '10' },
        },
      );
    ids.gold = (await profile('gold')).id;
    ids.silver = (await profile('silver')).id;
    ids.bronze = (await profile('bronze')).id;
    let e = await latest('createProfile');
    expect(e).toMatchObject({ actor: 'auditor', actorKind: 'api-key', targetType: 'profile' });
    expect(e).toMatchObject({ targetId: ids.bronze, targetLabel: 'bronze' });
    expect(change(e, 'name')).toEqual({ field: 'name', before: null, after: 'bronze' });

    await mutate(
      'updateProfile',
      `mutation($id: ID!) { updateProfile(id: $id, input: { downloadRateKbps: 20480 }) { id } }`,
      { id: ids.gold },
    );
    e = await latest('updateProfile');
    expect(e.changes).toEqual([{ field: 'downloadRateKbps', before: '10240', after: '20480' }]);

    const nasInput = (name: string) => ({
      name,
      secret: NAS_SECRET,
      type: 'mikrotik',
      coaPort: coa.port,
      routerOs: { host: '127.0.0.1', port: router.port, user: 'radgraph', password: API_PASSWORD },
    });
    const createNas = `mutation($i: CreateNasInput!) { createNas(input: $i) { id } }`;
    ids.nas = (await mutate('createNas', createNas, { i: nasInput(NAS_IP) })).id;
    ids.spareNas = (await mutate('createNas', createNas, { i: nasInput('127.0.0.2') })).id;
    e = await latest('createNas');
    expect(change(e, 'secret')).toEqual({ field: 'secret', before: null, after: '***' });
    expect(change(e, 'apiPassword')).toEqual({ field: 'apiPassword', before: null, after: '***' });
    expect(change(e, 'nasname')).toEqual({ field: 'nasname', before: null, after: '127.0.0.2' });

    await mutate(
      'updateNas',
      `mutation($id: ID!, $s: String!) { updateNas(id: $id, input: { secret: $s, description: "core" }) { id } }`,
      { id: ids.nas, s: NAS_SECRET_2 },
    );
    e = await latest('updateNas');
    expect(e.changes).toEqual([
      { field: 'secret', before: '***', after: '***' },
      { field: 'description', before: null, after: 'core' },
    ]);

    const createCustomer = `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { ${FIELDS} } }`;
    const alice = await mutate('createCustomer', createCustomer, {
      i: { username: 'audit.alice', password: ALICE_PASSWORD, profileId: ids.gold },
    });
    ids.alice = alice.id;
    expect(alice.generatedPassword).toBeNull();
    e = await latest('createCustomer');
    expect(change(e, 'password')).toEqual({ field: 'password', before: null, after: '***' });
    expect(change(e, 'username')).toEqual({
      field: 'username',
      before: null,
      after: 'audit.alice',
    });

    const bob = await mutate('createCustomer', createCustomer, {
      i: { username: 'audit.bob', profileId: ids.gold },
    });
    ids.bob = bob.id;
    expect(bob.generatedPassword).toMatch(/^[A-HJKMNP-Za-kmnp-z2-9]{12}$/);
    secrets.push(bob.generatedPassword);
    const [stored] = await db.query(
      "SELECT value FROM radcheck WHERE username = 'audit.bob' AND attribute = 'Cleartext-Password'",
    );
    expect(stored.value).toBe(bob.generatedPassword);
    // Shown once: no query returns it again.
    const again = await gqlData(
      api,
      `query($id: ID!) { customer(id: $id) { generatedPassword } }`,
      {
        id: ids.bob,
      },
    );
    expect(again.customer.generatedPassword).toBeNull();

    await mutate(
      'updateCustomer',
      `mutation($id: ID!, $p: String!) { updateCustomer(id: $id, input: { password: $p, phone: "0712 345 678" }) { id } }`,
      { id: ids.alice, p: ALICE_PASSWORD_2 },
    );
    e = await latest('updateCustomer');
    expect(e.changes).toEqual([
      { field: 'phone', before: null, after: '0712 345 678' },
      { field: 'password', before: '***', after: '***' },
    ]);

    const reset = await mutate(
      'resetCustomerPassword',
      `mutation($id: ID!) { resetCustomerPassword(id: $id) { ${FIELDS} } }`,
      { id: ids.bob },
    );
    expect(reset.generatedPassword).toMatch(/^[A-HJKMNP-Za-kmnp-z2-9]{12}$/);
    expect(reset.generatedPassword).not.toBe(bob.generatedPassword);
    secrets.push(reset.generatedPassword);
    e = await latest('resetCustomerPassword');
    expect(e.changes).toEqual([{ field: 'password', before: '***', after: '***' }]);

    // A CSV import: a row per customer it creates or changes, and one for the import itself.
    const csvPassword = 'csv-Pw-secret-7';
    secrets.push(csvPassword);
    await mutate(
      'importCustomers',
      `mutation($csv: String!) { importCustomers(csv: $csv) { created updated written } }`,
      {
        csv: `username,password,phone,profile\naudit.csv,${csvPassword},0700 111 222,gold\n`,
      },
    );
    e = await latest('importCustomers');
    expect(e).toMatchObject({ actor: 'auditor', targetType: 'customerImport', targetId: null });
    expect(e.changes).toEqual(
      expect.arrayContaining([{ field: 'created', before: null, after: '1' }]),
    );
    const imported = await gqlData(
      api,
      `{ auditLog(filter: { operation: "importCustomers", targetType: "customer" }, first: 5) { edges { node { targetLabel changes { field before after } } } } }`,
    );
    expect(imported.auditLog.edges).toHaveLength(1);
    expect(imported.auditLog.edges[0].node.targetLabel).toBe('audit.csv');
    expect(imported.auditLog.edges[0].node.changes).toEqual(
      expect.arrayContaining([
        { field: 'username', before: null, after: 'audit.csv' },
        { field: 'password', before: null, after: '***' },
      ]),
    );

    // An adoption: a row per profile and customer it adopts, and one for the run.
    await db.query(
      "INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES ('legacy', 'Mikrotik-Rate-Limit', ':=', '1M/2M')",
    );
    await db.query(
      "INSERT INTO radcheck (username, attribute, op, value) VALUES ('audit.legacy', 'MD5-Password', ':=', '5f4dcc3b5aa765d61d8327deb882cf99')",
    );
    await db.query(
      "INSERT INTO radusergroup (username, groupname, priority) VALUES ('audit.legacy', 'legacy', 1)",
    );
    await mutate(
      'adoptFreeradiusAccounts',
      'mutation { adoptFreeradiusAccounts(dryRun: false) { written } }',
    );
    e = await latest('adoptFreeradiusAccounts');
    expect(e).toMatchObject({ actor: 'auditor', targetType: 'freeradiusAdoption', targetId: null });
    const adopted = await gqlData(
      api,
      `{ auditLog(filter: { operation: "adoptFreeradiusAccounts" }, first: 5) { edges { node { targetType targetLabel } } } }`,
    );
    expect(
      adopted.auditLog.edges.map((x: any) => `${x.node.targetType}:${x.node.targetLabel}`).sort(),
    ).toEqual(['customer:audit.legacy', 'freeradiusAdoption:freeradius', 'profile:legacy']);

    await mutate(
      'changeCustomerProfile',
      `mutation($id: ID!, $p: ID!) { changeCustomerProfile(id: $id, profileId: $p) { id } }`,
      { id: ids.alice, p: ids.silver },
    );
    e = await latest('changeCustomerProfile');
    expect(e.changes).toEqual([{ field: 'profileId', before: ids.gold, after: ids.silver }]);

    await mutate(
      'creditCustomer',
      `mutation($id: ID!) { creditCustomer(id: $id, amount: "25", note: "cash at the shop") { id } }`,
      { id: ids.alice },
    );
    e = await latest('creditCustomer');
    expect(change(e, 'ledgerNote')?.after).toBe('cash at the shop');
    expect(change(e, 'balanceMinor')?.before).toBe('0');

    await mutate('renewCustomer', `mutation($id: ID!) { renewCustomer(id: $id) { id } }`, {
      id: ids.alice,
    });
    e = await latest('renewCustomer');
    expect(e.changes.map((c) => c.field).sort()).toEqual(['balanceMinor', 'expiresAt']);

    // Over graphql-ws, the same row and the same actor.
    await mutate(
      'suspendCustomer',
      `mutation($id: ID!) { suspendCustomer(id: $id) { id } }`,
      { id: ids.alice },
      true,
    );
    e = await latest('suspendCustomer');
    expect(e).toMatchObject({ actor: 'auditor', targetId: ids.alice, targetLabel: 'audit.alice' });
    expect(e.changes).toEqual([{ field: 'suspended', before: 'false', after: 'true' }]);

    await mutate('resumeCustomer', `mutation($id: ID!) { resumeCustomer(id: $id) { id } }`, {
      id: ids.alice,
    });

    await db.query(
      `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime)
       VALUES ('81a00001', 'audit-alice-1', 'audit.alice', ?, '2026-11-30 10:00:00', '2026-11-30 10:00:00')`,
      [NAS_IP],
    );
    await mutate(
      'disconnectCustomer',
      `mutation($id: ID!) { disconnectCustomer(id: $id) { ok } }`,
      { id: ids.alice },
    );
    expect(coa.received.filter((r) => r.code === 'Disconnect-Request')).toHaveLength(1);
    e = await latest('disconnectCustomer');
    expect(e).toMatchObject({ targetType: 'customer', targetId: ids.alice, changes: [] });
    expect(e.outcome).toContain('"ok":true');

    await mutate(
      'reconcileNas',
      `mutation($id: ID!) { reconcileNas(nasId: $id) { closedSessionIds } }`,
      { id: ids.nas },
    );
    e = await latest('reconcileNas');
    expect(e).toMatchObject({ targetType: 'nas', targetId: ids.nas, targetLabel: NAS_IP });
    expect(e.outcome).toBe('closed 1 stale session(s); 0 on the router only');

    await mutate('deleteCustomer', `mutation($id: ID!) { deleteCustomer(id: $id) }`, {
      id: ids.bob,
    });
    e = await latest('deleteCustomer');
    expect(change(e, 'username')).toEqual({ field: 'username', before: 'audit.bob', after: null });

    await mutate('deleteProfile', `mutation($id: ID!) { deleteProfile(id: $id) }`, {
      id: ids.bronze,
    });
    await mutate('deleteNas', `mutation($id: ID!) { deleteNas(id: $id) }`, { id: ids.spareNas });
    e = await latest('deleteNas');
    expect(change(e, 'secret')).toEqual({ field: 'secret', before: '***', after: null });

    const temp = await mutate(
      'createApiKey',
      'mutation { createApiKey(name: "temp", role: VIEWER) { key apiKey { id } } }',
    );
    secrets.push(temp.key);
    e = await latest('createApiKey');
    expect(e.changes.map((c) => c.field).sort()).toEqual(['name', 'prefix', 'role']);
    await mutate('revokeApiKey', `mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, {
      id: temp.apiKey.id,
    });
    e = await latest('revokeApiKey');
    expect(e.changes.map((c) => c.field)).toEqual(['revokedAt']);

    // Every mutation of the schema was run above, and each left its row.
    const { schema } = api.app.get(GraphQLSchemaHost);
    const all = Object.keys(schema.getMutationType()!.getFields()).sort();
    expect([...called].sort()).toEqual(all);
    for (const operation of all) {
      expect(await latest(operation)).toMatchObject({ operation, actor: 'auditor' });
    }
  });

  it('never writes a secret, a password or a key to the trail or the logs', async () => {
    expect(called.size).toBeGreaterThan(10); // after the test above
    const [sealed] = await db.query<{ api_password: string }>(
      'SELECT api_password FROM rg_nas_settings WHERE api_password IS NOT NULL',
    );
    const hashes = await db.query<{ key_hash: string }>('SELECT key_hash FROM rg_api_keys');
    const forbidden = [...secrets, sealed.api_password, ...hashes.map((h) => h.key_hash)];
    const trail = JSON.stringify(await db.query('SELECT * FROM rg_audit_log'));
    const api_ = JSON.stringify(
      await gqlData(
        api,
        '{ auditLog(first: 500) { edges { node { changes { field before after } } } } }',
      ),
    );
    for (const secret of forbidden) {
      expect([secret, trail.includes(secret)]).toEqual([secret, false]);
      expect([secret, api_.includes(secret)]).toEqual([secret, false]);
      expect([secret, logs.text().includes(secret)]).toEqual([secret, false]);
    }
    expect(trail).toContain('***');
  });

  it('filters and pages the trail, for ADMIN only', async () => {
    const byTarget = await gqlData(
      api,
      `query($id: ID!) { auditLog(filter: { targetType: "customer", targetId: $id }, first: 3) {
         totalCount pageInfo { hasNextPage endCursor } edges { node { operation } } } }`,
      { id: ids.alice },
    );
    const ops = byTarget.auditLog.edges.map((x: any) => x.node.operation);
    expect(byTarget.auditLog.totalCount).toBeGreaterThan(3);
    expect(ops).toEqual(['disconnectCustomer', 'resumeCustomer', 'suspendCustomer']);
    const next = await gqlData(
      api,
      `query($id: ID!, $after: String) { auditLog(filter: { targetType: "customer", targetId: $id }, first: 1, after: $after) {
         edges { node { operation } } } }`,
      { id: ids.alice, after: byTarget.auditLog.pageInfo.endCursor },
    );
    expect(next.auditLog.edges[0].node.operation).toBe('renewCustomer');

    const viewer = await gqlData(
      api,
      'mutation { createApiKey(name: "audit-viewer", role: OPERATOR) { key } }',
    );
    const denied = await api.gql('{ auditLog { totalCount } }', {}, viewer.createApiKey.key);
    expect(denied.body.errors?.[0].extensions.code).toBe('FORBIDDEN');
    const bad = await api.gql(
      '{ auditLog(filter: { since: "2026-12-01T00:00:00Z", until: "2026-11-01T00:00:00Z" }) { totalCount } }',
    );
    expect(bad.body.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'filter.until',
    });
  });

  it('refuses a since or until that is no instant with BAD_USER_INPUT, instead of filtering on it', async () => {
    const count = `query($f: AuditLogFilter) { auditLog(filter: $f) { totalCount } }`;
    const all = (await gqlData(api, count)).auditLog.totalCount;
    expect(all).toBeGreaterThan(0);
    const takes = async (since: string) => (await gqlData(api, count, { f: { since } })).auditLog;
    expect(await takes('2000-01-01T03:00:00+03:00')).toEqual({ totalCount: all });
    expect(await takes('2000-01-01')).toEqual({ totalCount: all });
    expect(await takes('9999-12-31T00:00:00Z')).toEqual({ totalCount: 0 });
    // Nest's scalar took these for an Invalid Date (no rows on MariaDB, every row on SQLite), a
    // number of milliseconds, or a time in the server's zone.
    for (const since of [
      'yesterday',
      '2026-13-01T00:00:00Z',
      '2026-02-30T00:00:00Z',
      '2026-11-20T08:00:00',
      '+275760-09-13T00:00:00.000Z',
      1764000000000,
    ]) {
      const error = await gqlError(api, count, { f: { since } });
      expect(error.extensions.code).toBe('BAD_USER_INPUT');
      expect(error.message).toContain('"f.since"');
    }
    const literal = await gqlError(
      api,
      '{ auditLog(filter: { until: "yesterday" }) { totalCount } }',
    );
    expect(literal.message).toContain('DateTime must be an ISO-8601 date-time');
  });

  it('keeps the millisecond of each change: a trail read since an instant holds every change made after it', async () => {
    // A whole second (MariaDB's datetime) put this change, made at .750, at .000: before the
    // `since` of a reader that last read the trail at .500, which then never saw it.
    const clock = jest.spyOn(api.app.get(Clock), 'now');
    try {
      clock.mockReturnValue(new Date('2026-11-20T08:00:05.750Z'));
      await mutate(
        'updateCustomer',
        `mutation($id: ID!) { updateCustomer(id: $id, input: { name: "Alice at .750" }) { id } }`,
        { id: ids.alice },
      );
    } finally {
      clock.mockRestore();
    }
    const read = (since: string) =>
      gqlData(
        api,
        `query($f: AuditLogFilter) { auditLog(filter: $f) { edges { node { at operation } } } }`,
        { f: { since, until: '2026-11-20T08:00:06.000Z' } },
      );
    expect((await read('2026-11-20T08:00:05.500Z')).auditLog.edges).toEqual([
      { node: { at: '2026-11-20T08:00:05.750Z', operation: 'updateCustomer' } },
    ]);
    expect((await read('2026-11-20T08:00:05.751Z')).auditLog.edges).toEqual([]);
  });

  it('rolls every mutation back when its audit row cannot be written, and acts on no NAS', async () => {
    // Fixtures for every mutation, made while the trail still takes rows.
    const carol = await mutate(
      'createCustomer',
      `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }`,
      { i: { username: 'audit.carol', password: 'carol-Pw-1', profileId: ids.gold } },
    );
    await db.query(
      `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime)
       VALUES ('81a00002', 'audit-carol-1', 'audit.carol', ?, '2026-11-30 10:00:00', '2026-11-30 10:00:00')`,
      [NAS_IP],
    );
    const spare = await mutate(
      'createProfile',
      'mutation { createProfile(input: { name: "spare", downloadRateKbps: 1, uploadRateKbps: 1, validityDays: 1 }) { id } }',
    );
    const key2 = await mutate(
      'createApiKey',
      'mutation { createApiKey(name: "temp2", role: VIEWER) { apiKey { id } } }',
    );

    // A user another tool left in FreeRADIUS, for adoptFreeradiusAccounts.
    await db.query(
      "INSERT INTO radcheck (username, attribute, op, value) VALUES ('audit.legacy2', 'Cleartext-Password', ':=', 'pw')",
    );
    await db.query(
      "INSERT INTO radusergroup (username, groupname, priority) VALUES ('audit.legacy2', 'gold', 1)",
    );

    if (kind === 'mysql') {
      await db.query(
        "CREATE TRIGGER rg_audit_refuse BEFORE INSERT ON rg_audit_log FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit refused by the test'",
      );
    } else {
      await db.query(
        "CREATE TRIGGER rg_audit_refuse BEFORE INSERT ON rg_audit_log BEGIN SELECT RAISE(ABORT, 'audit refused by the test'); END",
      );
    }
    const refused: Array<[string, string, Record<string, unknown>]> = [
      [
        'createProfile',
        'mutation { createProfile(input: { name: "tin", downloadRateKbps: 1, uploadRateKbps: 1, validityDays: 1 }) { id } }',
        {},
      ],
      [
        'updateProfile',
        'mutation($id: ID!) { updateProfile(id: $id, input: { name: "platinum", uploadRateKbps: 99 }) { id } }',
        { id: ids.gold },
      ],
      ['deleteProfile', 'mutation($id: ID!) { deleteProfile(id: $id) }', { id: spare.id }],
      [
        'createNas',
        'mutation { createNas(input: { name: "127.0.0.9", secret: "x-secret-9" }) { id } }',
        {},
      ],
      [
        'updateNas',
        'mutation($id: ID!) { updateNas(id: $id, input: { secret: "other-secret", coaPort: 1 }) { id } }',
        { id: ids.nas },
      ],
      ['deleteNas', 'mutation($id: ID!) { deleteNas(id: $id, force: true) }', { id: ids.nas }],
      [
        'createCustomer',
        'mutation($p: ID!) { createCustomer(input: { username: "audit.dave", profileId: $p }) { id } }',
        { p: ids.gold },
      ],
      [
        'updateCustomer',
        'mutation($id: ID!) { updateCustomer(id: $id, input: { password: "new-Pw-9", name: "Carol" }) { id } }',
        { id: carol.id },
      ],
      [
        'resetCustomerPassword',
        'mutation($id: ID!) { resetCustomerPassword(id: $id) { id } }',
        { id: carol.id },
      ],
      [
        'changeCustomerProfile',
        'mutation($id: ID!, $p: ID!) { changeCustomerProfile(id: $id, profileId: $p) { id } }',
        { id: carol.id, p: ids.silver },
      ],
      [
        'creditCustomer',
        'mutation($id: ID!) { creditCustomer(id: $id, amount: "100") { id } }',
        { id: carol.id },
      ],
      [
        'renewCustomer',
        'mutation($id: ID!) { renewCustomer(id: $id, force: true) { id } }',
        { id: carol.id },
      ],
      [
        'suspendCustomer',
        'mutation($id: ID!) { suspendCustomer(id: $id) { id } }',
        { id: carol.id },
      ],
      ['resumeCustomer', 'mutation($id: ID!) { resumeCustomer(id: $id) { id } }', { id: carol.id }],
      [
        'disconnectCustomer',
        'mutation($id: ID!) { disconnectCustomer(id: $id) { ok } }',
        { id: carol.id },
      ],
      [
        'reconcileNas',
        'mutation($id: ID!) { reconcileNas(nasId: $id) { openSessions } }',
        { id: ids.nas },
      ],
      ['deleteCustomer', 'mutation($id: ID!) { deleteCustomer(id: $id) }', { id: carol.id }],
      [
        'importCustomers',
        'mutation($csv: String!) { importCustomers(csv: $csv) { written } }',
        {
          csv: 'username,password,phone,profile\naudit.erin,erin-Pw-1,,gold\naudit.carol,,0799 000 111,\n',
        },
      ],
      [
        'adoptFreeradiusAccounts',
        'mutation { adoptFreeradiusAccounts(dryRun: false) { written } }',
        {},
      ],
      ['createApiKey', 'mutation { createApiKey(name: "temp3", role: ADMIN) { key } }', {}],
      [
        'revokeApiKey',
        'mutation($id: ID!) { revokeApiKey(id: $id) { id } }',
        { id: key2.apiKey.id },
      ],
    ];
    const { schema } = api.app.get(GraphQLSchemaHost);
    const all = Object.keys(schema.getMutationType()!.getFields()).sort();
    expect(refused.map(([name]) => name).sort()).toEqual(all);

    const before = await tableState();
    const coaBefore = coa.received.length;
    const routerBefore = router.commands('/ppp/active/print').length;
    const outcomes: Record<string, string> = {};
    for (const [name, query, variables] of refused) {
      const { body } = await api.gql(query, variables, key);
      outcomes[name] = body.errors?.[0]?.extensions?.code ?? 'no error';
    }
    expect(outcomes).toEqual(Object.fromEntries(all.map((n) => [n, 'INTERNAL_SERVER_ERROR'])));
    expect(await tableState()).toEqual(before);
    expect(coa.received.length).toBe(coaBefore);
    expect(router.commands('/ppp/active/print').length).toBe(routerBefore);

    await db.query('DROP TRIGGER rg_audit_refuse');
    await mutate('suspendCustomer', `mutation($id: ID!) { suspendCustomer(id: $id) { id } }`, {
      id: carol.id,
    });
  });
});
