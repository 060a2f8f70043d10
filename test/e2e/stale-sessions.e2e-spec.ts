/**
 * A session radgraph's reaper closed as stale comes back when its NAS reports it again, end
 * to end: real FreeRADIUS 3.2 (radius-config/) and radgraph share one MariaDB database, and
 * graphql-ws clients subscribe to `sessionEvents`.
 *
 * The case: the NAS could not reach the RADIUS server (or radgraph was down) for longer than
 * the stale-session rule allows, so the reaper closed its sessions as Stale-Session; then the
 * NAS's Interim-Updates arrive again. The session must be online again (STARTED, open in
 * radacct, counted in the month's usage), and its Stop must end it with the real cause.
 * - Through FreeRADIUS: radclient's packets, written by rlm_sql; the change feed reopens the
 *   row FreeRADIUS updated.
 * - Straight to radgraph: the same through radgraph's own accounting listener.
 *
 * And a session that ended whose row a new session reuses: a NAS that rebooted gave the same
 * user and port an Acct-Session-Id it had given before, so FreeRADIUS's Start meets the old,
 * stopped row (same acctuniqueid) and its fallback UPDATE moves only the times. The change
 * feed makes the row the new session: STARTED, open, its traffic counted from 0. So it does for
 * an open row, whose NAS lost power (no Stop, no Accounting-On) and gave the same user and port
 * the same Acct-Session-Id when it came back.
 */
import { performance } from 'node:perf_hooks';
import { RunningApp, startApp } from '../support/app';
import { runAll } from '../support/cleanup';
import {
  expectRadiusCode,
  freeradiusDatabase,
  radclient,
  RunningFreeradius,
  startFreeradius,
} from '../support/freeradius';
import { accountingRequest, RadiusTestClient, sessionAttributes } from '../support/radius-packets';
import { Recorder } from '../support/session-recorder';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { AccountingListener } from '../../src/radius/accounting/accounting-listener.service';
import { SessionEventBus } from '../../src/sessions/events/session-event-bus.service';
import { StaleSessionReaper } from '../../src/sessions/stale/stale-session-reaper.service';

jest.setTimeout(60_000);

const NAS_SECRET = 'e2e-Stale-s3cret';
const NAS = '127.0.0.1';
const FEED_INTERVAL_MS = 200;
const THROUGH_FREERADIUS_MS = 2000;
const STRAIGHT_TO_RADGRAPH_MS = 100;

const FR_USER = 'stale.wanjiru';
const RG_USER = 'stale.otieno';
const REUSE_USER = 'reuse.achieng';
const OPEN_REUSE_USER = 'reuse.kamau';

