import type { DataSource } from 'typeorm';
import { TransactionsService } from '../../src/database/transactions.service';
import type { AccountingRecord } from '../../src/radius/accounting/accounting-request';
import { PartlyCommittedError, RadacctWriter } from '../../src/radius/accounting/radacct-writer';
import { toSession } from '../../src/sessions/models/session.mapper';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const T0 = 1_763_800_000;

function record(
  status: AccountingRecord['status'],
  uid: string,
  over: Partial<AccountingRecord> = {},
): AccountingRecord {
  return {
    status,
    acctUniqueId: uid,
    acctSessionId: `s-${uid}`,
    username: `user-${uid}`,
    realm: '',
    nasIpAddress: '10.9.0.1',
    nasPortId: 'ether2',
    nasPortType: 'Ethernet',
    eventTime: T0,
    sessionTime: status === 'Start' ? null : 0,
    acctAuthentic: 'RADIUS',
    connectInfo: '',
    inputOctets: '0',
    outputOctets: '0',
    calledStationId: 'pppoe-1',
    callingStationId: 'AA:BB:CC:00:00:01',
    terminateCause: '',
    serviceType: 'Framed-User',
    framedProtocol: 'PPP',
    framedIpAddress: '100.64.0.1',
    framedIpv6Address: '',
    framedIpv6Prefix: '',
    framedInterfaceId: '',
    delegatedIpv6Prefix: '',
    ...over,
  };
}

/**
 * The listener's radacct writes on both dialects: FreeRADIUS's queries.conf semantics (the
 * differential e2e test compares them with FreeRADIUS itself on MariaDB) and radgraph's own
 * rules, in one batch and across batches.
 */
