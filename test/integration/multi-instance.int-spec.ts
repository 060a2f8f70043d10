import type { Client } from 'graphql-ws';
import { createConnection, type Connection } from 'mysql2/promise';
import {
  CHANGE_FEED_LEASE,
  RadacctChangeFeed,
} from '../../src/sessions/feed/radacct-change-feed.service';
import { SessionEventBus } from '../../src/sessions/events/session-event-bus.service';
import { CustomerExpiringBus } from '../../src/expiry/events/customer-expiring-bus.service';
import { ExpiryJob } from '../../src/expiry/expiry-job.service';
import { startServerProcess, type ServerProcess } from '../../bench/support/server';
import { freePort, startApp, type RunningApp } from '../support/app';
import { accountingRequest, RadiusTestClient, sessionAttributes } from '../support/radius-packets';
import { grew, scrapeMetrics } from '../support/metrics';
import { requireRedis } from '../support/redis';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { NasClients } from '../../src/nas/nas-clients';
import { StaleSessionReaper } from '../../src/sessions/stale/stale-session-reaper.service';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { gqlData } from '../support/graphql';

const SECRET = 'multi-instance-secret';
const FIELDS = 'type session { uniqueId username uploadBytes stoppedAt }';

interface Received {
  type: string;
  session: {
    uniqueId: string;
    username: string;
    uploadBytes: string | number;
    stoppedAt: string | null;
  };
}

/** Every event a subscription delivers (batches flattened), until stopped. */
function record(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const events: Received[] = [];
  const messages: Received[][] = [];
  const errors: unknown[] = [];
  const stop = client.subscribe<Record<string, Received | Received[]>>(
    { query, variables },
    {
      next: (v) => {
        if (v.errors) errors.push(...v.errors);
        const value = Object.values(v.data ?? {})[0];
        if (value === undefined) return;
        const batch = Array.isArray(value) ? value : [value];
        messages.push(batch);
        events.push(...batch);
      },
      error: (e) => errors.push(e),
      complete: () => undefined,
    },
  );
  return { events, messages, errors, stop };
}

/** A session's Start to `app`'s accounting listener, answered. */
async function sendStart(
  client: RadiusTestClient,
  app: RunningApp,
  username: string,
  sessionId: string,
) {
  const attrs = sessionAttributes('Start', {
    username,
    sessionId,
    eventTime: Math.floor(Date.now() / 1000),
  });
  const answer = await client.send(accountingRequest(SECRET, attrs), app.config.radiusAcctPort);
  expect(answer).not.toBeNull();
}

