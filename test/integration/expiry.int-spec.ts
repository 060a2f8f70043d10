import { createHmac } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { DataSource } from 'typeorm';
import { Clock } from '../../src/common/clock/clock';
import { JobLeases } from '../../src/common/jobs/job-leases.service';
import { TransactionsService } from '../../src/database/transactions.service';
import { CustomerExpiringBus } from '../../src/expiry/events/customer-expiring-bus.service';
import { ExpiryActions } from '../../src/expiry/expiry-actions.service';
import { DISCONNECT_GRACE_MS } from '../../src/nas/control/gone-sessions';
import { ExpiringCustomersService } from '../../src/expiry/expiring-customers.service';
import { EXPIRY_JOB_LEASE, ExpiryJob } from '../../src/expiry/expiry-job.service';
import { WEBHOOK_LEASE, WebhookSender } from '../../src/webhooks/webhook-sender.service';
import { runAll } from '../support/cleanup';
import { LogCapture } from '../support/log-capture';
import { startApp, type RunningApp } from '../support/app';
import { startCoaResponder, type CoaResponder } from '../support/coa-responder';
import { accountingRequest, RadiusTestClient, sessionAttributes } from '../support/radius-packets';
import { gqlData, gqlError } from '../support/graphql';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

const NAS_SECRET = 'coa-Shared-s3cret';
const NAS_IP = '127.0.0.1';
const WEBHOOK_SECRET = 'whsec-must-never-be-logged-0123456789';
const DAY = 86_400_000;
/** Backoff of 50 ms doubling up to 400 ms: many tries in a few seconds. */
const FAST_WEBHOOKS = { baseDelayMs: 50, maxDelayMs: 400, timeoutMs: 1000, pollMs: 100 };

const EVENT_QUERY =
  'subscription { customerExpiring { customer { id username phone status } expiresAt daysLeft } }';

/**
 * Plans over time, on real parts: the expiry job disconnects an expired customer who is
 * online through a real RFC 5176 peer on UDP, sends customerExpiring to a graphql-ws
 * subscriber and to a real HTTP webhook receiver (which checks the HMAC), once each; job
 * leases keep it to one instance. Time moves with the Clock, not by waiting (except where
 * the real timers of two instances are the point).
 */
