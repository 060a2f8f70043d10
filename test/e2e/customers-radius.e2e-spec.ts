/**
 * Issue 3's acceptance, end to end: profiles and customers written through radgraph's GraphQL
 * API are what real FreeRADIUS 3.2 (Debian's packages, with radius-config/) enforces. The app
 * and FreeRADIUS share one fresh MariaDB database; the real radclient plays the NAS.
 *
 * Every write goes through GraphQL, except three that the API has no operation for: the `nas`
 * row FreeRADIUS needs at startup, moving an expiry into the past, and a profile name the API
 * refuses (see those tests).
 *
 * The tests run in order and share one customer. FreeRADIUS delays every Access-Reject by its
 * stock reject_delay (1 s), so there are only as many rejects as the acceptance list needs.
 */
import { RunningApp, startApp } from '../support/app';
import {
  radclient,
  RadclientResult,
  RunningFreeradius,
  startFreeradius,
  freeradiusDatabase,
  expectWrongPasswordReject,
  loginEachWay,
} from '../support/freeradius';
import { gqlData, gqlError } from '../support/graphql';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { expirationValue } from '../../src/customers/customer-rules';
import { runAll } from '../support/cleanup';

jest.setTimeout(60_000);

const NAS_SECRET = 'e2e-Customers-s3cret';
const USERNAME = 'wanjiku.pppoe';
const PASSWORD = 'Kahawa-2026!';
const DAY_MS = 86_400_000;
/** How far FreeRADIUS's Session-Timeout may be from the time left until expiresAt. */
const SESSION_TIMEOUT_TOLERANCE_S = 30;

/**
 * FreeRADIUS reads a radcheck `Expiration` with mktime(), in its own local time zone. A test
 * machine at UTC would hide a time-zone mistake, and production servers often run at local
 * time. So FreeRADIUS runs here three hours east of UTC (POSIX TZ "EAT-3", East Africa Time,
 * which needs no tzdata): the Session-Timeout checks below then fail unless FreeRADIUS reads
 * the instant radgraph meant.
 */
const FREERADIUS_TZ = 'EAT-3';

const CUSTOMER_FIELDS = `
  id username accountNo expiresAt status suspended
  profile { id name rateLimit }
`;

interface CustomerView {
  id: string;
  username: string;
  accountNo: string;
  expiresAt: string | null;
  status: string;
  suspended: boolean;
  profile: { id: string; name: string; rateLimit: string } | null;
}

interface ProfileView {
  id: string;
  name: string;
  rateLimit: string;
  interimIntervalSeconds: number;
}

