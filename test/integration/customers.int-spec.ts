import { createConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { startApp, type RunningApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { until } from '../support/until';

const PROFILE = `id name downloadRateKbps uploadRateKbps dataLimitBytes validityDays interimIntervalSeconds rateLimit customerCount`;
const CUSTOMER = `id accountNo username phone name joinedAt expiresAt status online suspended profile { id name }`;
const DAY = 86_400_000;

/** Row counts of every table a customer or profile mutation writes. */
async function counts(db: TestDatabase): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['rg_profiles', 'rg_customers', 'radcheck', 'radusergroup', 'radgroupreply']) {
    const [row] = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${t}`);
    out[t] = Number(row.n);
  }
  return out;
}

describe.each(['mysql', 'sqlite'] as const)('profiles and customers on %s', (kind) => {
  let db: TestDatabase;
  let api: RunningApp;

  async function ok<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const { body } = await api.gql<T>(query, variables);
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data as T;
  }

  async function fails(query: string, variables?: Record<string, unknown>) {
    const { body } = await api.gql(query, variables);
    expect(body.errors).toHaveLength(1);
    return body.errors![0] as { message: string; extensions: { code: string; field?: string } };
  }

  const createProfile = async (input: Record<string, unknown>) =>
    (
      await ok(`mutation($i: CreateProfileInput!) { createProfile(input: $i) { ${PROFILE} } }`, {
        i: input,
      })
    ).createProfile;
  const createCustomer = async (input: Record<string, unknown>) =>
    (
      await ok(`mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { ${CUSTOMER} } }`, {
        i: input,
      })
    ).createCustomer;
  const radcheck = (username: string) =>
    db.query<{ attribute: string; op: string; value: string }>(
      'SELECT attribute, op, value FROM radcheck WHERE username = ? ORDER BY attribute',
      [username],
    );
  const groupOf = async (username: string) =>
    (
      await db.query<{ groupname: string }>(
        'SELECT groupname FROM radusergroup WHERE username = ?',
        [username],
      )
    ).map((r) => r.groupname);

  let home: { id: string; name: string };
  let biz: { id: string; name: string };

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    // No background jobs (change feed, reaper, expiry, reconcile): the query-count test below
    // counts every statement the app sends while it answers one request.
    api = await startApp(db, {
      CHANGE_FEED_INTERVAL_MS: '0',
      STALE_SESSION_MULTIPLIER: '0',
      EXPIRY_CHECK_INTERVAL_SECONDS: '0',
      NAS_RECONCILE_INTERVAL_SECONDS: '0',
    });
    home = await createProfile({
      name: 'Home 10M',
      downloadRateKbps: 10240,
      uploadRateKbps: 5120,
      validityDays: 30,
    });
    biz = await createProfile({
      name: 'Business 50M',
      downloadRateKbps: 51200,
      uploadRateKbps: 20480,
      validityDays: 30,
      dataLimitBytes: '1099511627776',
      interimIntervalSeconds: 120,
    });
  });

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  describe('profiles', () => {
    it('are FreeRADIUS groups: Mikrotik-Rate-Limit upload first, and Acct-Interim-Interval', async () => {
      expect(home).toMatchObject({
        rateLimit: '5120k/10240k',
        interimIntervalSeconds: 300,
        dataLimitBytes: null,
      });
      expect(biz).toMatchObject({ rateLimit: '20480k/51200k', dataLimitBytes: 1099511627776 });
      const rows = await db.query(
        'SELECT attribute, op, value FROM radgroupreply WHERE groupname = ? ORDER BY attribute',
        ['Home 10M'],
      );
      expect(rows).toEqual([
        { attribute: 'Acct-Interim-Interval', op: ':=', value: '300' },
        { attribute: 'Mikrotik-Rate-Limit', op: ':=', value: '5120k/10240k' },
      ]);
    });

    it('keeps a 64-bit data limit exact', async () => {
      const p = await createProfile({
        name: 'Huge',
        downloadRateKbps: 1,
        uploadRateKbps: 1,
        validityDays: 1,
        dataLimitBytes: '9223372036854775807',
      });
      expect(p.dataLimitBytes).toBe('9223372036854775807');
      expect(await ok(`mutation { deleteProfile(id: "${p.id}") }`)).toEqual({
        deleteProfile: true,
      });
    });

    it('a duplicate name is a CONFLICT', async () => {
      const before = await counts(db);
      const err = await fails(
        `mutation { createProfile(input: { name: "Home 10M", downloadRateKbps: 1, uploadRateKbps: 1, validityDays: 1 }) { id } }`,
      );
      expect(err.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.name' });
      expect(await counts(db)).toEqual(before);
    });

    it('changing speeds rewrites the group reply; renaming moves the group for every customer', async () => {
      const p = await createProfile({
        name: 'Temp',
        downloadRateKbps: 1000,
        uploadRateKbps: 500,
        validityDays: 7,
      });
      const c = await createCustomer({ username: 'mover', password: 'pw-mover', profileId: p.id });
      const updated = (
        await ok(
          `mutation($id: ID!) { updateProfile(id: $id, input: { name: "Temp Renamed", downloadRateKbps: 2000 }) { ${PROFILE} } }`,
          {
            id: p.id,
          },
        )
      ).updateProfile;
      expect(updated).toMatchObject({
        name: 'Temp Renamed',
        rateLimit: '500k/2000k',
        customerCount: 1,
      });
      expect(await groupOf('mover')).toEqual(['Temp Renamed']);
      expect(
        await db.query('SELECT value FROM radgroupreply WHERE groupname = ? AND attribute = ?', [
          'Temp Renamed',
          'Mikrotik-Rate-Limit',
        ]),
      ).toEqual([{ value: '500k/2000k' }]);
      expect(
        await db.query('SELECT COUNT(*) AS n FROM radgroupreply WHERE groupname = ?', ['Temp']),
      ).toEqual([{ n: kind === 'mysql' ? '0' : 0 }]);

      // In use: deleting is refused, and nothing changes.
      const before = await counts(db);
      const err = await fails(`mutation { deleteProfile(id: "${p.id}") }`);
      expect(err.extensions).toMatchObject({ code: 'CONFLICT' });
      expect(await counts(db)).toEqual(before);

      await ok(`mutation { deleteCustomer(id: "${c.id}") }`);
      expect(await ok(`mutation { deleteProfile(id: "${p.id}") }`)).toEqual({
        deleteProfile: true,
      });
      expect(
        await db.query('SELECT * FROM radgroupreply WHERE groupname = ?', ['Temp Renamed']),
      ).toEqual([]);
    });

    it.each(['Home 10M+', 'Family (20M)', 'Fibre, 30M', 'Bob & Co', "Mama's", '50% off', 'a=b'])(
      'refuses the profile name %s, whose group FreeRADIUS could never match, and writes nothing',
      async (name) => {
        const before = await counts(db);
        const err = await fails(
          `mutation($i: CreateProfileInput!) { createProfile(input: $i) { id } }`,
          { i: { name, downloadRateKbps: 1, uploadRateKbps: 1, validityDays: 1 } },
        );
        expect(err.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'input.name' });
        const bad = [...name].find((ch) => !/[A-Za-z0-9 @.\-_:/]/.test(ch))!;
        expect(err.message).toContain(`Profile name must not contain "${bad}"`);
        expect(err.message).toMatch(/FreeRADIUS.*no speed limit/);
        expect(await counts(db)).toEqual(before);
      },
    );

    it('takes spaces, @ . - _ : / and letters beyond ASCII in a profile name', async () => {
      const p = await createProfile({
        name: 'Nyumbani 5M: ñandú/@.-_ 王',
        downloadRateKbps: 5120,
        uploadRateKbps: 1024,
        validityDays: 30,
      });
      expect(await ok(`{ profile(id: "${p.id}") { groupNameProblem } }`)).toEqual({
        profile: { groupNameProblem: null },
      });
      await ok(`mutation { deleteProfile(id: "${p.id}") }`);
    });

    it('refuses renaming a profile to such a name, and changes nothing', async () => {
      const c = await createCustomer({
        username: 'stays',
        password: 'pw-stays',
        profileId: home.id,
      });
      const before = await counts(db);
      const err = await fails(
        `mutation($id: ID!) { updateProfile(id: $id, input: { name: "Home 10M+", downloadRateKbps: 99 }) { id } }`,
        { id: home.id },
      );
      expect(err.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'input.name' });
      expect(err.message).toContain('Profile name must not contain "+"');
      expect(await counts(db)).toEqual(before);
      expect(await ok(`{ profile(id: "${home.id}") { name rateLimit } }`)).toEqual({
        profile: { name: 'Home 10M', rateLimit: '5120k/10240k' },
      });
      expect(await groupOf('stays')).toEqual(['Home 10M']);
      await ok(`mutation { deleteCustomer(id: "${c.id}") }`);
    });

    it('shows a profile made before such names were refused, until it is renamed', async () => {
      const old = await createProfile({
        name: 'Legacy 8M',
        downloadRateKbps: 8192,
        uploadRateKbps: 2048,
        validityDays: 30,
      });
      const c = await createCustomer({
        username: 'legacy1',
        password: 'pw-legacy',
        profileId: old.id,
      });
      // As an older radgraph (or another tool) left it: the group under a name with a "+".
      await db.query('UPDATE rg_profiles SET name = ? WHERE id = ?', ['Legacy 8M+', old.id]);
      for (const t of ['radgroupreply', 'radusergroup']) {
        await db.query(`UPDATE ${t} SET groupname = ? WHERE groupname = ?`, [
          'Legacy 8M+',
          'Legacy 8M',
        ]);
      }
      const { profiles } = await ok(`{ profiles { name groupNameProblem } }`);
      const problems = Object.fromEntries(
        profiles.map((p: { name: string; groupNameProblem: string | null }) => [
          p.name,
          p.groupNameProblem,
        ]),
      );
      expect(problems['Home 10M']).toBeNull();
      expect(problems['Legacy 8M+']).toMatch(
        /^FreeRADIUS cannot match this profile's group: .*"\+".*no speed limit.*Rename the profile/,
      );
      // Other changes still work without a new name; a safe name puts it right.
      const { updateProfile } = await ok(
        `mutation($id: ID!) { updateProfile(id: $id, input: { validityDays: 31 }) { name groupNameProblem } }`,
        { id: old.id },
      );
      expect(updateProfile.name).toBe('Legacy 8M+');
      expect(updateProfile.groupNameProblem).not.toBeNull();
      // So does a form sent whole, with the name unchanged.
      const whole = await ok(
        `mutation($id: ID!) { updateProfile(id: $id, input: { name: "Legacy 8M+", validityDays: 32 }) { name validityDays } }`,
        { id: old.id },
      );
      expect(whole.updateProfile).toEqual({ name: 'Legacy 8M+', validityDays: 32 });
      const renamed = await ok(
        `mutation($id: ID!) { updateProfile(id: $id, input: { name: "Legacy 8M plus" }) { name groupNameProblem } }`,
        { id: old.id },
      );
      expect(renamed.updateProfile).toEqual({ name: 'Legacy 8M plus', groupNameProblem: null });
      expect(await groupOf('legacy1')).toEqual(['Legacy 8M plus']);
      await ok(`mutation { deleteCustomer(id: "${c.id}") }`);
      await ok(`mutation { deleteProfile(id: "${old.id}") }`);
    });

    it('an unknown id is NOT_FOUND', async () => {
      expect((await fails(`mutation { deleteProfile(id: "999999") }`)).extensions.code).toBe(
        'NOT_FOUND',
      );
      expect(await ok(`{ profile(id: "999999") { id } }`)).toEqual({ profile: null });
    });
  });

  describe('customers', () => {
    it('are FreeRADIUS users: password, expiration, one session, the profile’s group', async () => {
      const t0 = Date.now();
      const c = await createCustomer({
        username: 'alice.w',
        password: 's3cret!',
        phone: '+254 712-345678',
        name: 'Alice Wanjiru',
        profileId: home.id,
      });
      expect(c).toMatchObject({
        username: 'alice.w',
        status: 'OFFLINE',
        online: false,
        suspended: false,
        profile: home && { id: home.id },
      });
      expect(c.accountNo).toMatch(/^RG-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
      const expires = Date.parse(c.expiresAt);
      expect(Math.abs(expires - (t0 + 30 * DAY))).toBeLessThan(60_000);
      expect(Math.abs(Date.parse(c.joinedAt) - t0)).toBeLessThan(60_000);
      const checks = await radcheck('alice.w');
      expect(checks.map((r) => [r.attribute, r.op])).toEqual([
        ['Cleartext-Password', ':='],
        ['Expiration', ':='],
        ['Simultaneous-Use', ':='],
      ]);
      expect(checks[0].value).toBe('s3cret!');
      expect(Number(checks[1].value)).toBe(Math.floor(expires / 1000));
      expect(checks[2].value).toBe('1');
      expect(await groupOf('alice.w')).toEqual(['Home 10M']);
    });

    it('never returns the password', async () => {
      const { body } = await api.gql(`{ customer(username: "alice.w") { password } }`);
      expect(body.errors?.[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    });

    it('finds one customer by id, username or account no, and refuses ambiguity', async () => {
      const { customer } = await ok(`{ customer(username: "alice.w") { id accountNo } }`);
      expect(
        (await ok(`{ customer(accountNo: "${customer.accountNo}") { id } }`)).customer.id,
      ).toBe(customer.id);
      expect((await ok(`{ customer(id: "${customer.id}") { username } }`)).customer.username).toBe(
        'alice.w',
      );
      expect(await ok(`{ customer(username: "nobody") { id } }`)).toEqual({ customer: null });
      expect((await fails(`{ customer(id: "1", username: "x") { id } }`)).extensions.code).toBe(
        'BAD_USER_INPUT',
      );
    });

    it('uses a given account number, and a duplicate username or account number is a CONFLICT', async () => {
      const c = await createCustomer({
        username: 'bob',
        password: 'pw',
        profileId: home.id,
        accountNo: 'ACC-1001',
      });
      expect(c.accountNo).toBe('ACC-1001');
      const before = await counts(db);
      const dupUser = await fails(
        `mutation { createCustomer(input: { username: "bob", password: "x", profileId: "${home.id}" }) { id } }`,
      );
      expect(dupUser.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.username' });
      const dupAcc = await fails(
        `mutation { createCustomer(input: { username: "bob2", password: "x", profileId: "${home.id}", accountNo: "ACC-1001" }) { id } }`,
      );
      expect(dupAcc.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.accountNo' });
      expect(await counts(db)).toEqual(before);
    });

    it('refuses a username FreeRADIUS already has outside radgraph', async () => {
      await db.query(
        "INSERT INTO radcheck (username, attribute, op, value) VALUES ('legacy', 'Cleartext-Password', ':=', 'old')",
      );
      const before = await counts(db);
      const err = await fails(
        `mutation { createCustomer(input: { username: "legacy", password: "x", profileId: "${home.id}" }) { id } }`,
      );
      expect(err.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.username' });
      expect(await counts(db)).toEqual(before);
    });

    const BAD: Array<[string, Record<string, unknown>, string, string]> = [
      ['an empty username', { username: '' }, 'BAD_USER_INPUT', 'input.username'],
      ['a username with a space', { username: 'a b' }, 'BAD_USER_INPUT', 'input.username'],
      ['a username with a tab', { username: 'a\tb' }, 'BAD_USER_INPUT', 'input.username'],
      ['a username with NUL', { username: 'a\u0000b' }, 'BAD_USER_INPUT', 'input.username'],
      [
        'a username with an RTL override',
        { username: 'abc\u202Egpj' },
        'BAD_USER_INPUT',
        'input.username',
      ],
      ['a 65-character username', { username: 'u'.repeat(65) }, 'BAD_USER_INPUT', 'input.username'],
      ['an empty password', { password: '' }, 'BAD_USER_INPUT', 'input.password'],
      [
        'a 129-character password',
        { password: 'p'.repeat(129) },
        'BAD_USER_INPUT',
        'input.password',
      ],
      ['a phone with letters', { phone: '07abc' }, 'BAD_USER_INPUT', 'input.phone'],
      ['an unknown profileId', { profileId: '999999' }, 'NOT_FOUND', 'input.profileId'],
      [
        'a non-numeric profileId',
        { profileId: 'x; DROP TABLE radcheck' },
        'BAD_USER_INPUT',
        'input.profileId',
      ],
      ['an account number with spaces', { accountNo: 'A 1' }, 'BAD_USER_INPUT', 'input.accountNo'],
    ];
    it.each(BAD)('refuses %s and writes nothing', async (_label, override, code, field) => {
      const before = await counts(db);
      const input = { username: 'valid.user', password: 'pw', profileId: home.id, ...override };
      const err = await fails(
        `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }`,
        { i: input },
      );
      expect(err.extensions).toMatchObject({ code, field });
      expect(await counts(db)).toEqual(before);
    });

    it('accepts a 64-character username and a 128-character password (the limits)', async () => {
      const c = await createCustomer({
        username: 'u'.repeat(64),
        password: 'p'.repeat(128),
        profileId: home.id,
      });
      expect(c.username).toHaveLength(64);
      await ok(`mutation { deleteCustomer(id: "${c.id}") }`);
    });

    const BAD_PROFILES: Array<[string, Record<string, unknown>, string]> = [
      ['a zero download speed', { downloadRateKbps: 0 }, 'input.downloadRateKbps'],
      ['a negative upload speed', { uploadRateKbps: -5 }, 'input.uploadRateKbps'],
      ['a negative data limit', { dataLimitBytes: '-1' }, 'input.dataLimitBytes'],
      ['a validity under 1 day', { validityDays: 0 }, 'input.validityDays'],
      ['an empty name', { name: '' }, 'input.name'],
      ['a 65-character name', { name: 'n'.repeat(65) }, 'input.name'],
      [
        'an interim interval under 60 s',
        { interimIntervalSeconds: 10 },
        'input.interimIntervalSeconds',
      ],
    ];
    it.each(BAD_PROFILES)(
      'refuses a profile with %s and writes nothing',
      async (_label, override, field) => {
        const before = await counts(db);
        const input = {
          name: 'Valid',
          downloadRateKbps: 1,
          uploadRateKbps: 1,
          validityDays: 1,
          ...override,
        };
        const err = await fails(
          `mutation($i: CreateProfileInput!) { createProfile(input: $i) { id } }`,
          { i: input },
        );
        expect(err.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
        expect(await counts(db)).toEqual(before);
      },
    );

    it('refuses a non-integer speed before anything runs', async () => {
      const before = await counts(db);
      const err = await fails(
        `mutation($i: CreateProfileInput!) { createProfile(input: $i) { id } }`,
        {
          i: { name: 'Frac', downloadRateKbps: 1.5, uploadRateKbps: 1, validityDays: 1 },
        },
      );
      expect(err.extensions.code).toBe('BAD_USER_INPUT');
      expect(err.message).toMatch(/downloadRateKbps/);
      expect(await counts(db)).toEqual(before);
    });

    it('20 concurrent creates of one username: 1 succeeds, 19 are CONFLICT, one set of rows', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          api.gql(`mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }`, {
            i: { username: 'racer', password: `pw${i}`, profileId: home.id },
          }),
        ),
      );
      const codes = results.map((r) => (r.body.errors ? r.body.errors[0].extensions.code : 'OK'));
      expect(codes.filter((c) => c === 'OK')).toHaveLength(1);
      expect(codes.filter((c) => c === 'CONFLICT')).toHaveLength(19);
      expect(await radcheck('racer')).toHaveLength(3);
      expect(await groupOf('racer')).toHaveLength(1);
    });

    // A MariaDB test: SQLite runs one transaction at a time, so the two cannot overlap there
    // (and the case does not arise).
    if (kind === 'mysql')
      it('a customer created or moved while its profile is renamed lands in the renamed group', async () => {
        const p = await createProfile({
          name: 'Before Rename',
          downloadRateKbps: 1000,
          uploadRateKbps: 500,
          validityDays: 7,
        });
        const moved = await createCustomer({
          username: 'moved',
          password: 'pw-moved',
          profileId: home.id,
        });
        const rename = await createConnection({ ...db.mysql!, database: db.database });
        try {
          // A rename in progress, as updateProfile writes it: the profile row and its group.
          await rename.query('START TRANSACTION');
          await rename.query('UPDATE rg_profiles SET name = ? WHERE id = ?', [
            'After Rename',
            p.id,
          ]);
          for (const t of ['radgroupreply', 'radgroupcheck', 'radusergroup']) {
            await rename.query(`UPDATE ${t} SET groupname = ? WHERE groupname = ?`, [
              'After Rename',
              'Before Rename',
            ]);
          }
          const created = api.gql(
            `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }`,
            { i: { username: 'during', password: 'pw-during', profileId: p.id } },
          );
          const changed = api.gql(
            `mutation($id: ID!, $p: ID!) { changeCustomerProfile(id: $id, profileId: $p) { id } }`,
            { id: moved.id, p: p.id },
          );
          // Both are blocked on the rename's locks: two statements of theirs running.
          await until(
            async () =>
              Number(
                (
                  await db.query<{ n: string }>(
                    "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE db = DATABASE() AND command = 'Query' AND id <> CONNECTION_ID() AND info LIKE '%rg_profiles%'",
                  )
                )[0].n,
              ) >= 2,
            'both mutations to wait for the rename',
          );
          await rename.query('COMMIT');
          for (const r of await Promise.all([created, changed]))
            expect(r.body.errors).toBeUndefined();
        } finally {
          await rename.end();
        }
        expect(await groupOf('during')).toEqual(['After Rename']);
        expect(await groupOf('moved')).toEqual(['After Rename']);
        for (const username of ['during', 'moved']) {
          const { customer } = await ok(`{ customer(username: "${username}") { id } }`);
          await ok(`mutation { deleteCustomer(id: "${customer.id}") }`);
        }
        await ok(`mutation { deleteProfile(id: "${p.id}") }`);
      });

    // MariaDB only, as above. The three-way deadlock of a CSV import (it holds the profile row
    // FOR SHARE, then writes the customer), a rename of that profile (FOR UPDATE, queued
    // behind the import) and changeCustomerProfile or renewCustomer of that customer: those
    // locked the customer first, then queued for the profile behind the rename, while the
    // import waited for the customer. They now lock the profile first.
    if (kind === 'mysql')
      it.each([
        [
          'changeCustomerProfile',
          'mutation($id: ID!, $p: ID!) { changeCustomerProfile(id: $id, profileId: $p) { id } }',
        ],
        ['renewCustomer', 'mutation($id: ID!) { renewCustomer(id: $id, force: true) { id } }'],
      ])(
        '%s locks the profile before the customer (no deadlock with an import and a rename)',
        async (name, mutation) => {
          const p = await createProfile({
            name: `Lock Order ${name}`,
            downloadRateKbps: 1000,
            uploadRateKbps: 500,
            validityDays: 7,
          });
          const c = await createCustomer({
            username: `lock-${name.toLowerCase()}`,
            password: 'pw-lock-order',
            profileId: name === 'renewCustomer' ? p.id : home.id,
          });
          const connect = () => createConnection({ ...db.mysql!, database: db.database });
          const [importer, renamer] = await Promise.all([connect(), connect()]);
          const waiting = (n: number, what: string) =>
            until(
              async () =>
                Number(
                  (
                    await db.query<{ n: string }>(
                      "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE db = DATABASE() AND command = 'Query' AND id <> CONNECTION_ID() AND info LIKE '%rg_profiles%'",
                    )
                  )[0].n,
                ) >= n,
              what,
            );
          try {
            await importer.query('START TRANSACTION');
            await importer.query('SELECT id FROM rg_profiles WHERE id = ? LOCK IN SHARE MODE', [
              p.id,
            ]);
            await renamer.query('START TRANSACTION');
            const renaming = renamer.query('SELECT id FROM rg_profiles WHERE id = ? FOR UPDATE', [
              p.id,
            ]);
            await waiting(1, 'the rename to wait for the import');
            const changed = api.gql(mutation, { id: c.id, p: p.id });
            await waiting(2, `${name} to wait for the profile`);
            // The import goes on to the customer's row: free, as the mutation has not locked it.
            await importer.query('SELECT id FROM rg_customers WHERE id = ? FOR UPDATE NOWAIT', [
              c.id,
            ]);
            await importer.query('COMMIT');
            await renaming;
            await renamer.query('COMMIT');
            expect((await changed).body.errors).toBeUndefined();
          } finally {
            await Promise.all([importer.end(), renamer.end()]);
          }
          expect(await groupOf(c.username)).toEqual([p.name]);
          await ok(`mutation { deleteCustomer(id: "${c.id}") }`);
          await ok(`mutation { deleteProfile(id: "${p.id}") }`);
        },
      );

    it('updateCustomer changes the password in radcheck and the contact fields', async () => {
      const { customer } = await ok(`{ customer(username: "bob") { id } }`);
      const { updateCustomer } = await ok(
        `mutation($id: ID!) { updateCustomer(id: $id, input: { password: "new-pw", phone: "0722 000 111", name: "Bob K" }) { phone name } }`,
        { id: customer.id },
      );
      expect(updateCustomer).toEqual({ phone: '0722 000 111', name: 'Bob K' });
      expect((await radcheck('bob')).find((r) => r.attribute === 'Cleartext-Password')?.value).toBe(
        'new-pw',
      );
    });

    it('changeCustomerProfile moves the FreeRADIUS group', async () => {
      const { customer } = await ok(`{ customer(username: "bob") { id } }`);
      const { changeCustomerProfile } = await ok(
        `mutation($id: ID!, $p: ID!) { changeCustomerProfile(id: $id, profileId: $p) { profile { name } } }`,
        { id: customer.id, p: biz.id },
      );
      expect(changeCustomerProfile.profile.name).toBe('Business 50M');
      expect(await groupOf('bob')).toEqual(['Business 50M']);
      const err = await fails(
        `mutation { changeCustomerProfile(id: "${customer.id}", profileId: "999999") { id } }`,
      );
      expect(err.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'profileId' });
    });

    it('renewCustomer adds validityDays to max(now, expiresAt)', async () => {
      const { customer } = await ok(`{ customer(username: "bob") { id expiresAt } }`);
      const renewed = (await ok(`mutation { renewCustomer(id: "${customer.id}") { expiresAt } }`))
        .renewCustomer;
      expect(Date.parse(renewed.expiresAt) - Date.parse(customer.expiresAt)).toBe(30 * DAY);
      // Already expired: counted from now, not from the past date.
      const past = new Date(Date.now() - 10 * DAY);
      await db.query('UPDATE rg_customers SET expires_at = ? WHERE id = ?', [
        kind === 'mysql' ? past : past.toISOString().replace('T', ' ').replace('Z', ''),
        Number(customer.id),
      ]);
      expect((await ok(`{ customer(username: "bob") { status } }`)).customer.status).toBe(
        'EXPIRED',
      );
      const t0 = Date.now();
      const again = (
        await ok(`mutation { renewCustomer(id: "${customer.id}") { expiresAt status } }`)
      ).renewCustomer;
      expect(Math.abs(Date.parse(again.expiresAt) - (t0 + 30 * DAY))).toBeLessThan(60_000);
      expect(again.status).toBe('OFFLINE');
    });

    it('suspend adds Auth-Type := Reject and wins over every other status; resume removes it', async () => {
      const { customer } = await ok(`{ customer(username: "bob") { id } }`);
      const s = (
        await ok(`mutation { suspendCustomer(id: "${customer.id}") { status suspended } }`)
      ).suspendCustomer;
      expect(s).toEqual({ status: 'SUSPENDED', suspended: true });
      expect((await radcheck('bob')).filter((r) => r.attribute === 'Auth-Type')).toEqual([
        { attribute: 'Auth-Type', op: ':=', value: 'Reject' },
      ]);
      await ok(`mutation { suspendCustomer(id: "${customer.id}") { id } }`); // idempotent
      expect((await radcheck('bob')).filter((r) => r.attribute === 'Auth-Type')).toHaveLength(1);
      const r = (await ok(`mutation { resumeCustomer(id: "${customer.id}") { status suspended } }`))
        .resumeCustomer;
      expect(r).toEqual({ status: 'OFFLINE', suspended: false });
      expect((await radcheck('bob')).filter((x) => x.attribute === 'Auth-Type')).toEqual([]);
    });

    it('online, status, currentSession and sessions come from radacct', async () => {
      const insert = `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctstoptime, acctsessiontime, acctinputoctets, acctoutputoctets, framedipaddress, callingstationid, acctterminatecause)
                      VALUES (?, ?, 'alice.w', '10.0.0.1', ?, ?, ?, ?, ?, '100.64.0.7', 'AA:BB:CC:00:11:22', ?)`;
      const ts = (d: Date) =>
        kind === 'mysql' ? d : d.toISOString().replace('T', ' ').replace('Z', '');
      await db.query(insert, [
        's1',
        'u1',
        ts(new Date(Date.now() - 3 * DAY)),
        ts(new Date(Date.now() - 2 * DAY)),
        86400,
        '5000000000',
        '9007199254740993',
        'User-Request',
      ]);
      await db.query(insert, [
        's2',
        'u2',
        ts(new Date(Date.now() - 3600_000)),
        null,
        null,
        '1024',
        '2048',
        '',
      ]);
      const { customer } = await ok(`{ customer(username: "alice.w") {
        status online
        currentSession { sessionId uniqueId ipAddress macAddress uploadBytes downloadBytes nasIpAddress stoppedAt durationSeconds customer { username } }
        sessions(first: 1) { totalCount edges { cursor node { sessionId } } pageInfo { hasNextPage endCursor } }
      } }`);
      expect(customer.status).toBe('ONLINE');
      expect(customer.online).toBe(true);
      expect(customer.currentSession).toMatchObject({
        sessionId: 's2',
        uniqueId: 'u2',
        ipAddress: '100.64.0.7',
        macAddress: 'AA:BB:CC:00:11:22',
        uploadBytes: 1024,
        downloadBytes: 2048,
        nasIpAddress: '10.0.0.1',
        stoppedAt: null,
        customer: { username: 'alice.w' },
      });
      expect(customer.currentSession.durationSeconds).toBeGreaterThanOrEqual(3599);
      expect(customer.sessions.totalCount).toBe(2);
      expect(customer.sessions.edges.map((e: any) => e.node.sessionId)).toEqual(['s2']);
      expect(customer.sessions.pageInfo.hasNextPage).toBe(true);
      const next =
        await ok(`{ customer(username: "alice.w") { sessions(first: 5, after: "${customer.sessions.pageInfo.endCursor}") {
        edges { node { sessionId uploadBytes downloadBytes terminateCause durationSeconds } } pageInfo { hasNextPage } } } }`);
      expect(next.customer.sessions.edges.map((e: any) => e.node)).toEqual([
        {
          sessionId: 's1',
          uploadBytes: 5000000000,
          downloadBytes: '9007199254740993',
          terminateCause: 'User-Request',
          durationSeconds: 86400,
        },
      ]);
      expect(next.customer.sessions.pageInfo.hasNextPage).toBe(false);
    });

    it('deleteCustomer removes the FreeRADIUS rows and keeps the accounting history', async () => {
      const c = await createCustomer({ username: 'leaver', password: 'pw', profileId: home.id });
      await db.query(
        "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress) VALUES ('l1', 'lu1', 'leaver', '10.0.0.1')",
      );
      expect(await ok(`mutation { deleteCustomer(id: "${c.id}") }`)).toEqual({
        deleteCustomer: true,
      });
      expect(await radcheck('leaver')).toEqual([]);
      expect(await groupOf('leaver')).toEqual([]);
      expect(await db.query("SELECT acctuniqueid FROM radacct WHERE username = 'leaver'")).toEqual([
        { acctuniqueid: 'lu1' },
      ]);
      expect((await fails(`mutation { deleteCustomer(id: "${c.id}") }`)).extensions.code).toBe(
        'NOT_FOUND',
      );
    });
  });

  describe('customers(search, status, profileId, first, after)', () => {
    const LIST = `query($s: String, $st: CustomerStatus, $p: ID, $f: Int, $a: String) {
      customers(search: $s, status: $st, profileId: $p, first: $f, after: $a) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { username } } } }`;
    const list = async (vars: Record<string, unknown>) => (await ok(LIST, vars)).customers;
    const names = (conn: any) => conn.edges.map((e: any) => e.node.username);

    beforeAll(async () => {
      await createCustomer({
        username: 'Grace.Achieng',
        password: 'pw',
        phone: '+254 733 100200',
        profileId: biz.id,
        accountNo: 'KE-77001',
      });
      await createCustomer({
        username: 'peter_50',
        password: 'pw',
        phone: '0712 999 000',
        profileId: home.id,
        accountNo: 'KE-77002',
      });
    });

    it.each([
      ['an account-no prefix', 'ke-770', ['peter_50', 'Grace.Achieng']],
      ['a username substring, any case', 'ACHIENG', ['Grace.Achieng']],
      ['a username prefix', 'grace', ['Grace.Achieng']],
      ['a phone written with punctuation', '+254 712-345678', ['alice.w']],
      ['phone digits in the middle', '100200', ['Grace.Achieng']],
      // As wildcards, '%' would match peter_50 and '_' would match "peterX50".
      ['a LIKE % taken literally', 'peter%', []],
      ['a LIKE % inside a term taken literally', 'pet%50', []],
      ['an underscore taken literally', 'r_5', ['peter_50']],
      ['SQL metacharacters', "' OR 1=1 --", []],
    ])('matches %s', async (_label, term, expected) => {
      const conn = await list({ s: term });
      expect(names(conn)).toEqual(expected);
      expect(conn.totalCount).toBe(expected.length);
    });

    it('matches terms shorter than a search key and longer than one', async () => {
      // A letter generated account numbers never hold (no I, L, O or U), so a random one
      // cannot match: "gr" could, in RG-…GR…
      expect(names(await list({ s: 'ie' }))).toEqual(['Grace.Achieng']);
      expect(names(await list({ s: 'race.achieng' }))).toEqual(['Grace.Achieng']);
      // 17+ characters: narrowed by the first 16, then checked in full.
      expect(names(await list({ s: 'KE-77001-nothing-more' }))).toEqual([]);
      expect(names(await list({ s: '254733100200' }))).toEqual(['Grace.Achieng']);
    });

    it('follows a changed phone number, and forgets a deleted customer', async () => {
      const c = await createCustomer({
        username: 'mover2',
        password: 'pw',
        phone: '0700 111 222',
        profileId: home.id,
      });
      expect(names(await list({ s: '111222' }))).toEqual(['mover2']);
      await ok(
        `mutation { updateCustomer(id: "${c.id}", input: { phone: "0799 333 444" }) { id } }`,
      );
      expect(names(await list({ s: '111222' }))).toEqual([]);
      expect(names(await list({ s: '333444' }))).toEqual(['mover2']);
      await ok(`mutation { deleteCustomer(id: "${c.id}") }`);
      expect(names(await list({ s: '333444' }))).toEqual([]);
      expect(
        await db.query('SELECT * FROM rg_customer_search_keys WHERE customer_id = ?', [
          Number(c.id),
        ]),
      ).toEqual([]);
    });

    it('filters by profile and by status', async () => {
      expect(names(await list({ p: biz.id }))).toEqual(['Grace.Achieng', 'bob']);
      expect(names(await list({ st: 'ONLINE' }))).toEqual(['alice.w']);
      const offline = names(await list({ st: 'OFFLINE' }));
      expect(offline).toContain('bob');
      expect(offline).not.toContain('alice.w');
      expect(names(await list({ st: 'SUSPENDED' }))).toEqual([]);
      expect(names(await list({ st: 'EXPIRED' }))).toEqual([]);
    });

    it('pages with stable opaque cursors and a totalCount over all pages', async () => {
      const all = await list({ f: 500 });
      const seen: string[] = [];
      let after: string | null = null;
      let total = all.totalCount;
      for (;;) {
        const page: any = await list({ f: 2, a: after });
        expect(page.totalCount).toBe(total);
        seen.push(...names(page));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
        // A customer created between pages neither shifts nor repeats what follows.
        if (seen.length === 2) {
          await createCustomer({ username: 'late.joiner', password: 'pw', profileId: home.id });
          total += 1;
        }
      }
      expect(seen).toEqual(names(all));
      expect(names(await list({ f: 1 }))).toEqual(['late.joiner']);
    });

    it.each([
      ['first above 500', { f: 501 }, 'first'],
      ['a negative first', { f: -1 }, 'first'],
      ['a forged cursor', { a: 'bm90LWEtY3Vyc29y' }, 'after'],
      ['a search over 100 characters', { s: 'x'.repeat(101) }, 'search'],
    ])('refuses %s', async (_label, vars, field) => {
      const err = await fails(LIST, vars);
      expect(err.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    });

    it('reads a page of customers with their profile and live status in a fixed number of queries', async () => {
      for (let i = 0; i < 8; i++) {
        await createCustomer({
          username: `nplus1.${i}`,
          password: 'pw',
          profileId: i % 2 ? home.id : biz.id,
        });
      }
      const ds = api.app.get(DataSource);
      const original = ds.logger;
      const queries: string[] = [];
      ds.logger = Object.assign(Object.create(original) as object, {
        logQuery: (query: string) => void queries.push(query),
      }) as typeof original;
      try {
        const conn = await list({ f: 50 });
        queries.length = 0;
        const { customers } = await ok(`{ customers(first: 50) { totalCount edges { node {
          profile { name customerCount } status online currentSession { id } } } } }`);
        expect(customers.edges.length).toBe(conn.edges.length);
        expect(customers.edges.length).toBeGreaterThan(5);
        // page, count, profiles, open sessions, customer counts: never one per row.
        expect(queries.length).toBeGreaterThan(0);
        expect(queries.length).toBeLessThanOrEqual(6);
      } finally {
        ds.logger = original;
      }
    });
  });
});
