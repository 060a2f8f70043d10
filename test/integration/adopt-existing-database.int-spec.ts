import { acctUniqueId } from '../../src/radius/acct-unique-id';
import { AccountingListener } from '../../src/radius/accounting/accounting-listener.service';
import { StaleSessionReaper } from '../../src/sessions/stale/stale-session-reaper.service';
import { collect, startApp, type RunningApp } from '../support/app';
import { freeradiusSchemaStatements } from '../support/freeradius-schema';
import {
  accountingRequest,
  RadiusTestClient,
  sessionAttributes,
  validResponse,
} from '../support/radius-packets';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { until } from '../support/until';

/**
 * An ISP adopts radgraph on a FreeRADIUS MariaDB database another tool (daloRADIUS,
 * phpnuxbill, hand-written SQL) has filled for years: FreeRADIUS 3.2's schema.sql, then rows
 * the way such tools leave them, then radgraph's migrations and the app. What an operator
 * does first must answer, and leave FreeRADIUS's rows as they were.
 */

const NOW = Date.now();
const ago = (seconds: number) => new Date(NOW - seconds * 1000);
const ANCIENT_OPEN = 1200;
/** What old tools wrote for no date, where sql_mode lets them (Debian's MariaDB does). */
const ZERO_DATE = '0000-00-00 00:00:00';