describe.each(['mysql', 'sqlite'] as const)('radacct writes on %s', (kind) => {
  let db: TestDatabase;
  let ds: DataSource;
  let writer: RadacctWriter;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    ds = await db.openDataSource();
    writer = new RadacctWriter(ds, new TransactionsService(ds));
  });

  /** Writes a batch, then reads the changed rows as the listener does after answering. */
  const write = async (records: AccountingRecord[]) => writer.rows(await writer.write(records));

  afterAll(async () => {
    await writer?.onApplicationShutdown();
    await ds?.destroy();
    await db?.drop();
  });

  const epoch = (c: string) =>
    kind === 'mysql'
      ? `UNIX_TIMESTAMP(${c}) AS ${c}`
      : `CAST(strftime('%s', ${c}) AS INTEGER) AS ${c}`;

  /** A row's session columns, times as Unix seconds. */
  const row = async (uid: string) =>
    (
      await db.query<Record<string, unknown>>(
        `SELECT ${['acctstarttime', 'acctupdatetime', 'acctstoptime'].map(epoch).join(', ')}, acctinterval, acctsessiontime, acctinputoctets, acctoutputoctets, acctterminatecause, framedipaddress FROM radacct WHERE acctuniqueid = ?`,
        [uid],
      )
    ).map((r) => {
      const num = (v: unknown) => (v === null ? null : Number(v));
      return {
        ...r,
        acctstarttime: num(r.acctstarttime),
        acctupdatetime: num(r.acctupdatetime),
        acctstoptime: num(r.acctstoptime),
        acctinterval: num(r.acctinterval),
        acctsessiontime: num(r.acctsessiontime),
        acctinputoctets: String(r.acctinputoctets),
        acctoutputoctets: String(r.acctoutputoctets),
      };
    });

  it('start, interims and stop in separate batches: one row, exact 64-bit counters', async () => {
    const big = ((5n << 32n) + 123n).toString();
    expect((await write([record('Start', 'a')])).map((c) => c.type)).toEqual(['STARTED']);
    await write([
      record('Interim-Update', 'a', { eventTime: T0 + 60, sessionTime: 60, inputOctets: '1000' }),
    ]);
    const changes = await write([
      record('Interim-Update', 'a', { eventTime: T0 + 120, sessionTime: 120, inputOctets: big }),
    ]);
    expect(changes.map((c) => [c.type, String(c.row.acctInputOctets)])).toEqual([['UPDATED', big]]);
    await write([
      record('Stop', 'a', {
        eventTime: T0 + 150,
        sessionTime: 150,
        inputOctets: big,
        outputOctets: '77',
        terminateCause: 'User-Request',
      }),
    ]);
    expect(await row('a')).toEqual([
      {
        acctstarttime: T0,
        acctupdatetime: T0 + 120,
        acctstoptime: T0 + 150,
        acctinterval: 60,
        acctsessiontime: 150,
        acctinputoctets: big,
        acctoutputoctets: '77',
        acctterminatecause: 'User-Request',
        framedipaddress: '100.64.0.1',
      },
    ]);
  });

  it("reads a session's IPv6 addresses back for its event", async () => {
    const [change] = await write([
      record('Start', 'v6', {
        framedIpAddress: '',
        framedIpv6Address: '2001:db8::5',
        framedIpv6Prefix: '2001:db8:1::/64',
        delegatedIpv6Prefix: '2001:db8:100::/56',
      }),
    ]);
    expect(toSession(change.row)).toMatchObject({
      ipAddress: null,
      ipv6Address: '2001:db8::5',
      ipv6Prefix: '2001:db8:1::/64',
      delegatedIpv6Prefix: '2001:db8:100::/56',
    });
  });

  it('a whole session in one batch keeps its order, and makes one event per packet', async () => {
    const changes = await write([
      record('Start', 'b'),
      record('Interim-Update', 'b', { eventTime: T0 + 60, sessionTime: 60, inputOctets: '10' }),
      record('Start', 'c'),
      record('Stop', 'b', { eventTime: T0 + 90, sessionTime: 90, inputOctets: '20' }),
    ]);
    expect(changes.map((c) => [c.type, c.row.acctUniqueId])).toEqual([
      ['STARTED', 'b'],
      ['UPDATED', 'b'],
      ['STARTED', 'c'],
      ['STOPPED', 'b'],
    ]);
    expect(await row('b')).toEqual([
      expect.objectContaining({ acctstoptime: T0 + 90, acctinputoctets: '20' }),
    ]);
  });

  it('counters never go down, and an older interim changes nothing else', async () => {
    await write([record('Start', 'd')]);
    await write([
      record('Interim-Update', 'd', { eventTime: T0 + 120, sessionTime: 120, inputOctets: '500' }),
    ]);
    // Late: an interim from before the last one, with lower counters and another address.
    await write([
      record('Interim-Update', 'd', {
        eventTime: T0 + 60,
        sessionTime: 60,
        inputOctets: '200',
        framedIpAddress: '100.64.0.99',
      }),
    ]);
    expect(await row('d')).toEqual([
      expect.objectContaining({
        acctupdatetime: T0 + 120,
        acctsessiontime: 120,
        acctinputoctets: '500',
        framedipaddress: '100.64.0.1',
      }),
    ]);
  });

  it('a late interim never reopens or changes a stopped session', async () => {
    await write([record('Start', 'e')]);
    await write([
      record('Stop', 'e', { eventTime: T0 + 100, sessionTime: 100, inputOctets: '900' }),
    ]);
    const before = await row('e');
    const changes = await write([
      record('Interim-Update', 'e', { eventTime: T0 + 200, sessionTime: 200, inputOctets: '950' }),
    ]);
    expect(changes).toEqual([]);
    expect(await row('e')).toEqual(before);
  });

  it('an interim for a session another writer closed makes no event; one for an open session does', async () => {
    // Interim-Updates are written without reading the session's state first: whether the
    // session was open is read off its row as written, which another writer may have closed.
    await write([record('Start', 'closed-behind'), record('Start', 'still-open')]);
    await db.query(
      `UPDATE radacct SET acctstoptime = acctstarttime, acctterminatecause = 'User-Request' WHERE acctuniqueid = ?`,
      ['closed-behind'],
    );
    // That close is another writer's: its change-feed row is not the writer's (see below).
    await db.query(
      'DELETE FROM rg_radacct_changes WHERE radacctid IN (SELECT radacctid FROM radacct WHERE acctuniqueid = ?)',
      ['closed-behind'],
    );
    const before = await row('closed-behind');
    const changes = await write([
      record('Interim-Update', 'closed-behind', { eventTime: T0 + 60, sessionTime: 60 }),
      record('Interim-Update', 'still-open', { eventTime: T0 + 60, sessionTime: 60 }),
    ]);
    expect(changes.map((c) => [c.type, c.row.acctUniqueId])).toEqual([['UPDATED', 'still-open']]);
    expect(await row('closed-behind')).toEqual(before);
  });

  /**
   * Closes a session as radgraph's stale-session reaper does: stopped at its last update, with
   * cause Stale-Session, as another writer (its change-feed row is not the writer's).
   */
  const closeAsStale = async (uid: string) => {
    await db.query(
      `UPDATE radacct SET acctstoptime = COALESCE(acctupdatetime, acctstarttime), acctterminatecause = 'Stale-Session' WHERE acctuniqueid = ?`,
      [uid],
    );
    await db.query(
      'DELETE FROM rg_radacct_changes WHERE radacctid IN (SELECT radacctid FROM radacct WHERE acctuniqueid = ?)',
      [uid],
    );
  };

  /** Session `uid`, open since T0 with 1000 bytes up at T0 + 300, then closed as stale. */
  const staleSince300 = async (uid: string) => {
    await write([record('Start', uid, { eventTime: T0 })]);
    await write([
      record('Interim-Update', uid, {
        eventTime: T0 + 300,
        sessionTime: 300,
        inputOctets: '1000',
      }),
    ]);
    await closeAsStale(uid);
    return uid;
  };

  /** A writer that has seen no row yet, as after a restart: it reads every session's state. */
  const withFreshWriter = async <T>(work: (w: RadacctWriter) => Promise<T>): Promise<T> => {
    const fresh = new RadacctWriter(ds, new TransactionsService(ds));
    try {
      return await work(fresh);
    } finally {
      await fresh.onApplicationShutdown();
    }
  };

  let staleSessions = 0;
  const kinds = (changes: Array<{ type: string; row: { acctUniqueId: string } }>) =>
    changes.map((c) => [c.type, c.row.acctUniqueId]);

  describe.each([
    ['a writer that saw the row', (records: AccountingRecord[]) => write(records)],
    [
      'a writer that did not',
      (records: AccountingRecord[]) => withFreshWriter(async (w) => w.rows(await w.write(records))),
    ],
  ])('a session radgraph closed as stale, written by %s', (by, writeWith) => {
    /**
     * Whether this writer reads the session's state before it writes the batch: always on
     * SQLite; on MySQL, not for a session whose row it saw (its state read, for a batch with a
     * Stop, goes in the same request as the writes).
     */
    const readsFirst = kind === 'sqlite' || by === 'a writer that did not';
    /** A session open since T0, last updated at T0 + 300, then closed as stale. */
    const staleSession = () => staleSince300(`stale-${kind}-${(staleSessions += 1)}`);

    it('comes back open with an Interim-Update later than the close: STARTED, counting again', async () => {
      const uid = await staleSession();
      const changes = await writeWith([
        record('Interim-Update', uid, {
          eventTime: T0 + 900,
          sessionTime: 900,
          inputOctets: '5000',
        }),
      ]);
      expect(kinds(changes)).toEqual([['STARTED', uid]]);
      expect(changes[0].row.acctStopTime).toBeNull();
      expect(await row(uid)).toEqual([
        expect.objectContaining({
          acctstarttime: T0,
          acctupdatetime: T0 + 900,
          acctstoptime: null,
          // Not the 600 s since the last update before the close (the stale-session rule would
          // wait three times that before closing it again): unknown until the next one.
          acctinterval: null,
          acctsessiontime: 900,
          acctinputoctets: '5000',
          acctterminatecause: '',
        }),
      ]);
      const usage = await db.query<{ up: string | number }>(
        'SELECT upload_bytes AS up FROM rg_usage_monthly WHERE username = ?',
        [`user-${uid}`],
      );
      expect(usage.map((u) => String(u.up))).toEqual(['5000']);
      // From then on it is an open session like any other.
      expect(
        kinds(
          await write([
            record('Interim-Update', uid, { eventTime: T0 + 1200, sessionTime: 1200 }),
            record('Stop', uid, { eventTime: T0 + 1300, sessionTime: 1300, inputOctets: '6000' }),
          ]),
        ),
      ).toEqual([
        ['UPDATED', uid],
        ['STOPPED', uid],
      ]);
      expect(await row(uid)).toEqual([expect.objectContaining({ acctinterval: 300 })]);
    });

    it('comes back open with a Start later than the close (as FreeRADIUS updates its times)', async () => {
      const uid = await staleSession();
      const changes = await writeWith([record('Start', uid, { eventTime: T0 + 900 })]);
      expect(kinds(changes)).toEqual([['STARTED', uid]]);
      expect(await row(uid)).toEqual([
        expect.objectContaining({
          acctstarttime: T0 + 900,
          acctupdatetime: T0 + 900,
          acctstoptime: null,
          acctterminatecause: '',
        }),
      ]);
    });

    it("takes a Start later than the close for a new session (a NAS that rebooted and reused the id): its own counters, all in the month's usage", async () => {
      const uid = await staleSession();
      // The NAS was down longer than the stale-session rule, then reused the Acct-Session-Id
      // (and port) for a new session of the same user.
      await writeWith([record('Start', uid, { eventTime: T0 + 5000 })]);
      await writeWith([
        record('Interim-Update', uid, {
          eventTime: T0 + 5300,
          sessionTime: 300,
          inputOctets: '10',
        }),
      ]);
      expect(await row(uid)).toEqual([
        expect.objectContaining({
          acctstarttime: T0 + 5000,
          acctupdatetime: T0 + 5300,
          acctstoptime: null,
          acctsessiontime: 300,
          acctinputoctets: '10',
        }),
      ]);
      const usage = await db.query<{ up: string | number }>(
        'SELECT upload_bytes AS up FROM rg_usage_monthly WHERE username = ?',
        [`user-${uid}`],
      );
      // The old session's 1000 and the new one's 10.
      expect(usage.map((u) => String(u.up))).toEqual(['1010']);
    });

    it('leaves out, when it reopens a session, the reports here no later than the close', async () => {
      // The last interim before the outage, sent again, then a new one: applied after the
      // reopening (which clears the update time) the first would set the session back in time
      // and make the interval the outage.
      const uid = await staleSession();
      const changes = await writeWith([
        record('Interim-Update', uid, {
          eventTime: T0 + 300,
          sessionTime: 300,
          inputOctets: '1000',
        }),
        record('Interim-Update', uid, {
          eventTime: T0 + 900,
          sessionTime: 900,
          inputOctets: '5000',
        }),
      ]);
      expect(kinds(changes)).toEqual([['STARTED', uid]]);
      expect(await row(uid)).toEqual([
        expect.objectContaining({
          acctupdatetime: T0 + 900,
          acctstoptime: null,
          acctinterval: null,
          acctinputoctets: '5000',
        }),
      ]);
    });

    it('reopens a session where its report comes among Accounting-On packets, in order', async () => {
      // Packets apply in turn: the first session's report reopens it, then the Accounting-On
      // closes it as NAS-Reboot; the Accounting-On finds the second closed already (it closes
      // open sessions), then its report reopens it.
      const [first, second] = [await staleSession(), await staleSession()];
      const changes = await writeWith([
        record('Interim-Update', first, {
          eventTime: T0 + 900,
          sessionTime: 900,
          inputOctets: '5000',
        }),
        record('Accounting-On', '', { eventTime: T0 + 1000 }),
        record('Interim-Update', second, { eventTime: T0 + 1100, sessionTime: 1100 }),
      ]);
      expect(kinds(changes).filter(([, u]) => u === first || u === second)).toEqual([
        ['STARTED', first],
        ['STOPPED', first],
        ['STARTED', second],
      ]);
      expect(await row(first)).toEqual([
        expect.objectContaining({
          acctupdatetime: T0 + 900,
          acctstoptime: T0 + 1000,
          acctinputoctets: '5000',
          acctterminatecause: 'NAS-Reboot',
        }),
      ]);
      expect(await row(second)).toEqual([
        expect.objectContaining({ acctupdatetime: T0 + 1100, acctstoptime: null }),
      ]);
    });

    it('stays closed, with no event, for a report no later than the close', async () => {
      const uid = await staleSession();
      const before = await row(uid);
      const changes = await writeWith([
        record('Interim-Update', uid, {
          eventTime: T0 + 300,
          sessionTime: 300,
          inputOctets: '1000',
        }),
      ]);
      expect(changes).toEqual([]);
      expect(await row(uid)).toEqual(before);
    });

    it("takes the session's real end from a later Stop: STOPPED with its counters and cause", async () => {
      const uid = await staleSession();
      const changes = await writeWith([
        record('Interim-Update', uid, {
          eventTime: T0 + 600,
          sessionTime: 600,
          inputOctets: '3000',
        }),
        record('Stop', uid, {
          eventTime: T0 + 700,
          sessionTime: 700,
          inputOctets: '4000',
          terminateCause: 'User-Request',
        }),
      ]);
      // A writer that reads first reopens the row, so the Interim-Update brings the session
      // back; one that wrote the batch before reading finds the Stop's end written over the
      // close. Either way STOPPED ends it, once.
      expect(kinds(changes)).toEqual([...(readsFirst ? [['STARTED', uid]] : []), ['STOPPED', uid]]);
      expect(changes.at(-1)!.row.acctTerminateCause).toBe('User-Request');
      expect(await row(uid)).toEqual([
        expect.objectContaining({
          acctstoptime: T0 + 700,
          acctsessiontime: 700,
          acctinputoctets: '4000',
          acctterminatecause: 'User-Request',
        }),
      ]);
    });

    it('writes a Stop no later than the close over it, and says STOPPED (as FreeRADIUS writes it)', async () => {
      const uid = await staleSession();
      const changes = await writeWith([
        record('Stop', uid, {
          eventTime: T0 + 300,
          sessionTime: 300,
          inputOctets: '1500',
          terminateCause: 'Lost-Carrier',
        }),
      ]);
      expect(kinds(changes)).toEqual([['STOPPED', uid]]);
      expect(await row(uid)).toEqual([
        expect.objectContaining({
          acctstoptime: T0 + 300,
          acctinputoctets: '1500',
          acctterminatecause: 'Lost-Carrier',
        }),
      ]);
    });

    it('reopens only the stale session of a batch that also has open, new and ended ones', async () => {
      const stale = await staleSession();
      const open = `open-${stale}`;
      await write([record('Start', open, { eventTime: T0 })]);
      const changes = await writeWith([
        record('Interim-Update', open, { eventTime: T0 + 900, sessionTime: 900 }),
        record('Interim-Update', stale, { eventTime: T0 + 900, sessionTime: 900 }),
        record('Start', `new-${stale}`, { eventTime: T0 + 900 }),
        record('Stop', `new-${stale}`, { eventTime: T0 + 960, sessionTime: 60 }),
        record('Interim-Update', stale, { eventTime: T0 + 1200, sessionTime: 1200 }),
      ]);
      expect(kinds(changes).sort()).toEqual(
        [
          ['UPDATED', open],
          ['STARTED', stale],
          ['UPDATED', stale],
          ['STARTED', `new-${stale}`],
          ['STOPPED', `new-${stale}`],
        ].sort(),
      );
      expect(await row(stale)).toEqual([
        expect.objectContaining({
          acctstoptime: null,
          acctupdatetime: T0 + 1200,
          acctinterval: 300,
        }),
      ]);
    });
  });

  describe.each([
    ['a writer that saw the row', (records: AccountingRecord[]) => write(records)],
    [
      'a writer that did not',
      (records: AccountingRecord[]) => withFreshWriter(async (w) => w.rows(await w.write(records))),
    ],
  ])('a Start later than the stop (a reused session id), written by %s', (by, writeWith) => {
    let reusedSessions = 0;
    /** A session id of this database and writer: `name-mysql-seen`. */
    const sessionUid = (name: string) =>
      `${name}-${kind}-${by === 'a writer that saw the row' ? 'seen' : 'fresh'}`;
    /** A session from T0 to T0 + 100 with 900 bytes up, its row stopped. */
    const endedSession = async () => {
      const uid = `${sessionUid('reused')}-${(reusedSessions += 1)}`;
      await write([record('Start', uid)]);
      await write([
        record('Stop', uid, {
          eventTime: T0 + 100,
          sessionTime: 100,
          inputOctets: '900',
          terminateCause: 'NAS-Reboot',
          connectInfo: 'old',
        }),
      ]);
      return uid;
    };
    /** A session open since T0 with 1000 bytes up at T0 + 300, then closed as stale. */
    const staleClosed = () =>
      staleSince300(`${sessionUid('reused-stale')}-${(reusedSessions += 1)}`);
    const usage = async (uid: string) =>
      (
        await db.query<{ up: string | number }>(
          'SELECT upload_bytes AS up FROM rg_usage_monthly WHERE username = ?',
          [`user-${uid}`],
        )
      ).map((u) => String(u.up));
    const radacctId = async (uid: string) =>
      (
        await db.query<{ id: string | number }>(
          'SELECT radacctid AS id FROM radacct WHERE acctuniqueid = ?',
          [uid],
        )
      ).map((r) => String(r.id));

    it('makes the row the new session: open, STARTED, its own addresses and counters, every byte in the usage', async () => {
      const uid = await endedSession();
      const id = await radacctId(uid);
      // After a NAS reboot, a new session with the same Acct-Session-Id, user and port, from
      // another device and with another address.
      const started = await writeWith([
        record('Start', uid, {
          eventTime: T0 + 1000,
          framedIpAddress: '100.64.0.77',
          callingStationId: 'AA:BB:CC:00:00:77',
          connectInfo: 'new',
        }),
      ]);
      expect(kinds(started)).toEqual([['STARTED', uid]]);
      expect(started[0].row).toMatchObject({
        acctStopTime: null,
        acctSessionTime: 0,
        framedIpAddress: '100.64.0.77',
        callingStationId: 'AA:BB:CC:00:00:77',
        acctTerminateCause: '',
      });
      expect(String(started[0].row.acctInputOctets)).toBe('0');
      expect(await row(uid)).toEqual([
        {
          acctstarttime: T0 + 1000,
          acctupdatetime: T0 + 1000,
          acctstoptime: null,
          acctinterval: null,
          acctsessiontime: 0,
          acctinputoctets: '0',
          acctoutputoctets: '0',
          acctterminatecause: '',
          framedipaddress: '100.64.0.77',
        },
      ]);
      const [other] = await db.query<Record<string, unknown>>(
        'SELECT callingstationid, connectinfo_start, connectinfo_stop FROM radacct WHERE acctuniqueid = ?',
        [uid],
      );
      expect(other).toEqual({
        callingstationid: 'AA:BB:CC:00:00:77',
        connectinfo_start: 'new',
        connectinfo_stop: '',
      });
      expect(await radacctId(uid)).toEqual(id);

      // Its first Interim-Update (10 bytes, below the old session's 900) counts in the usage.
      const updated = await writeWith([
        record('Interim-Update', uid, {
          eventTime: T0 + 1300,
          sessionTime: 300,
          inputOctets: '10',
          framedIpAddress: '100.64.0.77',
        }),
      ]);
      expect(kinds(updated)).toEqual([['UPDATED', uid]]);
      expect(await usage(uid)).toEqual(['910']);
      // An older Interim-Update of the new session, arriving late, changes nothing.
      await writeWith([
        record('Interim-Update', uid, { eventTime: T0 + 1200, sessionTime: 200, inputOctets: '5' }),
      ]);
      const stopped = await writeWith([
        record('Stop', uid, { eventTime: T0 + 1600, sessionTime: 600, inputOctets: '30' }),
      ]);
      expect(kinds(stopped)).toEqual([['STOPPED', uid]]);
      expect(await row(uid)).toEqual([
        expect.objectContaining({
          acctstarttime: T0 + 1000,
          acctupdatetime: T0 + 1300,
          acctstoptime: T0 + 1600,
          acctinterval: 300,
          acctsessiontime: 600,
          acctinputoctets: '30',
        }),
      ]);
      expect(await usage(uid)).toEqual(['930']);
      // Stopped again: a late Interim-Update changes nothing, and a late copy of the new
      // session's Start (its own time, before its stop) reopens nothing.
      expect(
        await writeWith([
          record('Interim-Update', uid, { eventTime: T0 + 1700, sessionTime: 700 }),
          record('Start', uid, { eventTime: T0 + 1000 }),
        ]),
      ).toEqual([]);
      expect(await row(uid)).toEqual([
        expect.objectContaining({ acctstoptime: T0 + 1600, acctinputoctets: '30' }),
      ]);
    });

    it('takes a new session whose Start and Stop come in one batch, and counts its traffic once', async () => {
      const uid = await endedSession();
      const changes = await writeWith([
        record('Start', uid, {
          eventTime: T0 + 1000,
          framedIpAddress: '100.64.0.77',
          callingStationId: 'AA:BB:CC:00:00:77',
        }),
        record('Stop', uid, {
          eventTime: T0 + 1600,
          sessionTime: 600,
          inputOctets: '30',
          terminateCause: 'User-Request',
          framedIpAddress: '100.64.0.77',
        }),
      ]);
      expect(kinds(changes)).toEqual([
        ['STARTED', uid],
        ['STOPPED', uid],
      ]);
      expect(await row(uid)).toEqual([
        expect.objectContaining({
          acctstarttime: T0 + 1000,
          acctstoptime: T0 + 1600,
          acctinputoctets: '30',
          acctterminatecause: 'User-Request',
          framedipaddress: '100.64.0.77',
        }),
      ]);
      expect(await usage(uid)).toEqual(['930']);
    });

    it('counts a new session whose Start and first Interim-Update come in one batch once, above the old counters too', async () => {
      const uid = await endedSession();
      const changes = await writeWith([
        record('Start', uid, { eventTime: T0 + 1000 }),
        record('Interim-Update', uid, {
          eventTime: T0 + 1300,
          sessionTime: 300,
          inputOctets: '1000',
        }),
      ]);
      expect(kinds(changes)).toEqual([
        ['STARTED', uid],
        ['UPDATED', uid],
      ]);
      expect(await usage(uid)).toEqual(['1900']);
    });

    it("ends the stale-closed session with the old session's later Stop, then takes the new one from its Start, in one batch", async () => {
      const uid = await staleClosed();
      const changes = await writeWith([
        record('Stop', uid, {
          eventTime: T0 + 600,
          sessionTime: 600,
          inputOctets: '2000',
          terminateCause: 'Lost-Carrier',
        }),
        record('Start', uid, { eventTime: T0 + 5000 }),
      ]);
      expect(kinds(changes)).toEqual([
        ['STOPPED', uid],
        ['STARTED', uid],
      ]);
      expect(await row(uid)).toEqual([
        expect.objectContaining({
          acctstarttime: T0 + 5000,
          acctstoptime: null,
          acctinputoctets: '0',
          acctterminatecause: '',
        }),
      ]);
      // The old session's 2000 bytes, once.
      expect(await usage(uid)).toEqual(['2000']);
    });

    it("takes a new session's Start for a stale-closed row even when the old session's later Interim-Update comes before it in the batch", async () => {
      const uid = await staleClosed();
      const changes = await writeWith([
        record('Interim-Update', uid, {
          eventTime: T0 + 600,
          sessionTime: 600,
          inputOctets: '2000',
        }),
        record('Start', uid, { eventTime: T0 + 5000 }),
      ]);
      // The old session's report changes nothing of its closed row (its last 1000 bytes are
      // not counted): reopening the row for it would leave the new session its counters.
      expect(kinds(changes)).toEqual([['STARTED', uid]]);
      expect(await row(uid)).toEqual([
        expect.objectContaining({
          acctstarttime: T0 + 5000,
          acctstoptime: null,
          acctinputoctets: '0',
        }),
      ]);
      expect(await usage(uid)).toEqual(['1000']);
      await writeWith([
        record('Interim-Update', uid, {
          eventTime: T0 + 5300,
          sessionTime: 300,
          inputOctets: '10',
        }),
      ]);
      expect(await usage(uid)).toEqual(['1010']);
    });

    it("takes a Start later than an open row's last report for a new session (a NAS that lost power, with no Stop)", async () => {
      const uid = sessionUid('reused-open');
      await write([record('Start', uid)]);
      await write([
        record('Interim-Update', uid, {
          eventTime: T0 + 300,
          sessionTime: 300,
          inputOctets: '5000',
        }),
      ]);
      // The NAS lost power: no Stop, no Accounting-On. Back up, it gives the same user, on the
      // same port, the same Acct-Session-Id.
      const changes = await writeWith([
        record('Start', uid, { eventTime: T0 + 2000, framedIpAddress: '100.64.0.88' }),
      ]);
      expect(kinds(changes)).toEqual([['STARTED', uid]]);
      expect(await row(uid)).toEqual([
        {
          acctstarttime: T0 + 2000,
          acctupdatetime: T0 + 2000,
          acctstoptime: null,
          acctinterval: null,
          acctsessiontime: 0,
          acctinputoctets: '0',
          acctoutputoctets: '0',
          acctterminatecause: '',
          framedipaddress: '100.64.0.88',
        },
      ]);
      // The new session's first report, far below the old one's 5000, counts whole.
      await writeWith([
        record('Interim-Update', uid, {
          eventTime: T0 + 2300,
          sessionTime: 300,
          inputOctets: '10',
        }),
      ]);
      expect(await usage(uid)).toEqual(['5010']);
      // A copy of the new session's Start, after that report, is the same session.
      expect(kinds(await writeWith([record('Start', uid, { eventTime: T0 + 2000 })]))).toEqual([
        ['UPDATED', uid],
      ]);
      expect(await row(uid)).toEqual([
        expect.objectContaining({ acctstarttime: T0 + 2000, acctinputoctets: '10' }),
      ]);
    });

    it("gives the old session's STOPPED its own row when the new session's Start follows in the batch", async () => {
      const uid = sessionUid('reused-stop-start');
      await write([record('Start', uid)]);
      const changes = await writeWith([
        record('Stop', uid, {
          eventTime: T0 + 100,
          sessionTime: 100,
          inputOctets: '7',
          terminateCause: 'Lost-Carrier',
        }),
        record('Start', uid, { eventTime: T0 + 1000, framedIpAddress: '100.64.0.42' }),
      ]);
      expect(kinds(changes)).toEqual([
        ['STOPPED', uid],
        ['STARTED', uid],
      ]);
      expect(changes[0].row).toMatchObject({
        acctStopTime: new Date((T0 + 100) * 1000),
        acctTerminateCause: 'Lost-Carrier',
        framedIpAddress: '100.64.0.1',
      });
      expect(String(changes[0].row.acctInputOctets)).toBe('7');
      expect(changes[1].row).toMatchObject({ acctStopTime: null, framedIpAddress: '100.64.0.42' });
      expect(String(changes[1].row.acctInputOctets)).toBe('0');
      expect(await usage(uid)).toEqual(['7']);
    });

    describe('copies of the Start from a NAS without Event-Timestamp, a second later', () => {
      // Their time is the arrival less Acct-Delay-Time, which can come out a second apart.
      const uidOf = (name: string) => sessionUid(`copy-${name}`);

      it('keep an open session before any report', async () => {
        const uid = uidOf('open');
        await write([record('Start', uid)]);
        expect(kinds(await writeWith([record('Start', uid, { eventTime: T0 + 1 })]))).toEqual([
          ['UPDATED', uid],
        ]);
      });

      it("count the session's traffic once after a copy at its own time moved the update time back", async () => {
        const uid = uidOf('late');
        await write([record('Start', uid)]);
        await write([
          record('Interim-Update', uid, {
            eventTime: T0 + 300,
            sessionTime: 300,
            inputOctets: '5000',
          }),
        ]);
        // As FreeRADIUS's fallback UPDATE does, a copy sets acctupdatetime to its own time.
        await writeWith([record('Start', uid, { eventTime: T0 })]);
        expect(kinds(await writeWith([record('Start', uid, { eventTime: T0 + 1 })]))).toEqual([
          ['UPDATED', uid],
        ]);
        await writeWith([
          record('Interim-Update', uid, {
            eventTime: T0 + 600,
            sessionTime: 600,
            inputOctets: '6000',
          }),
        ]);
        expect(await usage(uid)).toEqual(['6000']);
      });

      it('leave a session that ended at once closed', async () => {
        const uid = uidOf('ended');
        await write([record('Start', uid)]);
        await write([
          record('Stop', uid, { eventTime: T0, sessionTime: 0, terminateCause: 'User-Request' }),
        ]);
        expect(await writeWith([record('Start', uid, { eventTime: T0 + 1 })])).toEqual([]);
        expect(await row(uid)).toEqual([expect.objectContaining({ acctstoptime: T0 })]);
      });
    });

    it('keeps an open session for a copy of its Start at its own time, before any report', async () => {
      const uid = sessionUid('start-copy');
      await write([record('Start', uid, { framedIpAddress: '100.64.0.5' })]);
      const changes = await writeWith([
        record('Start', uid, { framedIpAddress: '100.64.0.6', connectInfo: 'copy' }),
      ]);
      expect(kinds(changes)).toEqual([['UPDATED', uid]]);
      // As FreeRADIUS writes it: the times and connectinfo_start, nothing else.
      expect(await row(uid)).toEqual([
        expect.objectContaining({ acctstarttime: T0, framedipaddress: '100.64.0.5' }),
      ]);
    });

    it('reopens nothing for a copy of the Start of a row whose stop is earlier than its start', async () => {
      // FreeRADIUS wrote a reused session's Start into the stopped row (its times only), as
      // it does when the NAS sent that Start to it: the row's start is now after its stop.
      const uid = await endedSession();
      await db.query(
        kind === 'mysql'
          ? 'UPDATE radacct SET acctstarttime = FROM_UNIXTIME(?), acctupdatetime = FROM_UNIXTIME(?) WHERE acctuniqueid = ?'
          : "UPDATE radacct SET acctstarttime = datetime(?, 'unixepoch'), acctupdatetime = datetime(?, 'unixepoch') WHERE acctuniqueid = ?",
        [T0 + 1000, T0 + 1000, uid],
      );
      // Queued for the change feed, which no instance runs here.
      await db.query(
        'DELETE FROM rg_radacct_changes WHERE radacctid IN (SELECT radacctid FROM radacct WHERE acctuniqueid = ?)',
        [uid],
      );
      const before = await row(uid);
      // The NAS sends the same Start again, to radgraph: not later than the row's start.
      expect(await writeWith([record('Start', uid, { eventTime: T0 + 1000 })])).toEqual([]);
      expect(await row(uid)).toEqual(before);
      // A later Start is a new session again.
      expect(kinds(await writeWith([record('Start', uid, { eventTime: T0 + 2000 })]))).toEqual([
        ['STARTED', uid],
      ]);
    });

    it("leaves the row closed for a copy of the old session's Start, and its old Stop sent again does not end the new one", async () => {
      const uid = await endedSession();
      const before = await row(uid);
      expect(await writeWith([record('Start', uid, { eventTime: T0 })])).toEqual([]);
      expect(await row(uid)).toEqual(before);
      const changes = await writeWith([
        record('Stop', uid, { eventTime: T0 + 100, sessionTime: 100, inputOctets: '900' }),
        record('Start', uid, { eventTime: T0 + 1000 }),
      ]);
      expect(kinds(changes)).toEqual([['STARTED', uid]]);
      expect(await row(uid)).toEqual([
        expect.objectContaining({ acctstarttime: T0 + 1000, acctstoptime: null }),
      ]);
    });
  });

  it.each(['seen', 'fresh'] as const)(
    'revives a stale-closed session whose Start, sent again a second late, comes with a later Interim-Update (a writer that %s the row)',
    async (by) => {
      const uid = `stale-copy-${kind}-${by}`;
      await write([record('Start', uid, { eventTime: T0 })]);
      await closeAsStale(uid); // no report before the close: its stop is its start
      const batch = [
        record('Start', uid, { eventTime: T0 + 1 }),
        record('Interim-Update', uid, {
          eventTime: T0 + 900,
          sessionTime: 900,
          inputOctets: '5000',
        }),
      ];
      const changes =
        by === 'seen'
          ? await write(batch)
          : await withFreshWriter(async (w) => w.rows(await w.write(batch)));
      expect(kinds(changes)).toEqual([
        ['STARTED', uid],
        ['UPDATED', uid],
      ]);
      expect(await row(uid)).toEqual([
        expect.objectContaining({ acctstoptime: null, acctinputoctets: '5000' }),
      ]);
    },
  );

  it('revives a stale-closed session whose Starts sent again move its start on by less than a minute each', async () => {
    const uid = `stale-copies-${kind}`;
    await write([record('Start', uid, { eventTime: T0 })]);
    await closeAsStale(uid); // no report before the close: its stop is its start
    const changes = await withFreshWriter(async (w) =>
      w.rows(
        await w.write([
          record('Start', uid, { eventTime: T0 + 30 }),
          record('Start', uid, { eventTime: T0 + 80 }),
          record('Interim-Update', uid, {
            eventTime: T0 + 200,
            sessionTime: 200,
            inputOctets: '5000',
          }),
        ]),
      ),
    );
    expect(kinds(changes)).toEqual([
      ['STARTED', uid],
      ['UPDATED', uid],
      ['UPDATED', uid],
    ]);
    expect(await row(uid)).toEqual([
      expect.objectContaining({ acctstoptime: null, acctinputoctets: '5000' }),
    ]);
  });

  it('gives each event its own row when a session id is reused twice in one batch', async () => {
    const uid = `two-reuses-${kind}`;
    const other = `two-reuses-other-${kind}`;
    await write([record('Start', uid)]);
    const changes = await withFreshWriter(async (w) =>
      w.rows(
        await w.write([
          record('Stop', uid, { eventTime: T0 + 100, sessionTime: 100, inputOctets: '7' }),
          record('Start', uid, { eventTime: T0 + 1000, framedIpAddress: '100.64.0.2' }),
          record('Interim-Update', other, { eventTime: T0 + 1000, sessionTime: 10 }),
          record('Stop', uid, { eventTime: T0 + 1100, sessionTime: 100, inputOctets: '8' }),
          record('Start', uid, { eventTime: T0 + 2000, framedIpAddress: '100.64.0.3' }),
        ]),
      ),
    );
    const seen = changes.map((c) => [
      c.type,
      c.row.acctUniqueId,
      String(c.row.acctInputOctets),
      c.row.framedIpAddress,
      c.row.acctStopTime === null,
    ]);
    expect(seen).toEqual([
      ['STOPPED', uid, '7', '100.64.0.1', false],
      ['STARTED', other, '0', '100.64.0.1', true],
      ['STARTED', uid, '8', '100.64.0.2', false],
      ['STOPPED', uid, '8', '100.64.0.2', false],
      ['STARTED', uid, '0', '100.64.0.3', true],
    ]);
  });

  it("takes the Starts after a NAS's Accounting-On, in the same batch, as new sessions in the rows it closed", async () => {
    const nas = '10.9.8.7';
    await write([record('Start', 'on-reused', { nasIpAddress: nas, eventTime: T0 })]);
    const changes = await write([
      record('Accounting-On', '', { nasIpAddress: nas, eventTime: T0 + 500 }),
      record('Start', 'on-reused', {
        nasIpAddress: nas,
        eventTime: T0 + 520,
        framedIpAddress: '100.64.9.9',
      }),
    ]);
    expect(kinds(changes)).toEqual([
      ['STOPPED', 'on-reused'],
      ['STARTED', 'on-reused'],
    ]);
    // Each event carries its own session: the old one as the Accounting-On closed it.
    expect(changes[0].row).toMatchObject({ acctTerminateCause: 'NAS-Reboot' });
    expect(changes[0].row.acctStopTime).toEqual(new Date((T0 + 500) * 1000));
    expect(changes[1].row).toMatchObject({ acctStopTime: null, framedIpAddress: '100.64.9.9' });
    expect(await row('on-reused')).toEqual([
      expect.objectContaining({
        acctstarttime: T0 + 520,
        acctstoptime: null,
        acctterminatecause: '',
        framedipaddress: '100.64.9.9',
      }),
    ]);
  });

  it('leaves a session closed otherwise (NAS-Reboot) closed on a later Interim-Update', async () => {
    await write([record('Start', 'rebooted', { nasIpAddress: '10.9.8.1', eventTime: T0 })]);
    await write([record('Accounting-On', '', { nasIpAddress: '10.9.8.1', eventTime: T0 + 100 })]);
    const before = await row('rebooted');
    for (const w of [
      write,
      (r: AccountingRecord[]) => withFreshWriter(async (f) => f.rows(await f.write(r))),
    ]) {
      const changes = await w([
        record('Interim-Update', 'rebooted', {
          nasIpAddress: '10.9.8.1',
          eventTime: T0 + 900,
          sessionTime: 900,
          inputOctets: '5',
        }),
      ]);
      expect(changes).toEqual([]);
    }
    expect(await row('rebooted')).toEqual(before);
  });

  it('a Stop for a session that ended otherwise makes no event', async () => {
    await write([record('Start', 'ended')]);
    await write([record('Stop', 'ended', { eventTime: T0 + 100, sessionTime: 100 })]);
    expect(
      await write([
        record('Stop', 'ended', { eventTime: T0 + 200, sessionTime: 200, inputOctets: '5' }),
      ]),
    ).toEqual([]);
  });

  it('interim without start and stop without start create the row (start = event - session time)', async () => {
    const changes = await write([
      record('Interim-Update', 'f', { eventTime: T0 + 300, sessionTime: 300, inputOctets: '1' }),
      record('Stop', 'g', { eventTime: T0 + 400, sessionTime: 100, inputOctets: '2' }),
    ]);
    expect(changes.map((c) => [c.type, c.row.acctUniqueId])).toEqual([
      ['STARTED', 'f'],
      ['STOPPED', 'g'],
    ]);
    expect(await row('f')).toEqual([
      expect.objectContaining({ acctstarttime: T0, acctupdatetime: T0 + 300, acctstoptime: null }),
    ]);
    expect(await row('g')).toEqual([
      expect.objectContaining({ acctstarttime: T0 + 300, acctstoptime: T0 + 400 }),
    ]);
  });

  it('writes the packets of a session whose row it wrote before and that was deleted since', async () => {
    // The writer remembers which sessions' rows it saw, and sends an UPDATE for them without
    // reading first; a row deleted behind its back must not swallow the packet.
    await write([record('Start', 'del', { eventTime: T0 })]);
    await db.query('DELETE FROM radacct WHERE acctuniqueid = ?', ['del']);
    const changes = await write([
      record('Start', 'other', { eventTime: T0 }),
      record('Interim-Update', 'del', { eventTime: T0 + 300, sessionTime: 300, inputOctets: '7' }),
      record('Interim-Update', 'del', { eventTime: T0 + 600, sessionTime: 600, inputOctets: '9' }),
    ]);
    expect(changes.map((c) => [c.type, c.row.acctUniqueId])).toEqual([
      ['STARTED', 'other'],
      ['STARTED', 'del'],
      ['UPDATED', 'del'],
    ]);
    expect(await row('del')).toEqual([
      expect.objectContaining({
        acctstarttime: T0,
        acctupdatetime: T0 + 600,
        acctinterval: 300,
        acctinputoctets: '9',
      }),
    ]);
  });

  it('keeps what committed when writing a deleted session again fails', async () => {
    await write([
      record('Start', 'pk', { eventTime: T0 }),
      record('Start', 'pg', { eventTime: T0 }),
    ]);
    await db.query('DELETE FROM radacct WHERE acctuniqueid = ?', ['pg']);
    await db.query(
      kind === 'mysql'
        ? "CREATE TRIGGER t_refuse_pg BEFORE INSERT ON radacct FOR EACH ROW IF NEW.acctuniqueid = 'pg' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused'; END IF"
        : "CREATE TRIGGER t_refuse_pg BEFORE INSERT ON radacct WHEN NEW.acctuniqueid = 'pg' BEGIN SELECT RAISE(ABORT, 'refused'); END",
    );
    const batch = [
      record('Interim-Update', 'pk', { eventTime: T0 + 300, sessionTime: 300 }),
      record('Interim-Update', 'pg', { eventTime: T0 + 300, sessionTime: 300 }),
    ];
    const failed = await writer.write(batch).then(
      () => null,
      (err: unknown) => err,
    );
    await db.query('DROP TRIGGER t_refuse_pg');
    if (kind === 'mysql') {
      // pk's UPDATE committed with the batch before pg turned out to be gone: it is reported
      // committed, and pg alone not written.
      expect(failed).toBeInstanceOf(PartlyCommittedError);
      const partly = failed as PartlyCommittedError;
      expect([...partly.unwritten]).toEqual(['pg']);
      expect(
        (await writer.rows(partly.committed)).map((c) => [c.type, c.row.acctUniqueId]),
      ).toEqual([['UPDATED', 'pk']]);
      expect(await row('pk')).toEqual([expect.objectContaining({ acctinterval: 300 })]);
    } else {
      // One transaction, one statement at a time: nothing committed.
      expect(failed).toBeInstanceOf(Error);
      expect(failed).not.toBeInstanceOf(PartlyCommittedError);
      expect(await row('pk')).toEqual([expect.objectContaining({ acctinterval: null })]);
    }
    expect(await row('pg')).toEqual([]);
  });

  it("Accounting-On closes that NAS's sessions started before it, with NAS-Reboot", async () => {
    await write([
      record('Start', 'h1', { nasIpAddress: '10.9.9.1', eventTime: T0 }),
      record('Start', 'h2', { nasIpAddress: '10.9.9.1', eventTime: T0 + 1000 }),
      record('Start', 'h3', { nasIpAddress: '10.9.9.2', eventTime: T0 }),
    ]);
    const changes = await write([
      record('Accounting-On', '', { nasIpAddress: '10.9.9.1', eventTime: T0 + 500 }),
    ]);
    expect(changes.map((c) => [c.type, c.row.acctUniqueId])).toEqual([['STOPPED', 'h1']]);
    expect(await row('h1')).toEqual([
      expect.objectContaining({
        acctstoptime: T0 + 500,
        acctsessiontime: 500,
        acctterminatecause: 'NAS-Reboot',
      }),
    ]);
    expect((await row('h2'))[0].acctstoptime).toBeNull();
    expect((await row('h3'))[0].acctstoptime).toBeNull();
    const reload = await db.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM nasreload WHERE nasipaddress = '10.9.9.1'",
    );
    expect(Number(reload[0].n)).toBe(1);
  });

  it('queues none of its own changes for the change feed', async () => {
    await write([record('Start', 'i'), record('Stop', 'i', { eventTime: T0 + 5 })]);
    const queued = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM rg_radacct_changes');
    expect(Number(queued[0].n)).toBe(0);
  });

  it('cuts strings to the column widths instead of failing the batch', async () => {
    await write([
      record('Start', 'j', { nasPortId: 'x'.repeat(100), connectInfo: '✓'.repeat(300) }),
    ]);
    const [r] = await db.query<{ nasportid: string; connectinfo_start: string }>(
      "SELECT nasportid, connectinfo_start FROM radacct WHERE acctuniqueid = 'j'",
    );
    expect(r.nasportid).toBe('x'.repeat(32));
    expect(r.connectinfo_start).toBe('✓'.repeat(128));
  });
});
