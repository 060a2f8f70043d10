import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startApp, type RunningApp } from '../support/app';
import { freeradiusSchemaStatements } from '../support/freeradius-schema';
import { gqlData, gqlError } from '../support/graphql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { BUILT_CLI, ensureBuilt } from '../support/built-app';

ensureBuilt(); // these tests run radgraph as built (built-app.ts)

/**
 * adoptFreeradiusAccounts / `radgraph adopt`: an ISP moving from daloRADIUS brings the users
 * and groups FreeRADIUS already has under radgraph, without a byte of FreeRADIUS's rows
 * changing, and then runs them like any other customer.
 */

const FREERADIUS_TABLES = [
  'radcheck',
  'radreply',
  'radusergroup',
  'radgroupreply',
  'radgroupcheck',
];

/** Users and groups the way daloRADIUS and hand-written SQL leave them. */
async function loadLegacyAccounts(db: TestDatabase): Promise<void> {
  await db.query(`INSERT INTO radcheck (username, attribute, op, value) VALUES
    ('alice', 'Cleartext-Password', ':=', 'alice pw'),
    ('alice', 'Simultaneous-Use', ':=', '2'),
    ('alice', 'Expiration', ':=', '01 Jan 2030 12:00:00'),
    ('bob', 'MD5-Password', ':=', '5f4dcc3b5aa765d61d8327deb882cf99'),
    ('bob', 'Expiration', ':=', 'January 1 2020'),
    ('carol', 'Crypt-Password', ':=', '$1$abc$Zy7uA7zX1j0y6y1ZQ8xYl/'),
    ('carol', 'Auth-Type', ':=', 'Reject'),
    ('dave', 'Cleartext-Password', ':=', 'dave'),
    ('dave', 'Expiration', ':=', '2026-13-45'),
    ('erin', 'Cleartext-Password', '==', 'erin'),
    ('fred', 'Cleartext-Password', ':=', 'fred'),
    ('gus', 'Cleartext-Password', ':=', 'gus'),
    ('hal', 'Cleartext-Password', ':=', 'hal'),
    ('bad user', 'Cleartext-Password', ':=', 'x')`);
  await db.query(`INSERT INTO radusergroup (username, groupname, priority) VALUES
    ('alice', 'gold', 1), ('bob', 'silver', 2), ('bob', 'gold', 1),
    ('carol', 'burst', 0), ('dave', 'burst', 0), ('erin', 'nogroupreply', 1),
    ('gus', 'gold', 1), ('gus', 'silver', 1), ('hal', 'weird', 1), ('bad user', 'gold', 1)`);
  await db.query(`INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES
    ('gold', 'Mikrotik-Rate-Limit', ':=', '10M/10M'),
    ('silver', 'Mikrotik-Rate-Limit', '=', '512k/2M'),
    ('burst', 'Mikrotik-Rate-Limit', ':=', '2M/4M 4M/8M 1M/2M 8/8 8'),
    ('burst', 'Acct-Interim-Interval', ':=', '600'),
    ('burst', 'Framed-Pool', ':=', 'pool-burst'),
    ('weird', 'Mikrotik-Rate-Limit', ':=', 'fast')`);
  await db.query(`INSERT INTO radreply (username, attribute, op, value) VALUES
    ('alice', 'Mikrotik-Rate-Limit', ':=', '20M/20M'),
    ('alice', 'Framed-IP-Address', ':=', '100.64.0.10')`);
  await db.query(`INSERT INTO radgroupcheck (groupname, attribute, op, value) VALUES
    ('gold', 'Simultaneous-Use', ':=', '3'),
    ('checkonly', 'Simultaneous-Use', ':=', '1')`);
}