describe.each(['mysql', 'sqlite'] as const)('expiry and reminders on %s', (kind) => {
  let db: TestDatabase;
  let api: RunningApp;
  let coa: CoaResponder;
  let hook: WebhookReceiver;
  let job: ExpiryJob;
  let clock: Clock;
  const logs = new LogCapture();

  beforeAll(async () => {
    logs.start();
    db = await createTestDatabase(kind);
    coa = await startCoaResponder({ secret: NAS_SECRET });
    hook = await startWebhookReceiver();
    api = await startApp(db, {
      LOG_LEVEL: 'verbose',
      COA_TIMEOUT_MS: '200',
      COA_RETRIES: '1',
      // The job runs when the test says (runOnce), not on a timer.
      EXPIRY_CHECK_INTERVAL_SECONDS: '0',
      EXPIRY_REMINDER_DAYS: '3',
      WEBHOOK_URL: hook.url,
      WEBHOOK_SECRET,
    });
    api.app.get(WebhookSender).configure(FAST_WEBHOOKS);
    job = api.app.get(ExpiryJob);
    clock = api.app.get(Clock);
    await gqlData(api, `mutation($i: CreateNasInput!) { createNas(input: $i) { id } }`, {
      i: { name: NAS_IP, secret: NAS_SECRET, type: 'mikrotik', coaPort: coa.port },
    });
  });

  afterAll(async () => {
    await runAll([
      () => api?.close(),
      () => coa?.close(),
      () => hook?.close(),
      () => db?.drop(),
      () => {
        logs.stop();
      },
    ]);
  });

  afterEach(() => jest.restoreAllMocks());

  const at = (when: Date) => jest.spyOn(clock, 'now').mockImplementation(() => new Date(when));

  let seq = 0;
  /** A customer on a new profile of `validityDays`, online (an open radacct row) or not. */
  async function customer(validityDays: number, online: boolean, tag = 'c') {
    seq++;
    const { createProfile } = await gqlData(
      api,
      `mutation($i: CreateProfileInput!) { createProfile(input: $i) { id } }`,
      {
        i: {
          name: `${tag}-p${seq}`,
          downloadRateKbps: 10240,
          uploadRateKbps: 5120,
          validityDays,
        },
      },
    );
    const username = `${tag}${seq}.${kind}`;
    const { createCustomer } = await gqlData(
      api,
      `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id expiresAt } }`,
      {
        i: {
          username,
          password: 'pw-123456',
          phone: `+2547000${String(seq).padStart(5, '0')}`,
          profileId: createProfile.id,
        },
      },
    );
    const session = `81c1${String(seq).padStart(4, '0')}`;
    if (online) {
      await db.query(
        `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, framedipaddress, acctstarttime, acctupdatetime)
         VALUES (?, ?, ?, ?, ?, '2026-11-30 10:00:00', '2026-11-30 10:00:00')`,
        [session, `u-${username}`, username, NAS_IP, `100.65.0.${seq}`],
      );
    }
    // As stored (MySQL keeps whole seconds).
    const { customer: stored } = await gqlData(
      api,
      'query($id: ID) { customer(id: $id) { expiresAt } }',
      {
        id: createCustomer.id,
      },
    );
    return {
      id: createCustomer.id as string,
      username,
      session,
      expiresAt: new Date(stored.expiresAt as string),
    };
  }

  /** expires_at as TypeORM writes a datetime on this database. */
  const sqlTime = (d: Date) =>
    kind === 'sqlite'
      ? d.toISOString().replace('T', ' ').replace('Z', '')
      : d.toISOString().slice(0, 19).replace('T', ' ');
  const setExpiry = (id: string, d: Date) =>
    db.query('UPDATE rg_customers SET expires_at = ? WHERE id = ?', [sqlTime(d), Number(id)]);

  const disconnectsOf = (username: string) =>
    coa.received.filter(
      (r) => r.code === 'Disconnect-Request' && r.attributes['User-Name'] === username,
    );
  const deliveriesOf = (customerId: string) =>
    hook.received.filter((r) => JSON.parse(r.rawBody).data.customer.id === customerId);

  /** Every customerExpiring event a new subscriber gets, until stop(). */
  async function subscribe(client: Client) {
    const bus = api.app.get(CustomerExpiringBus);
    const before = bus.subscriberCount;
    const events: any[] = [];
    const errors: unknown[] = [];
    const stop = client.subscribe(
      { query: EVENT_QUERY },
      {
        next: (v) => (v.errors ? errors.push(...v.errors) : events.push(v.data!.customerExpiring)),
        error: (e) => errors.push(e),
        complete: () => undefined,
      },
    );
    const until = Date.now() + 5000;
    while (bus.subscriberCount <= before) {
      if (Date.now() > until) throw new Error('the subscription did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
    return { events, errors, stop, of: (id: string) => events.filter((e) => e.customer.id === id) };
  }

  async function waitFor(
    check: () => boolean | Promise<boolean>,
    what: string,
    timeoutMs = 10_000,
  ) {
    const until = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** The tries begun of the customer's event in the outbox (0 once it is gone). */
  async function outboxAttempts(customerId: string) {
    const rows = await db.query<{ attempts: number }>(
      'SELECT attempts FROM rg_webhook_outbox WHERE id LIKE ?',
      [`customerExpiring:${customerId}:%`],
    );
    return rows.length === 0 ? 0 : Number(rows[0].attempts);
  }

  /** `work` while the main instance delivers nothing (another instance's URL is under test). */
  async function withoutMainSender(work: () => Promise<void>) {
    const main = api.app.get(WebhookSender);
    await main.beforeApplicationShutdown();
    try {
      await work();
    } finally {
      main.onApplicationBootstrap();
    }
  }

  /** The receiver's check: HMAC-SHA256 of "<timestamp>.<raw body>" with the shared secret. */
  function expectSigned(r: WebhookReceiver['received'][number]) {
    const timestamp = String(r.headers['x-radgraph-timestamp']);
    expect(timestamp).toMatch(/^\d+$/);
    expect(Math.abs(Date.now() / 1000 - Number(timestamp))).toBeLessThan(300);
    const expected = createHmac('sha256', WEBHOOK_SECRET)
      .update(`${timestamp}.${r.rawBody}`)
      .digest('hex');
    expect(r.headers['x-radgraph-signature']).toBe(`sha256=${expected}`);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.method).toBe('POST');
  }

  describe('Expiry', () => {
    it('disconnects a customer who is online when expiresAt passes, once, and again after a renewal', async () => {
      coa.setMode('ack');
      const c = await customer(30, true, 'exp');
      const offline = await customer(30, false, 'exp');

      at(new Date(c.expiresAt.getTime() - 60_000));
      await job.runOnce();
      expect(disconnectsOf(c.username)).toHaveLength(0); // not expired yet

      at(new Date(c.expiresAt.getTime() + 1000));
      const run = await job.runOnce();
      expect(run.leader).toBe(true);
      expect(run.disconnected).toBeGreaterThanOrEqual(1);
      const sent = disconnectsOf(c.username);
      expect(sent).toHaveLength(1);
      expect(sent[0].authenticatorValid).toBe(true);
      expect(sent[0].attributes).toMatchObject({
        'User-Name': c.username,
        'Acct-Session-Id': c.session,
      });
      expect(disconnectsOf(offline.username)).toHaveLength(0);

      // Still online (the NAS's Stop has not come): the next runs send nothing new.
      await job.runOnce();
      at(new Date(c.expiresAt.getTime() + 45_000));
      await job.runOnce();
      expect(disconnectsOf(c.username)).toHaveLength(1);

      // Renewed, it expires later, and that expiry is handled again.
      jest.restoreAllMocks();
      const { renewCustomer } = await gqlData(
        api,
        `mutation($id: ID!) { renewCustomer(id: $id, force: true) { expiresAt } }`,
        { id: c.id },
      );
      const renewed = new Date(renewCustomer.expiresAt as string);
      expect(renewed.getTime()).toBeGreaterThan(c.expiresAt.getTime());
      at(new Date(renewed.getTime() - 1000));
      await job.runOnce();
      expect(disconnectsOf(c.username)).toHaveLength(1);
      at(new Date(renewed.getTime() + 1000));
      await job.runOnce();
      expect(disconnectsOf(c.username)).toHaveLength(2);
      expect(logs.text()).toContain(`${c.username} expired at ${renewed.toISOString()}`);
    });

    it('tries a disconnect that did not get through again at later runs, spaced out, until it does', async () => {
      const c = await customer(30, true, 'retry');
      const expired = new Date(c.expiresAt.getTime() + 1000);
      at(expired);
      // Not 503 (Session-Context-Not-Found): that one finds the session gone, and is done.
      coa.setMode('nak', { errorCause: 506 });
      const first = await job.runOnce();
      expect(disconnectsOf(c.username)).toHaveLength(1);
      expect(first).toMatchObject({ disconnected: 0, disconnectsFailed: 1 });
      expect(logs.text()).toContain(
        `${c.username} expired at ${c.expiresAt.toISOString()} while online: disconnect failed, to be tried again`,
      );

      // The next run tries again at once; after two failures in a row, not before 5 minutes.
      expect(await job.runOnce()).toMatchObject({ disconnected: 0, disconnectsFailed: 1 });
      expect(disconnectsOf(c.username)).toHaveLength(2);
      coa.setMode('ack');
      expect(await job.runOnce()).toMatchObject({ disconnected: 0, disconnectsFailed: 0 });
      expect(disconnectsOf(c.username)).toHaveLength(2);

      const realNow = performance.now.bind(performance);
      jest.spyOn(performance, 'now').mockImplementation(() => realNow() + 5 * 60_000 + 1000);
      expect(await job.runOnce()).toMatchObject({ disconnected: 1, disconnectsFailed: 0 });
      expect(disconnectsOf(c.username)).toHaveLength(3);
      // Done: the session waits for its Stop, and is not sent another.
      expect(await job.runOnce()).toMatchObject({ disconnected: 0, disconnectsFailed: 0 });
      expect(disconnectsOf(c.username)).toHaveLength(3);
    });

    it('disconnects a customer who comes back online while still expired, again', async () => {
      coa.setMode('ack');
      const c = await customer(30, true, 'again');
      // An instance whose clock is a minute ahead disconnects early; FreeRADIUS, on time,
      // lets the customer in again (radius-config caps its Session-Timeout at the expiry).
      at(new Date(c.expiresAt.getTime() + 60_000));
      expect(await job.runOnce()).toMatchObject({ disconnected: 1 });
      expect(disconnectsOf(c.username)).toHaveLength(1);
      await db.query(
        "UPDATE radacct SET acctstoptime = '2026-11-30 10:05:00', acctterminatecause = 'Admin-Reset' WHERE acctuniqueid = ?",
        [`u-${c.username}`],
      );
      await db.query(
        `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, framedipaddress, acctstarttime, acctupdatetime)
         VALUES ('81c2aaaa', ?, ?, ?, '100.65.1.1', '2026-11-30 10:05:03', '2026-11-30 10:05:03')`,
        [`u2-${c.username}`, c.username, NAS_IP],
      );
      expect(await job.runOnce()).toMatchObject({ disconnected: 1 });
      const sent = disconnectsOf(c.username);
      expect(sent).toHaveLength(2);
      expect(sent[1].attributes).toMatchObject({ 'Acct-Session-Id': '81c2aaaa' });
      await job.runOnce();
      expect(disconnectsOf(c.username)).toHaveLength(2);
    });

    /** A session started through the accounting listener (as a NAS would); its radacctid. */
    async function startSession(username: string, sessionId: string, eventTime: number) {
      await account('Start', username, sessionId, eventTime);
      const [row] = await db.query<{ id: string | number }>(
        'SELECT radacctid AS id FROM radacct WHERE acctsessionid = ?',
        [sessionId],
      );
      return String(row.id);
    }

    /** One accounting packet through the listener, answered (so written). */
    async function account(
      status: 'Start' | 'Interim-Update',
      username: string,
      sessionId: string,
      eventTime: number,
      octets = 0n,
    ) {
      const radius = await RadiusTestClient.open();
      try {
        const packet = accountingRequest(
          NAS_SECRET,
          sessionAttributes(status, {
            username,
            sessionId,
            eventTime,
            sessionTime: eventTime - START_TIME,
            inputOctets: octets,
            outputOctets: octets,
          }),
        );
        expect(await radius.send(packet, api.config.radiusAcctPort, 5000)).not.toBeNull();
      } finally {
        await radius.close();
      }
    }

    /** The row of this session now. */
    const row = async (sessionId: string) =>
      (
        await db.query<{ id: string | number; stop: unknown; cause: string; input: string }>(
          `SELECT radacctid AS id, acctstoptime AS stop, acctterminatecause AS cause,
             acctinputoctets AS input FROM radacct WHERE acctsessionid = ?`,
          [sessionId],
        )
      )[0];

    /**
     * What `seconds` passing does to the database's clock, for a settled disconnect and its
     * customer's rows: their times move back by that much (the grace is the database's time,
     * which the Clock does not move, and a test does not wait a minute).
     */
    async function ago(customerId: string, username: string, seconds: number) {
      const back = (column: string) =>
        kind === 'mysql'
          ? `${column} - INTERVAL ${seconds} SECOND`
          : `datetime(${column}, '-${seconds} seconds')`;
      await db.query(
        `UPDATE rg_expiry_actions SET alive_after = ${back('alive_after')} WHERE customer_id = ?`,
        [Number(customerId)],
      );
      await db.query(`UPDATE radacct SET rg_seen_at = ${back('rg_seen_at')} WHERE username = ?`, [
        username,
      ]);
    }

    const START_TIME = Math.floor(Date.now() / 1000) - 3600;

    /**
     * The second Disconnect-Request went to the session still alive, the log says why, and,
     * settled again, the next run sends nothing.
     */
    async function expectDisconnectedAgain(
      c: { username: string; expiresAt: Date },
      sessionId: string,
    ) {
      const sent = disconnectsOf(c.username);
      expect(sent).toHaveLength(2);
      expect(sent[1].attributes).toMatchObject({ 'Acct-Session-Id': sessionId });
      expect(logs.text()).toMatch(
        new RegExp(
          `${c.username.replace(/\./g, '\\.')} expired at ${c.expiresAt.toISOString()} is still online \\d+ s after its disconnect .*: disconnecting again`,
        ),
      );
      expect(await job.runOnce()).toMatchObject({ disconnected: 0, disconnectsFailed: 0 });
      expect(disconnectsOf(c.username)).toHaveLength(2);
    }

    it('disconnects again, once, a session still alive after the grace of a disconnect the NAS acknowledged', async () => {
      expect(DISCONNECT_GRACE_MS).toBeLessThan(120_000); // the two minutes ago() moves below
      coa.setMode('ack');
      const c = await customer(30, false, 'alive');
      const id = await startSession(c.username, '81c3a001', START_TIME);
      at(new Date(c.expiresAt.getTime() + 1000));
      expect(await job.runOnce()).toMatchObject({ disconnected: 1 });
      expect(disconnectsOf(c.username)).toHaveLength(1);

      // An Interim-Update within the grace (sent before the disconnect, or its Stop on the way).
      await account('Interim-Update', c.username, '81c3a001', START_TIME + 300, 1000n);
      expect(String((await row('81c3a001')).input)).toBe('1000');
      expect(await job.runOnce()).toMatchObject({ disconnected: 0, disconnectsFailed: 0 });
      expect(disconnectsOf(c.username)).toHaveLength(1);

      // Two minutes on: nothing changed after the grace, nothing to do.
      await ago(c.id, c.username, 120);
      at(new Date(c.expiresAt.getTime() + 121_000));
      expect(await job.runOnce()).toMatchObject({ disconnected: 0, disconnectsFailed: 0 });
      expect(disconnectsOf(c.username)).toHaveLength(1);

      // The NAS kept the session: its next Interim-Update is after the grace.
      await account('Interim-Update', c.username, '81c3a001', START_TIME + 600, 2000n);
      expect(String((await row('81c3a001')).id)).toBe(id);
      const other = await db.openDataSource(); // a second instance's connection
      try {
        const claimers = [api.app.get(ExpiryActions), new ExpiryActions(other)];
        const got = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            claimers[i % 2].claimDisconnect(Number(c.id), c.expiresAt, id, new Date()),
          ),
        );
        expect(got.filter(Boolean)).toHaveLength(1);
        await api.app.get(ExpiryActions).settleDisconnect(Number(c.id), c.expiresAt, null);
      } finally {
        await other.destroy();
      }
      const runs = await Promise.all([job.runOnce(), job.runOnce()]);
      expect(runs.map((r) => r.disconnected).reduce((a, b) => a + b)).toBe(1);
      await expectDisconnectedAgain(c, '81c3a001');
    });

    it('disconnects again a session whose 503 closed its row, once its Interim-Update reopens it after the grace', async () => {
      const c = await customer(30, false, 'nak503');
      const id = await startSession(c.username, '81c3b001', START_TIME);
      at(new Date(c.expiresAt.getTime() + 1000));
      coa.setMode('nak', { errorCause: 503 });
      expect(await job.runOnce()).toMatchObject({ disconnected: 1, disconnectsFailed: 0 });
      expect(disconnectsOf(c.username)).toHaveLength(1);
      expect(await row('81c3b001')).toMatchObject({
        stop: expect.anything(),
        cause: 'Stale-Session',
      });
      expect(await job.runOnce()).toMatchObject({ disconnected: 0, disconnectsFailed: 0 });

      // The NAS had the session after all: its next Interim-Update, after the grace, reopens
      // the same row.
      await ago(c.id, c.username, 120);
      await account('Interim-Update', c.username, '81c3b001', START_TIME + 300, 5000n);
      expect(await row('81c3b001')).toMatchObject({ stop: null });
      expect(String((await row('81c3b001')).id)).toBe(id);
      coa.setMode('ack');
      expect(await job.runOnce()).toMatchObject({ disconnected: 1, disconnectsFailed: 0 });
      await expectDisconnectedAgain(c, '81c3b001');
    });

    it('sends a disconnect whose instance died after claiming it, once the claim has run out', async () => {
      coa.setMode('ack');
      const c = await customer(30, true, 'killed');
      const expired = new Date(c.expiresAt.getTime() + 1000);
      at(expired);
      // Claimed, then the process was killed before sending it.
      const [{ newest }] = await db.query<{ newest: string }>(
        'SELECT MAX(radacctid) AS newest FROM radacct WHERE username = ?',
        [c.username],
      );
      const actions = api.app.get(ExpiryActions);
      expect(
        await actions.claimDisconnect(Number(c.id), c.expiresAt, String(newest), expired),
      ).toBe(true);
      expect(await job.runOnce()).toMatchObject({ disconnected: 0, disconnectsFailed: 0 });
      expect(disconnectsOf(c.username)).toHaveLength(0); // in flight elsewhere, for all it knows

      await db.query(
        "UPDATE rg_expiry_actions SET claimed_until = '2000-01-01 00:00:00' WHERE customer_id = ?",
        [Number(c.id)],
      );
      expect(await job.runOnce()).toMatchObject({ disconnected: 1 });
      expect(disconnectsOf(c.username)).toHaveLength(1);
    });

    it('does not disconnect a customer renewed after the run read them as expired', async () => {
      coa.setMode('ack');
      const c = await customer(30, true, 'paid');
      at(new Date(c.expiresAt.getTime() + 1000));
      // The operator renews the customer (who just paid) while the run is on its way from
      // reading the expired customers to their disconnects (CoA timeouts of the others).
      const service = api.app.get(ExpiringCustomersService);
      const read = service.expiredOnline.bind(service);
      let renewed = false;
      jest.spyOn(service, 'expiredOnline').mockImplementation(async (...args) => {
        const page = await read(...args);
        if (!renewed && page.some((e) => String(e.customer.id) === c.id)) {
          renewed = true;
          await gqlData(api, 'mutation($id: ID!) { renewCustomer(id: $id, force: true) { id } }', {
            id: c.id,
          });
        }
        return page;
      });
      await job.runOnce();
      expect(renewed).toBe(true);
      expect(disconnectsOf(c.username)).toHaveLength(0);
      expect(logs.text()).not.toContain(`${c.username} expired at`);
    });

    it("reads each expired customer's own newest session when two logins differ only in case (SQLite)", async () => {
      // On SQLite "tw1.sqlite" and "TW1.SQLITE" are two customers, each with its own session,
      // both expired; on MariaDB the NAS's "TW1.MYSQL" is the customer's newest session.
      const c = await customer(1, kind === 'sqlite', 'tw');
      const twin = c.username.toUpperCase();
      const expired = [c.id];
      if (kind === 'sqlite') {
        const { customer: made } = await gqlData(
          api,
          'query($id: ID) { customer(id: $id) { profile { id } } }',
          { id: c.id },
        );
        const { createCustomer } = await gqlData(
          api,
          `mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }`,
          { i: { username: twin, password: 'pw-123456', profileId: made.profile.id } },
        );
        expired.push(createCustomer.id);
      }
      await db.query(
        `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime)
         VALUES ('tw-up', ?, ?, ?, '2026-11-30 11:00:00')`,
        [`u-${twin}`, twin, NAS_IP],
      );
      const rows = await db.query<{ id: string | number; username: string }>(
        'SELECT radacctid AS id, username FROM radacct WHERE acctuniqueid IN (?, ?)',
        [`u-${c.username}`, `u-${twin}`],
      );
      const sessionOf = (u: string) => String(rows.find((r) => r.username === u)!.id);
      for (const id of expired) await setExpiry(id, new Date(Date.now() - DAY));
      const page = await api.app
        .get(ExpiringCustomersService)
        .expiredOnline(new Date(), Number(c.id) - 1, 10);
      // Offline again, so that the later tests' runs of the job have nothing to do with them.
      await db.query(
        'UPDATE radacct SET acctstoptime = acctstarttime WHERE acctuniqueid IN (?, ?)',
        [`u-${c.username}`, `u-${twin}`],
      );
      const newest = (id: string) => page.find((e) => String(e.customer.id) === id)?.newestSession;
      if (kind === 'mysql') {
        expect(newest(c.id)).toBe(sessionOf(twin));
      } else {
        expect([newest(expired[0]), newest(expired[1])]).toEqual([
          sessionOf(c.username),
          sessionOf(twin),
        ]);
      }
    });

    it('is within seconds on real timers, and once, with two instances ticking on one database', async () => {
      coa.setMode('ack');
      const c = await customer(30, true, 'two');
      const env = {
        COA_TIMEOUT_MS: '200',
        COA_RETRIES: '1',
        EXPIRY_CHECK_INTERVAL_SECONDS: '1',
        EXPIRY_REMINDER_DAYS: '0',
        CHANGE_FEED_INTERVAL_MS: '0',
      };
      // The first instance has stopped: its lease is free.
      await api.app.get(JobLeases).release(EXPIRY_JOB_LEASE);
      const a = await startApp(db, env);
      const b = await startApp(db, env);
      try {
        const expiresAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000);
        await setExpiry(c.id, expiresAt);
        await waitFor(() => disconnectsOf(c.username).length > 0, 'the disconnect');
        // Within one tick of expiring (the issue asks for 60 s).
        expect(Date.now() - expiresAt.getTime()).toBeLessThan(5000);
        await new Promise((r) => setTimeout(r, 2500)); // two more ticks on each instance
        expect(disconnectsOf(c.username)).toHaveLength(1);
        const holders = [a, b].map((x) => x.app.get(JobLeases).holder);
        const [lease] = await db.query<{ holder: string }>(
          'SELECT holder FROM rg_job_leases WHERE name = ?',
          [EXPIRY_JOB_LEASE],
        );
        expect(holders).toContain(lease.holder);
      } finally {
        await runAll([() => a.close(), () => b.close()]);
      }
    });
  });

  describe('Reminders', () => {
    it('delivers customerExpiring once, to a subscriber and to the webhook receiver, signed', async () => {
      const sub = await subscribe(api.wsClient());
      const c = await customer(90, false, 'rem');

      at(new Date(c.expiresAt.getTime() - 4 * DAY));
      await job.runOnce();
      await api.app.get(WebhookSender).idle();
      expect(sub.of(c.id)).toHaveLength(0); // not within 3 days yet
      expect(deliveriesOf(c.id)).toHaveLength(0);

      const now = new Date(c.expiresAt.getTime() - 2 * DAY - 3_600_000);
      at(now);
      const run = await job.runOnce();
      expect(run.reminded).toBeGreaterThanOrEqual(1);
      await api.app.get(WebhookSender).idle();
      await waitFor(() => sub.of(c.id).length === 1, 'the subscription event');
      expect(sub.of(c.id)[0]).toEqual({
        customer: {
          id: c.id,
          username: c.username,
          phone: expect.stringMatching(/^\+2547/),
          status: expect.any(String),
        },
        expiresAt: c.expiresAt.toISOString(),
        daysLeft: 3,
      });

      const [delivery] = deliveriesOf(c.id);
      expect(deliveriesOf(c.id)).toHaveLength(1);
      expectSigned(delivery);
      expect(delivery.path).toBe('/hooks/radgraph');
      const body = JSON.parse(delivery.rawBody);
      expect(delivery.headers['x-radgraph-event']).toBe('customerExpiring');
      expect(delivery.headers['x-radgraph-delivery']).toBe(body.id);
      expect(body).toMatchObject({
        type: 'customerExpiring',
        createdAt: now.toISOString(),
        data: {
          customer: { id: c.id, username: c.username, phone: expect.any(String) },
          expiresAt: c.expiresAt.toISOString(),
          daysLeft: 3,
        },
      });

      // Again, and later within the window: nothing new anywhere.
      await job.runOnce();
      at(new Date(c.expiresAt.getTime() - 3_600_000));
      await job.runOnce();
      await api.app.get(WebhookSender).idle();
      await new Promise((r) => setTimeout(r, 200));
      expect(sub.of(c.id)).toHaveLength(1);
      expect(deliveriesOf(c.id)).toHaveLength(1);
      expect(sub.errors).toEqual([]);
      sub.stop();
    });

    it('retries a receiver that answers 500, then drops the connection, until it takes it', async () => {
      const c = await customer(91, false, 'retry');
      hook.answerNext(500, 'close');
      at(new Date(c.expiresAt.getTime() - DAY));
      await job.runOnce();
      await api.app.get(WebhookSender).idle();
      const tries = deliveriesOf(c.id);
      expect(tries.map((t) => t.answer)).toEqual([500, 'close', 200]);
      // The same event each time (same id and body), each try signed afresh.
      expect(new Set(tries.map((t) => t.rawBody)).size).toBe(1);
      expect(new Set(tries.map((t) => t.headers['x-radgraph-delivery'])).size).toBe(1);
      tries.forEach(expectSigned);
      // Backoff: the third try waited about twice as long as the second.
      expect(tries[2].at - tries[1].at).toBeGreaterThanOrEqual(90);
      expect(JSON.parse(tries[2].rawBody).data).toMatchObject({ daysLeft: 1 });
    });

    it('does not retry a 4xx, but does a 408 and a 429, without holding the job', async () => {
      const refused = await customer(92, false, 'refused');
      hook.answerNext(400);
      at(new Date(refused.expiresAt.getTime() - DAY));
      await job.runOnce();
      await api.app.get(WebhookSender).idle();
      expect(deliveriesOf(refused.id).map((t) => t.answer)).toEqual([400]);

      const busy = await customer(93, false, 'busy');
      hook.answerNext('hang', 408, 429);
      at(new Date(busy.expiresAt.getTime() - DAY));
      const started = Date.now();
      await job.runOnce();
      expect(Date.now() - started).toBeLessThan(700); // the job did not wait for the receiver
      await api.app.get(WebhookSender).idle();
      expect(deliveriesOf(busy.id).map((t) => t.answer)).toEqual(['hang', 408, 429, 200]);
    });

    it('keeps trying a receiver that refuses connections for longer than 5 tries, and delivers once when it is back', async () => {
      const c = await customer(95, false, 'outage');
      await hook.down();
      try {
        at(new Date(c.expiresAt.getTime() - DAY));
        expect((await job.runOnce()).reminded).toBeGreaterThanOrEqual(1);
        // The old sender gave up after 5 tries: wait for 8 refused ones.
        await waitFor(async () => (await outboxAttempts(c.id)) >= 8, '8 refused tries', 30_000);
        expect(logs.text()).toContain('ECONNREFUSED');
      } finally {
        await hook.up();
      }
      await api.app.get(WebhookSender).idle();
      const tries = deliveriesOf(c.id);
      expect(tries.map((t) => t.answer)).toEqual([200]);
      expectSigned(tries[0]);
      expect(tries[0].headers['x-radgraph-delivery']).toBe(JSON.parse(tries[0].rawBody).id);
    });

    it('gives an event up, logged, once it is older than WEBHOOK_RETRY_HOURS', async () => {
      const c = await customer(96, false, 'old');
      await withoutMainSender(async () => {
        at(new Date(c.expiresAt.getTime() - DAY));
        await job.runOnce();
        // Raised 25 hours ago (the default limit is 24).
        await db.query('UPDATE rg_webhook_outbox SET created_at = ? WHERE id LIKE ?', [
          sqlTime(new Date(Date.now() - 25 * 3_600_000)),
          `customerExpiring:${c.id}:%`,
        ]);
        hook.answerNext(503);
      });
      await api.app.get(WebhookSender).idle();
      expect(deliveriesOf(c.id).map((t) => t.answer)).toEqual([503]);
      expect(logs.text()).toMatch(
        new RegExp(`customerExpiring:${c.id}:\\S+ to \\S+: given up after 1 tries over 24 h`),
      );
    });

    it('delivers to a WEBHOOK_URL with user:password in it as Basic auth, and logs neither them nor its path', async () => {
      const password = 'hook-Pass-w0rd-never-logged';
      const receiver = await startWebhookReceiver('/hooks/tok-path-never-logged');
      const url = receiver.url.replace('http://', `http://hook%20user:${password}@`);
      // Another instance, configured with that URL, takes the job and the deliveries.
      const main = api.app.get(WebhookSender);
      await api.app.get(JobLeases).release(EXPIRY_JOB_LEASE);
      const other = await startApp(db, {
        LOG_LEVEL: 'verbose',
        EXPIRY_CHECK_INTERVAL_SECONDS: '0',
        EXPIRY_REMINDER_DAYS: '3',
        CHANGE_FEED_INTERVAL_MS: '0',
        WEBHOOK_URL: url,
        WEBHOOK_SECRET,
      });
      await main.beforeApplicationShutdown();
      try {
        other.app.get(WebhookSender).configure(FAST_WEBHOOKS);
        const c = await customer(2, false, 'basic');
        expect((await other.app.get(ExpiryJob).runOnce()).reminded).toBeGreaterThanOrEqual(1);
        await other.app.get(WebhookSender).idle();
        const tries = receiver.received.filter(
          (r) => JSON.parse(r.rawBody).data.customer.id === c.id,
        );
        expect(tries.map((t) => t.answer)).toEqual([200]);
        expect(tries[0].path).toBe('/hooks/tok-path-never-logged');
        expect(tries[0].headers.authorization).toBe(
          `Basic ${Buffer.from(`hook user:${password}`).toString('base64')}`,
        );
        const text = logs.text();
        expect(text).toContain(`customerExpiring customerExpiring:${c.id}:`);
        expect(text).not.toContain(password);
        expect(text).not.toContain('tok-path-never-logged');
      } finally {
        await runAll([() => other.close(), () => receiver.close()]);
        await api.app.get(JobLeases).release(EXPIRY_JOB_LEASE);
        main.onApplicationBootstrap();
      }
    });

    it('leaves a reminder unclaimed when its webhook event cannot be stored, and sends it at the next run', async () => {
      const sub = await subscribe(api.wsClient());
      const c = await customer(97, false, 'atomic');
      const sender = api.app.get(WebhookSender);
      const enqueue = sender.enqueue.bind(sender);
      jest
        .spyOn(sender, 'enqueue')
        .mockImplementationOnce(async (m, type, id, data) => {
          await enqueue(m, type, id, data); // written, then the transaction fails
          throw new Error('the outbox is full');
        })
        .mockImplementation(enqueue);
      at(new Date(c.expiresAt.getTime() - DAY));
      await expect(job.runOnce()).rejects.toThrow('the outbox is full');
      expect(await outboxAttempts(c.id)).toBe(0);
      const claims = await db.query(
        'SELECT 1 FROM rg_expiry_actions WHERE customer_id = ? AND action = ?',
        [Number(c.id), 'reminder'],
      );
      expect(claims).toHaveLength(0);
      expect(sub.of(c.id)).toHaveLength(0);

      expect((await job.runOnce()).reminded).toBeGreaterThanOrEqual(1);
      await sender.idle();
      await waitFor(() => sub.of(c.id).length === 1, 'the subscription event');
      expect(deliveriesOf(c.id).map((t) => t.answer)).toEqual([200]);
      const bus = api.app.get(CustomerExpiringBus);
      const subscribers = bus.subscriberCount;
      sub.stop();
      await waitFor(() => bus.subscriberCount < subscribers, 'the subscription to end');
    });

    it('does not remind a customer renewed after the run read them as due', async () => {
      const sub = await subscribe(api.wsClient());
      const c = await customer(94, false, 'paidrem');
      at(new Date(c.expiresAt.getTime() - DAY));
      const service = api.app.get(ExpiringCustomersService);
      const read = service.dueForReminder.bind(service);
      let renewed = false;
      jest.spyOn(service, 'dueForReminder').mockImplementation(async (...args) => {
        const page = await read(...args);
        if (!renewed && page.some((e) => String(e.id) === c.id)) {
          renewed = true;
          await gqlData(api, 'mutation($id: ID!) { renewCustomer(id: $id, force: true) { id } }', {
            id: c.id,
          });
        }
        return page;
      });
      await job.runOnce();
      await api.app.get(WebhookSender).idle();
      await new Promise((r) => setTimeout(r, 200));
      expect(renewed).toBe(true);
      expect(deliveriesOf(c.id)).toHaveLength(0);
      expect(sub.of(c.id)).toHaveLength(0);
      sub.stop();
    });

    it('delivers an event left waiting by an instance that stopped, from the next one on the database', async () => {
      const receiver = await startWebhookReceiver();
      const env = {
        EXPIRY_CHECK_INTERVAL_SECONDS: '0',
        EXPIRY_REMINDER_DAYS: '3',
        CHANGE_FEED_INTERVAL_MS: '0',
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET,
      };
      const c = await customer(1, false, 'restart');
      const of = () =>
        receiver.received.filter((r) => JSON.parse(r.rawBody).data.customer.id === c.id);
      await receiver.down();
      await api.app.get(JobLeases).release(EXPIRY_JOB_LEASE);
      try {
        await withoutMainSender(async () => {
          const first = await startApp(db, env);
          try {
            // A long timeout: the try below is still in flight when the instance stops.
            first.app.get(WebhookSender).configure({ ...FAST_WEBHOOKS, timeoutMs: 60_000 });
            expect((await first.app.get(ExpiryJob).runOnce()).reminded).toBeGreaterThanOrEqual(1);
            await waitFor(async () => (await outboxAttempts(c.id)) >= 2, 'two refused tries');
            receiver.answerNext('hang');
            await receiver.up();
            await waitFor(() => of().length === 1, 'a try that gets no answer');
          } finally {
            await first.close();
          }
          expect(await outboxAttempts(c.id)).toBeGreaterThanOrEqual(3); // still there
          const next = await startApp(db, env);
          try {
            next.app.get(WebhookSender).configure(FAST_WEBHOOKS);
            // At once: the try cut short by the stop does not hold the event for its timeout.
            await next.app.get(WebhookSender).idle(15_000);
          } finally {
            await next.close();
          }
        });
        expect(of().map((t) => t.answer)).toEqual(['hang', 200]);
        expect(of()[1].rawBody).toBe(of()[0].rawBody);
        expectSigned(of()[1]);
      } finally {
        await receiver.close();
        await api.app.get(JobLeases).release(EXPIRY_JOB_LEASE);
      }
    });

    it('delivers each event once with three instances sending from one database', async () => {
      const env = {
        EXPIRY_CHECK_INTERVAL_SECONDS: '0',
        EXPIRY_REMINDER_DAYS: '3',
        CHANGE_FEED_INTERVAL_MS: '0',
        WEBHOOK_URL: hook.url,
        WEBHOOK_SECRET,
      };
      const others = [await startApp(db, env), await startApp(db, env)];
      try {
        for (const o of others) o.app.get(WebhookSender).configure(FAST_WEBHOOKS);
        const due = [];
        for (let i = 0; i < 6; i++) due.push(await customer(150, false, 'many'));
        hook.answerNext(503, 'close', 503);
        at(new Date(due[0].expiresAt.getTime() - DAY));
        expect((await job.runOnce()).reminded).toBeGreaterThanOrEqual(due.length);
        // The lease moves while events wait: the main instance gives it up for a moment.
        await api.app.get(JobLeases).release(WEBHOOK_LEASE);
        await api.app.get(WebhookSender).idle();
        await new Promise((r) => setTimeout(r, 500));
        for (const c of due) {
          expect(deliveriesOf(c.id).filter((d) => d.answer === 200)).toHaveLength(1);
        }
      } finally {
        await runAll(others.map((o) => () => o.close()));
      }
    });

    it('never logs the webhook secret', () => {
      const text = logs.text();
      expect(text).toContain('customerExpiring');
      expect(text).not.toContain(WEBHOOK_SECRET);
    });
  });

  describe('expiringCustomers', () => {
    const LIST = `query($d: Int!, $first: Int, $after: String) {
      expiringCustomers(withinDays: $d, first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id username expiresAt } }
      }
    }`;

    it('lists who expires within the window, soonest first, in pages, without the expired', async () => {
      const in5 = await customer(5, false, 'win');
      const in1 = await customer(1, false, 'win');
      const in10 = await customer(10, false, 'win');
      const in2 = await customer(2, false, 'win');
      const same = await customer(2, false, 'win');
      await setExpiry(same.id, in2.expiresAt); // a tie: by id
      const gone = await customer(3, false, 'win');
      await setExpiry(gone.id, new Date(Date.now() - 60_000));
      const mine = new Set([in5, in1, in10, in2, same, gone].map((c) => c.id));

      const { expiringCustomers: all } = await gqlData(api, LIST, { d: 6, first: 500 });
      const nodes: Array<{ id: string; expiresAt: string }> = all.edges.map((e: any) => e.node);
      expect(nodes.filter((n) => mine.has(n.id)).map((n) => n.id)).toEqual([
        in1.id,
        in2.id,
        same.id,
        in5.id,
      ]);
      const times = nodes.map((n) => Date.parse(n.expiresAt));
      expect([...times].sort((x, y) => x - y)).toEqual(times);
      expect(times.every((t) => t > Date.now() && t <= Date.now() + 6 * DAY)).toBe(true);
      expect(all.totalCount).toBe(nodes.length);

      // Page by page: the same list.
      const paged: string[] = [];
      let after: string | null = null;
      for (;;) {
        const { expiringCustomers: page }: any = await gqlData(api, LIST, {
          d: 6,
          first: 2,
          after,
        });
        expect(page.totalCount).toBe(all.totalCount);
        paged.push(...page.edges.map((e: any) => e.node.id));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(paged).toEqual(nodes.map((n) => n.id));

      // By the Clock: two days on, the 1- and 2-day ones have expired.
      at(new Date(Date.now() + 2 * DAY + 60_000));
      const { expiringCustomers: later } = await gqlData(api, LIST, { d: 9, first: 500 });
      const laterIds = later.edges.map((e: any) => e.node.id).filter((id: string) => mine.has(id));
      expect(laterIds).toEqual([in5.id, in10.id]);
    });

    it('refuses a negative window and a foreign cursor with BAD_USER_INPUT', async () => {
      expect((await gqlError(api, LIST, { d: -1 })).extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'withinDays',
      });
      const { customers } = await gqlData(
        api,
        '{ customers(first: 1) { pageInfo { endCursor } } }',
      );
      expect(
        (await gqlError(api, LIST, { d: 3, after: customers.pageInfo.endCursor })).extensions,
      ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    });
  });

  describe('job leases', () => {
    let other: DataSource;
    beforeAll(async () => {
      other = await db.openDataSource(); // a second instance's connection
    });
    afterAll(async () => {
      await other?.destroy();
    });

    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    it('gives a lease to one holder; after it expires, another takes it', async () => {
      const mine = api.app.get(DataSource); // this instance's connection
      const a = new JobLeases(mine, api.app.get(TransactionsService));
      const b = new JobLeases(other, new TransactionsService(other));
      expect(a.holder).not.toBe(b.holder);

      expect(await a.acquire('test-job', 1000)).toBe(true);
      expect(await b.acquire('test-job', 1000)).toBe(false);
      expect(await a.acquire('test-job', 1000)).toBe(true); // renewed
      expect(await b.acquire('test-job', 1000)).toBe(false);
      expect(await b.holderOf('test-job')).toBe(a.holder);

      await sleep(2100); // a stopped renewing: expired (MySQL keeps whole seconds)
      expect(await b.holderOf('test-job')).toBeNull();
      expect(await b.acquire('test-job', 60_000)).toBe(true);
      expect(await a.acquire('test-job', 60_000)).toBe(false);
      expect(await a.holderOf('test-job')).toBe(b.holder);

      await a.release('test-job'); // not a's to give up
      expect(await a.acquire('test-job', 60_000)).toBe(false);
      await b.release('test-job');
      expect(await a.acquire('test-job', 60_000)).toBe(true);
    });

    it('lets exactly one of many racing holders take a new lease', async () => {
      const ds = api.app.get(DataSource); // this instance's connection
      const theirs = new TransactionsService(other);
      const holders = Array.from(
        { length: 8 },
        (_, i) =>
          new JobLeases(
            i % 2 === 0 ? ds : other,
            i % 2 === 0 ? api.app.get(TransactionsService) : theirs,
          ),
      );
      const got = await Promise.all(holders.map((h) => h.acquire('race', 60_000)));
      expect(got.filter(Boolean)).toHaveLength(1);
      const again = await Promise.all(holders.map((h) => h.acquire('race', 60_000)));
      expect(again).toEqual(got); // the holder renews; nobody else gets it
    });

    it('makes the expiry job of an instance without the lease do nothing', async () => {
      const held = new JobLeases(other, new TransactionsService(other));
      await api.app.get(JobLeases).release(EXPIRY_JOB_LEASE);
      expect(await held.acquire(EXPIRY_JOB_LEASE, 60_000)).toBe(true);
      expect(await job.runOnce()).toEqual({
        leader: false,
        disconnected: 0,
        disconnectsFailed: 0,
        reminded: 0,
      });
      await held.release(EXPIRY_JOB_LEASE);
      expect((await job.runOnce()).leader).toBe(true);
    });
  });
});