async function loadLegacyData(db: TestDatabase): Promise<void> {
  for (const statement of freeradiusSchemaStatements('mysql')) await db.query(statement);
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
    ('erin', 'Cleartext-Password', '==', 'erin')`);
  await db.query(`INSERT INTO radusergroup (username, groupname, priority) VALUES
    ('alice', 'gold', 1), ('bob', 'gold', 1), ('bob', 'silver', 2),
    ('dave', 'burst', 0), ('erin', 'nogroupreply', 1)`);
  await db.query(`INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES
    ('gold', 'Mikrotik-Rate-Limit', ':=', '10M/10M'),
    ('silver', 'Mikrotik-Rate-Limit', '=', '5M/5M'),
    ('burst', 'Mikrotik-Rate-Limit', ':=', '2M/4M 4M/8M 1M/2M 8/8 8'),
    ('burst', 'Acct-Interim-Interval', ':=', '600')`);
  await db.query(`INSERT INTO radgroupcheck (groupname, attribute, op, value) VALUES
    ('gold', 'Simultaneous-Use', ':=', '3')`);
  await db.query(`INSERT INTO nas (nasname, shortname, type, ports, secret, server, community, description) VALUES
    ('10.1.1.1', 'core-1', 'mikrotik', 1812, 'my secret with spaces', NULL, NULL, 'RADIUS Client'),
    ('nas2.example.net', 'hostname-nas', 'other', NULL, 'testing123', NULL, NULL, NULL),
    ('10.2.0.0/16', NULL, 'other', NULL, 'net secret', NULL, NULL, NULL),
    ('10.3.3.3', 'old', NULL, NULL, 'x', '', 'public', '')`);
  const ZERO = ZERO_DATE;
  type Row = {
    id: string;
    user: string;
    nas: string;
    start?: Date | string | null;
    update?: Date | string | null;
    stop?: Date | string | null;
    interval?: number | null;
    time?: number | null;
    up?: number | null;
    down?: number | null;
    ip?: string;
    mac?: string;
    cause?: string;
  };
  const sessions: Row[] = [
    // A live session of alice's on a known NAS.
    {
      id: 'a-live',
      user: 'alice',
      nas: '10.1.1.1',
      start: ago(600),
      update: ago(60),
      interval: 300,
      time: 540,
      up: 100,
      down: 200,
      ip: '100.64.0.1',
      mac: 'AA:BB:CC:00:00:01',
    },
    // alice's history: a Stop without Acct-Session-Time, counters NULL.
    {
      id: 'a-old',
      user: 'alice',
      nas: '10.1.1.1',
      start: ago(86400 * 30),
      stop: ago(86400 * 29),
      cause: 'User-Request',
    },
    // An old-schema leftover: a zero stop time (FreeRADIUS 2's default) and a zero start.
    {
      id: 'a-zero',
      user: 'alice',
      nas: '10.1.1.1',
      start: ZERO,
      stop: ZERO,
      time: 0,
      up: 5,
      down: 5,
    },
    // Sessions on a network NAS and on a NAS the nas table does not know.
    {
      id: 'b-net',
      user: 'bob',
      nas: '10.2.3.4',
      start: ago(300),
      update: ago(30),
      interval: 60,
      time: 270,
      up: 1,
      down: 2,
      ip: '100.64.0.2',
    },
    { id: 'd-unknown', user: 'dave', nas: '192.0.2.99', start: ago(120) },
    // An open session without a start time (written by hand).
    { id: 'e-nostart', user: 'erin', nas: '10.1.1.1' },
    // frank: no radcheck rows left (the old tool deleted the user), history only.
    { id: 'f-zero', user: 'frank', nas: '10.1.1.1', start: ZERO, update: ZERO, stop: ZERO },
    { id: 'f-open-zero', user: 'frank', nas: '10.3.3.3', start: ZERO, up: 1, down: 1 },
    { id: 'f-null', user: 'frank', nas: 'nas2', start: ago(86400 * 400), stop: ago(86400 * 399) },
    // Open with a zero start: FreeRADIUS writes its Stop later (the change feed).
    { id: 'g-open-zero', user: 'gina', nas: '10.1.1.1', start: ZERO, up: 7, down: 9 },
  ];
  for (let i = 0; i < ANCIENT_OPEN; i++) {
    // Years-old sessions nobody ever stopped.
    const start = new Date(Date.UTC(2019, 0, 1) + i * 60_000);
    sessions.push({
      id: `z${i}`,
      user: `ghost${i % 50}`,
      nas: '10.9.9.9',
      start,
      up: 10,
      down: 20,
    });
  }
  const rows = sessions.map((r) => [
    r.id,
    `u-${r.id}`,
    r.user,
    r.nas,
    r.start ?? null,
    r.update ?? null,
    r.stop ?? null,
    r.interval ?? null,
    r.time ?? null,
    r.up ?? null,
    r.down ?? null,
    r.ip ?? '',
    r.mac ?? '',
    r.cause ?? '',
  ]);
  await db.query(
    `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime,
       acctupdatetime, acctstoptime, acctinterval, acctsessiontime, acctinputoctets,
       acctoutputoctets, framedipaddress, callingstationid, acctterminatecause) VALUES ?`,
    [rows],
  );
  await db.query(`INSERT INTO radpostauth (username, pass, reply, authdate, class) VALUES
    ('alice', 'alice pw', 'Access-Accept', NOW() - INTERVAL 2 DAY, NULL),
    ('alice', 'wrong pw', 'Access-Reject', NOW() - INTERVAL 1 DAY, NULL),
    ('alice', '', 'Reject', NOW() - INTERVAL 1 HOUR, 'x'),
    ('frank', 'frank pw', 'Access-Reject', '2020-01-01 00:00:00', NULL),
    ('frank', '', '', NOW(), NULL)`);
}

describe('adopting a FreeRADIUS database another tool filled for years (MariaDB)', () => {
  let db: TestDatabase;
  let api: RunningApp;
  let before: Record<string, unknown[]>;

  async function gql<T = any>(query: string, variables?: Record<string, unknown>) {
    const { status, body } = await api.gql<T>(query, variables);
    return { status, data: body.data as T, errors: body.errors };
  }

  async function snapshot(table: string, order: string) {
    return db.query(`SELECT * FROM ${table} ORDER BY ${order}`);
  }

  beforeAll(async () => {
    db = await createTestDatabase('mysql', { migrate: false });
    await loadLegacyData(db);
    before = {
      radcheck: await snapshot('radcheck', 'id'),
      radusergroup: await snapshot('radusergroup', 'id'),
      radgroupreply: await snapshot('radgroupreply', 'id'),
      radgroupcheck: await snapshot('radgroupcheck', 'id'),
      nas: await snapshot('nas', 'id'),
      radpostauth: await snapshot('radpostauth', 'id'),
    };
    await db.migrate();
    api = await startApp(db, { STALE_SESSION_REAP_INTERVAL_SECONDS: '3600' });
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const NO_ERRORS = { errors: undefined };

  /** Counts the STOPPED events a sessionEventBatches subscriber gets until `count` came. */
  function reaperEvents(count: number): Promise<{ events: number; errors: any[] }> {
    const client = api.wsClient();
    return new Promise((resolve) => {
      let events = 0;
      const done = (errors: any[]) => {
        clearTimeout(timer);
        unsubscribe();
        resolve({ events, errors });
      };
      const timer = setTimeout(() => done([new Error(`timed out after ${events} events`)]), 20_000);
      const unsubscribe = client.subscribe<any>(
        { query: 'subscription { sessionEventBatches { type session { id stoppedAt } } }' },
        {
          next: (value) => {
            if (value.errors) return done(value.errors as any[]);
            const batch = value.data!.sessionEventBatches as Array<{ type: string }>;
            events += batch.filter((e) => e.type === 'STOPPED').length;
            if (events >= count) done([]);
          },
          error: (err) => done([err]),
          complete: () => done([]),
        },
      );
    });
  }

  it('/ready answers ready', async () => {
    const res = await fetch(`${api.url}/ready`);
    expect(res.status).toBe(200);
  });

  it('lists the NAS devices as they are: a hostname, a network, NULL columns', async () => {
    const r = await gql(
      `{ nasDevices { id name type shortname description coaPort onlineCount lastAccountingAt reachable } }`,
    );
    expect(r).toMatchObject(NO_ERRORS);
    expect(r.data.nasDevices.map((n: any) => n.name)).toEqual([
      '10.1.1.1',
      '10.2.0.0/16',
      '10.3.3.3',
      'nas2.example.net',
    ]);
  });

  it('onlineSessions, onlineSummary and topSessions answer over every open row', async () => {
    const sessions = await gql(
      `{ onlineSessions(first: 500) { totalCount edges { node { id username startedAt updatedAt lastSeenAt stale durationSeconds nasIpAddress nas { name } customer { id } } } } }`,
    );
    expect(sessions).toMatchObject(NO_ERRORS);
    // 1200 ghosts, alice, bob, dave, erin, and frank's and gina's zero-start rows.
    expect(sessions.data.onlineSessions.totalCount).toBe(ANCIENT_OPEN + 6);
    const summary = await gql(
      `{ onlineSummary { total byNas { nasIpAddress count uploadBytes downloadBytes nas { name } } } }`,
    );
    expect(summary).toMatchObject(NO_ERRORS);
    expect(summary.data.onlineSummary.total).toBe(ANCIENT_OPEN + 6);
    const top = await gql(`{ topSessions(first: 5) { id username startedAt durationSeconds } }`);
    expect(top).toMatchObject(NO_ERRORS);
  });

  it('an open session with a zero start time reads as one without a start', async () => {
    const r = await gql(
      `{ onlineSessions(search: "frank") { totalCount edges { node { sessionId startedAt updatedAt stoppedAt durationSeconds stale } } } }`,
    );
    expect(r).toMatchObject(NO_ERRORS);
    expect(r.data.onlineSessions.edges).toEqual([
      {
        node: {
          sessionId: 'f-open-zero',
          startedAt: null,
          updatedAt: null,
          stoppedAt: null,
          durationSeconds: null,
          stale: false,
        },
      },
    ]);
  });

  describe('a customer made for a login with years of history', () => {
    let profileId: string;
    let frankId: string;

    beforeAll(async () => {
      const p = await gql(
        `mutation { createProfile(input: { name: "Home 5M", downloadRateKbps: 5120, uploadRateKbps: 5120, validityDays: 30 }) { id } }`,
      );
      expect(p).toMatchObject(NO_ERRORS);
      profileId = p.data.createProfile.id;
      const c = await gql(
        `mutation($p: ID!) { createCustomer(input: { username: "frank", profileId: $p, password: "frank-pw-1" }) { id } }`,
        { p: profileId },
      );
      expect(c).toMatchObject(NO_ERRORS);
      frankId = c.data.createCustomer.id;
    });

    it('shows its sessions, zero dates as null, and its auth attempts', async () => {
      const r = await gql(
        `query($id: ID!) { customer(id: $id) { online status currentSession { sessionId startedAt }
            sessions(first: 20) { totalCount edges { node { sessionId startedAt stoppedAt updatedAt durationSeconds uploadBytes stale nas { name } } } }
            authAttempts(last: 10) { at accepted reply } usage { uploadBytes downloadBytes } } }`,
        { id: frankId },
      );
      expect(r).toMatchObject(NO_ERRORS);
      const c = r.data.customer;
      expect(c.online).toBe(true);
      expect(c.currentSession).toEqual({ sessionId: 'f-open-zero', startedAt: null });
      const bySession = Object.fromEntries(
        c.sessions.edges.map((e: any) => [e.node.sessionId, e.node]),
      );
      expect(bySession['f-zero']).toMatchObject({
        startedAt: null,
        stoppedAt: null,
        updatedAt: null,
        durationSeconds: null,
        uploadBytes: 0,
      });
      expect(bySession['f-null']).toMatchObject({ durationSeconds: 86400, nas: null });
      expect(c.authAttempts.map((a: any) => [a.accepted, a.reply])).toEqual([
        [false, ''],
        [false, 'Access-Reject'],
      ]);
    });

    it('changes its plan', async () => {
      const other = await gql(
        `mutation { createProfile(input: { name: "Home 10M", downloadRateKbps: 10240, uploadRateKbps: 10240, validityDays: 30 }) { id } }`,
      );
      const r = await gql(
        `mutation($id: ID!, $p: ID!) { changeCustomerProfile(id: $id, profileId: $p) { profile { name } } }`,
        { id: frankId, p: other.data.createProfile.id },
      );
      expect(r).toMatchObject(NO_ERRORS);
      expect(r.data.changeCustomerProfile.profile.name).toBe('Home 10M');
    });

    it('lists the customers', async () => {
      const r = await gql(
        `{ customers { totalCount edges { node { username online status profile { name } currentSession { id } } } } }`,
      );
      expect(r).toMatchObject(NO_ERRORS);
      expect(r.data.customers.totalCount).toBe(1);
    });
  });

  it("refuses FreeRADIUS's own users and groups by name, and leaves their rows as they were", async () => {
    const p = await gql(
      `mutation { createProfile(input: { name: "gold", downloadRateKbps: 20480, uploadRateKbps: 10240, validityDays: 30 }) { id } }`,
    );
    expect(p.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'input.name' });
    const profiles = await gql(`{ profiles { id name } }`);
    const c = await gql(
      `mutation($p: ID!) { createCustomer(input: { username: "alice", profileId: $p, password: "x1234567" }) { id } }`,
      { p: profiles.data.profiles[0].id },
    );
    expect(c.errors?.[0].extensions).toMatchObject({ code: 'CONFLICT', field: 'input.username' });
    const imp = await gql(
      `mutation($csv: String!) { importCustomers(csv: $csv) { written errors { line column message } } }`,
      { csv: 'username,password,profile\nbob,,Home 5M\ncarol,pw123456,Home 5M\n' },
    );
    expect(imp).toMatchObject(NO_ERRORS);
    expect(imp.data.importCustomers.written).toBe(false);
    expect(imp.data.importCustomers.errors).toHaveLength(2);
    const notFrank = (rows: any[]) => rows.filter((r) => r.username !== 'frank');
    expect(notFrank(await snapshot('radcheck', 'id'))).toEqual(before.radcheck);
    expect(notFrank(await snapshot('radusergroup', 'id'))).toEqual(before.radusergroup);
    const notOurs = (rows: any[]) => rows.filter((r) => !r.groupname.startsWith('Home '));
    expect(notOurs(await snapshot('radgroupreply', 'id'))).toEqual(before.radgroupreply);
    for (const table of ['radgroupcheck', 'nas', 'radpostauth']) {
      expect(await snapshot(table, 'id')).toEqual(before[table]);
    }
  });

  it("publishes FreeRADIUS's Stop of a session with a zero start (the change feed)", async () => {
    const client = api.wsClient();
    const got = collect(
      client,
      `subscription { sessionEvents(username: "gina") { type session { sessionId startedAt stoppedAt durationSeconds uploadBytes } } }`,
      1,
    );
    // graphql-ws subscribes lazily: give the subscription time to be registered.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await db.query(
      `UPDATE radacct SET acctstoptime = NOW(), acctsessiontime = 3600, acctinputoctets = 70,
              acctoutputoctets = 90, acctterminatecause = 'User-Request'
        WHERE acctsessionid = 'g-open-zero'`,
    );
    const { results, errors } = await got;
    expect(errors).toEqual([]);
    expect(results[0].sessionEvents).toMatchObject({
      type: 'STOPPED',
      session: {
        sessionId: 'g-open-zero',
        startedAt: null,
        durationSeconds: 3600,
        uploadBytes: 70,
      },
    });
    expect(results[0].sessionEvents.session.stoppedAt).toEqual(expect.any(String));
  });

  it('counts only the traffic after adoption in the month’s usage', async () => {
    // FreeRADIUS's next Interim-Update for alice's session, open since before radgraph.
    await db.query(
      `UPDATE radacct SET acctupdatetime = NOW(), acctinputoctets = 150, acctoutputoctets = 260
        WHERE acctsessionid = 'a-live'`,
    );
    const rows = await db.query<any>(
      "SELECT upload_bytes, download_bytes FROM rg_usage_monthly WHERE username = 'alice'",
    );
    expect(rows.map((r: any) => [String(r.upload_bytes), String(r.download_bytes)])).toEqual([
      ['50', '60'],
    ]);
  });

  describe('the stale-session reaper, an hour after adoption', () => {
    let closed: number;
    let published: Promise<{ events: number; errors: any[] }>;

    beforeAll(async () => {
      published = reaperEvents(ANCIENT_OPEN + 3);
      await new Promise((resolve) => setTimeout(resolve, 500));
      // As if radgraph had been adopted an hour ago, and only alice's and bob's NAS spoke since.
      await db.query(
        `UPDATE radacct SET rg_seen_at = NOW() - INTERVAL 1 HOUR
          WHERE acctstoptime IS NULL AND username NOT IN ('alice', 'bob')`,
      );
      closed = await api.app.get(StaleSessionReaper).reap();
    });

    it('closes every session nobody reported since, and only those', async () => {
      // The ghosts, dave's, erin's (no start at all) and frank's (a zero start).
      expect(closed).toBe(ANCIENT_OPEN + 3);
      const open = await db.query<{ acctsessionid: string }>(
        'SELECT acctsessionid FROM radacct WHERE acctstoptime IS NULL ORDER BY acctsessionid',
      );
      expect(open.map((r) => r.acctsessionid)).toEqual(['a-live', 'b-net']);
      const summary = await gql(`{ onlineSummary { total } }`);
      expect(summary).toMatchObject(NO_ERRORS);
    });

    it('stops each at its last known time, never at a zero or missing one', async () => {
      const rows = await db.query<any>(
        `SELECT acctsessionid, acctstarttime, acctstoptime, acctsessiontime, acctterminatecause, rg_seen_at
           FROM radacct WHERE acctterminatecause = 'Stale-Session'`,
      );
      expect(rows).toHaveLength(ANCIENT_OPEN + 3);
      for (const row of rows) {
        expect(row.acctstoptime).toBeInstanceOf(Date);
        expect(Number.isNaN(row.acctstoptime.getTime())).toBe(false);
      }
      const ghost = rows.find((r: any) => r.acctsessionid === 'z0');
      expect(ghost.acctstoptime).toEqual(ghost.acctstarttime);
      expect(ghost.acctsessiontime).toBe(0);
      const erin = rows.find((r: any) => r.acctsessionid === 'e-nostart');
      expect(erin.acctstoptime.getTime()).toBeGreaterThan(NOW - 2 * 3600_000);
    });

    it('publishes a STOPPED for each, and a subscriber keeps up', async () => {
      expect(await published).toEqual({ events: ANCIENT_OPEN + 3, errors: [] });
    });

    it('has nothing left to do at its next run', async () => {
      expect(await api.app.get(StaleSessionReaper).reap()).toBe(0);
    });

    it('counts no traffic for the months those sessions were in', async () => {
      expect(await db.query("SELECT * FROM rg_usage_monthly WHERE month < '2026-01'")).toEqual([]);
    });
  });
  it("publishes radgraph's own listener's Interim-Update of a session with a zero start", async () => {
    // The NAS now sends its accounting to radgraph: its next Interim-Update for a session an
    // old tool wrote with a zero start goes through the listener's batch connection.
    const secret = 'listener secret';
    await db.query(
      "INSERT INTO nas (nasname, shortname, type, secret) VALUES ('127.0.0.1', 'lo', 'other', ?)",
      [secret],
    );
    const uid = acctUniqueId({
      userName: 'zed',
      acctSessionId: 'zed-zero',
      nasIpAddress: '127.0.0.1',
      nasPortId: 'ether2',
      nasPort: 15728640,
    });
    const events: any[] = [];
    const unsubscribe = api.wsClient().subscribe<any>(
      {
        query: `subscription { sessionEvents(username: "zed") { type session { sessionId startedAt uploadBytes } } }`,
      },
      {
        next: (value) => events.push(value),
        error: (err) => events.push({ errors: [err] }),
        complete: () => {},
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Written as the old tool wrote it (the change feed publishes it: STARTED).
    await db.query(
      `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime,
         acctupdatetime, acctinputoctets, acctoutputoctets)
       VALUES ('zed-zero', ?, 'zed', '127.0.0.1', '${ZERO_DATE}', '${ZERO_DATE}', 0, 0)`,
      [uid],
    );
    await until(() => events.length >= 1, 'the change feed to publish the row');
    const radius = await RadiusTestClient.open();
    try {
      const packet = accountingRequest(
        secret,
        sessionAttributes('Interim-Update', {
          username: 'zed',
          sessionId: 'zed-zero',
          eventTime: Math.floor(Date.now() / 1000),
          sessionTime: 600,
          inputOctets: 700n,
          outputOctets: 800n,
        }),
      );
      const port = api.app.get(AccountingListener).address()!.port;
      const response = await radius.send(packet, port, 5000);
      expect(response && validResponse(response, packet, secret)).toBe(true);
    } finally {
      await radius.close();
    }
    await until(() => events.length >= 2, 'the Interim-Update to be published');
    unsubscribe();
    expect(events.map((e) => e.errors)).toEqual([undefined, undefined]);
    expect(events.map((e) => e.data.sessionEvents)).toEqual([
      { type: 'STARTED', session: { sessionId: 'zed-zero', startedAt: null, uploadBytes: 0 } },
      { type: 'UPDATED', session: { sessionId: 'zed-zero', startedAt: null, uploadBytes: 700 } },
    ]);
  });
});

describe('adopting an embedded SQLite database with open sessions', () => {
  let db: TestDatabase;
  let api: RunningApp;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite', { migrate: false });
    for (const statement of freeradiusSchemaStatements('sqlite')) await db.query(statement);
    const insert = `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime)
                    VALUES (?, ?, ?, '10.1.1.1', ?, ?)`;
    // Open since 2019, never stopped; open without any time (written by hand); live.
    await db.query(insert, ['z0', 'u-z0', 'ghost', '2019-01-01 00:00:00', null]);
    await db.query(insert, ['e-nostart', 'u-e-nostart', 'erin', null, null]);
    const recent = new Date(Date.now() - 60_000).toISOString().replace('T', ' ').slice(0, 19);
    await db.query(insert, ['a-live', 'u-a-live', 'alice', recent, recent]);
    await db.migrate();
    api = await startApp(db, { STALE_SESSION_REAP_INTERVAL_SECONDS: '3600' });
  }, 60_000);

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('knows when it first saw each adopted row, as on MariaDB', async () => {
    const rows = await db.query<{ rg_seen_at: string | null }>('SELECT rg_seen_at FROM radacct');
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row.rg_seen_at).toEqual(expect.any(String));
  });

  it('gives the ghosts a whole stale period from adoption, then closes them all', async () => {
    const reaper = api.app.get(StaleSessionReaper);
    expect(await reaper.reap()).toBe(0);
    await db.query(
      "UPDATE radacct SET rg_seen_at = datetime('now', '-1 hour') WHERE username <> 'alice'",
    );
    expect(await reaper.reap()).toBe(2);
    const open = await db.query<{ acctsessionid: string }>(
      'SELECT acctsessionid FROM radacct WHERE acctstoptime IS NULL',
    );
    expect(open.map((r) => r.acctsessionid)).toEqual(['a-live']);
  });
});