/** What one run finds on loadLegacyAccounts' rows (with a radgraph profile "Home 5M" and ian). */
const PROBLEMS = [
  {
    kind: 'PROFILE',
    name: 'checkonly',
    adopted: false,
    reason: expect.stringMatching(/no Mikrotik-Rate-Limit/),
  },
  {
    kind: 'PROFILE',
    name: 'gold',
    adopted: true,
    reason: expect.stringMatching(/no Acct-Interim-Interval/),
  },
  {
    kind: 'PROFILE',
    name: 'nogroupreply',
    adopted: false,
    reason: expect.stringMatching(/no Mikrotik-Rate-Limit/),
  },
  {
    kind: 'PROFILE',
    name: 'silver',
    adopted: true,
    reason: expect.stringMatching(/no Acct-Interim-Interval/),
  },
  { kind: 'PROFILE', name: 'weird', adopted: false, reason: expect.stringMatching(/"fast"/) },
  {
    kind: 'CUSTOMER',
    name: 'alice',
    adopted: true,
    reason: expect.stringMatching(/its own Mikrotik-Rate-Limit "20M\/20M" \(radreply\)/),
  },
  {
    kind: 'CUSTOMER',
    name: 'bad user',
    adopted: false,
    reason: expect.stringMatching(/whitespace/),
  },
  {
    kind: 'CUSTOMER',
    name: 'dave',
    adopted: true,
    reason: expect.stringMatching(/Expiration "2026-13-45" cannot be read.*no expiry/),
  },
  {
    kind: 'CUSTOMER',
    name: 'erin',
    adopted: false,
    reason: expect.stringMatching(/group "nogroupreply" is not adopted: .*no Mikrotik-Rate-Limit/),
  },
  { kind: 'CUSTOMER', name: 'fred', adopted: false, reason: expect.stringMatching(/in no group/) },
  {
    kind: 'CUSTOMER',
    name: 'gus',
    adopted: false,
    reason: expect.stringMatching(/"gold" and "silver" share the lowest priority/),
  },
  {
    kind: 'CUSTOMER',
    name: 'hal',
    adopted: false,
    reason: expect.stringMatching(/group "weird" is not adopted: .*"fast"/),
  },
];

const ADOPT = `mutation($dryRun: Boolean) { adoptFreeradiusAccounts(dryRun: $dryRun) {
  dryRun written profilesAdopted profilesSkipped customersAdopted customersSkipped
  problems { kind name adopted reason } } }`;

async function snapshot(db: TestDatabase): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of FREERADIUS_TABLES) out[t] = await db.query(`SELECT * FROM ${t} ORDER BY id`);
  return out;
}