describe('Profiles and customers over GraphQL, enforced by real FreeRADIUS', () => {
  let db: TestDatabase;
  let radius: RunningFreeradius | undefined;
  let api: RunningApp | undefined;

  // Shared by the tests, in order.
  let home10: ProfileView;
  let home20: ProfileView;
  let customer: CustomerView;

  beforeAll(async () => {
    db = await createTestDatabase('mysql');
    if (!db.mysql) throw new Error('createTestDatabase("mysql") returned no MySQL credentials');
    // radclient's NAS. FreeRADIUS reads its clients from the nas table once, at startup, so the
    // row goes in first; radgraph has no NAS API yet.
    await db.query(
      'INSERT INTO nas (nasname, shortname, type, secret, description) VALUES (?, ?, ?, ?, ?)',
      ['127.0.0.1', 'e2e-loopback', 'other', NAS_SECRET, 'radclient in customers-radius e2e'],
    );
    // startFreeradius passes this worker's process.env to FreeRADIUS. Under jest that object is
    // the sandbox's own copy, so TZ changes nothing for the app or for this process's clock.
    const savedTz = process.env.TZ;
    process.env.TZ = FREERADIUS_TZ;
    try {
      radius = await startFreeradius({
        db: freeradiusDatabase(db),
      });
    } finally {
      if (savedTz === undefined) delete process.env.TZ;
      else process.env.TZ = savedTz;
    }
    api = await startApp(db);
  }, 120_000);

  afterAll(async () => {
    // Each step runs even when an earlier one failed, so nothing is left behind.
    const steps = [() => api?.close(), () => radius?.stop(), () => db?.drop()];
    await runAll(steps);
  }, 60_000);

  function app(): RunningApp {
    if (!api) throw new Error('the app did not start (see beforeAll)');
    return api;
  }

  function freeradius(): RunningFreeradius {
    if (!radius) throw new Error('FreeRADIUS did not start (see beforeAll)');
    return radius;
  }

  function authenticate(attributes: Record<string, string>): Promise<RadclientResult> {
    return radclient({
      port: freeradius().authPort,
      secret: NAS_SECRET,
      type: 'auth',
      attributes,
      timeoutSeconds: 5,
    });
  }

  const pap = (password = PASSWORD) =>
    authenticate({ 'User-Name': USERNAME, 'User-Password': password });
  const chap = (password = PASSWORD) =>
    authenticate({ 'User-Name': USERNAME, 'CHAP-Password': password });

  /**
   * For a customer who may not log in (suspended, expired): a wrong password gets what any
   * wrong password gets, so it tells nothing about the account, and only the right one gets the
   * refusal, a bare Access-Reject (PAP, CHAP and MS-CHAP).
   */
  async function expectRefusedOnlyWithTheRightPassword(): Promise<void> {
    const login = (password: string) =>
      loginEachWay({
        port: freeradius().authPort,
        secret: NAS_SECRET,
        username: USERNAME,
        password,
      });
    for (const [method, result] of await login('not-the-password')) {
      expectWrongPasswordReject(method, result, freeradius());
    }
    for (const [, result] of await login(PASSWORD)) {
      expectCode(result, 'Access-Reject');
      // Not the MS-CHAP success and MPPE keys, nor the plan's rate.
      expect(result.reply).toEqual({});
    }
  }

  /** Fails with radclient's output and the tail of FreeRADIUS's, which say why. */
  function expectCode(result: RadclientResult, expected: string): void {
    if (result.code !== expected) {
      throw new Error(
        `expected ${expected}, got ${result.code}\n--- radclient\n${result.stdout}${result.stderr}` +
          `\n--- FreeRADIUS (last 4000 characters)\n${freeradius().output().slice(-4000)}`,
      );
    }
  }

  /**
   * rlm_expiration caps Session-Timeout at the time left until radcheck's Expiration: it must
   * match the expiresAt radgraph reports. An offset of whole hours means FreeRADIUS read the
   * Expiration in another time zone than the one radgraph wrote it in.
   */
  function expectSessionTimeoutUntil(result: RadclientResult, expiresAt: string): void {
    const left = (Date.parse(expiresAt) - Date.now()) / 1000;
    const sessionTimeout = Number(result.reply['Session-Timeout']);
    if (!(Math.abs(sessionTimeout - left) <= SESSION_TIMEOUT_TOLERANCE_S)) {
      throw new Error(
        `Session-Timeout is ${result.reply['Session-Timeout']} s, but the customer expires at ` +
          `${expiresAt}, in ${Math.round(left)} s (off by ${Math.round(sessionTimeout - left)} s). ` +
          `FreeRADIUS runs with TZ=${FREERADIUS_TZ}; radcheck has Expiration ` +
          `"${expirationValue(new Date(expiresAt))}".`,
      );
    }
  }

  async function radcheckRows(
    username: string,
  ): Promise<Array<{ attribute: string; op: string; value: string }>> {
    return db.query(
      'SELECT attribute, op, value FROM radcheck WHERE username = ? ORDER BY attribute',
      [username],
    );
  }

  async function radusergroupRows(
    username: string,
  ): Promise<Array<{ groupname: string; priority: number }>> {
    return db.query('SELECT groupname, priority FROM radusergroup WHERE username = ?', [username]);
  }

  function expectNear(actualIso: string | null, expectedMs: number, toleranceMs: number): void {
    expect(actualIso).not.toBeNull();
    const diff = Date.parse(actualIso!) - expectedMs;
    if (!(Math.abs(diff) <= toleranceMs)) {
      throw new Error(
        `${actualIso} is ${diff} ms from ${new Date(expectedMs).toISOString()} (tolerance ${toleranceMs} ms)`,
      );
    }
  }

  const CREATE_PROFILE = `
    mutation ($input: CreateProfileInput!) {
      createProfile(input: $input) { id name rateLimit interimIntervalSeconds }
    }`;

  it('creates a profile (10240 kbps down, 5120 up, 30 days) and a customer through GraphQL', async () => {
    home10 = (
      await gqlData<{ createProfile: ProfileView }>(app(), CREATE_PROFILE, {
        input: {
          name: 'home-10m',
          downloadRateKbps: 10240,
          uploadRateKbps: 5120,
          validityDays: 30,
        },
      })
    ).createProfile;
    expect(home10).toMatchObject({
      name: 'home-10m',
      rateLimit: '5120k/10240k',
      interimIntervalSeconds: 300,
    });

    const before = Date.now();
    customer = (
      await gqlData<{ createCustomer: CustomerView }>(
        app(),
        `mutation ($input: CreateCustomerInput!) { createCustomer(input: $input) { ${CUSTOMER_FIELDS} } }`,
        {
          input: {
            username: USERNAME,
            password: PASSWORD,
            phone: '+254 712-345678',
            name: 'Wanjiku Kamau',
            profileId: home10.id,
          },
        },
      )
    ).createCustomer;
    expect(customer).toMatchObject({
      username: USERNAME,
      suspended: false,
      status: 'OFFLINE',
      profile: { id: home10.id, name: 'home-10m', rateLimit: '5120k/10240k' },
    });
    expectNear(customer.expiresAt, before + 30 * DAY_MS, 60_000);

    // What FreeRADIUS will read: design.md's rows, and no Auth-Type while not suspended.
    expect(await radcheckRows(USERNAME)).toEqual([
      { attribute: 'Cleartext-Password', op: ':=', value: PASSWORD },
      { attribute: 'Expiration', op: ':=', value: expect.any(String) },
      { attribute: 'Simultaneous-Use', op: ':=', value: '1' },
    ]);
    expect(await radusergroupRows(USERNAME)).toEqual([
      { groupname: 'home-10m', priority: expect.any(Number) },
    ]);
  });

  it('PAP: Access-Accept with the profile rate, the interim interval and the time left', async () => {
    const result = await pap();

    expectCode(result, 'Access-Accept');
    expect(result.reply['Mikrotik-Rate-Limit']).toBe('5120k/10240k');
    expect(result.reply['Acct-Interim-Interval']).toBe('300');
    // About 30 days: FreeRADIUS read radgraph's Expiration as the instant radgraph meant.
    expectSessionTimeoutUntil(result, customer.expiresAt!);
  });

  it('CHAP: Access-Accept with the same rate', async () => {
    const result = await chap();

    expectCode(result, 'Access-Accept');
    expect(result.reply['Mikrotik-Rate-Limit']).toBe('5120k/10240k');
    expect(result.reply['Acct-Interim-Interval']).toBe('300');
  });

  it("a wrong password: Access-Reject, with nothing in it but MS-CHAP's E=691 (PAP, CHAP, MS-CHAP)", async () => {
    const results = await loginEachWay({
      port: freeradius().authPort,
      secret: NAS_SECRET,
      username: USERNAME,
      password: 'not-the-password',
    });
    for (const [method, result] of results) expectWrongPasswordReject(method, result, freeradius());
  });

  it('authAttempts: each accept and reject at the time it happened, though FreeRADIUS runs at UTC+3', async () => {
    // FreeRADIUS writes radpostauth.authdate. Written in its own time zone (EAT-3 here), to a
    // database at UTC, each attempt was logged three hours in the future.
    const before = Date.now();
    expectCode(await pap(), 'Access-Accept');
    expectCode(await pap('not-the-password'), 'Access-Reject');
    const after = Date.now();

    const { customer: found } = await gqlData<{
      customer: { authAttempts: Array<{ at: string; reply: string; accepted: boolean }> };
    }>(
      app(),
      'query ($id: ID!) { customer(id: $id) { authAttempts(last: 2) { at reply accepted } } }',
      {
        id: customer.id,
      },
    );
    expect(found.authAttempts.map(({ reply, accepted }) => ({ reply, accepted }))).toEqual([
      { reply: 'Access-Reject', accepted: false },
      { reply: 'Access-Accept', accepted: true },
    ]);
    for (const { at } of found.authAttempts) {
      // A second either way: the database's clock, and FreeRADIUS's, against this process's.
      expectNear(at, (before + after) / 2, (after - before) / 2 + 1000);
    }
  });

  it('changeCustomerProfile: the next Access-Accept carries the new rate', async () => {
    home20 = (
      await gqlData<{ createProfile: ProfileView }>(app(), CREATE_PROFILE, {
        input: {
          name: 'home-20m',
          downloadRateKbps: 20480,
          uploadRateKbps: 10240,
          validityDays: 30,
          interimIntervalSeconds: 120,
        },
      })
    ).createProfile;

    const changed = (
      await gqlData<{ changeCustomerProfile: CustomerView }>(
        app(),
        `mutation ($id: ID!, $profileId: ID!) {
           changeCustomerProfile(id: $id, profileId: $profileId) { ${CUSTOMER_FIELDS} }
         }`,
        { id: customer.id, profileId: home20.id },
      )
    ).changeCustomerProfile;
    expect(changed.profile).toEqual({
      id: home20.id,
      name: 'home-20m',
      rateLimit: '10240k/20480k',
    });

    const result = await pap();
    expectCode(result, 'Access-Accept');
    expect(result.reply['Mikrotik-Rate-Limit']).toBe('10240k/20480k');
    expect(result.reply['Acct-Interim-Interval']).toBe('120');
  });

  it('a profile name FreeRADIUS expands unchanged (space, @ . - _ : /, non-ASCII) gets its rate; one it rewrites gets none, until it is renamed', async () => {
    const move = (profileId: string) =>
      gqlData(
        app(),
        `mutation ($id: ID!, $p: ID!) { changeCustomerProfile(id: $id, profileId: $p) { id } }`,
        { id: customer.id, p: profileId },
      );
    const NAME = 'Home 5M: fibre/@ke.co_x-1 ñ';
    const safe = (
      await gqlData<{ createProfile: ProfileView }>(app(), CREATE_PROFILE, {
        input: { name: NAME, downloadRateKbps: 5120, uploadRateKbps: 1024, validityDays: 30 },
      })
    ).createProfile;
    await move(safe.id);
    let result = await pap();
    expectCode(result, 'Access-Accept');
    expect(result.reply['Mikrotik-Rate-Limit']).toBe('1024k/5120k');

    // A name radgraph now refuses, as an older radgraph left it (the API cannot make one):
    // rlm_sql looks its group up as "…=2B", and the Access-Accept has no rate at all.
    const LEGACY = `${NAME}+`;
    await db.query('UPDATE rg_profiles SET name = ? WHERE id = ?', [LEGACY, safe.id]);
    for (const t of ['radgroupreply', 'radusergroup']) {
      await db.query(`UPDATE ${t} SET groupname = ? WHERE groupname = ?`, [LEGACY, NAME]);
    }
    result = await pap();
    expectCode(result, 'Access-Accept');
    expect(result.reply['Mikrotik-Rate-Limit']).toBeUndefined();
    expect(result.reply['Acct-Interim-Interval']).toBeUndefined();
    const { profile } = await gqlData(
      app(),
      `query ($id: ID!) { profile(id: $id) { groupNameProblem } }`,
      {
        id: safe.id,
      },
    );
    expect(profile.groupNameProblem).toContain('"+"');

    // Renamed through the API, the group moves and FreeRADIUS matches it again.
    await gqlData(
      app(),
      `mutation ($id: ID!) { updateProfile(id: $id, input: { name: "Home 5M" }) { id } }`,
      {
        id: safe.id,
      },
    );
    result = await pap();
    expectCode(result, 'Access-Accept');
    expect(result.reply['Mikrotik-Rate-Limit']).toBe('1024k/5120k');

    await move(home20.id); // as the tests below expect
  });

  it('suspendCustomer: Access-Reject, but only for the right password (a wrong one tells nothing); resumeCustomer: Access-Accept again', async () => {
    const suspended = (
      await gqlData<{ suspendCustomer: CustomerView }>(
        app(),
        `mutation ($id: ID!) { suspendCustomer(id: $id) { ${CUSTOMER_FIELDS} } }`,
        { id: customer.id },
      )
    ).suspendCustomer;
    expect(suspended).toMatchObject({ suspended: true, status: 'SUSPENDED' });
    expect(await radcheckRows(USERNAME)).toContainEqual({
      attribute: 'Auth-Type',
      op: ':=',
      value: 'Reject',
    });

    await expectRefusedOnlyWithTheRightPassword();

    const resumed = (
      await gqlData<{ resumeCustomer: CustomerView }>(
        app(),
        `mutation ($id: ID!) { resumeCustomer(id: $id) { ${CUSTOMER_FIELDS} } }`,
        { id: customer.id },
      )
    ).resumeCustomer;
    expect(resumed).toMatchObject({ suspended: false, status: 'OFFLINE' });
    expect((await radcheckRows(USERNAME)).map((r) => r.attribute)).not.toContain('Auth-Type');

    const result = await pap();
    expectCode(result, 'Access-Accept');
    expect(result.reply['Mikrotik-Rate-Limit']).toBe('10240k/20480k');
  });

  it('an expiresAt in the past: Access-Reject, but only for the right password (a wrong one tells nothing); renewCustomer: Access-Accept again', async () => {
    // The API has no way to put an expiry in the past (createCustomer gives now + validity and
    // renewCustomer only moves it forward), and waiting for one to pass would take a day. So
    // the test ages the customer by hand, a day ago, writing both copies of the expiry the way
    // radgraph does: radgraph's rg_customers.expires_at (for status and for renew's
    // max(now, expiresAt)) and FreeRADIUS's radcheck Expiration, in radgraph's own format.
    const past = new Date(Math.floor((Date.now() - DAY_MS) / 1000) * 1000);
    await db.query(
      "UPDATE radcheck SET value = ? WHERE username = ? AND attribute = 'Expiration'",
      [expirationValue(past), USERNAME],
    );
    await db.query('UPDATE rg_customers SET expires_at = ? WHERE id = ?', [past, customer.id]);
    const aged = (
      await gqlData<{ customer: CustomerView }>(
        app(),
        `query ($id: ID!) { customer(id: $id) { ${CUSTOMER_FIELDS} } }`,
        { id: customer.id },
      )
    ).customer;
    expect(aged.status).toBe('EXPIRED');
    expect(Date.parse(aged.expiresAt!)).toBe(past.getTime());

    await expectRefusedOnlyWithTheRightPassword();

    const before = Date.now();
    const renewed = (
      await gqlData<{ renewCustomer: CustomerView }>(
        app(),
        `mutation ($id: ID!) { renewCustomer(id: $id) { ${CUSTOMER_FIELDS} } }`,
        { id: customer.id },
      )
    ).renewCustomer;
    // max(now, a day ago) + the profile's 30 days.
    expect(renewed.status).toBe('OFFLINE');
    expectNear(renewed.expiresAt, before + 30 * DAY_MS, 60_000);
    expect((await radcheckRows(USERNAME)).find((r) => r.attribute === 'Expiration')?.value).toBe(
      expirationValue(new Date(renewed.expiresAt!)),
    );

    const result = await pap();
    expectCode(result, 'Access-Accept');
    expect(result.reply['Mikrotik-Rate-Limit']).toBe('10240k/20480k');
    expectSessionTimeoutUntil(result, renewed.expiresAt!);
  });

  it("a login FreeRADIUS's filter_username rejects (user@isp, two @, .., a final dot) is refused with BAD_USER_INPUT naming input.username", async () => {
    const logins = ['kamau@isp', 'otieno@home@isp.co.ke', 'jane..doe', 'achieng.'];
    for (const login of logins) {
      // What FreeRADIUS does with such a login, its rows written by hand: Access-Reject.
      await db.query(
        "INSERT INTO radcheck (username, attribute, op, value) VALUES (?, 'Cleartext-Password', ':=', ?)",
        [login, PASSWORD],
      );
      const result = await authenticate({ 'User-Name': login, 'User-Password': PASSWORD });
      expectCode(result, 'Access-Reject');
      await db.query('DELETE FROM radcheck WHERE username = ?', [login]);

      // So radgraph refuses to make a customer who could never log in.
      const error = await gqlError(
        app(),
        `mutation ($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`,
        { input: { username: login, password: PASSWORD, profileId: home20.id } },
      );
      expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.username' });
      expect(error.message).toContain('filter_username');
      expect(await radcheckRows(login)).toEqual([]);
    }
    // A login with a domain after its @ is one FreeRADIUS lets through.
    const login = 'kamau@isp.co.ke';
    await gqlData(
      app(),
      `mutation ($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`,
      { input: { username: login, password: PASSWORD, profileId: home20.id } },
    );
    expectCode(
      await authenticate({ 'User-Name': login, 'User-Password': PASSWORD }),
      'Access-Accept',
    );
  });

  it('a password wrapped in quotes (" \' `), which FreeRADIUS reads without them, is refused with BAD_USER_INPUT naming the field', async () => {
    const quoted = `"${PASSWORD}"`;
    // What FreeRADIUS does with such a radcheck value, written by hand: it takes the quotes
    // off, so the password the customer was given is rejected and the bare one accepted.
    const login = 'quoted.password';
    await db.query(
      "INSERT INTO radcheck (username, attribute, op, value) VALUES (?, 'Cleartext-Password', ':=', ?)",
      [login, quoted],
    );
    expectCode(
      await authenticate({ 'User-Name': login, 'CHAP-Password': quoted }),
      'Access-Reject',
    );
    expectCode(
      await authenticate({ 'User-Name': login, 'CHAP-Password': PASSWORD }),
      'Access-Accept',
    );
    await db.query('DELETE FROM radcheck WHERE username = ?', [login]);

    for (const password of [quoted, `'${PASSWORD}'`, `\`${PASSWORD}\``]) {
      const created = await gqlError(
        app(),
        `mutation ($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`,
        { input: { username: login, password, profileId: home20.id } },
      );
      expect(created.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.password' });
      expect(created.message).not.toContain(PASSWORD);
      const updated = await gqlError(
        app(),
        `mutation ($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { id } }`,
        { id: customer.id, input: { password } },
      );
      expect(updated.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.password' });
    }
    expect(await radcheckRows(login)).toEqual([]);
    // The customer's password is the one it was.
    expectCode(await pap(), 'Access-Accept');
  });

  it('deleteCustomer: no radcheck or radusergroup row for the username, and Access-Reject', async () => {
    const deleted = await gqlData<{ deleteCustomer: boolean }>(
      app(),
      'mutation ($id: ID!) { deleteCustomer(id: $id) }',
      { id: customer.id },
    );
    expect(deleted).toEqual({ deleteCustomer: true });

    expect(await radcheckRows(USERNAME)).toEqual([]);
    expect(await radusergroupRows(USERNAME)).toEqual([]);
    expect(
      await gqlData(app(), 'query ($u: String!) { customer(username: $u) { id } }', {
        u: USERNAME,
      }),
    ).toEqual({ customer: null });

    expectCode(await pap(), 'Access-Reject');
  });
});
