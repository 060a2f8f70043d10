import { startApp, type RunningApp } from '../support/app';
import { LogCapture } from '../support/log-capture';
import { startCoaResponder, type CoaResponder } from '../support/coa-responder';
import { gqlData, gqlError } from '../support/graphql';
import { Recorder } from '../support/session-recorder';
import { until } from '../support/until';
import { closedPort, startRouterOsDouble, type RouterOsDouble } from '../support/routeros-double';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { grew, scrapeMetrics } from '../support/metrics';
import { SessionControlService } from '../../src/nas/control/session-control.service';

const NAS_SECRET = 'coa-Shared-s3cret';
const API_PASSWORD = 'api-Passw0rd-xyz';
const MOVED_PASSWORD = 'moved-Passw0rd-xyz';
const NAS_IP = '127.0.0.1';

/**
 * Acting on live sessions through a NAS: a real CoA/Disconnect peer on UDP (the `radius`
 * package, checking the request authenticator) and a RouterOS API double on real bytes. Every
 * log line of the run is captured and searched for the secrets.
 */
describe.each(['mysql', 'sqlite'] as const)('NAS control on %s', (kind) => {
  let db: TestDatabase;
  let api: RunningApp;
  let coa: CoaResponder;
  let router: RouterOsDouble;
  let nasId: string;
  const logs = new LogCapture();

  beforeAll(async () => {
    logs.start();
    db = await createTestDatabase(kind);
    coa = await startCoaResponder({ secret: NAS_SECRET });
    router = await startRouterOsDouble({ user: 'radgraph', password: API_PASSWORD });
    api = await startApp(db, {
      LOG_LEVEL: 'verbose',
      COA_TIMEOUT_MS: '200',
      COA_RETRIES: '1',
      ROUTEROS_TIMEOUT_MS: '2000',
    });
    ({
      createNas: { id: nasId },
    } = await gqlData(api, `mutation($i: CreateNasInput!) { createNas(input: $i) { id } }`, {
      i: {
        name: NAS_IP,
        secret: NAS_SECRET,
        type: 'mikrotik',
        coaPort: coa.port,
        routerOs: {
          host: '127.0.0.1',
          port: router.port,
          user: 'radgraph',
          password: API_PASSWORD,
        },
      },
    }));
  });

  afterAll(async () => {
    await api?.close();
    await coa?.close();
    await router?.close();
    await db?.drop();
    logs.stop();
  });

  let seq = 0;
  /** A profile, a customer on it, and (when online) an open radacct row on the NAS. */
  async function customer(online: boolean, profileId?: string, nasIp = NAS_IP) {
    seq++;
    const pid =
      profileId ??
      (
        await gqlData(
          api,
          `mutation($i: CreateProfileInput!) { createProfile(input: $i) { id } }`,
          {
            i: { name: `p${seq}`, downloadRateKbps: 10240, uploadRateKbps: 5120, validityDays: 30 },
          },
        )
      ).createProfile.id;
    const username = `user${seq}.${kind}`;
    const { createCustomer } = await gqlData(
      api,
      `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }`,
      { i: { username, password: 'pw-123456', profileId: pid } },
    );
    const session = `81c0${String(seq).padStart(4, '0')}`;
    const address = `100.64.0.${seq}`;
    if (online) await openSession(username, session, address, nasIp);
    return { id: createCustomer.id as string, username, session, address, profileId: pid };
  }

  const openSession = (username: string, session: string, address: string, nasIp = NAS_IP) =>
    db.query(
      `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, framedipaddress, acctstarttime, acctupdatetime)
       VALUES (?, ?, ?, ?, ?, '2026-11-30 10:00:00', '2026-11-30 10:00:00')`,
      [session, `u-${username}-${session}`, username, nasIp, address],
    );

  const createProfileId = async (name: string) =>
    (
      await gqlData(api, `mutation($i: CreateProfileInput!) { createProfile(input: $i) { id } }`, {
        i: { name, downloadRateKbps: 51200, uploadRateKbps: 20480, validityDays: 30 },
      })
    ).createProfile.id as string;

  const disconnect = async (id: string) =>
    (
      await gqlData(
        api,
        `mutation($id: ID!) { disconnectCustomer(id: $id) { ok method message } }`,
        { id },
      )
    ).disconnectCustomer;

  it('disconnects over CoA: the NAS got a valid Disconnect-Request with the session', async () => {
    coa.setMode('ack');
    const c = await customer(true);
    const before = coa.received.length;
    expect(await disconnect(c.id)).toMatchObject({ ok: true, method: 'coa' });
    const [request] = coa.received.slice(before);
    expect(request.code).toBe('Disconnect-Request');
    expect(request.authenticatorValid).toBe(true);
    expect(request.attributes).toMatchObject({
      'User-Name': c.username,
      'Acct-Session-Id': c.session,
      'Framed-IP-Address': c.address,
    });
  });

  /** The customer's radacct row of `session`: open (acctstoptime null) or how it closed. */
  const row = async (username: string, session: string) =>
    (
      await db.query<{ acctstoptime: unknown; acctterminatecause: string | null }>(
        'SELECT acctstoptime, acctterminatecause FROM radacct WHERE username = ? AND acctsessionid = ?',
        [username, session],
      )
    )[0];

  /** The row was closed as the reconciler closes one (StaleSessionReaper.closeStale). */
  const expectClosedAsStale = async (c: { username: string; session: string }) =>
    expect(await row(c.username, c.session)).toMatchObject({
      acctstoptime: expect.anything(),
      acctterminatecause: 'Stale-Session',
    });

  it("reports a Disconnect-NAK's Error-Cause; after a 503 the router, which has no session of the user either, has the row closed", async () => {
    coa.setMode('nak', { errorCause: 503 });
    const c = await customer(true);
    const result = await disconnect(c.id);
    // The router has no such session: nothing to remove, the customer is gone already.
    expect(result).toMatchObject({ ok: true, method: 'routeros' });
    expect(result.message).toContain('Session-Context-Not-Found');
    expect(result.message).toContain('its open row was closed');
    await expectClosedAsStale(c);
  });

  it('after a 503, the router that has the session still removes it, and the row waits for its Stop', async () => {
    // MikroTik answers 503 to a request whose attributes it matches to no session (a row with
    // a wrong Framed-IP-Address): /ppp/active by user name is the last word.
    coa.setMode('nak', { errorCause: 503 });
    const c = await customer(true);
    router.addSession({ name: c.username, address: '100.64.99.1', sessionId: `0x${c.session}` });
    const result = await disconnect(c.id);
    expect(result).toMatchObject({ ok: true, method: 'routeros' });
    expect(result.message).toMatch(/removed 1 active session/);
    expect(router.sessions.find((s) => s.name === c.username)).toBeUndefined();
    expect(await row(c.username, c.session)).toMatchObject({ acctstoptime: null });
  });

  it('closes the row when CoA fails and the router has no active session of the user', async () => {
    coa.setMode('silent');
    const c = await customer(true);
    const result = await disconnect(c.id);
    expect(result).toMatchObject({ ok: true, method: 'routeros' });
    expect(result.message).toMatch(/has no active session on the router/);
    expect(result.message).toMatch(/the NAS has no such session: its open row was closed/);
    await expectClosedAsStale(c);
  });

  it('leaves the row open when the RouterOS fallback removed the session: the router sends the Stop', async () => {
    coa.setMode('silent');
    const c = await customer(true);
    router.addSession({ name: c.username, address: c.address, sessionId: `0x${c.session}` });
    const result = await disconnect(c.id);
    expect(result).toMatchObject({ ok: true, method: 'routeros' });
    expect(result.message).not.toMatch(/closed/);
    expect(await row(c.username, c.session)).toMatchObject({
      acctstoptime: null,
    });
  });

  it('falls back to the RouterOS API when the NAS does not answer CoA', async () => {
    coa.setMode('silent');
    const c = await customer(true);
    router.addSession({
      name: c.username,
      address: c.address,
      sessionId: `0x${c.session.toUpperCase()}`,
    });
    const result = await disconnect(c.id);
    expect(result).toMatchObject({ ok: true, method: 'routeros' });
    expect(result.message).toMatch(/no answer/);
    expect(router.sessions.find((s) => s.name === c.username)).toBeUndefined();
    const removes = router.commands('/ppp/active/remove');
    expect(removes.length).toBeGreaterThan(0);
  });

  it('succeeds when a stale row and the live one of a customer both fall back to the same router session', async () => {
    // A missed Stop left an old row open; the customer redialled. With CoA off on the router
    // (RouterOS's default), both rows fall back to /ppp/active: the live row's session and the
    // "no session of its own" stale row name the same .id, and whichever removes it second is
    // told `no such item`. The customer is offline all the same.
    coa.setMode('silent');
    const c = await customer(true);
    await openSession(c.username, `${c.session}ff`, c.address);
    router.addSession({
      name: c.username,
      address: c.address,
      sessionId: `0x${c.session}ff`,
    });
    const removesBefore = router.commands('/ppp/active/remove').length;
    const result = await disconnect(c.id);
    expect(router.sessions.find((s) => s.name === c.username)).toBeUndefined();
    expect(router.commands('/ppp/active/remove').length - removesBefore).toBe(2);
    expect(result).toMatchObject({ ok: true, method: 'routeros' });
    expect(result.message).not.toMatch(/no such item/);
  });

  it('says so, and sends nothing, for a customer who is offline', async () => {
    const c = await customer(false);
    const before = coa.received.length;
    expect(await disconnect(c.id)).toMatchObject({ ok: false, method: 'none' });
    expect((await disconnect(c.id)).message).toMatch(/not online/);
    expect(coa.received.length).toBe(before);
  });

  it('changeCustomerProfile on an online customer sends the new rate with CoA-Request', async () => {
    coa.setMode('ack');
    const c = await customer(true);
    const { createProfile: fast } = await gqlData(
      api,
      `mutation($i: CreateProfileInput!) { createProfile(input: $i) { id rateLimit } }`,
      {
        i: {
          name: `fast-${kind}`,
          downloadRateKbps: 51200,
          uploadRateKbps: 20480,
          validityDays: 30,
        },
      },
    );
    const before = coa.received.length;
    await gqlData(
      api,
      `mutation($id: ID!, $p: ID!) { changeCustomerProfile(id: $id, profileId: $p) { id } }`,
      {
        id: c.id,
        p: fast.id,
      },
    );
    const sent = coa.received.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0].code).toBe('CoA-Request');
    expect(sent[0].authenticatorValid).toBe(true);
    expect(sent[0].attributes).toMatchObject({
      'User-Name': c.username,
      'Vendor-Specific': { 'Mikrotik-Rate-Limit': '20480k/51200k' },
    });
  });

  it('two plan changes close together: the session ends on the rate of the later one, even when the earlier CoA-Request goes out last', async () => {
    coa.setMode('ack');
    const c = await customer(true);
    const plan = async (name: string, down: number, up: number) =>
      (
        await gqlData(
          api,
          `mutation($i: CreateProfileInput!) { createProfile(input: $i) { id } }`,
          {
            i: {
              name: `${name}-${kind}`,
              downloadRateKbps: down,
              uploadRateKbps: up,
              validityDays: 30,
            },
          },
        )
      ).createProfile.id as string;
    const first = await plan('race-first', 30720, 10240);
    const second = await plan('race-second', 61440, 20480);
    const move = (p: string) =>
      gqlData(
        api,
        `mutation($id: ID!, $p: ID!) { changeCustomerProfile(id: $id, profileId: $p) { id } }`,
        { id: c.id, p },
      );
    const profileOf = async () =>
      String(
        (await db.query('SELECT profile_id FROM rg_customers WHERE id = ?', [c.id]))[0].profile_id,
      );
    // The first push is slow (a NAS that answers late, a lost packet sent again): it goes out
    // only after the second change has committed.
    const control = api.app.get(SessionControlService);
    const real = control.changeUserRate.bind(control);
    let calls = 0;
    const slow = jest.spyOn(control, 'changeUserRate').mockImplementation(async (...args) => {
      if (++calls === 1)
        await until(async () => (await profileOf()) === second, 'the second change');
      return real(...args);
    });
    try {
      const before = coa.received.length;
      const toFirst = move(first);
      await until(async () => (await profileOf()) === first, 'the first change');
      await Promise.all([toFirst, move(second)]);
      const rates = coa.received
        .slice(before)
        .filter((r) => r.attributes['User-Name'] === c.username)
        .map(
          (r) => (r.attributes['Vendor-Specific'] as Record<string, string>)['Mikrotik-Rate-Limit'],
        );
      expect(rates.length).toBeGreaterThanOrEqual(1);
      expect(rates[rates.length - 1]).toBe('20480k/61440k');
      expect(await profileOf()).toBe(second);
    } finally {
      slow.mockRestore();
    }
  });

  it("updateProfile's new speeds reach every online customer of the profile, and it says how many", async () => {
    coa.setMode('ack');
    const a = await customer(true);
    await customer(true, a.profileId);
    await customer(false, a.profileId);
    const { updateProfile } = await gqlData(
      api,
      `mutation($id: ID!) { updateProfile(id: $id, input: { downloadRateKbps: 20480 }) { rateChange { rateLimit sessions reached failures } } }`,
      { id: a.profileId },
    );
    expect(updateProfile.rateChange).toEqual({
      rateLimit: '5120k/20480k',
      sessions: 2,
      reached: 2,
      failures: [],
    });
  });

  it('updateProfile gives up on a NAS that answers no CoA-Request, and still reaches every session of a NAS that answers', async () => {
    const SILENT_IP = '127.0.0.29';
    const GIVE_UP = 8; // COA_GIVE_UP_AFTER_TIMEOUTS, the default
    const PARALLEL = 16; // sessions a push reaches at once
    const silent = await startCoaResponder({ secret: NAS_SECRET, host: SILENT_IP, mode: 'silent' });
    try {
      await gqlData(api, `mutation($i: CreateNasInput!) { createNas(input: $i) { id } }`, {
        i: { name: SILENT_IP, secret: NAS_SECRET, type: 'mikrotik', coaPort: silent.port },
      });
      coa.setMode('ack');
      const profileId = await createProfileId(`give-up-${kind}`);
      // 40 online customers on the silent NAS and 10 on the answering one, their sessions
      // interleaved (the push takes them in radacctid order).
      const onSilent: string[] = [];
      const onAnswering: string[] = [];
      for (let i = 0; i < 50; i++) {
        const answering = i % 5 === 0;
        const c = await customer(true, profileId, answering ? NAS_IP : SILENT_IP);
        (answering ? onAnswering : onSilent).push(c.username);
      }
      const before = coa.received.length;
      const started = performance.now();
      const { updateProfile } = await gqlData(
        api,
        `mutation($id: ID!) { updateProfile(id: $id, input: { downloadRateKbps: 30720 }) { rateChange { rateLimit sessions reached failures } } }`,
        { id: profileId },
      );
      const elapsed = performance.now() - started;

      // The silent NAS: the first requests (those in flight when it had left GIVE_UP
      // unanswered) timed out; the rest of its 40 sessions were not tried.
      const tried = new Set(silent.received.map((r) => r.attributes['User-Name'] as string));
      expect(tried.size).toBeGreaterThanOrEqual(GIVE_UP);
      expect(tried.size).toBeLessThanOrEqual(GIVE_UP + PARALLEL - 1);
      const notTried = onSilent.length - tried.size;
      const report = updateProfile.rateChange;
      expect(report).toMatchObject({ rateLimit: '20480k/30720k', sessions: 50, reached: 10 });
      expect(report.failures).toHaveLength(20);
      expect(report.failures[0]).toBe(
        `NAS ${SILENT_IP} did not answer ${GIVE_UP} CoA-Requests in a row; its remaining ${notTried} session(s) were not tried`,
      );
      const lines = report.failures.slice(1) as string[];
      for (const line of lines) {
        const [username] = line.split(': ');
        expect(onSilent).toContain(username);
        expect(line).toMatch(
          tried.has(username)
            ? /no answer|timed out|did not answer/i
            : `not tried: NAS ${SILENT_IP} did not answer ${GIVE_UP} CoA-Requests in a row`,
        );
      }
      // Bounded: about two rounds of (1 + COA_RETRIES) × COA_TIMEOUT_MS (400 ms), not the
      // three that 40 sessions 16 at a time would take.
      expect(elapsed).toBeLessThan(3 * 400 + 1000);
      expect(logs.text()).toContain(report.failures[0]);

      // The answering NAS got the new rate for every one of its sessions.
      const reachedUsers = coa.received
        .slice(before)
        .filter((r) => r.code === 'CoA-Request')
        .map((r) => r.attributes['User-Name'] as string);
      expect(new Set(reachedUsers)).toEqual(new Set(onAnswering));
    } finally {
      await silent.close();
      await db.query(
        "UPDATE radacct SET acctstoptime = acctstarttime, acctterminatecause = 'User-Request' WHERE nasipaddress = ?",
        [SILENT_IP],
      );
    }
  });

  it('a NAS whose stored API password SECRETS_KEY cannot open still gets its CoA pushes and Disconnect-Requests; its RouterOS calls fail, saying why', async () => {
    const BROKEN_IP = '127.0.0.33';
    const broken = await startCoaResponder({ secret: NAS_SECRET, mode: 'ack', host: BROKEN_IP });
    const {
      createNas: { id: brokenId },
    } = await gqlData(api, `mutation($i: CreateNasInput!) { createNas(input: $i) { id } }`, {
      i: {
        name: BROKEN_IP,
        secret: NAS_SECRET,
        type: 'mikrotik',
        coaPort: broken.port,
        routerOs: { host: '127.0.0.1', port: router.port, user: 'radgraph', password: 'x-Pw-1' },
      },
    });
    try {
      // As after SECRETS_KEY changed: the stored password no longer opens.
      await db.query('UPDATE rg_nas_settings SET api_password = ? WHERE nas_id = ?', [
        'v1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA.AAAA',
        Number(brokenId),
      ]);
      const c = await customer(true, undefined, BROKEN_IP);
      const { updateProfile } = await gqlData(
        api,
        `mutation($id: ID!) { updateProfile(id: $id, input: { downloadRateKbps: 40960 }) { downloadRateKbps rateChange { rateLimit sessions reached failures } } }`,
        { id: c.profileId },
      );
      expect(updateProfile).toEqual({
        downloadRateKbps: 40960,
        rateChange: { rateLimit: '5120k/40960k', sessions: 1, reached: 1, failures: [] },
      });
      expect(broken.received.map((r) => r.code)).toEqual(['CoA-Request']);
      // A NAK sends the disconnect to the RouterOS fallback, whose password does not open.
      broken.setMode('nak', { errorCause: 502 });
      const { disconnectCustomer } = await gqlData(
        api,
        `mutation($id: ID!) { disconnectCustomer(id: $id) { ok method message } }`,
        { id: c.id },
      );
      expect(disconnectCustomer).toMatchObject({ ok: false, method: 'routeros' });
      expect(disconnectCustomer.message).toMatch(/SECRETS_KEY/);
      expect(broken.received.map((r) => r.code)).toEqual(['CoA-Request', 'Disconnect-Request']);
      // reconcileNas cannot log in: CONFLICT, saying what to do, not an internal error.
      const error = await gqlError(
        api,
        `mutation($id: ID!) { reconcileNas(nasId: $id) { nasId } }`,
        { id: brokenId },
      );
      expect(error.extensions).toMatchObject({
        code: 'CONFLICT',
        field: 'nasId',
        reason: 'NAS_PASSWORD_UNREADABLE',
      });
      expect(error.message).toMatch(
        /^NAS 127\.0\.0\.33: .*SECRETS_KEY.*set it again with updateNas$/,
      );
    } finally {
      await broken.close();
      await db.query(
        "UPDATE radacct SET acctstoptime = acctstarttime, acctterminatecause = 'User-Request' WHERE nasipaddress = ?",
        [BROKEN_IP],
      );
      await gqlData(api, `mutation($id: ID!) { deleteNas(id: $id) }`, { id: brokenId });
    }
  });

  it('updateProfile answers with the committed speeds when the push fails as a whole after the commit, and says why', async () => {
    coa.setMode('ack');
    const c = await customer(true);
    const push = jest
      .spyOn(api.app.get(SessionControlService), 'changeGroupRate')
      .mockRejectedValueOnce(new Error('Connection lost: The server closed the connection.'));
    try {
      const { updateProfile } = await gqlData(
        api,
        `mutation($id: ID!) { updateProfile(id: $id, input: { downloadRateKbps: 40960 }) { downloadRateKbps rateChange { rateLimit reached held failures } } }`,
        { id: c.profileId },
      );
      expect(push).toHaveBeenCalledTimes(1);
      expect(updateProfile.downloadRateKbps).toBe(40960);
      expect(updateProfile.rateChange).toMatchObject({
        rateLimit: '5120k/40960k',
        reached: 0,
        held: 0,
      });
      expect(updateProfile.rateChange.failures).toEqual([
        expect.stringMatching(/^not pushed: Connection lost.*next login/),
      ]);
      const [row] = await db.query<{ value: string }>(
        "SELECT value FROM radgroupreply WHERE groupname = ? AND attribute = 'Mikrotik-Rate-Limit'",
        [`p${seq}`],
      );
      expect(row.value).toBe('5120k/40960k');
    } finally {
      push.mockRestore();
    }
  });

  it('reconciles /ppp/active with radacct: closes what the router lost, reports what only it has', async () => {
    await db.query(`UPDATE radacct SET acctstoptime = acctstarttime WHERE acctstoptime IS NULL`);
    router.sessions.length = 0;
    const kept = await customer(true);
    const lost = await customer(true);
    const byName = await customer(true);
    router.addSession({
      name: kept.username,
      address: kept.address,
      sessionId: `0x${kept.session.toUpperCase()}`,
    });
    router.addSession({ name: byName.username, address: byName.address, sessionId: '0xFFFF0001' });
    router.addSession({ name: 'ghost', address: '100.64.9.9', sessionId: '0x1' });
    const { reconcileNas } = await gqlData(
      api,
      `mutation($id: ID!) { reconcileNas(nasId: $id) { nasId routerSessions openSessions closedSessionIds routerOnly { username address sessionId } } }`,
      { id: nasId },
    );
    expect(reconcileNas).toMatchObject({ nasId, routerSessions: 3, openSessions: 3 });
    expect(reconcileNas.routerOnly).toEqual([
      { username: 'ghost', address: '100.64.9.9', sessionId: '0x1' },
    ]);
    expect(reconcileNas.closedSessionIds).toHaveLength(1);
    const rows = await db.query<{ username: string; acctterminatecause: string }>(
      'SELECT username, acctterminatecause FROM radacct WHERE radacctid = ?',
      reconcileNas.closedSessionIds,
    );
    expect(rows).toEqual([{ username: lost.username, acctterminatecause: 'Stale-Session' }]);
  });

  it('shows NAS health and a live rate from the RouterOS API', async () => {
    const c = await customer(true);
    router.addSession({
      name: c.username,
      address: c.address,
      sessionId: `0x${c.session}`,
      traffic: { rxBitsPerSecond: 1_500_000, txBitsPerSecond: 9_800_000 },
    });
    const { nas } = await gqlData(
      api,
      `query($id: ID!) { nas(id: $id) { reachable onlineCount lastAccountingAt } }`,
      { id: nasId },
    );
    expect(nas.reachable).toBe(true);
    expect(nas.onlineCount).toBeGreaterThan(0);
    const { customer: found } = await gqlData(
      api,
      `query($id: ID!) { customer(id: $id) { currentSession { liveRate { uploadBps downloadBps } } } }`,
      { id: c.id },
    );
    expect(found.currentSession.liveRate).toEqual({ uploadBps: 1_500_000, downloadBps: 9_800_000 });
  });

  describe('a NAS entered as a network (127.0.0.0/24; 127.0.0.1 has a row of its own)', () => {
    const NET_SECRET = 'net-Shared-s3cret';
    const NET_IP = '127.0.0.5';
    let netCoa: CoaResponder;
    let netRouter: RouterOsDouble;
    let netId: string;

    beforeAll(async () => {
      netCoa = await startCoaResponder({ secret: NET_SECRET, host: NET_IP });
      netRouter = await startRouterOsDouble({ user: 'radgraph', password: API_PASSWORD });
      ({
        createNas: { id: netId },
      } = await gqlData(api, `mutation($i: CreateNasInput!) { createNas(input: $i) { id } }`, {
        i: {
          name: '127.0.0.0/24',
          secret: NET_SECRET,
          type: 'mikrotik',
          coaPort: netCoa.port,
          routerOs: {
            host: '127.0.0.1',
            port: netRouter.port,
            user: 'radgraph',
            password: API_PASSWORD,
          },
        },
      }));
    });

    afterAll(async () => {
      await netCoa?.close();
      await netRouter?.close();
    });

    it("disconnectCustomer sends the Disconnect-Request to the session's own address, with the network's secret", async () => {
      netCoa.setMode('ack');
      const c = await customer(true, undefined, NET_IP);
      const before = netCoa.received.length;
      const exactBefore = coa.received.length;
      expect(await disconnect(c.id)).toMatchObject({ ok: true, method: 'coa' });
      const sent = netCoa.received.slice(before);
      expect(sent).toHaveLength(1);
      expect(sent[0].code).toBe('Disconnect-Request');
      expect(sent[0].authenticatorValid).toBe(true);
      expect(sent[0].attributes).toMatchObject({
        'User-Name': c.username,
        'Acct-Session-Id': c.session,
      });
      expect(coa.received.length).toBe(exactBefore);
    });

    it("changeCustomerProfile's new rate reaches a session of the network", async () => {
      netCoa.setMode('ack');
      const c = await customer(true, undefined, NET_IP);
      const other = await createProfileId(`net-fast-${kind}`);
      const before = netCoa.received.length;
      await gqlData(
        api,
        `mutation($id: ID!, $p: ID!) { changeCustomerProfile(id: $id, profileId: $p) { id } }`,
        { id: c.id, p: other },
      );
      const sent = netCoa.received.slice(before);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({ code: 'CoA-Request', authenticatorValid: true });
      expect(sent[0].attributes).toMatchObject({
        'User-Name': c.username,
        'Vendor-Specific': { 'Mikrotik-Rate-Limit': '20480k/51200k' },
      });
    });

    it("Session.nas, onlineSessions(nasId), Nas.onlineCount and onlineSummary's byNas name the network", async () => {
      const inNet = await customer(true, undefined, NET_IP);
      const onExact = await customer(true);
      const { onlineSessions, nas, onlineSummary } = await gqlData(
        api,
        `query($nas: ID!) {
          onlineSessions(nasId: $nas, first: 500) { totalCount edges { node { username nas { id } } } }
          nas(id: $nas) { onlineCount lastAccountingAt }
          onlineSummary { byNas { nasIpAddress count nas { id } } }
        }`,
        { nas: netId },
      );
      const names = onlineSessions.edges.map((e: any) => e.node.username);
      expect(names).toContain(inNet.username);
      expect(names).not.toContain(onExact.username);
      expect(onlineSessions.edges.every((e: any) => e.node.nas?.id === netId)).toBe(true);
      expect(nas.onlineCount).toBe(onlineSessions.totalCount);
      expect(nas.lastAccountingAt).not.toBeNull();
      expect(onlineSummary.byNas).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ nasIpAddress: NET_IP, nas: { id: netId } }),
          expect.objectContaining({ nasIpAddress: NAS_IP, nas: { id: nasId } }),
        ]),
      );
      const { onlineSessions: found } = await gqlData(
        api,
        `query($nas: ID!, $s: String) { onlineSessions(nasId: $nas, search: $s) { totalCount } }`,
        { nas: netId, s: inNet.username },
      );
      expect(found.totalCount).toBe(1);
    });

    it('sessionEvents(nasId) of the network leaves out 127.0.0.1, which has a row of its own, as onlineSessions does', async () => {
      const live = new Recorder('network', api.wsClient(), `(nasId: "${netId}")`);
      const users = () => live.events.map((e) => e.session.username);
      // The first one's event says the subscription is in place (the change feed reads these
      // rows; it may bring earlier tests' sessions first).
      const first = await customer(true, undefined, NET_IP);
      await until(() => users().includes(first.username), 'the first session', {
        timeoutMs: 10_000,
      });
      const onExact = await customer(true);
      const second = await customer(true, undefined, NET_IP);
      await until(() => users().includes(second.username), 'the second session', {
        timeoutMs: 10_000,
      });
      // The feed publishes in queue order: an event for onExact would have come before.
      expect(live.errors).toEqual([]);
      expect(users()).not.toContain(onExact.username);
      // Every event is from an address the network holds: NET_IP, or one of an earlier test's
      // NAS whose row is gone (the feed may bring its sessions first); none from an address
      // with a nas row of its own, 127.0.0.1 among them.
      const own = (await db.query<{ nasname: string }>('SELECT nasname FROM nas')).map(
        (r) => r.nasname,
      );
      expect(own).toContain(NAS_IP);
      const addresses = new Set(live.events.map((e) => e.session.nasIpAddress));
      expect(addresses.has(NET_IP)).toBe(true);
      for (const a of addresses) {
        expect(a.startsWith('127.0.0.')).toBe(true);
        expect(own).not.toContain(a);
      }
    });

    it("reconcileNas compares the network's open sessions with its router, and leaves 127.0.0.1's alone", async () => {
      await db.query(`UPDATE radacct SET acctstoptime = acctstarttime WHERE acctstoptime IS NULL`);
      netRouter.sessions.length = 0;
      const kept = await customer(true, undefined, NET_IP);
      const lost = await customer(true, undefined, '127.0.0.6');
      const onExact = await customer(true);
      netRouter.addSession({
        name: kept.username,
        address: kept.address,
        sessionId: `0x${kept.session.toUpperCase()}`,
      });
      netRouter.addSession({ name: 'ghost', address: '100.64.9.9', sessionId: '0x1' });
      const { reconcileNas } = await gqlData(
        api,
        `mutation($id: ID!) { reconcileNas(nasId: $id) { routerSessions openSessions closedSessionIds routerOnly { username } } }`,
        { id: netId },
      );
      expect(reconcileNas).toMatchObject({
        routerSessions: 2,
        openSessions: 2,
        routerOnly: [{ username: 'ghost' }],
      });
      const rows = await db.query<{ username: string }>(
        'SELECT username FROM radacct WHERE radacctid = ?',
        reconcileNas.closedSessionIds,
      );
      expect(rows).toEqual([{ username: lost.username }]);
      const open = await db.query<{ username: string }>(
        'SELECT username FROM radacct WHERE acctstoptime IS NULL ORDER BY radacctid',
      );
      expect(open.map((r) => r.username)).toEqual([kept.username, onExact.username]);
    });

    it('Session.liveRate reads the rate through its routerOs.host', async () => {
      const c = await customer(true, undefined, NET_IP);
      netRouter.addSession({
        name: c.username,
        address: c.address,
        sessionId: `0x${c.session}`,
        traffic: { rxBitsPerSecond: 2_000_000, txBitsPerSecond: 8_000_000 },
      });
      const { customer: found } = await gqlData(
        api,
        `query($id: ID!) { customer(id: $id) { currentSession { liveRate { uploadBps downloadBps } } } }`,
        { id: c.id },
      );
      expect(found.currentSession.liveRate).toEqual({
        uploadBps: 2_000_000,
        downloadBps: 8_000_000,
      });
    });

    it('reconcileNas refuses a network whose routerOs.host is not set, naming it', async () => {
      const { createNas } = await gqlData(
        api,
        `mutation($i: CreateNasInput!) { createNas(input: $i) { id } }`,
        {
          i: {
            name: '10.99.0.0/16',
            secret: NET_SECRET,
            routerOs: { user: 'radgraph', password: API_PASSWORD },
          },
        },
      );
      const error = await gqlError(
        api,
        `mutation($id: ID!) { reconcileNas(nasId: $id) { openSessions } }`,
        { id: createNas.id },
      );
      expect(error.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'nasId',
        reason: 'NAS_WITHOUT_API_HOST',
      });
    });
  });

  describe('a NAS without API settings that has no such session', () => {
    const GHOST_IP = '127.0.0.21';
    let ghost: CoaResponder;
    let ghostId: string;

    beforeAll(async () => {
      ghost = await startCoaResponder({ secret: NAS_SECRET, host: GHOST_IP, mode: 'nak' });
      ({
        createNas: { id: ghostId },
      } = await gqlData(api, `mutation($i: CreateNasInput!) { createNas(input: $i) { id } }`, {
        i: { name: GHOST_IP, secret: NAS_SECRET, coaPort: ghost.port },
      }));
    });

    afterAll(async () => {
      await ghost?.close();
    });

    it('Disconnect-NAK 503 closes the row at once as Stale-Session and publishes STOPPED; disconnectCustomer is ok', async () => {
      ghost.setMode('nak', { errorCause: 503 });
      const live = new Recorder('ghost', api.wsClient(), `(nasId: "${ghostId}")`);
      const c = await customer(true, undefined, GHOST_IP);
      // Its STARTED (from the change feed) says the subscription is in place.
      await until(() => live.events.some((e) => e.session.username === c.username), 'STARTED', {
        timeoutMs: 10_000,
      });
      const before = await scrapeMetrics(api);
      const result = await disconnect(c.id);
      const scraped = await scrapeMetrics(api);
      const counted = (sample: string) => grew(before, scraped, sample);
      expect(counted('radgraph_disconnects_total{method="coa",result="closed"}')).toBe(1);
      expect(counted('radgraph_disconnects_total{method="coa",result="ok"}')).toBe(0);
      expect(result).toMatchObject({ ok: true, method: 'coa' });
      expect(result.message).toContain('503 Session-Context-Not-Found');
      expect(result.message).toContain('the NAS has no such session: its open row was closed');
      await expectClosedAsStale(c);
      const stopped = () =>
        live.events.filter((e) => e.session.username === c.username && e.type === 'STOPPED');
      await until(() => stopped().length > 0, 'STOPPED', { timeoutMs: 10_000 });
      expect(live.errors).toEqual([]);
      expect(stopped()[0].session).toMatchObject({
        terminateCause: 'Stale-Session',
        stoppedAt: expect.any(String),
      });
      const { customer: after } = await gqlData(
        api,
        `query($id: ID!) { customer(id: $id) { status currentSession { id } } }`,
        { id: c.id },
      );
      expect(after).toEqual({ status: 'OFFLINE', currentSession: null });
      // Offline now: a second disconnect finds nothing to send.
      expect(await disconnect(c.id)).toMatchObject({ ok: false, method: 'none' });
    });

    it.each([
      ['502 Request-Not-Routable', 502],
      ['404 Invalid-Request', 404],
      ['no Error-Cause', null],
    ] as const)(
      'a Disconnect-NAK with %s leaves the row open and is not ok',
      async (what, cause) => {
        ghost.setMode('nak', { errorCause: cause });
        const c = await customer(true, undefined, GHOST_IP);
        const result = await disconnect(c.id);
        expect(result).toMatchObject({ ok: false, method: 'coa' });
        expect(result.message).toContain(cause === null ? '(no Error-Cause)' : what);
        expect(result.message).not.toMatch(/closed/);
        expect(await row(c.username, c.session)).toMatchObject({
          acctstoptime: null,
        });
      },
    );

    it("a 503 from a NAS whose RouterOS API fails closes the row on the NAS's word", async () => {
      const BROKEN_IP = '127.0.0.22';
      const broken = await startCoaResponder({ secret: NAS_SECRET, host: BROKEN_IP, mode: 'nak' });
      try {
        const port = await closedPort();
        await gqlData(api, `mutation($i: CreateNasInput!) { createNas(input: $i) { id } }`, {
          i: {
            name: BROKEN_IP,
            secret: NAS_SECRET,
            type: 'mikrotik',
            coaPort: broken.port,
            routerOs: { host: '127.0.0.1', port, user: 'radgraph', password: API_PASSWORD },
          },
        });
        const c = await customer(true, undefined, BROKEN_IP);
        const result = await disconnect(c.id);
        expect(result).toMatchObject({ ok: true, method: 'coa' });
        expect(result.message).toContain('RouterOS API');
        expect(result.message).toContain('its open row was closed');
        await expectClosedAsStale(c);
        // Any other NAK with the API down stays a failure.
        broken.setMode('nak', { errorCause: 502 });
        const other = await customer(true, undefined, BROKEN_IP);
        expect(await disconnect(other.id)).toMatchObject({ ok: false, method: 'routeros' });
        expect(await row(other.username, other.session)).toMatchObject({ acctstoptime: null });
      } finally {
        await broken.close();
      }
    });

    it('suspendCustomer on a 503 closes the row and logs the disconnect as done', async () => {
      ghost.setMode('nak', { errorCause: 503 });
      const c = await customer(true, undefined, GHOST_IP);
      const from = logs.text().length;
      await gqlData(api, `mutation($id: ID!) { suspendCustomer(id: $id) { id } }`, { id: c.id });
      await expectClosedAsStale(c);
      const lines = logs
        .text()
        .slice(from)
        .split('\n')
        .filter((l) => l.includes(`${c.username} suspended`));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain('disconnected (coa)');
    });
  });

  describe('deleting or suspending an online customer', () => {
    const gone = async (id: string) =>
      (await gqlData(api, `mutation($id: ID!) { deleteCustomer(id: $id) }`, { id })).deleteCustomer;

    it('deleteCustomer sends a Disconnect-Request for the session', async () => {
      coa.setMode('ack');
      const c = await customer(true);
      const before = coa.received.length;
      expect(await gone(c.id)).toBe(true);
      const sent = coa.received.slice(before);
      expect(sent).toHaveLength(1);
      expect(sent[0].code).toBe('Disconnect-Request');
      expect(sent[0].attributes).toMatchObject({
        'User-Name': c.username,
        'Acct-Session-Id': c.session,
      });
    });

    it('suspendCustomer sends a Disconnect-Request for the session; resumeCustomer sends nothing', async () => {
      coa.setMode('ack');
      const c = await customer(true);
      const before = coa.received.length;
      const { suspendCustomer } = await gqlData(
        api,
        `mutation($id: ID!) { suspendCustomer(id: $id) { status } }`,
        { id: c.id },
      );
      expect(suspendCustomer.status).toBe('SUSPENDED');
      const sent = coa.received.slice(before);
      expect(sent).toHaveLength(1);
      expect(sent[0].code).toBe('Disconnect-Request');
      expect(sent[0].attributes).toMatchObject({ 'User-Name': c.username });
      await gqlData(api, `mutation($id: ID!) { resumeCustomer(id: $id) { id } }`, { id: c.id });
      expect(coa.received.length).toBe(before + 1);
    });

    it('with the NAS silent, the delete still succeeds, and the failed disconnect is logged at warn', async () => {
      const SILENT_IP = '127.0.0.19';
      const silent = await startCoaResponder({
        secret: NAS_SECRET,
        host: SILENT_IP,
        mode: 'silent',
      });
      try {
        await gqlData(api, `mutation($i: CreateNasInput!) { createNas(input: $i) { id } }`, {
          i: { name: SILENT_IP, secret: NAS_SECRET, coaPort: silent.port },
        });
        const c = await customer(true, undefined, SILENT_IP);
        expect(await gone(c.id)).toBe(true);
        expect(silent.received.map((r) => r.code)).toContain('Disconnect-Request');
        const { customer: after } = await gqlData(
          api,
          `query($id: ID!) { customer(id: $id) { id } }`,
          { id: c.id },
        );
        expect(after).toBeNull();
        const warned = logs
          .text()
          .split('\n')
          .filter((line) => line.includes(c.username) && line.includes('still online'));
        expect(warned).toHaveLength(1);
        expect(warned[0]).toMatch(/"level":"warn"|WARN/i);
      } finally {
        await silent.close();
      }
    });
  });

  describe('reconcileNas when the RouterOS API fails', () => {
    const WRONG_PASSWORD = 'not-the-Passw0rd-qrs';
    const createNas = async (name: string, port: number, password: string) =>
      (
        await gqlData(api, `mutation($i: CreateNasInput!) { createNas(input: $i) { id } }`, {
          i: {
            name,
            secret: NAS_SECRET,
            type: 'mikrotik',
            routerOs: { host: '127.0.0.1', port, user: 'radgraph', password },
          },
        })
      ).createNas.id as string;
    const reconcile = (id: string) =>
      gqlError(api, `mutation($id: ID!) { reconcileNas(nasId: $id) { nasId } }`, { id });
    /** The log lines of the run since `from` that mention `text`, parsed. */
    const linesWith = (from: number, text: string) =>
      logs
        .text()
        .slice(from)
        .split('\n')
        .filter((l) => l.includes(text))
        .map((l) => JSON.parse(l) as { level: string; msg: string; stack?: string });

    it.each([
      ['a closed port', '127.0.0.2', 'NAS_UNREACHABLE', 'connection refused'],
      ['a wrong password', '127.0.0.3', 'NAS_LOGIN_REFUSED', 'login refused for user "radgraph"'],
    ] as const)(
      "on %s is CONFLICT with the reason and the adapter's message, logged once at warn",
      async (what, name, reason, why) => {
        const port = what === 'a closed port' ? await closedPort() : router.port;
        const id = await createNas(
          name,
          port,
          what === 'a closed port' ? API_PASSWORD : WRONG_PASSWORD,
        );
        const from = logs.text().length;
        const err = await reconcile(id);
        expect(err.extensions).toEqual({ code: 'CONFLICT', field: 'nasId', reason });
        expect(err.message).toBe(`NAS ${name}: RouterOS 127.0.0.1:${port}: ${why}`);
        expect(err.message).not.toContain(WRONG_PASSWORD);
        expect(err.message).not.toContain(API_PASSWORD);
        const lines = linesWith(from, `NAS ${name}: RouterOS`);
        expect(lines).toEqual([
          expect.objectContaining({ level: 'warn', msg: `cannot reconcile ${err.message}` }),
        ]);
        expect(lines[0].stack).toBeUndefined();
        expect(linesWith(from, '"level":"error"')).toEqual([]);
      },
    );
  });

  it('logs in to a moved RouterOS API only with a new password: a port change keeps the stored one, a host change without one is refused', async () => {
    const moved = await startRouterOsDouble({
      user: 'radgraph',
      password: MOVED_PASSWORD,
      host: '127.0.0.2',
    });
    try {
      const {
        createNas: { id },
      } = await gqlData(api, `mutation($i: CreateNasInput!) { createNas(input: $i) { id } }`, {
        i: {
          name: '127.0.0.44',
          secret: NAS_SECRET,
          type: 'mikrotik',
          routerOs: {
            host: '127.0.0.1',
            port: await closedPort(),
            user: 'radgraph',
            password: API_PASSWORD,
          },
        },
      });
      const update = `mutation($id: ID!, $r: RouterOsSettingsInput) { updateNas(id: $id, input: { routerOs: $r }) { routerOs { host port } } }`;
      const reconcile = () =>
        gqlData(api, `mutation($id: ID!) { reconcileNas(nasId: $id) { nasId } }`, { id });
      const passwordsSent = (to: RouterOsDouble) =>
        to
          .commands('/login')
          .flatMap((s) =>
            s.words.filter((w) => w.startsWith('=password=')).map((w) => w.slice(10)),
          );

      // The port only: the stored password goes to the same host, and the router takes it.
      await gqlData(api, update, {
        id,
        r: { host: '127.0.0.1', port: router.port, user: 'radgraph' },
      });
      const sentBefore = passwordsSent(router).length;
      expect((await reconcile()).reconcileNas.nasId).toBe(id);
      expect(passwordsSent(router).slice(sentBefore)).toEqual([API_PASSWORD]);

      // Another host without a password: refused, and the NAS still uses the first host.
      const err = await gqlError(api, update, {
        id,
        r: { host: '127.0.0.2', port: moved.port, user: 'radgraph' },
      });
      expect(err.extensions).toEqual({
        code: 'BAD_USER_INPUT',
        field: 'input.routerOs.password',
        reason: 'ROUTEROS_PASSWORD_REQUIRED',
      });
      await reconcile();
      expect(moved.accepted).toBe(0);

      // With its password: the new host gets that one, and never the stored one.
      await gqlData(api, update, {
        id,
        r: { host: '127.0.0.2', port: moved.port, user: 'radgraph', password: MOVED_PASSWORD },
      });
      await reconcile();
      expect(passwordsSent(moved)).toEqual([MOVED_PASSWORD]);
    } finally {
      await moved.close();
    }
  });

  it('never logged a secret or a password during the whole run', () => {
    const all = logs.text();
    // The capture saw the code that handles them (LOG_LEVEL=verbose logs each request).
    expect(all).toMatch(/"context":"CoaClient","msg":"Disconnect-Request/);
    expect(all).toContain('"context":"RouterOsClient"');
    expect(all).not.toContain(NAS_SECRET);
    expect(all).not.toContain('net-Shared-s3cret');
    expect(all).not.toContain(API_PASSWORD);
    expect(all).not.toContain(MOVED_PASSWORD);
  });
});
