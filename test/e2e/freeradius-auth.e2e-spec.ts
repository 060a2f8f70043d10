/**
 * Real FreeRADIUS 3.2 (Debian's packages) with radgraph's overlay, radius-config/, on a fresh
 * MariaDB database that has the FreeRADIUS tables: what radgraph writes (nas, radcheck) is what
 * FreeRADIUS enforces, and what FreeRADIUS writes (radpostauth, radacct) lands where radgraph
 * reads it. Driven with the real radclient on loopback ports.
 */
import {
  radclient,
  RadclientResult,
  RunningFreeradius,
  startFreeradius,
  expectRadiusCode,
  freeradiusDatabase,
} from '../support/freeradius';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { acctUniqueId } from '../../src/radius/acct-unique-id';

jest.setTimeout(60_000);

const NAS_SECRET = 'e2e-Nas-s3cret';
const USERNAME = 'alice.pppoe';
const PASSWORD = 'c0rrect-horse';
const MIKROTIK_NAS = '127.0.0.2';

describe('FreeRADIUS with the radgraph overlay, on the radgraph database', () => {
  let db: TestDatabase;
  let radius: RunningFreeradius;

  beforeAll(async () => {
    db = await createTestDatabase('mysql');
    if (!db.mysql)
      throw new Error('createTestDatabase("mysql") returned no MySQL connection details');
    // FreeRADIUS reads its clients from the nas table at startup, so the row goes in first.
    await db.query(
      'INSERT INTO nas (nasname, shortname, type, secret, description) VALUES (?, ?, ?, ?, ?)',
      ['127.0.0.1', 'e2e-loopback', 'other', NAS_SECRET, 'radclient in the e2e test'],
    );
    // A NAS of the type the API suggests ('mikrotik'), where the Simultaneous-Use test's
    // customer is online. FreeRADIUS never hears from it: only its nas row matters.
    await db.query(
      'INSERT INTO nas (nasname, shortname, type, secret, description) VALUES (?, ?, ?, ?, ?)',
      [MIKROTIK_NAS, 'e2e-mikrotik', 'mikrotik', NAS_SECRET, 'a MikroTik NAS'],
    );
    await db.query('INSERT INTO radcheck (username, attribute, op, value) VALUES (?, ?, ?, ?)', [
      USERNAME,
      'Cleartext-Password',
      ':=',
      PASSWORD,
    ]);
    radius = await startFreeradius({
      db: freeradiusDatabase(db),
    });
  }, 60_000);

  afterAll(async () => {
    await radius?.stop();
    await db?.drop();
  }, 60_000);

  const expectCode = (result: RadclientResult, expected: string) =>
    expectRadiusCode(result, expected, radius);

  function authenticate(attributes: Record<string, string>): Promise<RadclientResult> {
    return radclient({ port: radius.authPort, secret: NAS_SECRET, type: 'auth', attributes });
  }

  /** The newest radpostauth row: its reply, and its pass, which must never hold a password. */
  async function lastPostAuth(username: string): Promise<{ reply: string } | undefined> {
    const rows = await db.query<{ reply: string; pass: string }>(
      'SELECT reply, pass FROM radpostauth WHERE username = ? ORDER BY id DESC LIMIT 1',
      [username],
    );
    if (rows[0]) expect(rows[0].pass).toBe('');
    return rows[0] && { reply: rows[0].reply };
  }

  describe('Access-Request', () => {
    it('accepts PAP with the Cleartext-Password from radcheck, and logs the accept in radpostauth', async () => {
      const result = await authenticate({ 'User-Name': USERNAME, 'User-Password': PASSWORD });

      expectCode(result, 'Access-Accept');
      expect(await lastPostAuth(USERNAME)).toEqual({ reply: 'Access-Accept' });
    });

    it('rejects PAP with a wrong password, and logs the reject in radpostauth', async () => {
      const result = await authenticate({
        'User-Name': USERNAME,
        'User-Password': 'wrong-password',
      });

      expectCode(result, 'Access-Reject');
      expect(await lastPostAuth(USERNAME)).toEqual({ reply: 'Access-Reject' });
    });

    it('rejects a user that is not in radcheck', async () => {
      const result = await authenticate({ 'User-Name': 'nobody.pppoe', 'User-Password': PASSWORD });

      expectCode(result, 'Access-Reject');
    });

    it('accepts CHAP (what PPPoE routers send) against the same Cleartext-Password', async () => {
      // radclient turns a cleartext CHAP-Password into the CHAP challenge and response.
      const result = await authenticate({ 'User-Name': USERNAME, 'CHAP-Password': PASSWORD });

      expectCode(result, 'Access-Accept');
      expect(await lastPostAuth(USERNAME)).toEqual({ reply: 'Access-Accept' });
    });

    it('accepts MS-CHAP and returns the MPPE keys', async () => {
      // radclient turns a cleartext MS-CHAP-Password into MS-CHAP-Challenge and -Response.
      const result = await authenticate({ 'User-Name': USERNAME, 'MS-CHAP-Password': PASSWORD });

      expectCode(result, 'Access-Accept');
      expect(result.reply['MS-CHAP-MPPE-Keys']).toMatch(/^0x[0-9a-f]+$/);
    });
  });

  describe('Simultaneous-Use', () => {
    // What radgraph writes for every customer (src/customers/customer-radius.ts).
    const ONLINE_USER = 'carol.pppoe';

    beforeAll(async () => {
      await db.query(
        `INSERT INTO radcheck (username, attribute, op, value)
         VALUES (?, 'Cleartext-Password', ':=', ?), (?, 'Simultaneous-Use', ':=', '1')`,
        [ONLINE_USER, PASSWORD, ONLINE_USER],
      );
      await db.query(
        `INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress, nasportid,
                              acctstarttime, acctupdatetime, framedipaddress, callingstationid)
         VALUES ('81b00001', 'e2e-simul-open-session', ?, ?, '15728641', NOW(), NOW(),
                 '10.64.0.18', 'AA:BB:CC:00:11:33')`,
        [ONLINE_USER, MIKROTIK_NAS],
      );
    });

    it("rejects a second login while the customer's session on a MikroTik NAS is open, and logs the reject", async () => {
      // FreeRADIUS would check the open session with checkrad, by the NAS's type; for
      // 'mikrotik' that is a telnet login to the router (Net::Telnet, a naspasswd file), which
      // fails, and a failed check let every login in. The overlay counts radacct's open rows.
      const result = await authenticate({ 'User-Name': ONLINE_USER, 'User-Password': PASSWORD });

      expectCode(result, 'Access-Reject');
      expect(result.reply['Reply-Message']).toBe('You are already logged in - access denied');
      expect(await lastPostAuth(ONLINE_USER)).toEqual({ reply: 'Access-Reject' });
    });

    it('accepts the login once that session has stopped', async () => {
      await db.query('UPDATE radacct SET acctstoptime = NOW() WHERE username = ?', [ONLINE_USER]);

      const result = await authenticate({ 'User-Name': ONLINE_USER, 'CHAP-Password': PASSWORD });

      expectCode(result, 'Access-Accept');
      expect(await lastPostAuth(ONLINE_USER)).toEqual({ reply: 'Access-Accept' });
    });
  });

  describe('Accounting-Request', () => {
    it('writes a session Start into radacct and answers with an Accounting-Response', async () => {
      const result = await radclient({
        port: radius.acctPort,
        secret: NAS_SECRET,
        type: 'acct',
        attributes: {
          'User-Name': USERNAME,
          'Acct-Status-Type': 'Start',
          'Acct-Session-Id': '81a00001',
          'NAS-IP-Address': '127.0.0.1',
          'NAS-Port': '15728640',
          'NAS-Port-Type': 'Ethernet',
          'Framed-IP-Address': '10.64.0.17',
          'Calling-Station-Id': 'AA:BB:CC:00:11:22',
          'Event-Timestamp': '1767225600', // 2026-01-01T00:00:00Z
        },
      });

      expectCode(result, 'Accounting-Response');
      const rows = await db.query<Record<string, unknown>>(
        `SELECT username, acctsessionid, acctuniqueid, nasipaddress, nasportid, nasporttype,
                framedipaddress, callingstationid, UNIX_TIMESTAMP(acctstarttime) AS started,
                acctstoptime
           FROM radacct WHERE username = ?`,
        [USERNAME],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        username: USERNAME,
        acctsessionid: '81a00001',
        nasipaddress: '127.0.0.1',
        nasportid: '15728640',
        nasporttype: 'Ethernet',
        framedipaddress: '10.64.0.17',
        callingstationid: 'AA:BB:CC:00:11:22',
        acctstoptime: null,
      });
      expect(Number(rows[0].started)).toBe(1767225600);
      // acct_unique: md5 over the session's identity, the key radgraph's listener shares.
      expect(rows[0].acctuniqueid).toMatch(/^[0-9a-f]{32}$/);
      expect(rows[0].acctuniqueid).toBe(
        acctUniqueId({
          userName: USERNAME,
          acctSessionId: '81a00001',
          nasIpAddress: '127.0.0.1',
          nasPort: 15728640,
        }),
      );
    });

    it('answers an Accounting-On from a NAS that has no open session, so the NAS stops retransmitting', async () => {
      // The stock sql module returns noop here (no row to close); the overlay acknowledges it.
      const result = await radclient({
        port: radius.acctPort,
        secret: NAS_SECRET,
        type: 'acct',
        attributes: { 'Acct-Status-Type': 'Accounting-On', 'NAS-IP-Address': '192.0.2.1' },
      });

      expectCode(result, 'Accounting-Response');
    });
  });
});
