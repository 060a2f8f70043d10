/**
 * Forged Access-Requests (BlastRADIUS): real FreeRADIUS 3.2 with the radgraph overlay and
 * RADIUS_REQUIRE_MESSAGE_AUTHENTICATOR=yes discards an Access-Request without
 * Message-Authenticator from a client of the nas table, and answers one that has it.
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

jest.setTimeout(60_000);

const NAS_SECRET = 'e2e-Nas-s3cret';
const USERNAME = 'mallory.pppoe';
const PASSWORD = 'c0rrect-horse';

describe('FreeRADIUS with RADIUS_REQUIRE_MESSAGE_AUTHENTICATOR=yes', () => {
  let db: TestDatabase;
  let radius: RunningFreeradius;

  beforeAll(async () => {
    db = await createTestDatabase('mysql');
    if (!db.mysql)
      throw new Error('createTestDatabase("mysql") returned no MySQL connection details');
    await db.query(
      'INSERT INTO nas (nasname, shortname, type, secret, description) VALUES (?, ?, ?, ?, ?)',
      ['127.0.0.1', 'e2e-loopback', 'other', NAS_SECRET, 'radclient in the e2e test'],
    );
    await db.query('INSERT INTO radcheck (username, attribute, op, value) VALUES (?, ?, ?, ?)', [
      USERNAME,
      'Cleartext-Password',
      ':=',
      PASSWORD,
    ]);
    radius = await startFreeradius({
      db: freeradiusDatabase(db),
      env: { RADIUS_REQUIRE_MESSAGE_AUTHENTICATOR: 'yes' },
    });
  }, 60_000);

  afterAll(async () => {
    await radius?.stop();
    await db?.drop();
  }, 60_000);

  const expectCode = (result: RadclientResult, expected: string) =>
    expectRadiusCode(result, expected, radius);

  const authenticate = (attributes: Record<string, string>) =>
    radclient({
      port: radius.authPort,
      secret: NAS_SECRET,
      type: 'auth',
      attributes,
      timeoutSeconds: 1,
      retries: 1,
    });

  it('discards an Access-Request without Message-Authenticator', async () => {
    expectCode(
      await authenticate({ 'User-Name': USERNAME, 'User-Password': PASSWORD }),
      'no-reply',
    );
  });

  it('answers one with a right Message-Authenticator', async () => {
    expectCode(
      await authenticate({
        'User-Name': USERNAME,
        'User-Password': PASSWORD,
        'Message-Authenticator': '0x00',
      }),
      'Access-Accept',
    );
  });

  it('still answers accounting (Accounting-Request has no Message-Authenticator rule)', async () => {
    const result = await radclient({
      port: radius.acctPort,
      secret: NAS_SECRET,
      type: 'acct',
      attributes: { 'Acct-Status-Type': 'Accounting-On', 'NAS-IP-Address': '127.0.0.1' },
    });
    expectCode(result, 'Accounting-Response');
  });
});