describe('adoptFreeradiusAccounts on a database daloRADIUS filled (MariaDB)', () => {
  let db: TestDatabase;
  let api: RunningApp;
  let before: Record<string, unknown[]>;
  let dry: any;
  let real: any;
  const ids: Record<string, string> = {};

  const gql = (query: string, variables?: Record<string, unknown>) =>
    gqlData(api, query, variables);
  const checks = (username: string) =>
    db.query<{ attribute: string; op: string; value: string }>(
      'SELECT attribute, op, value FROM radcheck WHERE username = ? ORDER BY id',
      [username],
    );

  beforeAll(async () => {
    db = await createTestDatabase('mysql', { migrate: false });
    for (const statement of freeradiusSchemaStatements('mysql')) await db.query(statement);
    await loadLegacyAccounts(db);
    await db.migrate();
    api = await startApp(db, { EXPIRY_CHECK_INTERVAL_SECONDS: '0' });
    // A profile radgraph made, and a user someone then put in its group by hand.
    await gql(
      `mutation { createProfile(input: { name: "Home 5M", downloadRateKbps: 5000, uploadRateKbps: 5000, validityDays: 30 }) { id } }`,
    );
    await db.query(`INSERT INTO radcheck (username, attribute, op, value) VALUES
      ('ian', 'Cleartext-Password', ':=', 'ian pw')`);
    await db.query(
      "INSERT INTO radusergroup (username, groupname, priority) VALUES ('ian', 'Home 5M', 1)",
    );
    await db.query(`INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress,
        acctstarttime, acctstoptime, acctsessiontime, acctinputoctets, acctoutputoctets)
      VALUES ('a-old', 'u-a-old', 'alice', '10.1.1.1', NOW() - INTERVAL 2 HOUR,
        NOW() - INTERVAL 1 HOUR, 3600, 100, 200)`);
    before = await snapshot(db);
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('refuses keys below ADMIN', async () => {
    const { createApiKey } = await gql(
      'mutation { createApiKey(name: "ops", role: OPERATOR) { key } }',
    );
    const { status, body } = await api.gql(ADOPT, { dryRun: true }, createApiKey.key);
    expect(status).toBe(200);
    expect(body.errors?.[0].extensions.code).toBe('FORBIDDEN');
  });

  it('a dry run (the default) reports everything and writes nothing', async () => {
    const r = await gql(ADOPT.replace('($dryRun: Boolean)', '').replace('(dryRun: $dryRun)', ''));
    dry = r.adoptFreeradiusAccounts;
    expect(dry).toEqual({
      dryRun: true,
      written: false,
      profilesAdopted: 3,
      profilesSkipped: 3,
      customersAdopted: 5,
      customersSkipped: 5,
      problems: PROBLEMS,
    });
    expect(await db.query('SELECT name FROM rg_profiles')).toEqual([{ name: 'Home 5M' }]);
    expect(await db.query('SELECT id FROM rg_customers')).toEqual([]);
    expect(
      await db.query("SELECT id FROM rg_audit_log WHERE operation = 'adoptFreeradiusAccounts'"),
    ).toEqual([]);
  });

  it('adopts the same in one run, and FreeRADIUS’s rows stay byte for byte', async () => {
    real = (await gql(ADOPT, { dryRun: false })).adoptFreeradiusAccounts;
    expect(real).toEqual({ ...dry, dryRun: false, written: true });
    expect(await snapshot(db)).toEqual(before);
  });

  it('makes profiles of the groups, speeds from the rate limit’s base rate', async () => {
    const { profiles } = await gql(
      '{ profiles { name uploadRateKbps downloadRateKbps interimIntervalSeconds validityDays price dataLimitBytes } }',
    );
    // In name order, as the database collates them (MariaDB's without case).
    expect(profiles).toEqual([
      {
        name: 'burst',
        uploadRateKbps: 2000,
        downloadRateKbps: 4000,
        interimIntervalSeconds: 600,
        validityDays: 30,
        price: '0.00',
        dataLimitBytes: null,
      },
      expect.objectContaining({ name: 'gold', uploadRateKbps: 10000, downloadRateKbps: 10000 }),
      expect.objectContaining({ name: 'Home 5M' }),
      expect.objectContaining({ name: 'silver', uploadRateKbps: 512, downloadRateKbps: 2000 }),
    ]);
  });

  it('makes customers of the users: profile, expiry, suspension, account number', async () => {
    const { customers } = await gql(
      `{ customers(first: 50) { totalCount edges { node { id accountNo username phone name balance status expiresAt profile { name } } } } }`,
    );
    expect(customers.totalCount).toBe(5);
    const by = Object.fromEntries(customers.edges.map((e: any) => [e.node.username, e.node]));
    for (const [u, c] of Object.entries<any>(by)) {
      ids[u] = c.id;
      expect(c).toMatchObject({ phone: null, name: null, balance: '0.00' });
      expect(c.accountNo).toMatch(/^RG-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    }
    expect(Object.keys(by).sort()).toEqual(['alice', 'bob', 'carol', 'dave', 'ian']);
    expect(by.alice).toMatchObject({
      profile: { name: 'gold' },
      status: 'OFFLINE',
      expiresAt: '2030-01-01T12:00:00.000Z',
    });
    expect(by.bob).toMatchObject({ profile: { name: 'gold' }, status: 'EXPIRED' });
    expect(by.carol).toMatchObject({ profile: { name: 'burst' }, status: 'SUSPENDED' });
    expect(by.dave).toMatchObject({ profile: { name: 'burst' }, expiresAt: null });
    expect(by.ian).toMatchObject({ profile: { name: 'Home 5M' } });
  });

  it('writes an audit row for each adopted profile and customer, and one for the run', async () => {
    const { auditLog } = await gql(
      `{ auditLog(filter: { operation: "adoptFreeradiusAccounts" }, first: 50) { edges { node { targetType targetLabel } } } }`,
    );
    const rows = auditLog.edges.map((e: any) => `${e.node.targetType}:${e.node.targetLabel}`);
    expect(rows.sort()).toEqual([
      'customer:alice',
      'customer:bob',
      'customer:carol',
      'customer:dave',
      'customer:ian',
      'freeradiusAdoption:freeradius',
      'profile:burst',
      'profile:gold',
      'profile:silver',
    ]);
  });

  it('adopts nothing more when run again', async () => {
    const again = (await gql(ADOPT, { dryRun: false })).adoptFreeradiusAccounts;
    expect(again).toEqual({
      dryRun: false,
      written: false,
      profilesAdopted: 0,
      profilesSkipped: 3,
      customersAdopted: 0,
      customersSkipped: 5,
      problems: PROBLEMS.filter((p) => !p.adopted),
    });
    expect(await snapshot(db)).toEqual(before);
  });

  describe('then runs them like any other customer', () => {
    it('shows their sessions', async () => {
      const { customer } = await gql(
        'query($id: ID!) { customer(id: $id) { sessions(first: 5) { totalCount edges { node { sessionId uploadBytes } } } } }',
        { id: ids.alice },
      );
      expect(customer.sessions).toEqual({
        totalCount: 1,
        edges: [{ node: { sessionId: 'a-old', uploadBytes: 100 } }],
      });
    });

    it('an update without a password leaves an MD5-Password alone, and writes no empty one', async () => {
      const rows = await checks('bob');
      await gql(
        'mutation($id: ID!) { updateCustomer(id: $id, input: { phone: "0712345678" }) { id } }',
        {
          id: ids.bob,
        },
      );
      expect(await checks('bob')).toEqual(rows);
    });

    it('renews: a new Expiration, the password row kept', async () => {
      const { renewCustomer } = await gql(
        'mutation($id: ID!) { renewCustomer(id: $id, force: true) { status expiresAt } }',
        { id: ids.bob },
      );
      expect(renewCustomer.status).toBe('OFFLINE');
      const at = Math.floor(new Date(renewCustomer.expiresAt).getTime() / 1000);
      expect(await checks('bob')).toEqual([
        { attribute: 'MD5-Password', op: ':=', value: '5f4dcc3b5aa765d61d8327deb882cf99' },
        { attribute: 'Expiration', op: ':=', value: String(at) },
      ]);
    });

    it('a new password replaces the MD5-Password it would otherwise sit behind', async () => {
      const { resetCustomerPassword } = await gql(
        'mutation($id: ID!) { resetCustomerPassword(id: $id) { generatedPassword } }',
        { id: ids.bob },
      );
      const rows = await checks('bob');
      expect(rows.map((r) => r.attribute).sort()).toEqual(['Cleartext-Password', 'Expiration']);
      expect(rows.find((r) => r.attribute === 'Cleartext-Password')?.value).toBe(
        resetCustomerPassword.generatedPassword,
      );
    });

    it('resumes and suspends one whose only password is a Crypt-Password', async () => {
      await gql('mutation($id: ID!) { resumeCustomer(id: $id) { id } }', { id: ids.carol });
      expect(await checks('carol')).toEqual([
        { attribute: 'Crypt-Password', op: ':=', value: '$1$abc$Zy7uA7zX1j0y6y1ZQ8xYl/' },
      ]);
      const { suspendCustomer } = await gql(
        'mutation($id: ID!) { suspendCustomer(id: $id) { status } }',
        { id: ids.carol },
      );
      expect(suspendCustomer.status).toBe('SUSPENDED');
      expect(await checks('carol')).toEqual([
        { attribute: 'Crypt-Password', op: ':=', value: '$1$abc$Zy7uA7zX1j0y6y1ZQ8xYl/' },
        { attribute: 'Auth-Type', op: ':=', value: 'Reject' },
      ]);
    });

    it('a profile edit that keeps its speeds keeps the group’s burst settings', async () => {
      const { profiles } = await gql('{ profiles { id name } }');
      const burst = profiles.find((p: any) => p.name === 'burst').id;
      const rows = () =>
        db.query("SELECT * FROM radgroupreply WHERE groupname = 'burst' ORDER BY id");
      const was = await rows();
      await gql(
        'mutation($id: ID!) { updateProfile(id: $id, input: { price: "15", validityDays: 31 }) { id } }',
        { id: burst },
      );
      expect(await rows()).toEqual(was);
      await gql(
        'mutation($id: ID!) { updateProfile(id: $id, input: { downloadRateKbps: 8000 }) { id } }',
        { id: burst },
      );
      const now = await rows();
      expect(
        now
          .map((r: any) => [r.attribute, r.value])
          .sort((a: any, b: any) => (a[0] < b[0] ? -1 : 1)),
      ).toEqual([
        ['Acct-Interim-Interval', '600'],
        ['Framed-Pool', 'pool-burst'],
        ['Mikrotik-Rate-Limit', '2000k/8000k'],
      ]);
    });

    it('changes its profile', async () => {
      const { profiles } = await gql('{ profiles { id name } }');
      const silver = profiles.find((p: any) => p.name === 'silver').id;
      const { changeCustomerProfile } = await gql(
        'mutation($id: ID!, $p: ID!) { changeCustomerProfile(id: $id, profileId: $p) { profile { name } } }',
        { id: ids.alice, p: silver },
      );
      expect(changeCustomerProfile.profile.name).toBe('silver');
      expect(await db.query("SELECT groupname FROM radusergroup WHERE username = 'alice'")).toEqual(
        [{ groupname: 'silver' }],
      );
      expect((await checks('alice')).map((r) => r.attribute)).toEqual([
        'Cleartext-Password',
        'Simultaneous-Use',
        'Expiration',
      ]);
    });

    it('deletes one, and its FreeRADIUS rows with it', async () => {
      await gql('mutation($id: ID!) { deleteCustomer(id: $id) }', { id: ids.dave });
      expect(await checks('dave')).toEqual([]);
      expect(await db.query("SELECT id FROM radusergroup WHERE username = 'dave'")).toEqual([]);
    });
  });

  it('answers an unknown argument value as any mutation does', async () => {
    const err = await gqlError(
      api,
      'mutation { adoptFreeradiusAccounts(dryRun: "no") { written } }',
    );
    expect(err.extensions.code).toMatch(/GRAPHQL_VALIDATION_FAILED|BAD_USER_INPUT/);
  });
});

describe('radgraph adopt on an embedded SQLite database', () => {
  let db: TestDatabase;
  const cli = [BUILT_CLI, 'adopt'];
  type Run = { code?: number; stdout: string; stderr: string };
  const run = (...args: string[]): Promise<Run> =>
    promisify(execFile)(process.execPath, [...cli, ...args], {
      env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'error' },
      encoding: 'utf8',
    }).then(
      (r) => ({ code: 0, ...r }),
      (err: Run) => err,
    );

  beforeAll(async () => {
    db = await createTestDatabase('sqlite', { migrate: false });
    for (const statement of freeradiusSchemaStatements('sqlite')) await db.query(statement);
    await loadLegacyAccounts(db);
    await db.migrate();
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
  });

  it('reports in a dry run, adopts, then has nothing more to adopt; FreeRADIUS’s rows unchanged', async () => {
    const before = await snapshot(db);
    const dry = await run('--dry-run');
    expect(dry).toMatchObject({ code: 1, stderr: '' });
    expect(dry.stdout).toContain('Profiles: 3 would be adopted, 3 not.\n');
    expect(dry.stdout).toContain('Customers: 4 would be adopted, 5 not.\n');
    expect(dry.stdout).toContain('user hal: not adopted: The user\'s group "weird" is not adopted');
    expect(dry.stdout).toContain('user dave: would be adopted, but Expiration "2026-13-45"');
    expect(dry.stdout).toMatch(/Dry run: nothing was written.\n$/);
    expect(await db.query('SELECT id FROM rg_customers')).toEqual([]);

    const real = await run();
    expect(real.stdout).toContain('Customers: 4 adopted, 5 not.\n');
    const customers = await db.query<any>(
      `SELECT c.username, p.name AS profile, c.suspended FROM rg_customers c
         JOIN rg_profiles p ON p.id = c.profile_id ORDER BY c.username`,
    );
    expect(customers.map((c: any) => [c.username, c.profile, Boolean(c.suspended)])).toEqual([
      ['alice', 'gold', false],
      ['bob', 'gold', false],
      ['carol', 'burst', true],
      ['dave', 'burst', false],
    ]);
    const audit = await db.query<any>(
      "SELECT actor_kind, operation FROM rg_audit_log WHERE target_type = 'freeradiusAdoption'",
    );
    expect(audit).toEqual([{ actor_kind: 'cli', operation: 'adopt' }]);

    const again = await run();
    expect(again.stdout).toContain('Profiles: 0 adopted, 3 not.\nCustomers: 0 adopted, 5 not.\n');
    expect(await snapshot(db)).toEqual(before);
  }, 120_000);
});