/** The extensions.code of each error a subscription got. */
function codes(r: ReturnType<typeof record>): unknown[] {
  return r.errors.flatMap((e) =>
    (Array.isArray(e) ? e : [e]).map((x: { extensions?: { code?: string } }) => x.extensions?.code),
  );
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An open session of `username` on 10.9.9.9, as another writer (FreeRADIUS) writes it. */
function insertOpenSession(db: TestDatabase, uid: string, username: string) {
  return db.query(
    "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, acctinputoctets, acctoutputoctets) VALUES (?, ?, ?, '10.9.9.9', NOW(), NOW(), 0, 0)",
    [uid, uid, username],
  );
}

/** A TCP proxy in front of Redis (to cut or freeze it), and the REDIS_URL through it. */
async function redisThroughProxy(redisUrl: string): Promise<{ proxy: TcpProxy; url: string }> {
  const direct = new URL(redisUrl);
  const proxy = await startTcpProxy(Number(direct.port || 6379), direct.hostname);
  const url = new URL(redisUrl);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return { proxy, url: url.toString() };
}

/**
 * Several radgraph instances on one MariaDB and one Redis (REDIS_URL): events published on
 * one reach subscribers on every instance exactly once, and the radacct change feed runs on
 * exactly one, moving to another within 10 s when that one is killed, without losing what
 * FreeRADIUS (any other writer of radacct) wrote meanwhile.
 */
describe('several instances on Redis', () => {
  let db: TestDatabase;
  let redisUrl: string;

  beforeAll(async () => {
    redisUrl = await requireRedis();
    db = await createTestDatabase('mysql');
    await db.query(
      "INSERT INTO nas (nasname, shortname, type, secret) VALUES ('127.0.0.1', 'lo', 'mikrotik', ?), ('10.9.9.9', 'fr', 'mikrotik', 'x')",
      [SECRET],
    );
  });

  afterAll(async () => {
    await db?.drop();
  });

  describe('accounting on instance A, subscribers on A and B', () => {
    let a: RunningApp;
    let b: RunningApp;

    beforeAll(async () => {
      const env = { REDIS_URL: redisUrl, CHANGE_FEED_INTERVAL_MS: '200' };
      a = await startApp(db, env);
      b = await startApp(db, env);
    });

    afterAll(async () => {
      await a?.close();
      await b?.close();
    });

    it('is ready with Redis, and not ready with a Redis that does not answer', async () => {
      const ready = (await (await fetch(`${a.url}/ready`)).json()) as any;
      expect(ready.info.redis).toEqual({ status: 'up' });
      const lost = await startApp(db, { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
      try {
        const res = await fetch(`${lost.url}/ready`);
        expect(res.status).toBe(503);
        expect(((await res.json()) as any).error.redis.status).toBe('down');
      } finally {
        await lost.close();
      }
    });

    it('delivers every event exactly once on every instance, batched or not', async () => {
      const onB = record(b.wsClient(), `subscription { sessionEvents { ${FIELDS} } }`);
      const onA = record(a.wsClient(), `subscription { sessionEvents { ${FIELDS} } }`);
      const batchesOnB = record(
        b.wsClient(),
        `subscription { sessionEventBatches(maxLatencyMs: 50) { ${FIELDS} } }`,
      );
      // The subscriptions are live once a heartbeat-free round trip has passed on each socket.
      await new Promise((r) => setTimeout(r, 500));

      const client = await RadiusTestClient.open();
      const t0 = Math.floor(Date.now() / 1000);
      const sessions = ['mi-alice', 'mi-bob', 'mi-carol'];
      const expected: string[] = [];
      try {
        for (const [i, username] of sessions.entries()) {
          const s = { username, sessionId: `81b0000${i}`, eventTime: t0 };
          const steps = [
            sessionAttributes('Start', s),
            sessionAttributes('Interim-Update', {
              ...s,
              eventTime: t0 + 60,
              sessionTime: 60,
              inputOctets: 1000n,
            }),
            sessionAttributes('Interim-Update', {
              ...s,
              eventTime: t0 + 120,
              sessionTime: 120,
              inputOctets: 2000n,
            }),
            sessionAttributes('Stop', {
              ...s,
              eventTime: t0 + 180,
              sessionTime: 180,
              inputOctets: 3000n,
            }),
          ];
          for (const attrs of steps) {
            const answer = await client.send(
              accountingRequest(SECRET, attrs),
              a.config.radiusAcctPort,
            );
            expect(answer).not.toBeNull();
          }
          expected.push(
            `STARTED ${username} 0`,
            `UPDATED ${username} 1000`,
            `UPDATED ${username} 2000`,
            `STOPPED ${username} 3000`,
          );
        }
      } finally {
        await client.close();
      }
      const seen = (r: ReturnType<typeof record>) =>
        r.events.map((e) => `${e.type} ${e.session.username} ${e.session.uploadBytes}`);
      await until(
        () => seen(onB).length >= 12 && seen(onA).length >= 12,
        10_000,
        '12 events on A and B',
      );
      await until(
        () => batchesOnB.events.filter((e) => e.type === 'STOPPED').length >= 3,
        10_000,
        'the batched subscriber to see every Stop',
      );
      // Anything doubled would have arrived by now.
      await new Promise((r) => setTimeout(r, 1000));
      for (const r of [onA, onB, batchesOnB]) r.stop();

      expect(onB.errors).toEqual([]);
      expect(seen(onB).sort()).toEqual([...expected].sort());
      expect(seen(onA).sort()).toEqual([...expected].sort());
      // Per session, in order.
      for (const username of sessions) {
        expect(seen(onB).filter((e) => e.includes(` ${username} `))).toEqual(
          expected.filter((e) => e.includes(` ${username} `)),
        );
      }
      // Batches: each session at most once per batch, its final state delivered once.
      expect(batchesOnB.errors).toEqual([]);
      for (const batch of batchesOnB.messages) {
        const ids = batch.map((e) => e.session.uniqueId);
        expect(new Set(ids).size).toBe(ids.length);
      }
      expect(
        seen(batchesOnB)
          .filter((e) => e.startsWith('STOPPED'))
          .sort(),
      ).toEqual(expected.filter((e) => e.startsWith('STOPPED')).sort());
      expect(batchesOnB.events.length).toBeLessThanOrEqual(12);
    });

    it("ends B's subscription filtered on a NAS that another tool gave another address, at B's next load of the nas table", async () => {
      const created = await a.gql(
        'mutation { createNas(input: { name: "10.9.8.1", secret: "s3cret-s3cret" }) { id } }',
      );
      const nasId: string = created.body.data.createNas.id;
      const query = `subscription($n: ID) { sessionEventBatches(nasId: $n, announceLive: true) { ${FIELDS} } }`;
      const onB = record(b.wsClient(), query, { n: nasId });
      await until(() => onB.messages.length === 1, 5000, 'live');

      // Not through radgraph's API (no NAS change goes through Redis): another writer of the
      // nas table.
      await db.query("UPDATE nas SET nasname = '10.9.8.11' WHERE id = ?", [Number(nasId)]);
      // B learns of it when it reads the nas table again: here because a packet from a NAS
      // failed its authenticator (a secret changed elsewhere?) once the list is 2 s old.
      await new Promise((r) => setTimeout(r, 2100));
      expect(codes(onB)).toEqual([]);
      const radius = await RadiusTestClient.open();
      try {
        const attrs = sessionAttributes('Start', {
          username: 'mi-nas',
          sessionId: 'mi-nas-1',
          eventTime: Math.floor(Date.now() / 1000),
        });
        expect(
          await radius.send(
            accountingRequest('not-the-secret', attrs),
            b.config.radiusAcctPort,
            300,
          ),
        ).toBeNull();
      } finally {
        await radius.close();
      }
      await until(() => codes(onB).length > 0, 5000, 'B to end its subscription');
      expect(codes(onB)).toEqual(['NAS_CHANGED']);
      onB.stop();
    });

    it('delivers a change-feed page published again (its reader died before deleting it) once', async () => {
      // Which instance reads the feed is the lease's choice: the seqs are caught on both.
      const seqs: string[] = [];
      for (const app of [a, b]) {
        const bus = app.app.get(SessionEventBus);
        const publish = bus.publish.bind(bus);
        jest.spyOn(bus, 'publish').mockImplementation(async (changes) => {
          for (const c of changes) if (c.feedSeq) seqs.push(c.feedSeq);
          return publish(changes);
        });
      }
      const onA = record(
        a.wsClient(),
        `subscription { sessionEvents(username: "mi-feed") { ${FIELDS} } }`,
      );
      const onB = record(
        b.wsClient(),
        `subscription { sessionEvents(username: "mi-feed") { ${FIELDS} } }`,
      );
      await new Promise((r) => setTimeout(r, 500));
      const seen = (r: ReturnType<typeof record>) =>
        r.events.map((e) => `${e.type} ${e.session.uploadBytes}`);
      const metricsBefore = await Promise.all([a, b].map((app) => scrapeMetrics(app)));

      // FreeRADIUS (another writer) starts a session: the feed publishes it.
      await db.query(
        "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, acctinputoctets, acctoutputoctets) VALUES ('mi-f1', 'mi-feed-1', 'mi-feed', '10.9.9.9', NOW(), NOW(), 0, 0)",
      );
      await until(() => seen(onA).length === 1 && seen(onB).length === 1, 10_000, 'STARTED');
      expect(seqs).toHaveLength(1);
      // The page is back in the queue, as when a reader published it and died before its
      // DELETE: the next read publishes the same queue row again.
      const [{ id }] = await db.query<{ id: string }>(
        "SELECT radacctid AS id FROM radacct WHERE acctuniqueid = 'mi-feed-1'",
      );
      await db.query('INSERT INTO rg_radacct_changes (seq, radacctid, kind) VALUES (?, ?, 1)', [
        seqs[0],
        id,
      ]);
      await until(() => seqs.length === 2, 10_000, 'the page to be published again');
      expect(seqs[1]).toBe(seqs[0]);
      // Then a change of its own, which must come.
      await db.query("UPDATE radacct SET acctinputoctets = 500 WHERE acctuniqueid = 'mi-feed-1'");
      await until(() => seen(onA).length === 2 && seen(onB).length === 2, 10_000, 'UPDATED');
      await new Promise((r) => setTimeout(r, 500));
      for (const r of [onA, onB]) r.stop();
      expect(seen(onA)).toEqual(['STARTED 0', 'UPDATED 500']);
      expect(seen(onB)).toEqual(['STARTED 0', 'UPDATED 500']);
      const metricsAfter = await Promise.all([a, b].map((app) => scrapeMetrics(app)));
      for (const i of [0, 1]) {
        expect(
          grew(
            metricsBefore[i],
            metricsAfter[i],
            'radgraph_session_events_feed_repeats_dropped_total',
          ),
        ).toBe(1);
      }
    });
  });

  describe('an instance shutting down with a batch in flight', () => {
    let a: RunningApp;
    let b: RunningApp;
    let closed = false;

    beforeAll(async () => {
      const env = { REDIS_URL: redisUrl, CHANGE_FEED_INTERVAL_MS: '200' };
      a = await startApp(db, env);
      b = await startApp(db, env);
    });

    afterAll(async () => {
      if (!closed) await a?.close();
      await b?.close();
    });

    it("publishes the events of the packets it answers while it shuts down to the other instances' subscribers", async () => {
      const client = await RadiusTestClient.open();
      const locker = await createConnection({ uri: db.url, timezone: 'Z' });
      try {
        const t0 = Math.floor(Date.now() / 1000);
        const s = { username: 'mi-shutdown', sessionId: '81b000f1', eventTime: t0 };
        const started = await client.send(
          accountingRequest(SECRET, sessionAttributes('Start', s)),
          a.config.radiusAcctPort,
        );
        expect(started).not.toBeNull();
        const onB = record(b.wsClient(), `subscription { sessionEvents { ${FIELDS} } }`);
        await new Promise((r) => setTimeout(r, 500));
        // The session's row locked: A's batch for its Interim-Update waits for it, in flight.
        await locker.beginTransaction();
        await locker.query(
          "SELECT radacctid FROM radacct WHERE username = 'mi-shutdown' FOR UPDATE",
        );
        const answering = client.send(
          accountingRequest(
            SECRET,
            sessionAttributes('Interim-Update', {
              ...s,
              eventTime: t0 + 60,
              sessionTime: 60,
              inputOctets: 4242n,
            }),
          ),
          a.config.radiusAcctPort,
          10_000,
        );
        await new Promise((r) => setTimeout(r, 300));
        // A shuts down (a rolling restart) while the batch waits; then the lock goes.
        const closing = a.close();
        closed = true;
        await new Promise((r) => setTimeout(r, 300));
        await locker.commit();
        // Committed, so answered (a NAS would not send it to another instance again)...
        expect(await answering).not.toBeNull();
        await closing;
        // ...and so published: B's subscriber hears of it, once.
        const updated = () =>
          onB.events.filter((e) => e.type === 'UPDATED' && e.session.username === 'mi-shutdown');
        await until(() => updated().length >= 1, 5_000, "the shutting-down instance's event on B");
        await new Promise((r) => setTimeout(r, 500));
        onB.stop();
        expect(onB.errors).toEqual([]);
        expect(updated().map((e) => String(e.session.uploadBytes))).toEqual(['4242']);
      } finally {
        await locker.end();
        await client.close();
      }
    });
  });

  describe('customerExpiring, raised by the expiry job on one instance', () => {
    let a: RunningApp;
    let b: RunningApp;

    beforeAll(async () => {
      // The job runs when the test says (runOnce on A), not on a timer.
      const env = {
        REDIS_URL: redisUrl,
        EXPIRY_CHECK_INTERVAL_SECONDS: '0',
        EXPIRY_REMINDER_DAYS: '3',
      };
      a = await startApp(db, env);
      b = await startApp(db, env);
    });

    afterAll(async () => {
      await a?.close();
      await b?.close();
    });

    /** Every customerExpiring a new subscriber on `app` gets, once it is live there. */
    async function subscribeExpiring(app: RunningApp) {
      const bus = app.app.get(CustomerExpiringBus);
      const before = bus.subscriberCount;
      const events: any[] = [];
      const errors: unknown[] = [];
      const stop = app.wsClient().subscribe<{ customerExpiring: unknown }>(
        {
          query:
            'subscription { customerExpiring { customer { id username joinedAt expiresAt status } expiresAt daysLeft } }',
        },
        {
          next: (v) =>
            v.errors ? errors.push(...v.errors) : events.push(v.data!.customerExpiring),
          error: (e) => errors.push(e),
          complete: () => undefined,
        },
      );
      await until(() => bus.subscriberCount > before, 5000, 'the subscription to start');
      return { events, errors, stop };
    }

    it('reaches a subscriber on the instance not running the job, once', async () => {
      const { createProfile } = await gqlData(
        a,
        'mutation($i: CreateProfileInput!) { createProfile(input: $i) { id } }',
        {
          i: { name: 'mi-expiring', downloadRateKbps: 1024, uploadRateKbps: 512, validityDays: 2 },
        },
      );
      // Expires in 2 days, within EXPIRY_REMINDER_DAYS: the next run reminds.
      const { createCustomer } = await gqlData(
        a,
        'mutation($i: CreateCustomerInput!) { createCustomer(input: $i) { id } }',
        { i: { username: 'mi-expiring', password: 'pw-123456', profileId: createProfile.id } },
      );
      // As stored (MySQL keeps whole seconds).
      const { customer: c } = await gqlData(
        a,
        'query($id: ID) { customer(id: $id) { id joinedAt expiresAt } }',
        { id: createCustomer.id },
      );
      const onB = await subscribeExpiring(b);
      const onA = await subscribeExpiring(a);

      // The job runs on A, which takes its lease; B does not run it.
      expect(await a.app.get(ExpiryJob).runOnce()).toMatchObject({ leader: true, reminded: 1 });
      expect(await b.app.get(ExpiryJob).runOnce()).toMatchObject({ leader: false, reminded: 0 });

      await until(() => onB.events.length >= 1, 10_000, 'customerExpiring on B');
      await until(() => onA.events.length >= 1, 10_000, 'customerExpiring on A');
      // Anything doubled would have arrived by now.
      await new Promise((r) => setTimeout(r, 1000));
      onA.stop();
      onB.stop();
      const expected = {
        customer: {
          id: c.id,
          username: 'mi-expiring',
          joinedAt: c.joinedAt,
          expiresAt: c.expiresAt,
          status: 'OFFLINE',
        },
        expiresAt: new Date(c.expiresAt as string).toISOString(),
        daysLeft: expect.any(Number),
      };
      expect(onB.errors).toEqual([]);
      expect(onB.events).toEqual([expected]);
      expect(onA.errors).toEqual([]);
      expect(onA.events).toEqual([expected]);
    });
  });

  describe('a Redis that stops answering without closing the connection', () => {
    let proxy: TcpProxy;
    let a: RunningApp;
    let b: RunningApp;

    beforeAll(async () => {
      let throughProxy: string;
      ({ proxy, url: throughProxy } = await redisThroughProxy(redisUrl));
      // A publishes through the proxy and reads the change feed; B is on Redis directly.
      a = await startApp(db, {
        REDIS_URL: throughProxy,
        REDIS_COMMAND_TIMEOUT_MS: '300',
        CHANGE_FEED_INTERVAL_MS: '200',
      });
      b = await startApp(db, { REDIS_URL: redisUrl, CHANGE_FEED_INTERVAL_MS: '0' });
    });

    afterAll(async () => {
      proxy?.thaw();
      await a?.close();
      await b?.close();
      await proxy?.close();
    });

    /** Resolves to what `work` resolved to, or fails when it takes longer than `ms`. */
    const within = <T>(ms: number, work: Promise<T>, what: string) =>
      Promise.race([
        work,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms).unref(),
        ),
      ]);

    it('fails a publish within the timeout, the feed, the reaper and the listener move on, and events flow again after', async () => {
      const sub = (app: RunningApp) =>
        record(app.wsClient(), `subscription { sessionEvents(username: "hang") { ${FIELDS} } }`);
      const onA = sub(a);
      const onB = sub(b);
      await new Promise((r) => setTimeout(r, 500));
      const seen = (r: ReturnType<typeof record>) =>
        r.events.map((e) => `${e.type} ${e.session.uniqueId}`);
      const busA = a.app.get(SessionEventBus);
      const ownRules: string[] = [];
      const stopListening = busA.onEvents((events) => {
        for (const e of events) ownRules.push(`${e.type} ${e.session.uniqueId}`);
      });
      const insert = (uid: string) => insertOpenSession(db, uid, 'hang');
      const queued = async () =>
        Number(
          (await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM rg_radacct_changes'))[0].n,
        );
      const client = await RadiusTestClient.open();
      try {
        proxy.freeze();

        // The reaper's publish fails within the timeout: its run ends, STOPPED goes to A's own
        // subscribers and to the data cap.
        await insert('hang-reaped');
        await until(() => seen(onA).includes('STARTED hang-reaped'), 5000, 'STARTED on A');
        const [{ id }] = await db.query<{ id: string }>(
          "SELECT radacctid AS id FROM radacct WHERE acctuniqueid = 'hang-reaped'",
        );
        const started = Date.now();
        const closed = await within(
          3000,
          a.app.get(StaleSessionReaper).closeStale([String(id)]),
          'closing a stale session',
        );
        expect(closed).toHaveLength(1);
        expect(Date.now() - started).toBeLessThan(2000);
        expect(ownRules).toContain('STOPPED hang-reaped');
        await until(() => seen(onA).includes('STOPPED hang-reaped'), 2000, 'STOPPED on A');

        // The change feed: its page is not published, so it stays queued, and the feed polls on.
        await insert('hang-feed');
        await until(() => seen(onA).includes('STARTED hang-feed'), 5000, 'the page on A');
        expect(ownRules).toContain('STARTED hang-feed');
        const feed = a.app.get(RadacctChangeFeed);
        await until(async () => (await queued()) > 0, 2000, 'the page to stay queued');
        await within(
          3000,
          feed.pollOnce().catch(() => 0),
          'a poll',
        );

        // The accounting listener answers, and its events reach A's subscribers.
        await sendStart(client, a, 'hang', 'hang-acct');
        await until(
          () =>
            onA.events.some(
              (e) =>
                e.type === 'STARTED' &&
                e.session.uniqueId !== 'hang-feed' &&
                e.session.uniqueId !== 'hang-reaped',
            ),
          5000,
          "the listener's event on A",
        );
        // None of it went through Redis.
        expect(onB.events).toEqual([]);

        proxy.thaw();
        // Once A publishes again it says that B missed its events (the reaper's STOPPED, the
        // listener's STARTED): B's subscription ends with EVENTS_MISSED, to load again.
        await until(() => codes(onB).includes('EVENTS_MISSED'), 15_000, 'EVENTS_MISSED on B');
        // The page kept in the queue is published once Redis answers; later events flow through
        // Redis to both.
        await until(async () => (await queued()) === 0, 10_000, 'the queue to drain');
        const againOnB = sub(b);
        await new Promise((r) => setTimeout(r, 500));
        await insert('hang-after');
        await until(
          () =>
            seen(againOnB).includes('STARTED hang-after') &&
            seen(onA).includes('STARTED hang-after'),
          10_000,
          'an event after the outage on A and B',
        );
        await new Promise((r) => setTimeout(r, 1000));
        againOnB.stop();
        // A delivered each once, though a late copy of what it delivered itself may have come.
        for (const uid of ['hang-feed', 'hang-reaped', 'hang-after']) {
          expect(seen(onA).filter((e) => e === `STARTED ${uid}`)).toHaveLength(1);
        }
        expect(seen(onA).filter((e) => e === 'STOPPED hang-reaped')).toHaveLength(1);
        expect(seen(againOnB)).toEqual(['STARTED hang-after']);
        // A's own subscribers missed nothing: A tells the others, not itself.
        expect(onA.errors).toEqual([]);
        expect(againOnB.errors).toEqual([]);
      } finally {
        proxy.thaw();
        stopListening();
        onA.stop();
        onB.stop();
        await client.close();
      }
    });
  });

  describe('an instance whose Redis connection drops and comes back', () => {
    let proxy: TcpProxy;
    let a: RunningApp;
    let b: RunningApp;

    beforeAll(async () => {
      let throughProxy: string;
      ({ proxy, url: throughProxy } = await redisThroughProxy(redisUrl));
      // A reads the change feed, on Redis directly; B reaches Redis through the proxy.
      a = await startApp(db, { REDIS_URL: redisUrl, CHANGE_FEED_INTERVAL_MS: '200' });
      b = await startApp(db, { REDIS_URL: throughProxy, CHANGE_FEED_INTERVAL_MS: '0' });
    });

    afterAll(async () => {
      await a?.close();
      await b?.close();
      await proxy?.close();
    });

    it("ends B's subscriptions with EVENTS_MISSED once it is subscribed again, so they load again what they missed", async () => {
      const insert = (uid: string) => insertOpenSession(db, uid, 'gap');
      const seen = (r: ReturnType<typeof record>) =>
        r.events.map((e) => `${e.type} ${e.session.uniqueId}`);
      const onA = record(
        a.wsClient(),
        `subscription { sessionEvents(username: "gap") { ${FIELDS} } }`,
      );
      const onB = record(
        b.wsClient(),
        `subscription { sessionEvents(username: "gap") { ${FIELDS} } }`,
      );
      const batchesOnB = record(
        b.wsClient(),
        `subscription { sessionEventBatches(username: "gap", maxLatencyMs: 0, announceLive: true) { ${FIELDS} } }`,
      );
      try {
        await until(() => batchesOnB.messages.length === 1, 5000, 'the live batch on B');
        await insert('gap-before');
        await until(() => seen(onB).includes('STARTED gap-before'), 5000, 'an event on B');

        // B loses Redis; what A publishes meanwhile never reaches B's Redis connection.
        await proxy.cut();
        await insert('gap-missed');
        await until(() => seen(onA).includes('STARTED gap-missed'), 5000, 'the missed event on A');
        await proxy.restore();

        // Once B is subscribed again, its subscribers are told they missed events.
        await until(
          () => codes(onB).includes('EVENTS_MISSED') && codes(batchesOnB).includes('EVENTS_MISSED'),
          15_000,
          "EVENTS_MISSED on B's subscriptions",
        );
        expect(seen(onB)).not.toContain('STARTED gap-missed');
        // A, whose Redis stayed up, goes on as before.
        expect(onA.errors).toEqual([]);

        // A subscription made on B now gets what A publishes, once.
        const again = record(
          b.wsClient(),
          `subscription { sessionEvents(username: "gap") { ${FIELDS} } }`,
        );
        await new Promise((r) => setTimeout(r, 500));
        await insert('gap-after');
        await until(() => seen(again).includes('STARTED gap-after'), 5000, 'an event after on B');
        await new Promise((r) => setTimeout(r, 500));
        expect(seen(again)).toEqual(['STARTED gap-after']);
        expect(again.errors).toEqual([]);
        again.stop();
      } finally {
        onA.stop();
        onB.stop();
        batchesOnB.stop();
      }
    });

    it("ends A's subscriptions with EVENTS_MISSED once B, whose publishes failed, publishes again", async () => {
      const query = `subscription { sessionEvents(username: "gap-b") { ${FIELDS} } }`;
      const onA = record(a.wsClient(), query);
      const onB = record(b.wsClient(), query);
      const client = await RadiusTestClient.open();
      try {
        await new Promise((r) => setTimeout(r, 500));
        await proxy.cut();
        // B's accounting listener answers; its publish fails, so only B's subscribers get it.
        await sendStart(client, b, 'gap-b', 'gap-b-1');
        await until(() => onB.events.length === 1, 5000, 'the event on B');
        await proxy.restore();

        await until(() => codes(onA).includes('EVENTS_MISSED'), 15_000, 'EVENTS_MISSED on A');
        expect(onA.events).toEqual([]);
      } finally {
        onA.stop();
        onB.stop();
        await client.close();
      }
    });
  });

  describe('the change feed on exactly one instance', () => {
    let x: ServerProcess;
    let y: RunningApp;
    let writer: Connection;

    beforeAll(async () => {
      writer = await createConnection({ uri: db.url, timezone: 'Z' });
    });

    afterAll(async () => {
      await writer?.end();
      await y?.close();
      await x?.close();
    });

    const holder = async () =>
      (
        await db.query<{ holder: string }>(
          'SELECT holder FROM rg_job_leases WHERE name = ? AND expires_at >= UTC_TIMESTAMP()',
          [CHANGE_FEED_LEASE],
        )
      )[0]?.holder ?? null;

    it('moves within 10 s when its instance is killed, and loses nothing written meanwhile', async () => {
      const env = { REDIS_URL: redisUrl, CHANGE_FEED_INTERVAL_MS: '200', LOG_LEVEL: 'error' };
      x = await startServerProcess(db, { env });
      await until(
        async () => (await holder())?.includes(`:${x.pid}:`) ?? false,
        15_000,
        'X to hold the feed',
      );
      y = await startApp(db, env);
      const feedY = y.app.get(RadacctChangeFeed);
      const onY = record(
        y.wsClient(),
        `subscription($nas: ID) { sessionEvents(nasId: $nas) { ${FIELDS} } }`,
        {
          nas: String(
            (await db.query<{ id: number }>("SELECT id FROM nas WHERE nasname = '10.9.9.9'"))[0].id,
          ),
        },
      );
      await new Promise((r) => setTimeout(r, 500));
      expect(feedY.leader).toBe(false);

      // FreeRADIUS's writes, as rlm_sql makes them: a Start, then an Interim-Update every 100 ms.
      await writer.query(
        `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, acctinputoctets, acctoutputoctets)
         VALUES ('fr-1', 'fr-handover-1', 'fr-handover', '10.9.9.9', NOW(), NOW(), 0, 0)`,
      );
      let updates = 0;
      let writing = true;
      const writes = (async () => {
        while (writing) {
          updates++;
          await writer.query(
            "UPDATE radacct SET acctinputoctets = ?, acctupdatetime = NOW() WHERE acctuniqueid = 'fr-handover-1'",
            [updates * 1000],
          );
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      await until(() => onY.events.length >= 3, 10_000, 'events from X through Redis');

      const killedAt = Date.now();
      process.kill(x.pid, 'SIGKILL');
      await until(() => feedY.leader, 10_000, 'Y to take the feed');
      const movedMs = Date.now() - killedAt;
      expect(movedMs).toBeLessThan(10_000);

      await new Promise((r) => setTimeout(r, 1000));
      writing = false;
      await writes;
      const final = updates * 1000;
      await until(
        () => onY.events.some((e) => Number(e.session.uploadBytes) === final),
        10_000,
        `the last update (${final}) on Y`,
      );
      await until(
        async () =>
          Number(
            (await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM rg_radacct_changes'))[0].n,
          ) === 0,
        10_000,
        'the queue to drain',
      );
      onY.stop();
      expect(onY.errors).toEqual([]);
      // Every write was queued and published: the last state arrived, in order, from X before
      // the kill and from Y after. A page X published but had not deleted when it died comes
      // again (at least once), so a state may repeat; none goes backwards.
      expect(onY.events.length).toBeGreaterThanOrEqual(3);
      const values = onY.events.map((e) => Number(e.session.uploadBytes));
      expect([...values].sort((p, q) => p - q)).toEqual(values); // in order
    });
  });
});

/**
 * A NAS changed through one instance's API (createNas, updateNas, deleteNas) applies on every
 * other instance at once, through Redis (NasChanges), not when its nas list gets older than
 * REFRESH_MS (30 s): its accounting listener and its subscriptions filtered on the NAS.
 */
describe('NAS changes across instances on Redis', () => {
  let db: TestDatabase;
  let a: RunningApp;
  let b: RunningApp;
  let radius: RadiusTestClient;
  /** Well under REFRESH_MS (30 s), with room for a slow machine. */
  const AT_ONCE_MS = 2_000;

  beforeAll(async () => {
    const redisUrl = await requireRedis();
    db = await createTestDatabase('mysql');
    a = await startApp(db, { REDIS_URL: redisUrl });
    b = await startApp(db, { REDIS_URL: redisUrl });
    radius = await RadiusTestClient.open();
  });

  afterAll(async () => {
    await radius?.close();
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  let packets = 0;
  /** A Start from 127.0.0.1 signed with `secret` to `app`: whether it was answered. */
  async function answered(app: RunningApp, secret: string, timeoutMs = 1000): Promise<boolean> {
    const attrs = sessionAttributes('Start', {
      username: 'nas-change',
      sessionId: `9c${String(++packets).padStart(6, '0')}`,
      eventTime: Math.floor(Date.now() / 1000),
    });
    const answer = await radius.send(
      accountingRequest(secret, attrs),
      app.config.radiusAcctPort,
      timeoutMs,
    );
    return answer !== null;
  }

  /** How many packets `app`'s accounting listener dropped for `reason`. */
  async function dropped(app: RunningApp, reason: string): Promise<number> {
    const data = await gqlData(app, '{ accountingListener { dropped { reason count } } }');
    const rows = data.accountingListener.dropped as Array<{ reason: string; count: unknown }>;
    return Number(rows.find((r) => r.reason === reason)?.count ?? 0);
  }

  /**
   * Waits until `app` no longer answers a packet signed with `secret` (sent every 200 ms at
   * most); how long it took since `since`.
   */
  async function untilDropped(app: RunningApp, secret: string, since: number): Promise<number> {
    await until(async () => !(await answered(app, secret, 200)), 10_000, 'the packet dropped');
    return Date.now() - since;
  }

  async function createNas(name: string, secret: string): Promise<string> {
    const data = await gqlData(
      a,
      'mutation($n: String!, $s: String!) { createNas(input: { name: $n, secret: $s }) { id } }',
      { n: name, s: secret },
    );
    return data.createNas.id;
  }

  it("ends B's sessionEvents(nasId) with NAS_CHANGED at once when updateNas on A gives it another address", async () => {
    const id = await createNas('10.0.8.1', 'nas-change-secret');
    const onB = record(
      b.wsClient(),
      `subscription($nas: ID) { sessionEvents(nasId: $nas) { ${FIELDS} } }`,
      { nas: id },
    );
    await new Promise((r) => setTimeout(r, 500)); // sessionEvents has no announcement
    expect(onB.errors).toEqual([]);
    // B has just read its nas list: without a word from A, it would trust it for REFRESH_MS.
    await b.app.get(NasClients).refresh(0);

    await gqlData(a, `mutation { updateNas(id: "${id}", input: { name: "10.0.8.11" }) { id } }`);
    const changedAt = Date.now();
    await until(() => onB.errors.length > 0, 10_000, "B's subscription to end");
    expect(Date.now() - changedAt).toBeLessThan(AT_ONCE_MS);
    expect(codes(onB)).toEqual(['NAS_CHANGED']);
    onB.stop();
  });

  /** NAS 127.0.0.1 (the test's packets' source) with `secret`, created on A, known to B. */
  async function localNas(secret: string, on = b): Promise<string> {
    await db.query("DELETE FROM nas WHERE nasname = '127.0.0.1'");
    const id = await createNas('127.0.0.1', secret);
    // B knows it (a miss, or a failed authenticator, reads the nas table again after 2 s)...
    await until(() => answered(on, secret), 10_000, 'B to answer the new NAS');
    // ...and has just read its list: it would trust it for REFRESH_MS.
    await on.app.get(NasClients).refresh(0);
    return id;
  }

  it("B's accounting listener drops packets signed with the old secret at once when A sets a new one", async () => {
    const id = await localNas('nas-change-old-secret');
    const badBefore = await dropped(b, 'bad-authenticator');
    await gqlData(
      a,
      `mutation { updateNas(id: "${id}", input: { secret: "nas-change-new-secret" }) { id } }`,
    );
    expect(await untilDropped(b, 'nas-change-old-secret', Date.now())).toBeLessThan(AT_ONCE_MS);
    expect(await dropped(b, 'bad-authenticator')).toBeGreaterThan(badBefore);
    expect(await answered(b, 'nas-change-new-secret')).toBe(true);
  });

  it("B's accounting listener drops a NAS's packets as unknown at once when A deletes it", async () => {
    const id = await localNas('nas-change-deleted');
    const unknownBefore = await dropped(b, 'unknown-nas');
    await gqlData(a, `mutation { deleteNas(id: "${id}", force: true) }`);
    expect(await untilDropped(b, 'nas-change-deleted', Date.now())).toBeLessThan(AT_ONCE_MS);
    expect(await dropped(b, 'unknown-nas')).toBeGreaterThan(unknownBefore);
  });

  it('an instance that was away from Redis while a NAS changed reads the nas table again once it is back', async () => {
    const { proxy, url } = await redisThroughProxy(await requireRedis());
    const c = await startApp(db, { REDIS_URL: url });
    try {
      const id = await localNas('nas-change-missed-old', c);
      await proxy.cut();
      // C misses what A publishes now.
      await gqlData(
        a,
        `mutation { updateNas(id: "${id}", input: { secret: "nas-change-missed-new" }) { id } }`,
      );
      await new Promise((r) => setTimeout(r, 200));
      await proxy.restore();
      const restoredAt = Date.now();
      // Once C is subscribed again (ioredis reconnects within a few seconds): well before its
      // list, read just before, gets older than REFRESH_MS (30 s).
      await until(
        async () => !(await answered(c, 'nas-change-missed-old', 200)),
        20_000,
        'C to drop the old secret',
      );
      expect(Date.now() - restoredAt).toBeLessThan(15_000);
      expect(await answered(c, 'nas-change-missed-new')).toBe(true);
    } finally {
      await c.close();
      await proxy.close();
    }
  });
});
