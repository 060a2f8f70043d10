import { createConnection } from 'mysql2/promise';
import { startApp, type RunningApp } from '../support/app';
import { gqlData, gqlError } from '../support/graphql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const NAS =
  'id name shortname type description coaPort routerOs { host port user tls tlsVerify passwordSet }';
const SECRET = 'Nas-Shared-s3cret!';
const API_PASSWORD = 'RouterOs-p4ss word';

/**
 * NAS management over GraphQL: FreeRADIUS's nas row and radgraph's settings written together,
 * the shared secret and the RouterOS password write-only (the password encrypted at rest).
 */
describe.each(['mysql', 'sqlite'] as const)('NAS management on %s', (kind) => {
  let db: TestDatabase;
  let api: RunningApp;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    api = await startApp(db);
  });

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const create = async (input: Record<string, unknown>) =>
    (
      await gqlData(api, `mutation($i: CreateNasInput!) { createNas(input: $i) { ${NAS} } }`, {
        i: input,
      })
    ).createNas;
  const createFails = (input: Record<string, unknown>) =>
    gqlError(api, `mutation($i: CreateNasInput!) { createNas(input: $i) { id } }`, { i: input });

  it('creates a NAS with its RouterOS API; reads it back without any secret', async () => {
    const nas = await create({
      name: '10.20.0.1',
      shortname: 'mtk-core',
      secret: SECRET,
      type: 'mikrotik',
      coaPort: 3799,
      routerOs: { user: 'radgraph', password: API_PASSWORD },
    });
    expect(nas).toEqual({
      id: expect.any(String),
      name: '10.20.0.1',
      shortname: 'mtk-core',
      type: 'mikrotik',
      description: null,
      coaPort: 3799,
      routerOs: {
        host: '10.20.0.1',
        port: 8728,
        user: 'radgraph',
        tls: false,
        tlsVerify: true,
        passwordSet: true,
      },
    });
    const [row] = await db.query<{ secret: string }>('SELECT secret FROM nas WHERE id = ?', [
      nas.id,
    ]);
    expect(row.secret).toBe(SECRET); // FreeRADIUS reads it from there
    const [settings] = await db.query<{ api_password: string }>(
      'SELECT api_password FROM rg_nas_settings WHERE nas_id = ?',
      [nas.id],
    );
    expect(settings.api_password).toMatch(/^v1\./);
    expect(settings.api_password).not.toContain('RouterOs');
    const { nas: read } = await gqlData(api, `query($id: ID!) { nas(id: $id) { ${NAS} } }`, {
      id: nas.id,
    });
    expect(read).toEqual(nas);
    const list = await api.gql(`{ nasDevices { ${NAS} } }`);
    expect(JSON.stringify(list.body)).not.toContain(SECRET);
  });

  it('has no field that could read a secret, not even through introspection', async () => {
    const { body } = await api.gql(
      `{ a: __type(name: "Nas") { fields { name } } b: __type(name: "NasRouterOs") { fields { name } } }`,
    );
    const names = [...body.data.a.fields, ...body.data.b.fields].map(
      (f: { name: string }) => f.name,
    );
    expect(names.filter((n: string) => /secret|password/i.test(n) && n !== 'passwordSet')).toEqual(
      [],
    );
  });

  it('refuses bad input naming the field, without repeating a secret', async () => {
    const base = { name: '10.20.0.9', secret: SECRET };
    expect((await createFails({ ...base, name: 'router-1' })).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.name',
    });
    const bad = await createFails({ ...base, secret: `${SECRET}\u0000` });
    expect(bad.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.secret' });
    expect(JSON.stringify(bad)).not.toContain(SECRET);
    expect((await createFails({ ...base, coaPort: 70000 })).extensions.field).toBe('input.coaPort');
    const noPassword = await createFails({ ...base, routerOs: { user: 'x' } });
    expect(noPassword.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'input.routerOs.password',
      reason: 'ROUTEROS_PASSWORD_REQUIRED', // as when a host change needs it again
    });
    // node-routeros sends Windows-1252: Cyrillic would reach the router as "?" and every login
    // fail; 128 characters of 3 bytes would not fit the sealed column.
    for (const password of ['пароль-2026', '€'.repeat(128)]) {
      const err = await createFails({ ...base, routerOs: { user: 'x', password } });
      expect(err.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'input.routerOs.password',
      });
      expect(JSON.stringify(err)).not.toContain(password);
    }
    const cyrillicUser = await createFails({
      ...base,
      routerOs: { user: 'админ', password: API_PASSWORD },
    });
    expect(cyrillicUser.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.routerOs.user',
    });
    expect(JSON.stringify(cyrillicUser)).not.toContain(API_PASSWORD);
    const accented = await create({
      name: '10.20.0.10',
      secret: SECRET,
      routerOs: { user: 'x', password: 'Señor-Müller-€9' },
    });
    expect(accented.routerOs.passwordSet).toBe(true);
    expect(await db.query('SELECT id FROM nas WHERE nasname = ?', ['10.20.0.9'])).toEqual([]);
  });

  it('never echoes a secret in an error, even when another field of the same input is wrong', async () => {
    for (const input of [
      { name: '10.20.0.8', secret: SECRET, coaPort: 'not a number' },
      {
        name: '10.20.0.8',
        secret: SECRET,
        routerOs: { user: 'x', password: API_PASSWORD, port: -1 },
      },
      { name: 'bad name', secret: SECRET, routerOs: { user: 'x', password: API_PASSWORD } },
      { name: '10.20.0.8', secret: SECRET, routerOs: { user: 'x', password: `${API_PASSWORD}\n` } },
      { name: '10.20.0.8', secret: SECRET, unknownField: 1 },
    ]) {
      const { body } = await api.gql(
        `mutation($i: CreateNasInput!) { createNas(input: $i) { id } }`,
        {
          i: input,
        },
      );
      expect(body.errors?.length).toBeGreaterThan(0);
      expect(JSON.stringify(body)).not.toContain(SECRET);
      expect(JSON.stringify(body)).not.toContain(API_PASSWORD);
    }
  });

  it('refuses a second NAS with the same name with CONFLICT', async () => {
    await create({ name: '10.20.0.2', secret: SECRET });
    expect((await createFails({ name: '10.20.0.2', secret: 'other' })).extensions).toMatchObject({
      code: 'CONFLICT',
      field: 'input.name',
    });
  });

  it('keeps the name unique when the same NAS is created, or renamed to, at once (a double submit)', async () => {
    // FreeRADIUS's schema has no unique index on nasname: of two rows of one name, FreeRADIUS
    // 3.2 loads the first and skips the other ("Failed to add duplicate client").
    const createNas = `mutation($i: CreateNasInput!) { createNas(input: $i) { id } }`;
    const updateNas = `mutation($id: ID!, $i: UpdateNasInput!) { updateNas(id: $id, input: $i) { id } }`;
    const others = [await create({ name: '10.21.0.101', secret: SECRET })];
    others.push(await create({ name: '10.21.0.102', secret: SECRET }));
    for (const name of ['10.21.0.1', '10.21.0.2', '10.21.0.3']) {
      const answers = await Promise.all([
        ...[1, 2, 3].map(() => api.gql(createNas, { i: { name, secret: SECRET } })),
        ...others.map((o) => api.gql(updateNas, { id: o.id, i: { name } })),
      ]);
      const refused = answers.flatMap((a) => a.body.errors ?? []);
      expect(answers.length - refused.length).toBe(1);
      for (const error of refused) {
        expect(error.extensions).toEqual({
          code: 'CONFLICT',
          field: 'input.name',
          reason: 'NAS_NAME_TAKEN',
        });
      }
      const rows = await db.query('SELECT id FROM nas WHERE nasname = ?', [name]);
      expect(rows).toHaveLength(1);
    }
  });

  it('stores the address in the form FreeRADIUS compares clients in; refuses another form of a taken one', async () => {
    expect((await create({ name: '2001:DB8:0::7', secret: SECRET })).name).toBe('2001:db8::7');
    expect((await create({ name: '10.20.6.1/32', secret: SECRET })).name).toBe('10.20.6.1');
    await create({ name: '10.20.5.0/24', secret: SECRET });
    // FreeRADIUS would load one of each pair and skip the other ("duplicate client").
    for (const name of ['2001:db8::7/128', '10.20.6.1', '10.20.6.1/32']) {
      const err = await createFails({ name, secret: 'other' });
      expect(err.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.name' });
    }
    const hostBits = await createFails({ name: '10.20.5.9/24', secret: 'other' });
    expect(hostBits.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' });
    expect(hostBits.message).toContain('10.20.5.0/24');
    // A row FreeRADIUS's tools wrote in another form (adopted) takes its address too, and is
    // the NAS of the sessions radacct records from that address (in FreeRADIUS's form).
    await db.query(
      "INSERT INTO nas (nasname, shortname, type, secret) VALUES (?, 'old', 'other', 'x')",
      ['2001:DB8:0:0::99'],
    );
    const adopted = await createFails({ name: '2001:db8::99', secret: 'other' });
    expect(adopted.extensions).toMatchObject({ code: 'CONFLICT', field: 'input.name' });
    expect(adopted.message).toContain('2001:DB8:0:0::99');
    const start = new Date(Date.now() - 60_000);
    await db.query(
      `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime)
       VALUES ('v6s', 'v6u', 'v6user', '2001:db8::99', ?)`,
      [kind === 'mysql' ? start : start.toISOString().replace('T', ' ').replace('Z', '')],
    );
    const online = await gqlData(
      api,
      `{ onlineSessions(search: "v6user") { edges { node { nas { shortname } } } } }`,
    );
    expect(online.onlineSessions.edges).toEqual([{ node: { nas: { shortname: 'old' } } }]);
    // And they are the NAS's sessions: its online count and filter (sessionAddresses, which
    // deleteNas's guard and reconcileNas use too).
    const [{ id: oldId }] = await db.query<{ id: number }>(
      "SELECT id FROM nas WHERE nasname = '2001:DB8:0:0::99'",
    );
    const ofNas = await gqlData(
      api,
      `{ nas(id: "${oldId}") { onlineCount } onlineSessions(nasId: "${oldId}") { edges { node { username } } } }`,
    );
    expect(ofNas).toEqual({
      nas: { onlineCount: 1 },
      onlineSessions: { edges: [{ node: { username: 'v6user' } }] },
    });
  });

  const update = (id: string, input: Record<string, unknown>) =>
    gqlData(
      api,
      `mutation($id: ID!, $i: UpdateNasInput!) { updateNas(id: $id, input: $i) { ${NAS} } }`,
      { id, i: input },
    );
  const updateFails = (id: string, input: Record<string, unknown>) =>
    gqlError(
      api,
      `mutation($id: ID!, $i: UpdateNasInput!) { updateNas(id: $id, input: $i) { id } }`,
      {
        id,
        i: input,
      },
    );
  const storedPassword = async (id: string) =>
    (
      await db.query<{ api_password: string | null }>(
        'SELECT api_password FROM rg_nas_settings WHERE nas_id = ?',
        [id],
      )
    )[0].api_password;

  it('updates only what is given; keeps the stored API password on the same host; null removes the API', async () => {
    const nas = await create({
      name: '10.20.0.3',
      secret: SECRET,
      routerOs: { user: 'a', host: 'router.example.net', password: API_PASSWORD, tls: true },
    });
    const before = await storedPassword(nas.id);
    // The same host (written in another case), another user and port, TLS as it was.
    const { updateNas: changed } = await update(nas.id, {
      description: 'core router',
      secret: 'new-secret',
      routerOs: {
        user: 'b',
        host: 'Router.Example.NET',
        port: 18729,
        tls: true,
      },
    });
    expect(changed).toMatchObject({
      name: '10.20.0.3',
      description: 'core router',
      routerOs: {
        host: 'Router.Example.NET',
        port: 18729,
        user: 'b',
        tls: true,
        tlsVerify: true,
        passwordSet: true,
      },
    });
    expect(await storedPassword(nas.id)).toBe(before);
    const [row] = await db.query<{ secret: string }>('SELECT secret FROM nas WHERE id = ?', [
      nas.id,
    ]);
    expect(row.secret).toBe('new-secret');
    // A NAS whose routerOs.host is its name: naming that host, or leaving it out, keeps it too.
    const named = await create({
      name: '10.20.0.5',
      secret: SECRET,
      routerOs: { user: 'a', password: API_PASSWORD },
    });
    const namedBefore = await storedPassword(named.id);
    await update(named.id, { routerOs: { user: 'a', host: '10.20.0.5', port: 18728 } });
    await update(named.id, { routerOs: { user: 'c' }, description: 'edge' });
    expect(await storedPassword(named.id)).toBe(namedBefore);
    expect((await update(nas.id, { routerOs: null })).updateNas.routerOs).toBeNull();
  });

  it('refuses to keep the stored API password for another host (ROUTEROS_PASSWORD_REQUIRED), writing nothing; takes it with a new password', async () => {
    const nas = await create({
      name: '10.20.0.6',
      secret: SECRET,
      routerOs: { user: 'a', host: 'router.example.net', password: API_PASSWORD },
    });
    const byDefault = await create({
      name: '10.20.0.7',
      secret: SECRET,
      routerOs: { user: 'a', password: API_PASSWORD },
    });
    const state = async () => ({
      nas: await db.query('SELECT * FROM nas WHERE id IN (?, ?) ORDER BY id', [
        nas.id,
        byDefault.id,
      ]),
      settings: await db.query(
        'SELECT * FROM rg_nas_settings WHERE nas_id IN (?, ?) ORDER BY nas_id',
        [nas.id, byDefault.id],
      ),
      audit: await db.query('SELECT COUNT(*) AS n FROM rg_audit_log'),
    });
    const before = await state();
    const refusals = [
      // Another host, with the rest of the update (secret, description) refused along with it.
      [
        nas.id,
        {
          secret: 'changed-secret',
          description: 'moved',
          routerOs: { user: 'a', host: 'attacker.example.org' },
        },
        'from router.example.net to attacker.example.org,',
      ],
      // routerOs.host left out: the API would go to the NAS's name.
      [nas.id, { routerOs: { user: 'a' } }, 'from router.example.net to 10.20.0.6 ('],
      // A NAS whose host is its name, renamed: the API would follow the new name.
      [
        byDefault.id,
        { name: '10.20.0.70' },
        "from 10.20.0.7 to 10.20.0.70 (routerOs.host is not set: it follows the NAS's name)",
      ],
      [
        byDefault.id,
        { routerOs: { user: 'a', host: '10.20.0.77' } },
        'from 10.20.0.7 to 10.20.0.77,',
      ],
    ] as const;
    for (const [id, input, hosts] of refusals) {
      const err = await updateFails(id, input);
      expect(err.extensions).toEqual({
        code: 'BAD_USER_INPUT',
        field: 'input.routerOs.password',
        reason: 'ROUTEROS_PASSWORD_REQUIRED',
      });
      expect(err.message).toContain(hosts);
      expect(err.message).toContain(
        'the stored password is only sent to the host it was given for, so give it again with the new host',
      );
    }
    expect(await state()).toEqual(before);

    // With a new password, the host changes and the password is the new one.
    const moved = await update(nas.id, {
      routerOs: { user: 'a', host: 'router2.example.net', password: 'another-Passw0rd' },
    });
    expect(moved.updateNas.routerOs).toMatchObject({
      host: 'router2.example.net',
      passwordSet: true,
    });
    expect(await storedPassword(nas.id)).not.toBe(before.settings[0].api_password);
    await update(byDefault.id, { name: '10.20.0.70', routerOs: { user: 'a', password: 'p2' } });
    expect(
      (await update(byDefault.id, { name: '10.20.0.71', routerOs: null })).updateNas,
    ).toMatchObject({
      name: '10.20.0.71',
      routerOs: null,
    });
  });

  it('refuses to keep the stored API password when TLS or its certificate check is turned off, writing nothing; a stronger setting keeps it', async () => {
    const nas = await create({
      name: '10.20.0.8',
      secret: SECRET,
      routerOs: { user: 'a', host: 'router.example.net', password: API_PASSWORD, tls: true },
    });
    const state = async () => ({
      settings: await db.query('SELECT * FROM rg_nas_settings WHERE nas_id = ?', [nas.id]),
      audit: await db.query('SELECT COUNT(*) AS n FROM rg_audit_log'),
    });
    const before = await state();
    const refusals = [
      // tls left out: routerOs replaces the settings, so this would be plain text.
      [{ user: 'a', host: 'router.example.net', port: 8729 }, 'turns TLS off'],
      [{ user: 'a', host: 'router.example.net', tls: false }, 'turns TLS off'],
      [
        { user: 'a', host: 'router.example.net', tls: true, tlsVerify: false },
        "stops checking the router's certificate",
      ],
    ] as const;
    for (const [routerOs, what] of refusals) {
      const err = await updateFails(nas.id, { description: 'weaker', routerOs });
      expect(err.extensions).toEqual({
        code: 'BAD_USER_INPUT',
        field: 'input.routerOs.password',
        reason: 'ROUTEROS_PASSWORD_REQUIRED',
      });
      expect(err.message).toContain(what);
    }
    expect(await state()).toEqual(before);

    // With the password given again, the operator may choose the weaker setting.
    const relaxed = await update(nas.id, {
      routerOs: {
        user: 'a',
        host: 'router.example.net',
        tls: true,
        tlsVerify: false,
        password: 'relaxed-Passw0rd',
      },
    });
    expect(relaxed.updateNas.routerOs).toMatchObject({ tls: true, tlsVerify: false });
    const relaxedPassword = await storedPassword(nas.id);
    expect(relaxedPassword).not.toBe(before.settings[0].api_password);
    // Stronger again (the certificate checked), and TLS from plain text: the password stays.
    await update(nas.id, { routerOs: { user: 'a', host: 'router.example.net', tls: true } });
    expect(await storedPassword(nas.id)).toBe(relaxedPassword);
    const plain = await create({
      name: '10.20.0.9',
      secret: SECRET,
      routerOs: { user: 'a', password: API_PASSWORD },
    });
    const plainPassword = await storedPassword(plain.id);
    await update(plain.id, { routerOs: { user: 'a', tls: true, tlsVerify: false } });
    expect(await storedPassword(plain.id)).toBe(plainPassword);
  });

  if (kind === 'mysql') {
    it('takes a rename and a routerOs change made at once in turn: the stored API password never follows the new name', async () => {
      // routerOs.host written as the NAS's name: A (routerOs without host, which then defaults
      // to the name) and B (a new name) are each fine alone, but together they would point the
      // API at the new name with the stored password. The test holds the settings row so that
      // A stops just before writing it, after its checks, while B runs.
      const nas = await create({
        name: '10.20.0.40',
        secret: SECRET,
        routerOs: { user: 'a', host: '10.20.0.40', password: API_PASSWORD },
      });
      const holder = await createConnection(db.url);
      try {
        await holder.query('START TRANSACTION');
        await holder.query('SELECT * FROM rg_nas_settings WHERE nas_id = ? FOR UPDATE', [nas.id]);
        const a = update(nas.id, { routerOs: { user: 'b' } }).then(
          () => 'ok',
          (err: Error) => err.message,
        );
        await new Promise((r) => setTimeout(r, 500));
        let bSettled = false;
        const b = gqlError(
          api,
          `mutation($id: ID!, $i: UpdateNasInput!) { updateNas(id: $id, input: $i) { id } }`,
          { id: nas.id, i: { name: '10.20.0.46' } },
        ).then(
          (err) => ((bSettled = true), err.extensions),
          () => ((bSettled = true), 'renamed'),
        );
        await new Promise((r) => setTimeout(r, 1000));
        // B waits for A (the NAS row is A's until it commits); it did not go ahead meanwhile.
        expect(bSettled).toBe(false);
        await holder.query('COMMIT');
        expect(await a).toBe('ok');
        expect(await b).toEqual({
          code: 'BAD_USER_INPUT',
          field: 'input.routerOs.password',
          reason: 'ROUTEROS_PASSWORD_REQUIRED',
        });
      } finally {
        await holder.end();
      }
      const [row] = await db.query<{ nasname: string; api_host: string | null }>(
        'SELECT nasname, api_host FROM nas JOIN rg_nas_settings ON nas_id = nas.id WHERE nas.id = ?',
        [nas.id],
      );
      expect(row).toEqual({ nasname: '10.20.0.40', api_host: null });
    });
  }

  it('refuses to delete a NAS with open sessions (CONFLICT) unless forced; deletes both rows', async () => {
    const nas = await create({
      name: '10.20.0.4',
      secret: SECRET,
      routerOs: { user: 'a', password: 'p' },
    });
    await db.query(
      `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime) VALUES ('s1', 'u-nas-del', 'alice', '10.20.0.4', '2026-11-30 10:00:00')`,
    );
    const del = (force?: boolean) =>
      api.gql(`mutation($id: ID!, $f: Boolean) { deleteNas(id: $id, force: $f) }`, {
        id: nas.id,
        f: force,
      });
    const refused = await del();
    expect(refused.body.errors![0].extensions).toMatchObject({
      code: 'CONFLICT',
      reason: 'NAS_HAS_SESSIONS',
    });
    expect(refused.body.errors![0].message).toContain('1 open session');
    expect((await del(true)).body.data).toEqual({ deleteNas: true });
    expect(await db.query('SELECT id FROM nas WHERE id = ?', [nas.id])).toEqual([]);
    expect(await db.query('SELECT nas_id FROM rg_nas_settings WHERE nas_id = ?', [nas.id])).toEqual(
      [],
    );
    expect((await del(true)).body.errors![0].extensions.code).toBe('NOT_FOUND');
  });
});
