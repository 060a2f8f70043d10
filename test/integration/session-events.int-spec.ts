import { Logger } from '@nestjs/common';
import type { PubSubEngine } from 'graphql-subscriptions';
import { createConnection } from 'mysql2/promise';
import { Repository } from 'typeorm';
import { SessionEventBus } from '../../src/sessions/events/session-event-bus.service';
import { RadAcct } from '../../src/database/freeradius';
import { SessionEventType } from '../../src/sessions/models/session-event.model';
import { TransactionsService } from '../../src/database/transactions.service';
import { RadacctOrigin } from '../../src/sessions/feed/radacct-origin';
import { reopenClosed } from '../../src/sessions/feed/closed-rows';
import { sqlDatetime } from '../../src/common/sql/datetime';
import {
  REAPER_LEASE,
  StaleSessionReaper,
} from '../../src/sessions/stale/stale-session-reaper.service';
import { collect, startApp, type RunningApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { holdSubscriptionSetup } from '../support/held-subscriptions';
import { until } from '../support/until';
import { NasClients } from '../../src/nas/nas-clients';

const EVENT_FIELDS = 'type session { id uniqueId username uploadBytes stoppedAt terminateCause }';

/**
 * Session events from the rows other writers (FreeRADIUS) put in radacct: the change feed,
 * the sessionEvents subscription over graphql-ws, and the stale-session reaper.
 */
describe.each(['mysql', 'sqlite'] as const)('session events on %s', (kind) => {
  let db: TestDatabase;
  let api: RunningApp;
  /** Everything the bus published, in order: [type, acctuniqueid]. */
  let published: Array<[string, string]>;

  const now = () => (kind === 'mysql' ? 'NOW()' : "datetime('now')");
  const insertOpen = (uid: string, user: string, nas = '10.0.0.1') =>
    db.query(
      `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime, acctinputoctets, acctoutputoctets)
       VALUES (?, ?, ?, ?, ${now()}, ${now()}, 0, 0)`,
      [`s-${uid}`, uid, user, nas],
    );

  async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > until) throw new Error(`timed out; published: ${JSON.stringify(published)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const eventsOf = (uid: string) => published.filter(([, u]) => u === uid).map(([t]) => t);

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    await db.query(
      "INSERT INTO nas (nasname, shortname, type, secret) VALUES ('10.0.0.1', 'core-1', 'mikrotik', 'x'), ('10.0.0.2', 'edge-2', 'mikrotik', 'y')",
    );
    // Its reaper runs only when a test asks (its own ticks could take the lease mid-test).
    api = await startApp(db, {
      CHANGE_FEED_INTERVAL_MS: '100',
      STALE_SESSION_REAP_INTERVAL_SECONDS: '86400',
    });
    published = [];
    const bus = api.app.get(SessionEventBus);
    const publish = bus.publish.bind(bus);
    jest.spyOn(bus, 'publish').mockImplementation(async (changes) => {
      for (const c of changes) published.push([c.type, c.row.acctUniqueId]);
      return publish(changes);
    });
  });

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('publishes what another writer does to radacct: started, updated, stopped, in order', async () => {
    const ws = api.wsClient();
    const got = collect(
      ws,
      `subscription { sessionEvents(username: "fr-alice") { ${EVENT_FIELDS} } }`,
      3,
    );
    await new Promise((r) => setTimeout(r, 200));
    await insertOpen('fr-1', 'fr-alice');
    await insertOpen('fr-other', 'fr-bob'); // filtered out by username
    await db.query("UPDATE radacct SET acctinputoctets = 21474836603 WHERE acctuniqueid = 'fr-1'");
    // A change that is no event: the same values again.
    await db.query("UPDATE radacct SET acctinputoctets = 21474836603 WHERE acctuniqueid = 'fr-1'");
    await db.query(
      `UPDATE radacct SET acctstoptime = ${now()}, acctterminatecause = 'User-Request' WHERE acctuniqueid = 'fr-1'`,
    );
    const { results, errors } = await got;
    expect(errors).toEqual([]);
    expect(results.map((r) => r.sessionEvents.type)).toEqual(['STARTED', 'UPDATED', 'STOPPED']);
    expect(results.every((r) => r.sessionEvents.session.username === 'fr-alice')).toBe(true);
    expect(String(results[2].sessionEvents.session.uploadBytes)).toBe('21474836603');
    expect(results[2].sessionEvents.session.terminateCause).toBe('User-Request');
    await waitFor(() => eventsOf('fr-other').length === 1);
    expect(eventsOf('fr-1')).toEqual(['STARTED', 'UPDATED', 'STOPPED']);
    // A change to a stopped row is no event, and the queue is empty once published.
    await db.query("UPDATE radacct SET acctinputoctets = 1 WHERE acctuniqueid = 'fr-1'");
    await new Promise((r) => setTimeout(r, 400));
    expect(eventsOf('fr-1')).toEqual(['STARTED', 'UPDATED', 'STOPPED']);
    expect(await db.query('SELECT * FROM rg_radacct_changes')).toEqual([]);
  });

  it('does not go by the NAS clock: rows with skewed acctupdatetime are published too', async () => {
    await db.query(
      "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime) VALUES ('p', 'skew-past', 'u', '10.0.0.1', '2001-01-01 00:00:00', '2001-01-01 00:00:00'), ('f', 'skew-future', 'u', '10.0.0.1', '2040-01-01 00:00:00', '2040-01-01 00:00:00')",
    );
    await db.query(
      "UPDATE radacct SET acctupdatetime = '2000-06-01 00:00:00', acctinputoctets = 5 WHERE acctuniqueid = 'skew-future'",
    );
    await waitFor(() => eventsOf('skew-future').length === 2 && eventsOf('skew-past').length === 1);
    expect(eventsOf('skew-future')).toEqual(['STARTED', 'UPDATED']);
  });

  it('subscriptions: an unknown nasId is NOT_FOUND, a NAS filter sees only its NAS', async () => {
    const ws = api.wsClient();
    const unknown = await collect(
      ws,
      'subscription { sessionEvents(nasId: "999999") { type } }',
      1,
    );
    expect(unknown.errors[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(unknown.errors[0]?.extensions?.field).toBe('nasId');

    const [edge] = await db.query<{ id: number }>("SELECT id FROM nas WHERE nasname = '10.0.0.2'");
    const got = collect(
      ws,
      `subscription { sessionEvents(nasId: "${edge.id}") { ${EVENT_FIELDS} } }`,
      1,
    );
    await new Promise((r) => setTimeout(r, 200));
    await insertOpen('core-x', 'nas-filter', '10.0.0.1');
    await insertOpen('edge-x', 'nas-filter', '10.0.0.2');
    const { results, errors } = await got;
    expect(errors).toEqual([]);
    expect(results.map((r) => r.sessionEvents.session.uniqueId)).toEqual(['edge-x']);
  });

  describe('a subscription filtered on a NAS whose address changes, or that is deleted', () => {
    /** A subscription as it goes: what came, and the errors it ended with. */
    function watch(query: string) {
      const seen = { results: [] as any[], errors: [] as any[], ended: false };
      api.wsClient().subscribe(
        { query },
        {
          next: (value) => {
            if (value.errors) seen.errors.push(...value.errors);
            else seen.results.push(value.data);
          },
          error: (err) => {
            seen.errors.push(...(Array.isArray(err) ? err : [err]));
            seen.ended = true;
          },
          complete: () => {
            seen.ended = true;
          },
        },
      );
      return seen;
    }
    const batches = (nasId: string) =>
      watch(
        `subscription { sessionEventBatches(nasId: "${nasId}", announceLive: true, maxLatencyMs: 0) { ${EVENT_FIELDS} } }`,
      );
    const live = (s: { results: any[] }) => until(() => s.results.length >= 1, 'the empty batch');
    async function createNas(name: string): Promise<string> {
      const { body } = await api.gql(
        'mutation($n: String!) { createNas(input: { name: $n, secret: "s3cret-s3cret" }) { id } }',
        { n: name },
      );
      expect(body.errors).toBeUndefined();
      return body.data.createNas.id;
    }
    const ended = (s: { ended: boolean }, what: string) => until(() => s.ended, what);

    it('ends with NAS_CHANGED, naming nasId, when updateNas gives it another address; others go on', async () => {
      const [moved, other] = [await createNas('10.0.7.1'), await createNas('10.0.7.2')];
      const movedBatches = batches(moved);
      const otherBatches = batches(other);
      const single = watch(`subscription { sessionEvents(nasId: "${moved}") { type } }`);
      await Promise.all([live(movedBatches), live(otherBatches)]);
      await new Promise((r) => setTimeout(r, 200)); // sessionEvents has no announcement

      const { body } = await api.gql(
        `mutation { updateNas(id: "${moved}", input: { name: "10.0.7.11" }) { name } }`,
      );
      expect(body.data.updateNas.name).toBe('10.0.7.11');
      await ended(movedBatches, 'sessionEventBatches to end');
      await ended(single, 'sessionEvents to end');
      for (const s of [movedBatches, single]) {
        expect(s.errors.map((e) => e.extensions)).toEqual([
          { code: 'NAS_CHANGED', field: 'nasId' },
        ]);
        expect(s.errors[0].message).toContain(`id ${moved}`);
        expect(s.errors[0].message).toContain('10.0.7.11');
      }
      // Subscribed again, it follows the new address; the other NAS's subscription went on.
      const again = batches(moved);
      await live(again);
      await insertOpen('moved-1', 'nas-moved', '10.0.7.11');
      await insertOpen('other-1', 'nas-moved', '10.0.7.2');
      await until(() => again.results.length >= 2, "the new address's session");
      expect(again.results[1].sessionEventBatches[0].session.uniqueId).toBe('moved-1');
      await until(() => otherBatches.results.length >= 2, "the other NAS's session");
      expect(otherBatches.results[1].sessionEventBatches[0].session.uniqueId).toBe('other-1');
      expect(otherBatches.ended).toBe(false);
      expect(otherBatches.errors).toEqual([]);
    });

    it('ends with NOT_FOUND, naming nasId, when the NAS is deleted', async () => {
      const [gone, other] = [await createNas('10.0.7.3'), await createNas('10.0.7.4')];
      const goneBatches = batches(gone);
      const otherBatches = batches(other);
      await Promise.all([live(goneBatches), live(otherBatches)]);
      const { body } = await api.gql(`mutation { deleteNas(id: "${gone}") }`);
      expect(body.data.deleteNas).toBe(true);
      await ended(goneBatches, 'the subscription to end');
      expect(goneBatches.errors.map((e) => e.extensions)).toEqual([
        { code: 'NOT_FOUND', field: 'nasId' },
      ]);
      expect(goneBatches.errors[0].message).toContain(`id ${gone}`);
      await new Promise((r) => setTimeout(r, 200));
      expect(otherBatches.ended).toBe(false);
    });

    it("follows a change another writer made (another instance, another tool) at the nas table's next load", async () => {
      const moved = await createNas('10.0.7.5');
      const s = batches(moved);
      await live(s);
      // Not through this instance's API: no NasChanges here; the next load of the list sees it.
      await db.query("UPDATE nas SET nasname = '10.0.7.15' WHERE id = ?", [Number(moved)]);
      await new Promise((r) => setTimeout(r, 200));
      expect(s.ended).toBe(false);
      api.app.get(NasClients).invalidate(); // as REFRESH_MS going by does
      await api.app.get(NasClients).refresh();
      await ended(s, 'the subscription to end');
      expect(s.errors.map((e) => e.extensions.code)).toEqual(['NAS_CHANGED']);
    });
  });

  it("logs a field's failure during fan-out once, not once per subscriber that shares the payload", async () => {
    const query =
      'subscription { sessionEvents(username: "fan-fail") { type session { uniqueId nas { name } } } }';
    const subscribers = [0, 1, 2].map(() => collect(api.wsClient(), query, 1));
    await new Promise((r) => setTimeout(r, 200));
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    // Session.nas reads the nas table, which is gone for a moment.
    await db.query('ALTER TABLE nas RENAME TO nas_gone');
    try {
      await insertOpen('fan-fail-1', 'fan-fail');
      for (const got of await Promise.all(subscribers)) {
        expect(got.errors.map((e) => [e.extensions?.code, e.path?.join('.')])).toEqual([
          ['INTERNAL_SERVER_ERROR', 'sessionEvents.session.nas'],
        ]);
      }
      const unexpected = errors.mock.calls.filter(([m]) => String(m).includes('Unexpected error'));
      expect(unexpected).toHaveLength(1);
    } finally {
      await db.query('ALTER TABLE nas_gone RENAME TO nas');
      errors.mockRestore();
    }
  });

  /**
   * The uniqueIds of the first event of sessionEvents and of the first batch of
   * sessionEventBatches, subscribed with these username filters, once `write` has run.
   */
  async function firstFiltered(
    single: string,
    batched: string,
    write: () => Promise<unknown>,
  ): Promise<{ single: string[]; batch: string[] }> {
    // The earlier tests' rows published first (the change feed publishes a page, then deletes
    // it): under load one came late and was the first event of a subscription with no filter.
    await until(
      async () =>
        Number((await db.query('SELECT COUNT(*) AS n FROM rg_radacct_changes'))[0].n) === 0,
      "the change feed's queue drained of the earlier tests' rows",
    );
    const ws = api.wsClient();
    const events = collect(
      ws,
      `subscription { sessionEvents(username: ${JSON.stringify(single)}) { ${EVENT_FIELDS} } }`,
      1,
    );
    const batches = collect(
      ws,
      `subscription { sessionEventBatches(username: ${JSON.stringify(batched)}, maxLatencyMs: 50) { ${EVENT_FIELDS} } }`,
      1,
    );
    await new Promise((r) => setTimeout(r, 200));
    await write();
    const [got, gotBatches] = [await events, await batches];
    expect([...got.errors, ...gotBatches.errors]).toEqual([]);
    return {
      single: got.results.map((r) => r.sessionEvents.session.uniqueId),
      batch: gotBatches.results[0].sessionEventBatches.map((e: any) => e.session.uniqueId),
    };
  }

  it('filters by username as the database compares usernames: whatever the case on MariaDB, exactly on SQLite', async () => {
    // On SQLite "CASE-FILTER" and "Case-Filter" are two customers: one's events are not the
    // other's.
    const got = await firstFiltered('Case-Filter', 'Case-Filter', async () => {
      await insertOpen('case-f1', 'CASE-FILTER');
      await insertOpen('case-f2', 'other-user');
      await insertOpen('case-f3', 'Case-Filter');
    });
    const first = kind === 'mysql' ? 'case-f1' : 'case-f3';
    for (const ids of [got.single, got.batch]) {
      expect(ids[0]).toBe(first);
      expect(ids).not.toContain('case-f2');
      if (kind === 'sqlite') expect(ids).toEqual(['case-f3']);
    }
  });

  it('takes an empty username as no username filter (a cleared search box), as onlineSessions takes an empty search', async () => {
    const got = await firstFiltered('', '', () => insertOpen('empty-filter', 'any-user'));
    expect(got).toEqual({ single: ['empty-filter'], batch: ['empty-filter'] });
  });

  it('delivers a publish larger than the slow-consumer limit whole to a subscriber that reads it (a NAS reboot)', async () => {
    // An Accounting-On from a NAS with 35,000 open sessions is one publish of 35,000 STOPPED:
    // more than the 20,000 sessions a subscriber may lag by, pushed before it can read one.
    // (The queue checks its bound when it compacts, each time it doubles: 1,001, ... 32,032.)
    const count = 35_000;
    await api.app.get(TransactionsService).run((m) =>
      RadacctOrigin.around(m, async () => {
        for (let from = 0; from < count; from += 1000) {
          const values = Array.from(
            { length: 1000 },
            (_, i) =>
              `('b-${from + i}', 'burst-${from + i}', 'burst-user', '10.0.0.2', ${now()}, ${now()})`,
          );
          await m.query(
            `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctstoptime) VALUES ${values.join(', ')}`,
          );
        }
      }),
    );
    const rows = await api.app
      .get(TransactionsService)
      .run((m) => m.getRepository(RadAcct).findBy({ username: 'burst-user' }));
    expect(rows).toHaveLength(count);
    const got = collect(
      api.wsClient(),
      'subscription { sessionEvents(username: "burst-user") { type } }',
      count,
      60_000,
    );
    await new Promise((r) => setTimeout(r, 200));
    await api.app
      .get(SessionEventBus)
      .publish(rows.map((row) => ({ type: SessionEventType.STOPPED, row })));
    const { results, errors } = await got;
    expect(errors).toEqual([]);
    expect(results).toHaveLength(count);
    expect(results.every((r) => r.sessionEvents.type === 'STOPPED')).toBe(true);
  }, 90_000);

  it('batches: each session once per batch in its latest state; maxLatencyMs is checked', async () => {
    const ws = api.wsClient();
    const got = collect(
      ws,
      `subscription { sessionEventBatches(username: "fr-batch", maxLatencyMs: 300) { ${EVENT_FIELDS} } }`,
      1,
    );
    await new Promise((r) => setTimeout(r, 200));
    await insertOpen('fr-b1', 'fr-batch');
    await db.query("UPDATE radacct SET acctinputoctets = 7 WHERE acctuniqueid = 'fr-b1'");
    await insertOpen('fr-b2', 'fr-batch');
    const { results, errors } = await got;
    expect(errors).toEqual([]);
    const batch = results[0].sessionEventBatches as Array<{ type: string; session: any }>;
    // A STARTED followed by an update in the same batch stays STARTED, with the newer state.
    expect(batch.map((e) => [e.session.uniqueId, e.type, String(e.session.uploadBytes)])).toEqual([
      ['fr-b1', 'STARTED', '7'],
      ['fr-b2', 'STARTED', '0'],
    ]);
    for (const ms of [-1, 10_001]) {
      const bad = await collect(
        ws,
        `subscription { sessionEventBatches(maxLatencyMs: ${ms}) { type } }`,
        1,
      );
      expect(bad.errors[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'maxLatencyMs',
      });
    }
  });

  it('announceLive: an empty first batch, to the asker alone, once it is live; a snapshot read then misses nothing', async () => {
    const bus = api.app.get(SessionEventBus);
    /** A subscription's batches as they come: the uniqueIds of each. */
    const watch = (announce: boolean) => {
      const batches: string[][] = [];
      const errors: unknown[] = [];
      const stop = api.wsClient().subscribe<{ sessionEventBatches: any[] }>(
        {
          query: `subscription { sessionEventBatches(username: "live-batch", maxLatencyMs: 0${announce ? ', announceLive: true' : ''}) { ${EVENT_FIELDS} } }`,
        },
        {
          next: (r) =>
            r.errors
              ? errors.push(...r.errors)
              : batches.push(r.data!.sessionEventBatches.map((e) => e.session.uniqueId)),
          error: (err) => errors.push(err),
          complete: () => undefined,
        },
      );
      return { batches, errors, stop };
    };
    // One subscriber of the group, live, that did not ask.
    const before = bus.stats.subscribers;
    const other = watch(false);
    await until(() => bus.stats.subscribers > before, 'the first subscription in the bus');
    // The asker's setup is held (as a slow NAS lookup would) until the test lets it go.
    const hold = holdSubscriptionSetup(bus);
    try {
      const asker = watch(true);
      await until(() => hold.holding === 1, "the asker's setup");
      // Committed and delivered while the asker is not live: it gets nothing, not even [].
      await insertOpen('live-early', 'live-batch');
      await until(() => other.batches.length === 1, 'the early event to the live subscriber');
      expect(other.batches).toEqual([['live-early']]);
      await new Promise((r) => setTimeout(r, 100));
      expect(asker.batches).toEqual([]);
      hold.release();
      await until(() => asker.batches.length === 1, 'the empty batch');
      expect(asker.batches).toEqual([[]]);
      // Live: a snapshot now has what came before, and what commits next comes as an event.
      const { body } = await api.gql(
        '{ onlineSessions(search: "live-batch") { edges { node { uniqueId } } } }',
      );
      expect(body.data.onlineSessions.edges.map((e: any) => e.node.uniqueId)).toEqual([
        'live-early',
      ]);
      await insertOpen('live-after', 'live-batch');
      await until(() => asker.batches.length === 2 && other.batches.length === 2, 'live-after');
      expect(asker.batches).toEqual([[], ['live-after']]);
      expect(other.batches).toEqual([['live-early'], ['live-after']]);
      expect([...asker.errors, ...other.errors]).toEqual([]);
      asker.stop();
      other.stop();
    } finally {
      hold.restore();
    }
  });

  it('applies depth limits to subscriptions too (in graphql-ws onSubscribe)', async () => {
    const deep =
      'session { customer { currentSession { customer { currentSession { customer { currentSession { customer { currentSession { customer { currentSession { id } } } } } } } } } } }';
    const { errors } = await collect(
      api.wsClient(),
      `subscription { sessionEvents { ${deep} } }`,
      1,
    );
    expect(errors[0]?.extensions?.code).toBe('QUERY_TOO_DEEP');
  });

  it('reports a session stale, and the reaper closes it with Stale-Session and publishes STOPPED', async () => {
    await insertOpen('stale-1', 'sleepy');
    await insertOpen('fresh-1', 'awake');
    const past = kind === 'mysql' ? 'NOW() - INTERVAL 2 HOUR' : "datetime('now', '-2 hours')";
    await db.query(`UPDATE radacct SET rg_seen_at = ${past} WHERE acctuniqueid = 'stale-1'`);
    await waitFor(() => eventsOf('fresh-1').length === 1 && eventsOf('stale-1').length === 1);
    const { body } = await api.gql(
      '{ onlineSessions(search: "sleepy", first: 5) { edges { node { username stale lastSeenAt } } } }',
    );
    expect(body.data.onlineSessions.edges.map((e: any) => e.node.stale)).toEqual([true]);

    const got = collect(
      api.wsClient(),
      `subscription { sessionEvents(username: "sleepy") { ${EVENT_FIELDS} } }`,
      1,
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(await api.app.get(StaleSessionReaper).reap()).toBe(1);
    const { results } = await got;
    expect(results[0].sessionEvents).toMatchObject({
      type: 'STOPPED',
      session: { username: 'sleepy', terminateCause: 'Stale-Session' },
    });
    const [row] = await db.query<{ stopped: number }>(
      "SELECT acctstoptime = acctupdatetime AS stopped FROM radacct WHERE acctuniqueid = 'stale-1'",
    );
    expect(Number(row.stopped)).toBe(1);
    const [fresh] = await db.query<{ acctstoptime: unknown }>(
      "SELECT acctstoptime FROM radacct WHERE acctuniqueid = 'fresh-1'",
    );
    expect(fresh.acctstoptime).toBeNull();
    // The reaper's own write is not published twice by the change feed.
    await new Promise((r) => setTimeout(r, 400));
    expect(eventsOf('stale-1')).toEqual(['STARTED', 'STOPPED']);
  });

  it('gives a session without an interval of its own the Acct-Interim-Interval replied to its user', async () => {
    // A plan with hourly interims (a group's reply, as a radgraph profile writes it) and a user
    // with their own 2-hour one; both sessions were last seen 40 minutes ago and have not sent
    // a second update (acctinterval NULL), like a session reopened after a stale close.
    await db.query(
      "INSERT INTO radgroupreply (groupname, attribute, op, value) VALUES ('hourly', 'Acct-Interim-Interval', ':=', '3600')",
    );
    await db.query(
      "INSERT INTO radusergroup (username, groupname, priority) VALUES ('hourly-user', 'hourly', 1), ('own-user', 'hourly', 1)",
    );
    await db.query(
      "INSERT INTO radreply (username, attribute, op, value) VALUES ('own-user', 'Acct-Interim-Interval', ':=', '7200')",
    );
    await insertOpen('hourly-1', 'hourly-user');
    await insertOpen('own-iv-1', 'own-user');
    await insertOpen('default-1', 'default-user');
    await waitFor(() =>
      ['hourly-1', 'own-iv-1', 'default-1'].every((u) => eventsOf(u).length === 1),
    );
    const ago = (minutes: number, uid: string) =>
      db.query(
        `UPDATE radacct SET rg_seen_at = ${kind === 'mysql' ? `NOW() - INTERVAL ${minutes} MINUTE` : `datetime('now', '-${minutes} minutes')`} WHERE acctuniqueid = ?`,
        [uid],
      );
    for (const uid of ['hourly-1', 'own-iv-1', 'default-1']) await ago(40, uid);
    const stale = async () => {
      const { body } = await api.gql(
        '{ onlineSessions(first: 50) { edges { node { uniqueId stale } } } }',
      );
      return Object.fromEntries(
        body.data.onlineSessions.edges
          .filter((e: any) => ['hourly-1', 'own-iv-1', 'default-1'].includes(e.node.uniqueId))
          .map((e: any) => [e.node.uniqueId, e.node.stale]),
      );
    };
    // 40 minutes is past 3 × the default 600 s, but not 3 × 3600 s.
    expect(await stale()).toEqual({ 'hourly-1': false, 'own-iv-1': false, 'default-1': true });
    const reaper = api.app.get(StaleSessionReaper);
    expect(await reaper.reap()).toBe(1);
    await waitFor(() => eventsOf('default-1').length === 2);
    expect(eventsOf('hourly-1')).toEqual(['STARTED']);

    // Past 3 hours the hourly plan's session is stale; the user with 2-hour interims is not.
    for (const uid of ['hourly-1', 'own-iv-1']) await ago(181, uid);
    expect(await stale()).toEqual({ 'hourly-1': true, 'own-iv-1': false });
    expect(await reaper.reap()).toBe(1);
    await waitFor(() => eventsOf('hourly-1').length === 2);
    expect(eventsOf('own-iv-1')).toEqual(['STARTED']);
    await ago(361, 'own-iv-1');
    expect(await reaper.reap()).toBe(1);
    await waitFor(() => eventsOf('own-iv-1').length === 2);
  });

  it("judges a session stale by its own user's replied interval, not that of a login differing in case", async () => {
    // "NAP" has 2-hour interims of their own; "nap" has none (the default 600 s). SQLite
    // compares usernames exactly: two users there; on MariaDB one, whose reply both get.
    await db.query(
      "INSERT INTO radreply (username, attribute, op, value) VALUES ('NAP', 'Acct-Interim-Interval', ':=', '7200')",
    );
    await insertOpen('nap-lower', 'nap');
    await insertOpen('nap-upper', 'NAP');
    await waitFor(() => ['nap-lower', 'nap-upper'].every((u) => eventsOf(u).length === 1));
    await db.query(
      `UPDATE radacct SET rg_seen_at = ${kind === 'mysql' ? 'NOW() - INTERVAL 40 MINUTE' : "datetime('now', '-40 minutes')"} WHERE acctuniqueid IN ('nap-lower', 'nap-upper')`,
    );
    try {
      // Both read in one batch: one page.
      const { body } = await api.gql(
        '{ onlineSessions(search: "nap") { edges { node { uniqueId stale } } } }',
      );
      expect(
        Object.fromEntries(
          body.data.onlineSessions.edges.map((e: any) => [e.node.uniqueId, e.node.stale]),
        ),
      ).toEqual({ 'nap-lower': kind === 'sqlite', 'nap-upper': false });
    } finally {
      await db.query("DELETE FROM radacct WHERE acctuniqueid IN ('nap-lower', 'nap-upper')");
      await db.query("DELETE FROM radreply WHERE username = 'NAP'");
    }
  });

  it('reopens a session closed as stale when another writer reports it later; a later Stop ends it', async () => {
    // What FreeRADIUS does after radgraph's reaper closed a session whose NAS could not reach
    // the server for a while: its interim query updates the stopped row (never its stop), and
    // its stop query writes the real end.
    const past = kind === 'mysql' ? 'NOW() - INTERVAL 2 HOUR' : "datetime('now', '-2 hours')";
    const older = kind === 'mysql' ? 'NOW() - INTERVAL 3 HOUR' : "datetime('now', '-3 hours')";
    const start = kind === 'mysql' ? 'NOW() - INTERVAL 4 HOUR' : "datetime('now', '-4 hours')";
    for (const uid of ['back-1', 'back-old', 'back-stop']) {
      await insertOpen(uid, `user-${uid}`);
      await db.query(
        `UPDATE radacct SET acctstarttime = ${start}, acctupdatetime = ${past}, rg_seen_at = ${past} WHERE acctuniqueid = ?`,
        [uid],
      );
    }
    await waitFor(() => ['back-1', 'back-old', 'back-stop'].every((u) => eventsOf(u).length === 2));
    const ids = await db.query<{ id: number | string }>(
      "SELECT radacctid AS id FROM radacct WHERE acctuniqueid IN ('back-1', 'back-old', 'back-stop')",
    );
    const closed = await api.app.get(StaleSessionReaper).closeStale(ids.map((r) => String(r.id)));
    expect(closed).toHaveLength(3);

    const got = collect(
      api.wsClient(),
      `subscription { sessionEvents(username: "user-back-1") { ${EVENT_FIELDS} } }`,
      1,
    );
    await new Promise((r) => setTimeout(r, 200));
    await db.query(
      `UPDATE radacct SET acctupdatetime = ${now()}, acctinterval = 7200, acctsessiontime = 7300, acctinputoctets = 777 WHERE acctuniqueid = 'back-1'`,
    );
    await db.query(
      `UPDATE radacct SET acctupdatetime = ${older}, acctinputoctets = 5 WHERE acctuniqueid = 'back-old'`,
    );
    await db.query(
      `UPDATE radacct SET acctstoptime = ${now()}, acctterminatecause = 'User-Request', acctinputoctets = 999 WHERE acctuniqueid = 'back-stop'`,
    );
    const { results, errors } = await got;
    expect(errors).toEqual([]);
    expect(results[0].sessionEvents).toMatchObject({
      type: 'STARTED',
      session: { stoppedAt: null, terminateCause: null },
    });
    expect(String(results[0].sessionEvents.session.uploadBytes)).toBe('777');
    await waitFor(() => eventsOf('back-stop').length === 4);
    expect(eventsOf('back-1')).toEqual(['STARTED', 'UPDATED', 'STOPPED', 'STARTED']);
    expect(eventsOf('back-stop')).toEqual(['STARTED', 'UPDATED', 'STOPPED', 'STOPPED']);
    const rows = await db.query<{ uid: string; open: number; cause: string; interval: unknown }>(
      "SELECT acctuniqueid AS uid, CASE WHEN acctstoptime IS NULL THEN 1 ELSE 0 END AS open, acctterminatecause AS cause, acctinterval AS `interval` FROM radacct WHERE acctuniqueid IN ('back-1', 'back-old', 'back-stop') ORDER BY 1",
    );
    // The reopened row's interval is unknown, not the outage FreeRADIUS wrote (7200 s), which
    // the stale-session rule would take as its interim interval.
    expect(rows.map((r) => [r.uid, Number(r.open), r.cause])).toEqual([
      ['back-1', 1, ''],
      ['back-old', 0, 'Stale-Session'],
      ['back-stop', 0, 'User-Request'],
    ]);
    expect(rows[0].interval).toBeNull();
    // A report older than the close leaves it closed, with no event; the queue is consumed.
    await new Promise((r) => setTimeout(r, 400));
    expect(eventsOf('back-old')).toEqual(['STARTED', 'UPDATED', 'STOPPED']);
    expect(eventsOf('back-1')).toEqual(['STARTED', 'UPDATED', 'STOPPED', 'STARTED']);
    expect(await db.query('SELECT * FROM rg_radacct_changes')).toEqual([]);
  });

  describe('a row that a later Start reuses (a NAS that rebooted or lost power reused the Acct-Session-Id)', () => {
    /** A time `minutes` ago, as both databases store it (UTC "YYYY-MM-DD HH:MM:SS"). */
    const ago = (minutes: number) => sqlDatetime(new Date(Date.now() - minutes * 60_000));
    /** FreeRADIUS's queries (queries.conf of its dialect) for one session's packets. */
    const fr = (uid: string, user: string) => ({
      start: (at: string): [string, unknown[]] => [
        `INSERT INTO radacct (acctsessionid, acctuniqueid, username, realm, nasipaddress, nasportid, nasporttype, acctstarttime, acctupdatetime, acctstoptime, acctsessiontime, acctauthentic, connectinfo_start, connectinfo_stop, acctinputoctets, acctoutputoctets, calledstationid, callingstationid, acctterminatecause, servicetype, framedprotocol, framedipaddress)
         VALUES (?, ?, ?, '', '10.0.0.1', 'ether1', 'Ethernet', ?, ?, NULL, 0, 'RADIUS', 'start-info', '', 0, 0, '', 'AA:BB:CC:00:00:01', '', 'Framed-User', 'PPP', '100.64.0.9')`,
        [`s-${uid}`, uid, user, at, at],
      ],
      // When the INSERT fails on the acctuniqueid: the start query's fallback.
      startAgain: (at: string, info = 'again-info'): [string, unknown[]] => [
        'UPDATE radacct SET acctstarttime = ?, acctupdatetime = ?, connectinfo_start = ? WHERE acctuniqueid = ?',
        [at, at, info, uid],
      ],
      interim: (at: string, time: number, up: number, down: number): [string, unknown[]] => [
        (kind === 'mysql'
          ? 'UPDATE radacct SET acctupdatetime = (@acctupdatetime_old:=acctupdatetime), acctupdatetime = ?, acctinterval = UNIX_TIMESTAMP(?) - UNIX_TIMESTAMP(@acctupdatetime_old), '
          : 'UPDATE radacct SET acctupdatetime = ?, acctinterval = 0, ') +
          "framedipaddress = '100.64.0.9', acctsessiontime = ?, acctinputoctets = ?, acctoutputoctets = ? WHERE acctuniqueid = ?",
        kind === 'mysql' ? [at, at, time, up, down, uid] : [at, time, up, down, uid],
      ],
      stop: (at: string, time: number, up: number, down: number): [string, unknown[]] => [
        "UPDATE radacct SET acctstoptime = ?, acctsessiontime = ?, acctinputoctets = ?, acctoutputoctets = ?, acctterminatecause = 'Lost-Carrier', connectinfo_stop = 'stop-info' WHERE acctuniqueid = ?",
        [at, time, up, down, uid],
      ],
    });
    /** FreeRADIUS's queries in one transaction: the feed reads none of them before the others. */
    async function together(...statements: Array<[string, unknown[]]>): Promise<void> {
      if (kind === 'sqlite') {
        await db.query('BEGIN');
        for (const [sql, params] of statements) await db.query(sql, params);
        await db.query('COMMIT');
        return;
      }
      const conn = await createConnection({ ...db.mysql!, database: db.database });
      try {
        await conn.query('BEGIN');
        for (const [sql, params] of statements) await conn.query(sql, params);
        await conn.query('COMMIT');
      } finally {
        await conn.end();
      }
    }
    // async: SQLite's test connection throws at once rather than rejecting.
    const run = async ([sql, params]: [string, unknown[]]) => db.query(sql, params);
    async function row(uid: string) {
      const [r] = await db.query<Record<string, unknown>>(
        'SELECT CASE WHEN acctstoptime IS NULL THEN 1 ELSE 0 END AS open, acctterminatecause AS cause, connectinfo_start AS infoStart, connectinfo_stop AS infoStop, acctinterval AS `interval`, acctsessiontime AS time, acctinputoctets AS up, acctoutputoctets AS down FROM radacct WHERE acctuniqueid = ?',
        [uid],
      );
      return {
        ...r,
        open: Number(r.open),
        interval: r.interval === null ? null : Number(r.interval),
        time: Number(r.time),
        up: Number(r.up),
        down: Number(r.down),
      };
    }
    async function usage(user: string): Promise<[number, number]> {
      const [u] = await db.query<{ up: unknown; down: unknown }>(
        'SELECT SUM(upload_bytes) AS up, SUM(download_bytes) AS down FROM rg_usage_monthly WHERE username = ?',
        [user],
      );
      return [Number(u.up), Number(u.down)];
    }
    /**
     * The feed's reopenClosed for `uid`'s row, of a kind-5 change, as a page read it: the row as it is now, with
     * `asRead` of it in place of some columns (a page read before a later write). Returns
     * its counts and the row as it left it.
     */
    async function reopenAsRead(uid: string, asRead: (now: RadAcct) => Partial<RadAcct>) {
      const repo = api.app.get(TransactionsService);
      const [now] = await repo.run((m) => m.getRepository(RadAcct).findBy({ acctUniqueId: uid }));
      const id = String(now.radAcctId);
      const byId = new Map([[id, Object.assign(new RadAcct(), now, asRead(now))]]);
      const count = await reopenClosed(repo, [id], byId, new Set([id]));
      return { count, row: byId.get(id)! };
    }
    const nothingReopened = { reused: 0, revived: 0, restarted: 0 };
    /**
     * What the feed leaves of a row, closed or open, that the new session's Start
     * (`s.startAgain(at)`) reused, while no Interim-Update came since.
     */
    const newSession = {
      open: 1,
      cause: '',
      infoStart: 'again-info',
      infoStop: '',
      interval: null,
      time: 0,
      up: 0,
      down: 0,
    };
    /** A row open with the new session's Interim-Update `s.interim(ago(25), 300, 70, 80)`. */
    const afterInterim = { open: 1, time: 300, up: 70, down: 80 };
    /**
     * A session FreeRADIUS wrote and stopped an hour ago (at `stoppedAt`), its three events
     * published.
     */
    async function endedSession(uid: string, user: string) {
      const s = fr(uid, user);
      const startedAt = ago(180);
      const stoppedAt = ago(60);
      await run(s.start(startedAt));
      await run(s.interim(ago(120), 3600, 5000, 9000));
      await run(s.stop(stoppedAt, 7200, 6000, 10000));
      await waitFor(() => eventsOf(uid).length === 3);
      expect(eventsOf(uid)).toEqual(['STARTED', 'UPDATED', 'STOPPED']);
      return { ...s, startedAt, stoppedAt };
    }

    it('makes the row the new session: STARTED, open, counters from 0, its whole traffic counted', async () => {
      const s = await endedSession('reuse-1', 'reuse-user');
      expect(await usage('reuse-user')).toEqual([6000, 10000]);
      const got = collect(
        api.wsClient(),
        `subscription { sessionEvents(username: "reuse-user") { ${EVENT_FIELDS} } }`,
        2,
      );
      await new Promise((r) => setTimeout(r, 200));
      // The new session's Start: its INSERT fails on the acctuniqueid, then the fallback.
      await expect(run(s.start(ago(30)))).rejects.toThrow(/duplicate|UNIQUE/i);
      await run(s.startAgain(ago(30)));
      await waitFor(() => eventsOf('reuse-1').length === 4);
      expect(await row('reuse-1')).toEqual(newSession);
      // Its first Interim-Update, lower than the old session's counters, counts whole.
      await run(s.interim(ago(20), 600, 100, 200));
      const { results, errors } = await got;
      expect(errors).toEqual([]);
      expect(results.map((r) => r.sessionEvents.type)).toEqual(['STARTED', 'UPDATED']);
      expect(results[0].sessionEvents.session).toMatchObject({
        stoppedAt: null,
        terminateCause: null,
      });
      expect(String(results[0].sessionEvents.session.uploadBytes)).toBe('0');
      expect(String(results[1].sessionEvents.session.uploadBytes)).toBe('100');
      expect(await usage('reuse-user')).toEqual([6100, 10200]);
      const { body } = await api.gql(
        '{ onlineSessions(search: "reuse-user", first: 5) { edges { node { uniqueId } } } }',
      );
      expect(body.data.onlineSessions.edges.map((e: any) => e.node.uniqueId)).toEqual(['reuse-1']);
      // Its Stop ends it, as any open session's.
      await run(s.stop(ago(10), 1200, 300, 400));
      await waitFor(() => eventsOf('reuse-1').length === 6);
      expect(eventsOf('reuse-1').slice(3)).toEqual(['STARTED', 'UPDATED', 'STOPPED']);
      expect(await usage('reuse-user')).toEqual([6300, 10400]);
    });

    it("changes nothing for a copy of the row's own Start a second off, where the stop is earlier than the start", async () => {
      const s = fr('reuse-back', 'reuse-back-user');
      // The NAS clock went back during the session: its Stop is earlier than its Start.
      const startedAt = new Date(Date.now() - 60 * 60_000);
      await run(s.start(sqlDatetime(startedAt)));
      await run(s.interim(ago(50), 600, 5000, 9000));
      await run(s.stop(ago(120), 700, 6000, 10000));
      await waitFor(() => eventsOf('reuse-back').length === 3);
      const before = await row('reuse-back');
      // Copies of the Start from a NAS without Event-Timestamp (the arrival less
      // Acct-Delay-Time): a second before and a second after its first time.
      for (const off of [-1000, 1000]) {
        await run(s.startAgain(sqlDatetime(new Date(startedAt.getTime() + off)), 'start-info'));
      }
      await new Promise((r) => setTimeout(r, 400));
      expect(eventsOf('reuse-back')).toEqual(['STARTED', 'UPDATED', 'STOPPED']);
      expect(await row('reuse-back')).toEqual(before);
    });

    it('changes nothing for a Start no later than the stop (a late copy of the old Start)', async () => {
      const s = await endedSession('reuse-late', 'reuse-late-user');
      const before = await row('reuse-late');
      await run(s.startAgain(s.startedAt, 'start-info')); // the row's own Start, sent again
      await run(s.startAgain(ago(90))); // earlier than the stop
      await run(s.startAgain(s.stoppedAt)); // the same second
      await new Promise((r) => setTimeout(r, 400));
      expect(eventsOf('reuse-late')).toEqual(['STARTED', 'UPDATED', 'STOPPED']);
      expect(await row('reuse-late')).toEqual({ ...before, infoStart: 'again-info' });
    });

    it('keeps the counters of an Interim-Update that came before the feed reopened the row', async () => {
      const s = await endedSession('reuse-interim', 'reuse-interim-user');
      await together(s.startAgain(ago(30)), s.interim(ago(25), 300, 70, 80));
      await waitFor(() => eventsOf('reuse-interim').length === 4);
      expect(eventsOf('reuse-interim')[3]).toBe('STARTED');
      expect(await row('reuse-interim')).toMatchObject({
        ...afterInterim,
        cause: '',
        infoStop: '',
        interval: null,
      });
    });

    it("leaves the row to the new session's Stop when it came first, and publishes that STOPPED", async () => {
      const s = await endedSession('reuse-stop', 'reuse-stop-user');
      await together(s.startAgain(ago(30)), s.stop(ago(5), 1500, 40, 50));
      await waitFor(() => eventsOf('reuse-stop').length === 4);
      expect(eventsOf('reuse-stop')[3]).toBe('STOPPED');
      expect(await row('reuse-stop')).toMatchObject({ open: 0, cause: 'Lost-Carrier', up: 40 });
      // The reopening's own guard: a page read between the Start and the Stop reopens nothing.
      const reopened = await reopenAsRead('reuse-stop', () => ({
        acctStopTime: new Date(Date.now() - 60 * 60_000),
      }));
      expect(reopened.count).toEqual(nothingReopened);
      expect(reopened.row.acctStopTime).not.toBeNull();
      expect(await row('reuse-stop')).toMatchObject({ open: 0, cause: 'Lost-Carrier', up: 40 });
    });

    /** The stale-session reaper closes `uid`'s row (Stale-Session), as after its NAS went quiet. */
    async function closeAsStale(uid: string) {
      const [{ id }] = await db.query<{ id: number | string }>(
        'SELECT radacctid AS id FROM radacct WHERE acctuniqueid = ?',
        [uid],
      );
      expect(await api.app.get(StaleSessionReaper).closeStale([String(id)])).toHaveLength(1);
    }

    /**
     * A session FreeRADIUS wrote three hours ago with an Interim-Update two hours ago (counters
     * 5000 and 9000), closed as stale since (its two events published).
     */
    async function staleSession(uid: string, user: string) {
      const s = fr(uid, user);
      await run(s.start(ago(180)));
      await run(s.interim(ago(120), 3600, 5000, 9000));
      await waitFor(() => eventsOf(uid).length === 2);
      await closeAsStale(uid);
      return s;
    }

    it('makes a row closed as stale that a later Start reuses the new session too, counters from 0', async () => {
      const s = await staleSession('reuse-stale', 'reuse-stale-user');
      await run(s.startAgain(ago(30)));
      await waitFor(() => eventsOf('reuse-stale').length === 4);
      expect(eventsOf('reuse-stale').slice(2)).toEqual(['STOPPED', 'STARTED']);
      expect(await row('reuse-stale')).toMatchObject({ open: 1, cause: '', time: 0, up: 0 });
    });

    it("counts a stale-closed session's traffic once when a copy of its Start comes a second off (its stop earlier than its start)", async () => {
      const s = fr('reuse-stale-copy', 'reuse-stale-copy-user');
      const startedAt = new Date(Date.now() - 60 * 60_000);
      await run(s.start(sqlDatetime(startedAt)));
      // The NAS clock went back: its last report is earlier than its Start.
      await run(s.interim(ago(120), 600, 5000, 9000));
      await waitFor(() => eventsOf('reuse-stale-copy').length === 2);
      await closeAsStale('reuse-stale-copy');
      await waitFor(() => eventsOf('reuse-stale-copy').length === 3);
      // A copy of its Start, a second off (arrival less Acct-Delay-Time): not a new session, so
      // its counters are not cleared (the NAS still sending it, the session comes back open).
      await run(s.startAgain(sqlDatetime(new Date(startedAt.getTime() + 1000)), 'start-info'));
      await new Promise((r) => setTimeout(r, 400));
      expect(await row('reuse-stale-copy')).toMatchObject({ up: 5000, down: 9000 });
      await run(s.interim(ago(1), 3700, 5100, 9100));
      await until(
        async () => (await usage('reuse-stale-copy-user'))[0] >= 5100,
        'the interim in the usage',
      );
      await new Promise((r) => setTimeout(r, 400));
      expect(await usage('reuse-stale-copy-user')).toEqual([5100, 9100]);
    });

    /**
     * An open session FreeRADIUS wrote three hours ago with an Interim-Update two hours ago
     * (counters 5000 and 9000), its two events published: a NAS that then lost power sent no
     * Stop and no Accounting-On.
     */
    async function openSession(uid: string, user: string) {
      const s = fr(uid, user);
      const startedAt = ago(180);
      const reportedAt = ago(120);
      await run(s.start(startedAt));
      await run(s.interim(reportedAt, 3600, 5000, 9000));
      await waitFor(() => eventsOf(uid).length === 2);
      expect(await usage(user)).toEqual([5000, 9000]);
      return { ...s, startedAt, reportedAt };
    }

    it('makes an open row that a later Start reuses (its NAS lost power) the new session: STARTED, counters from 0', async () => {
      const s = await openSession('reuse-open', 'reuse-open-user');
      await expect(run(s.start(ago(30)))).rejects.toThrow(/duplicate|UNIQUE/i);
      await run(s.startAgain(ago(30)));
      await waitFor(() => eventsOf('reuse-open').length === 3);
      expect(eventsOf('reuse-open')).toEqual(['STARTED', 'UPDATED', 'STARTED']);
      expect(await row('reuse-open')).toEqual(newSession);
      // The new session's first Interim-Update, far lower than the old counters, counts whole.
      await run(s.interim(ago(20), 600, 10, 10));
      await waitFor(() => eventsOf('reuse-open').length === 4);
      expect(eventsOf('reuse-open')[3]).toBe('UPDATED');
      expect(await usage('reuse-open-user')).toEqual([5010, 9010]);
      // A page offered again (its publish failed) finds the row open with its interim's
      // counters: STARTED again, and the counters stay.
      expect((await reopenAsRead('reuse-open', () => ({}))).count).toEqual(nothingReopened);
      expect(await row('reuse-open')).toMatchObject({ open: 1, time: 600, up: 10, down: 10 });
    });

    it("publishes a copy of the session's own Start, or one no later than its last report, as UPDATED, counters kept", async () => {
      const s = await openSession('reuse-open-copy', 'reuse-open-copy-user');
      await run(s.startAgain(s.reportedAt)); // the same second as the last report
      await waitFor(() => eventsOf('reuse-open-copy').length === 3);
      await run(s.startAgain(ago(150))); // between the start and the last report
      await waitFor(() => eventsOf('reuse-open-copy').length === 4);
      await run(s.startAgain(s.startedAt, 'start-info')); // the row's own Start, sent again
      await waitFor(() => eventsOf('reuse-open-copy').length === 5);
      await new Promise((r) => setTimeout(r, 300));
      expect(eventsOf('reuse-open-copy')).toEqual([
        'STARTED',
        'UPDATED',
        'UPDATED',
        'UPDATED',
        'UPDATED',
      ]);
      expect(await row('reuse-open-copy')).toMatchObject({
        open: 1,
        infoStart: 'start-info',
        time: 3600,
        up: 5000,
        down: 9000,
      });
    });

    it('keeps the counters of an Interim-Update of the new session that came before the feed read its Start', async () => {
      const s = await openSession('reuse-open-interim', 'reuse-open-interim-user');
      await together(s.startAgain(ago(30)), s.interim(ago(25), 300, 70, 80));
      await waitFor(() => eventsOf('reuse-open-interim').length === 4);
      expect(eventsOf('reuse-open-interim').slice(2)).toEqual(['STARTED', 'UPDATED']);
      expect(await row('reuse-open-interim')).toMatchObject(afterInterim);
      // The reset's own guard: a page read between the Start and that interim resets nothing.
      await reopenAsRead('reuse-open-interim', (now) => ({ acctUpdateTime: now.acctStartTime }));
      expect(await row('reuse-open-interim')).toMatchObject(afterInterim);
    });

    it("publishes the new session's Stop that came before the feed read its Start once, as STOPPED", async () => {
      const s = await openSession('reuse-open-stop', 'reuse-open-stop-user');
      await together(s.startAgain(ago(30)), s.stop(ago(5), 1500, 40, 50));
      await waitFor(() => eventsOf('reuse-open-stop').length === 3);
      await new Promise((r) => setTimeout(r, 300));
      expect(eventsOf('reuse-open-stop')).toEqual(['STARTED', 'UPDATED', 'STOPPED']);
      expect(await row('reuse-open-stop')).toMatchObject({
        open: 0,
        cause: 'Lost-Carrier',
        up: 40,
      });
    });

    /** 999 changes of a row that does not exist (they publish nothing): a page's worth, less one. */
    const almostAPage: [string, unknown[]] = [
      `INSERT INTO rg_radacct_changes (radacctid, kind) VALUES ${Array(999).fill('(0, 2)').join(', ')}`,
      [],
    ];

    it('publishes that Stop once too when the Start ends a full page of the queue and the Stop begins the next', async () => {
      const s = await openSession('reuse-open-page', 'reuse-open-page-user');
      // The feed's page of 1,000 ends with the Start's change (5), and the Stop's (3) waits.
      await together(almostAPage, s.startAgain(ago(30)), s.stop(ago(5), 1500, 40, 50));
      await waitFor(() => eventsOf('reuse-open-page').length === 3);
      await new Promise((r) => setTimeout(r, 300));
      expect(eventsOf('reuse-open-page')).toEqual(['STARTED', 'UPDATED', 'STOPPED']);
      expect(await db.query('SELECT * FROM rg_radacct_changes')).toEqual([]);
    });

    it("publishes a stale-closed session's real Stop once when its late report ends a full page and the Stop begins the next", async () => {
      const s = await staleSession('stale-page', 'stale-page-user');
      await waitFor(() => eventsOf('stale-page').length === 3);
      // Both changes to the row closed as stale are kind 4; the page ends with the report's.
      await together(
        almostAPage,
        s.interim(ago(10), 10_000, 6000, 9500),
        s.stop(ago(5), 10_300, 6100, 9600),
      );
      await waitFor(() => eventsOf('stale-page').length === 4);
      await new Promise((r) => setTimeout(r, 300));
      expect(eventsOf('stale-page')).toEqual(['STARTED', 'UPDATED', 'STOPPED', 'STOPPED']);
      expect(await row('stale-page')).toMatchObject({ open: 0, cause: 'Lost-Carrier', up: 6100 });
      expect(await db.query('SELECT * FROM rg_radacct_changes')).toEqual([]);
    });

    it("publishes the new session's Stop once when it commits while the feed reads the Start's page (after the queue, before the row)", async () => {
      const s = await openSession('reuse-open-race', 'reuse-open-race-user');
      const [{ id }] = await db.query<{ id: unknown }>(
        "SELECT radacctid AS id FROM radacct WHERE acctuniqueid = 'reuse-open-race'",
      );
      // The feed's first read of the row (its page holds the Start's change, 5): the Stop
      // commits just before it. MySQL reads the row in a snapshot of its own, newer than the
      // queue's; SQLite reads it in the page's, and then again after reopening it.
      const findBy = Repository.prototype.findBy;
      let stopped = false;
      const spy = jest.spyOn(Repository.prototype, 'findBy').mockImplementation(async function (
        this: Repository<RadAcct>,
        where,
      ) {
        const ids = (where as { radAcctId?: { value?: unknown } }).radAcctId?.value;
        if (!stopped && this.metadata.target === RadAcct && Array.isArray(ids)) {
          if (ids.map(String).includes(String(id))) {
            stopped = true;
            await run(s.stop(ago(5), 1500, 40, 50));
          }
        }
        return findBy.call(this, where) as Promise<RadAcct[]>;
      });
      try {
        await run(s.startAgain(ago(30)));
        await waitFor(() => eventsOf('reuse-open-race').length >= 3);
        await new Promise((r) => setTimeout(r, 400));
      } finally {
        spy.mockRestore();
      }
      expect(stopped).toBe(true);
      expect(eventsOf('reuse-open-race')).toEqual(['STARTED', 'UPDATED', 'STOPPED']);
      expect(await row('reuse-open-race')).toMatchObject({ open: 0, cause: 'Lost-Carrier' });
      expect(await db.query('SELECT * FROM rg_radacct_changes')).toEqual([]);
    });
  });

  it('closes a stale session whose NAS clock went back between its Start and its last update', async () => {
    // Its session time from the times would be negative: the unsigned column would refuse it
    // and fail every page the reaper tried.
    await insertOpen('clock-back', 'clock-back');
    const past = kind === 'mysql' ? 'NOW() - INTERVAL 2 HOUR' : "datetime('now', '-2 hours')";
    await db.query(
      `UPDATE radacct SET acctupdatetime = ${past}, rg_seen_at = ${past} WHERE acctuniqueid = 'clock-back'`,
    );
    const [{ id }] = await db.query<{ id: number | string }>(
      "SELECT radacctid AS id FROM radacct WHERE acctuniqueid = 'clock-back'",
    );
    const closed = await api.app.get(StaleSessionReaper).closeStale([String(id)]);
    expect(closed.map((r) => [r.acctSessionTime, r.acctTerminateCause])).toEqual([
      [0, 'Stale-Session'],
    ]);
  });

  it("does not publish radgraph's own write through the feed, even while its transaction is open", async () => {
    // As the listener's SQLite path and the reaper write: marked, and awaiting between statements
    // while the feed polls every 100 ms.
    await api.app.get(TransactionsService).run((m) =>
      RadacctOrigin.around(m, async () => {
        await m.query(
          `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime, acctupdatetime)
           VALUES ('s-own-1', 'own-1', 'own', '10.0.0.1', ${now()}, ${now()})`,
        );
        await new Promise((r) => setTimeout(r, 350));
      }),
    );
    await insertOpen('after-own-1', 'other');
    await waitFor(() => eventsOf('after-own-1').length === 1);
    expect(eventsOf('own-1')).toEqual([]);
  });

  it('does not close a live session whose last gap was an interim sent again (acctinterval 1)', async () => {
    await insertOpen('resent-1', 'resent');
    const ago = (s: number) =>
      kind === 'mysql' ? `NOW() - INTERVAL ${s} SECOND` : `datetime('now', '-${s} seconds')`;
    // 400 s since the last change: past the floor (300 s), well within 3 × the default 600 s.
    await db.query(
      `UPDATE radacct SET acctinterval = 1, rg_seen_at = ${ago(400)} WHERE acctuniqueid = 'resent-1'`,
    );
    expect(await api.app.get(StaleSessionReaper).reap()).toBe(0);
    const [row] = await db.query<{ acctstoptime: unknown }>(
      "SELECT acctstoptime FROM radacct WHERE acctuniqueid = 'resent-1'",
    );
    expect(row.acctstoptime).toBeNull();
    // A real interval still counts: 3 × 300 s, and 1,000 s have passed.
    await db.query(
      `UPDATE radacct SET acctinterval = 300, rg_seen_at = ${ago(1000)} WHERE acctuniqueid = 'resent-1'`,
    );
    expect(await api.app.get(StaleSessionReaper).reap()).toBe(1);
  });

  it('keeps a page the transport did not take, and publishes it at the next poll', async () => {
    const bus: unknown = api.app.get(SessionEventBus);
    const { engine } = (bus as { transport: { engine: PubSubEngine } }).transport;
    const attempts = jest
      .spyOn(engine, 'publish')
      .mockRejectedValueOnce(new Error('Redis is unreachable'));
    try {
      const got = collect(
        api.wsClient(),
        `subscription { sessionEvents(username: "retried") { ${EVENT_FIELDS} } }`,
        1,
      );
      await new Promise((r) => setTimeout(r, 200));
      await insertOpen('retried-1', 'retried');
      const { results } = await got;
      expect(results.map((r) => r.sessionEvents.type)).toEqual(['STARTED']);
      expect(attempts.mock.calls.length).toBeGreaterThanOrEqual(2);
      // Then consumed (after its publish).
      await until(async () => {
        const [{ n }] = await db.query<{ n: number | string }>(
          'SELECT COUNT(*) AS n FROM rg_radacct_changes',
        );
        return Number(n) === 0;
      }, 'the queue to be consumed');
    } finally {
      attempts.mockRestore();
    }
  });

  it('closes a session as stale once, when two callers (the reaper and the reconciler) close it at once', async () => {
    await insertOpen('stale-twice', 'twice');
    await waitFor(() => eventsOf('stale-twice').length === 1);
    const [{ id }] = await db.query<{ id: number | string }>(
      "SELECT radacctid AS id FROM radacct WHERE acctuniqueid = 'stale-twice'",
    );
    const reaper = api.app.get(StaleSessionReaper);
    const [a, b] = await Promise.all([
      reaper.closeStale([String(id)]),
      reaper.closeStale([String(id)]),
    ]);
    expect([a.length, b.length].sort()).toEqual([0, 1]);
    // Once more, after it was closed: nothing to close, nothing announced.
    expect(await reaper.closeStale([String(id)])).toEqual([]);
    await new Promise((r) => setTimeout(r, 400));
    expect(eventsOf('stale-twice')).toEqual(['STARTED', 'STOPPED']);
  });

  it('after nobody reaped for a long time (radgraph or its database down), gives every session a whole stale period first', async () => {
    // This instance's reaper stops: its heartbeat would renew the lease the test makes look
    // an hour old.
    await api.app.get(StaleSessionReaper).beforeApplicationShutdown();
    let other: RunningApp | undefined;
    const now = performance.now();
    const clock = jest.spyOn(performance, 'now');
    try {
      await insertOpen('outage-1', 'outage');
      await waitFor(() => eventsOf('outage-1').length === 1);
      const past = kind === 'mysql' ? 'NOW() - INTERVAL 2 HOUR' : "datetime('now', '-2 hours')";
      await db.query(`UPDATE radacct SET rg_seen_at = ${past} WHERE acctuniqueid = 'outage-1'`);
      // The reaper's lease ran out an hour ago: no instance has reaped since.
      const expired =
        kind === 'mysql'
          ? 'UTC_TIMESTAMP() - INTERVAL 1 HOUR'
          : "strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 hours')";
      await db.query('DELETE FROM rg_job_leases WHERE name = ?', [REAPER_LEASE]);
      await db.query(
        `INSERT INTO rg_job_leases (name, holder, expires_at) VALUES (?, 'gone', ${expired})`,
        [REAPER_LEASE],
      );
      // A second instance starts, on the same database: its heartbeat takes the lease (and
      // its reaper then runs at once); it ticks every 60 s, not during this test.
      other = await startApp(db, { CHANGE_FEED_INTERVAL_MS: '0' });
      const reaper = other.app.get(StaleSessionReaper);
      expect(await reaper.runOnce()).toBe(0);
      expect(await reaper.reap()).toBe(0);
      const open = await db.query<{ acctstoptime: unknown }>(
        "SELECT acctstoptime FROM radacct WHERE acctuniqueid = 'outage-1'",
      );
      expect(open).toEqual([{ acctstoptime: null }]);
      // Three default intervals (1800 s) after the gap ended, the session is stale again.
      clock.mockReturnValue(now + 1900_000);
      expect(await reaper.runOnce()).toBe(1);
      const [closed] = await db.query<{ cause: string }>(
        "SELECT acctterminatecause AS cause FROM radacct WHERE acctuniqueid = 'outage-1'",
      );
      expect(closed.cause).toBe('Stale-Session');
      // An instance that takes the lease over after a short gap reaps at once (the other tests).
    } finally {
      clock.mockRestore();
      await other?.close();
    }
  });

  if (kind === 'mysql') {
    it('misses nothing and doubles nothing with concurrent writers and a transaction that commits late', async () => {
      const conn = () =>
        createConnection({ ...db.mysql!, database: db.database, supportBigNumbers: true });
      const writers = await Promise.all([conn(), conn(), conn(), conn()]);
      const late = await conn();
      try {
        await late.query('BEGIN');
        await late.query(
          "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime) VALUES ('late', 'late-1', 'late', '10.0.0.1', NOW())",
        );
        // Four writers, 40 sessions each: insert, two updates, stop (FreeRADIUS autocommits).
        await Promise.all(
          writers.map(async (w, n) => {
            for (let i = 0; i < 40; i++) {
              const uid = `cc-${n}-${i}`;
              await w.query(
                "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, acctstarttime) VALUES (?, ?, 'cc', '10.0.0.1', NOW())",
                [uid, uid],
              );
              await w.query('UPDATE radacct SET acctinputoctets = 1 WHERE acctuniqueid = ?', [uid]);
              await w.query('UPDATE radacct SET acctinputoctets = 2 WHERE acctuniqueid = ?', [uid]);
              await w.query('UPDATE radacct SET acctstoptime = NOW() WHERE acctuniqueid = ?', [
                uid,
              ]);
            }
          }),
        );
        // The feed has published the later sequence numbers by now; the late one commits after.
        await waitFor(() => eventsOf('cc-3-39').length === 4, 10_000);
        await late.query('COMMIT');
        await waitFor(() => eventsOf('late-1').length === 1, 5000);
        for (let n = 0; n < 4; n++) {
          for (let i = 0; i < 40; i++) {
            expect([`cc-${n}-${i}`, eventsOf(`cc-${n}-${i}`)]).toEqual([
              `cc-${n}-${i}`,
              ['STARTED', 'UPDATED', 'UPDATED', 'STOPPED'],
            ]);
          }
        }
        expect(eventsOf('late-1')).toEqual(['STARTED']);
      } finally {
        await Promise.all([...writers, late].map((w) => w.end()));
      }
    });
  }
});