describe('Sessions closed as stale come back when the NAS reports them again', () => {
  let db: TestDatabase;
  let radius: RunningFreeradius | undefined;
  let api: RunningApp | undefined;
  let byFrUser: Recorder;
  let byRgUser: Recorder;
  let byReuseUser: Recorder;
  let byOpenReuseUser: Recorder;

  beforeAll(async () => {
    db = await createTestDatabase('mysql');
    await db.query(
      'INSERT INTO nas (nasname, shortname, type, secret, description) VALUES (?, ?, ?, ?, ?)',
      [NAS, 'e2e-loopback', 'mikrotik', NAS_SECRET, 'radclient and the test client'],
    );
    radius = await startFreeradius({ db: freeradiusDatabase(db) });
    api = await startApp(db, { CHANGE_FEED_INTERVAL_MS: String(FEED_INTERVAL_MS) });
    const ws = api.wsClient();
    byFrUser = new Recorder('by FreeRADIUS user', ws, `(username: "${FR_USER}")`);
    byRgUser = new Recorder('by radgraph user', ws, `(username: "${RG_USER}")`);
    byReuseUser = new Recorder('by reused-row user', ws, `(username: "${REUSE_USER}")`);
    byOpenReuseUser = new Recorder(
      'by reused-open-row user',
      ws,
      `(username: "${OPEN_REUSE_USER}")`,
    );
    const bus = api.app.get(SessionEventBus);
    const deadline = Date.now() + 10_000;
    while (bus.stats.subscribers < 4) {
      if (Date.now() > deadline) throw new Error('the subscriptions did not start');
      await new Promise((r) => setTimeout(r, 20));
    }
  }, 60_000);

  afterAll(async () => {
    await runAll([() => api?.close(), () => radius?.stop(), () => db?.drop()]);
  }, 60_000);

  function app(): RunningApp {
    if (!api) throw new Error('the app did not start (see beforeAll)');
    return api;
  }

  /**
   * As the reaper finds it when the NAS has been silent for an hour: the session's last
   * change an hour ago by the server's clock. Then one reap, which must close exactly it.
   */
  async function reapAsSilent(username: string): Promise<void> {
    await db.query(
      'UPDATE radacct SET rg_seen_at = NOW() - INTERVAL 1 HOUR WHERE username = ? AND acctstoptime IS NULL',
      [username],
    );
    expect(await app().app.get(StaleSessionReaper).reap()).toBe(1);
  }

  async function radacctRow(username: string) {
    const [row] = await db.query<{
      open: number;
      cause: string;
      up: string | number;
      usage: string | number | null;
    }>(
      `SELECT CASE WHEN a.acctstoptime IS NULL THEN 1 ELSE 0 END AS open, a.acctterminatecause AS cause,
              a.acctinputoctets AS up, u.upload_bytes AS \`usage\`
       FROM radacct a LEFT JOIN rg_usage_monthly u ON u.username = a.username
       WHERE a.username = ?`,
      [username],
    );
    return {
      open: Number(row.open),
      cause: row.cause,
      up: String(row.up),
      usage: String(row.usage),
    };
  }

  async function online(username: string): Promise<string[]> {
    const { body } = await app().gql(
      `{ onlineSessions(search: "${username}", first: 5) { edges { node { username } } } }`,
    );
    return body.data.onlineSessions.edges.map(
      (e: { node: { username: string } }) => e.node.username,
    );
  }

  /** Sends radclient's accounting packets to FreeRADIUS: `session`'s attributes and more. */
  function freeradiusSender(session: Record<string, string>) {
    return async (attributes: Record<string, string>) => {
      const result = await radclient({
        port: radius!.acctPort,
        secret: NAS_SECRET,
        type: 'acct',
        attributes: { ...session, ...attributes },
      });
      expectRadiusCode(result, 'Accounting-Response', radius!);
    };
  }

  /**
   * The NAS back up gives `username` the Acct-Session-Id it had on the same port: its Start
   * (300 s ago, through `send`) meets the row, whose old session counted 8000 bytes up (`now`,
   * the test's time in seconds). The change feed makes the row the new session: STARTED, open,
   * online, counters 0; and its first Interim-Update, lower than the old session's counters,
   * counts whole in the month's usage.
   */
  async function expectNewSessionFromZero(
    username: string,
    recorder: Recorder,
    send: ReturnType<typeof freeradiusSender>,
    now: number,
  ): Promise<void> {
    const sentAt = performance.now();
    await send({ 'Acct-Status-Type': 'Start', 'Event-Timestamp': String(now - 300) });
    const [, , back] = await recorder.until(3, THROUGH_FREERADIUS_MS + 1000);
    expect(back.at - sentAt).toBeLessThan(THROUGH_FREERADIUS_MS);
    expect(back.type).toBe('STARTED');
    expect(back.session).toMatchObject({ stoppedAt: null, terminateCause: null });
    expect(back.session.startedAt).toBe(new Date((now - 300) * 1000).toISOString());
    expect(String(back.session.uploadBytes)).toBe('0');
    expect(await radacctRow(username)).toEqual({ open: 1, cause: '', up: '0', usage: '8000' });
    expect(await online(username)).toEqual([username]);

    await send({
      'Acct-Status-Type': 'Interim-Update',
      'Event-Timestamp': String(now - 100),
      'Acct-Session-Time': '200',
      'Acct-Input-Octets': '1000',
    });
    const [, , , update] = await recorder.until(4, THROUGH_FREERADIUS_MS + 1000);
    expect(update.type).toBe('UPDATED');
    expect(String(update.session.uploadBytes)).toBe('1000');
    expect(await radacctRow(username)).toEqual({ open: 1, cause: '', up: '1000', usage: '9000' });
  }

  it('through FreeRADIUS: STARTED again on a later Interim-Update, open and counted; then its Stop', async () => {
    const now = Math.floor(Date.now() / 1000);
    const common = {
      'User-Name': FR_USER,
      'Acct-Session-Id': '5e550001',
      'NAS-IP-Address': NAS,
      'NAS-Port': '15728641',
      'NAS-Port-Id': 'ether3',
      'NAS-Port-Type': 'Ethernet',
      'Framed-IP-Address': '100.64.2.20',
      'Calling-Station-Id': 'AA:BB:CC:00:22:33',
    };
    const send = freeradiusSender(common);
    await send({ 'Acct-Status-Type': 'Start', 'Event-Timestamp': String(now - 900) });
    await send({
      'Acct-Status-Type': 'Interim-Update',
      'Event-Timestamp': String(now - 600),
      'Acct-Session-Time': '300',
      'Acct-Input-Octets': '1000',
    });
    await byFrUser.until(2, THROUGH_FREERADIUS_MS + 1000);
    await reapAsSilent(FR_USER);
    const [, , stale] = await byFrUser.until(3, 5000);
    expect([stale.type, stale.session.terminateCause]).toEqual(['STOPPED', 'Stale-Session']);
    expect(await online(FR_USER)).toEqual([]);

    // The NAS reaches FreeRADIUS again.
    const sentAt = performance.now();
    await send({
      'Acct-Status-Type': 'Interim-Update',
      'Event-Timestamp': String(now),
      'Acct-Session-Time': '900',
      'Acct-Input-Octets': '5000',
    });
    const [, , , back] = await byFrUser.until(4, THROUGH_FREERADIUS_MS + 1000);
    expect(back.at - sentAt).toBeLessThan(THROUGH_FREERADIUS_MS);
    expect(back.type).toBe('STARTED');
    expect(back.session).toMatchObject({ stoppedAt: null, terminateCause: null });
    expect(String(back.session.uploadBytes)).toBe('5000');
    expect(await radacctRow(FR_USER)).toEqual({ open: 1, cause: '', up: '5000', usage: '5000' });
    expect(await online(FR_USER)).toEqual([FR_USER]);

    await send({
      'Acct-Status-Type': 'Stop',
      'Event-Timestamp': String(now + 60),
      'Acct-Session-Time': '960',
      'Acct-Input-Octets': '6000',
      'Acct-Terminate-Cause': 'User-Request',
    });
    const [, , , , end] = await byFrUser.until(5, THROUGH_FREERADIUS_MS + 1000);
    expect([end.type, end.session.terminateCause]).toEqual(['STOPPED', 'User-Request']);
    expect(await radacctRow(FR_USER)).toEqual({
      open: 0,
      cause: 'User-Request',
      up: '6000',
      usage: '6000',
    });
  });

  it('straight to radgraph: STARTED again within 100 ms of a later Interim-Update; then its Stop', async () => {
    const port = app().app.get(AccountingListener).address()?.port;
    if (!port) throw new Error('radgraph did not start its accounting listener');
    const client = await RadiusTestClient.open();
    const now = Math.floor(Date.now() / 1000);
    const session = { username: RG_USER, sessionId: '5e550002', nasIp: NAS };
    let id = 20;
    const send = async (...[status, s]: Parameters<typeof sessionAttributes>) => {
      const answer = await client.send(
        accountingRequest(NAS_SECRET, sessionAttributes(status, s), (id += 1)),
        port,
        2000,
      );
      expect(answer).not.toBeNull();
    };
    try {
      await send('Start', { ...session, eventTime: now - 900 });
      await send('Interim-Update', {
        ...session,
        eventTime: now - 600,
        sessionTime: 300,
        inputOctets: 1000n,
      });
      await byRgUser.until(2, 2000);
      await reapAsSilent(RG_USER);
      const [, , stale] = await byRgUser.until(3, 5000);
      expect([stale.type, stale.session.terminateCause]).toEqual(['STOPPED', 'Stale-Session']);

      const sentAt = performance.now();
      await send('Interim-Update', {
        ...session,
        eventTime: now,
        sessionTime: 900,
        inputOctets: 5000n,
      });
      const [, , , back] = await byRgUser.until(4, 2000);
      expect(back.at - sentAt).toBeLessThan(STRAIGHT_TO_RADGRAPH_MS);
      expect(back.type).toBe('STARTED');
      expect(back.session).toMatchObject({ stoppedAt: null, terminateCause: null });
      expect(await radacctRow(RG_USER)).toEqual({ open: 1, cause: '', up: '5000', usage: '5000' });
      expect(await online(RG_USER)).toEqual([RG_USER]);

      await send('Stop', {
        ...session,
        eventTime: now + 60,
        sessionTime: 960,
        inputOctets: 6000n,
        cause: 'User-Request',
      });
      const [, , , , end] = await byRgUser.until(5, 2000);
      expect([end.type, end.session.terminateCause]).toEqual(['STOPPED', 'User-Request']);
      expect(await radacctRow(RG_USER)).toEqual({
        open: 0,
        cause: 'User-Request',
        up: '6000',
        usage: '6000',
      });
    } finally {
      await client.close();
    }
  });

  it('through FreeRADIUS: a later Start that reuses a stopped row is STARTED, open and counted from 0', async () => {
    const now = Math.floor(Date.now() / 1000);
    const common = {
      'User-Name': REUSE_USER,
      'Acct-Session-Id': '81e00001',
      'NAS-IP-Address': NAS,
      'NAS-Port': '15728642',
      'NAS-Port-Id': 'ether4',
      'NAS-Port-Type': 'Ethernet',
      'Framed-IP-Address': '100.64.2.30',
      'Calling-Station-Id': 'AA:BB:CC:00:22:44',
    };
    const send = freeradiusSender(common);
    await send({ 'Acct-Status-Type': 'Start', 'Event-Timestamp': String(now - 900) });
    await send({
      'Acct-Status-Type': 'Stop',
      'Event-Timestamp': String(now - 600),
      'Acct-Session-Time': '300',
      'Acct-Input-Octets': '8000',
      'Acct-Terminate-Cause': 'NAS-Reboot',
    });
    const [, ended] = await byReuseUser.until(2, THROUGH_FREERADIUS_MS + 1000);
    expect([ended.type, ended.session.terminateCause]).toEqual(['STOPPED', 'NAS-Reboot']);

    // The NAS is back and gives the user the same Acct-Session-Id on the same port.
    await expectNewSessionFromZero(REUSE_USER, byReuseUser, send, now);
  });

  it('through FreeRADIUS: a later Start that reuses an open row (its NAS lost power) is STARTED and counted from 0', async () => {
    const now = Math.floor(Date.now() / 1000);
    const send = freeradiusSender({
      'User-Name': OPEN_REUSE_USER,
      'Acct-Session-Id': '81e00002',
      'NAS-IP-Address': NAS,
      'NAS-Port': '15728643',
      'NAS-Port-Id': 'ether5',
      'NAS-Port-Type': 'Ethernet',
      'Framed-IP-Address': '100.64.2.40',
      'Calling-Station-Id': 'AA:BB:CC:00:22:55',
    });
    await send({ 'Acct-Status-Type': 'Start', 'Event-Timestamp': String(now - 900) });
    await send({
      'Acct-Status-Type': 'Interim-Update',
      'Event-Timestamp': String(now - 600),
      'Acct-Session-Time': '300',
      'Acct-Input-Octets': '8000',
    });
    const [, interim] = await byOpenReuseUser.until(2, THROUGH_FREERADIUS_MS + 1000);
    expect(interim.type).toBe('UPDATED');

    // The NAS lost power (no Stop, no Accounting-On); back up, it gives the user the same
    // Acct-Session-Id on the same port.
    await expectNewSessionFromZero(OPEN_REUSE_USER, byOpenReuseUser, send, now);
  });
});
