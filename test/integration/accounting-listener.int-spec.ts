import { createSocket, type Socket } from 'node:dgram';
import { Logger } from '@nestjs/common';
import { createConnection, type Connection } from 'mysql2/promise';
import radius from 'radius';
import { DataSource } from 'typeorm';
import { insertRows } from '../../src/database/bulk-writes';
import { AccountingListener } from '../../src/radius/accounting/accounting-listener.service';
import { PartlyCommittedError, RadacctWriter } from '../../src/radius/accounting/radacct-writer';
import { SessionEventBus } from '../../src/sessions/events/session-event-bus.service';
import { RadacctOrigin } from '../../src/sessions/feed/radacct-origin';
import { SessionEventType } from '../../src/sessions/models/session-event.model';
import { startApp, type RunningApp } from '../support/app';
import {
  accountingRequest,
  RadiusTestClient,
  resign,
  sessionAttributes,
  validResponse,
  type Attribute,
} from '../support/radius-packets';
import { fuzzSeed, mutate, prng } from '../support/packet-fuzz';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const SECRET = 'listener-s3cret';
/** NAS-IP-Address of every session these tests keep (and check is never touched). */
const KEPT_NAS_IP = '10.20.30.40';
/** NAS-IP-Address of the fuzz's throwaway session: its mutants may write only near it. */
const FUZZ_NAS_IP = '192.0.2.77';
const T0 = 1_700_000_000;
/** Printed; FUZZ_SEED=<seed> replays a run. */
const FUZZ_SEED = fuzzSeed('accounting listener fuzz');

interface Stats {
  received: number;
  answered: number;
  written: number;
  duplicates: number;
  dropped: Record<string, number>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A NAS socket on any loopback address that keeps every datagram it is sent. */
class UdpPeer {
  readonly replies: Buffer[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on('message', (msg) => this.replies.push(msg));
  }

  static async open(address = '127.0.0.1'): Promise<UdpPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    return new UdpPeer(socket);
  }

  fire(packet: Buffer, port: number): void {
    this.socket.send(packet, port, '127.0.0.1');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/**
 * radgraph's RADIUS accounting listener, end to end over UDP: what it answers and writes,
 * what it drops (and counts) without answering or writing, and that no packet can break it.
 */
describe.each(['mysql', 'sqlite'] as const)('accounting listener on %s', (kind) => {
  let db: TestDatabase;
  let api: RunningApp;
  let listener: AccountingListener;
  let port: number;
  let client: RadiusTestClient;
  const peers: UdpPeer[] = [];

  async function openPeer(address: string): Promise<UdpPeer> {
    const peer = await UdpPeer.open(address);
    peers.push(peer);
    return peer;
  }

  const unix = (column: string) =>
    kind === 'mysql' ? `UNIX_TIMESTAMP(${column})` : `CAST(strftime('%s', ${column}) AS INTEGER)`;

  async function stats(): Promise<Stats> {
    const { body } = await api.gql(
      '{ accountingListener { received answered written duplicates dropped { reason count } } }',
    );
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    const s = body.data.accountingListener;
    return {
      received: Number(s.received),
      answered: Number(s.answered),
      written: Number(s.written),
      duplicates: Number(s.duplicates),
      dropped: Object.fromEntries(
        (s.dropped as Array<{ reason: string; count: unknown }>).map((d) => [
          d.reason,
          Number(d.count),
        ]),
      ),
    };
  }

  const droppedTotal = (s: Stats) => Object.values(s.dropped).reduce((a, b) => a + b, 0);

  function delta(before: Stats, after: Stats) {
    return {
      received: after.received - before.received,
      answered: after.answered - before.answered,
      written: after.written - before.written,
      duplicates: after.duplicates - before.duplicates,
      dropped: Object.fromEntries(
        Object.keys(after.dropped).map((r) => [r, after.dropped[r] - (before.dropped[r] ?? 0)]),
      ),
    };
  }

  /** Waits until every packet received has an outcome: answered, duplicate, or dropped. */
  async function settled(timeoutMs = 15_000): Promise<Stats> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const s = await stats();
      if (s.received === s.answered + s.duplicates + droppedTotal(s)) return s;
      if (Date.now() > until) throw new Error(`counters never settled: ${JSON.stringify(s)}`);
      await sleep(50);
    }
  }

  async function snapshot(): Promise<{ radacct: any[]; nasreload: any[] }> {
    return {
      radacct: await db.query('SELECT * FROM radacct ORDER BY radacctid'),
      nasreload: await db.query('SELECT * FROM nasreload ORDER BY nasipaddress'),
    };
  }

  async function sessionRows(sessionId: string): Promise<any[]> {
    const rows = await db.query(
      `SELECT username, nasipaddress, CAST(acctinputoctets AS CHAR) AS input,
              CAST(acctoutputoctets AS CHAR) AS output, ${unix('acctstarttime')} AS started,
              ${unix('acctstoptime')} AS stopped, acctsessiontime AS sessiontime,
              acctterminatecause AS cause
         FROM radacct WHERE acctsessionid = ?`,
      [sessionId],
    );
    // UNIX_TIMESTAMP() comes back as a string from mysql2 (bigNumberStrings).
    const seconds = (v: unknown) => (v === null ? null : Number(v));
    return rows.map((r) => ({ ...r, started: seconds(r.started), stopped: seconds(r.stopped) }));
  }

  const packet = (
    status: 'Start' | 'Interim-Update' | 'Stop',
    s: Parameters<typeof sessionAttributes>[1],
    identifier: number,
    secret = SECRET,
  ) =>
    accountingRequest(secret, sessionAttributes(status, { nasIp: KEPT_NAS_IP, ...s }), identifier);

  async function answered(request: Buffer, from = client): Promise<void> {
    const reply = await from.send(request, port, 3000);
    expect(reply).not.toBeNull();
    expect(validResponse(reply!, request, SECRET)).toBe(true);
  }

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    // No per-source limit here: the fuzz sends 10,000 packets a few times faster than the
    // default allows, and must reach the decoder (the limit has its own test below).
    api = await startApp(db, { RADIUS_ACCT_RATE_PER_SOURCE: '0' });
    await db.query(
      "INSERT INTO nas (nasname, shortname, type, secret) VALUES ('127.0.0.1', 'loopback', 'mikrotik', ?), ('127.0.0.3', 'other', 'mikrotik', ?)",
      [SECRET, SECRET],
    );
    listener = api.app.get(AccountingListener);
    port = listener.address()!.port;
    client = await RadiusTestClient.open();
  });

  afterAll(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await client?.close();
    await api?.close();
    await db?.drop();
  });

  it('answers Start, Interim-Update and Stop once written, the octets exact with Gigawords', async () => {
    const before = await stats();
    const s = { username: 'alice', sessionId: 'L-1' };
    await answered(packet('Start', { ...s, eventTime: T0 }, 1));
    // Answered after commit: the row is there as soon as the answer is.
    expect(await sessionRows('L-1')).toEqual([
      expect.objectContaining({ input: '0', output: '0', started: T0, stopped: null }),
    ]);
    const up = (5n << 32n) | 123n; // 5 GiB + 123 bytes
    const down = 2n ** 63n - 1n; // the largest a signed BIGINT holds
    await answered(
      packet(
        'Interim-Update',
        { ...s, eventTime: T0 + 60, sessionTime: 60, inputOctets: up, outputOctets: down - 5n },
        2,
      ),
    );
    expect((await sessionRows('L-1'))[0]).toMatchObject({
      input: up.toString(),
      output: (down - 5n).toString(),
      stopped: null,
    });
    await answered(
      packet(
        'Stop',
        { ...s, eventTime: T0 + 120, sessionTime: 120, inputOctets: up + 1n, outputOctets: down },
        3,
      ),
    );
    expect(await sessionRows('L-1')).toEqual([
      {
        username: 'alice',
        nasipaddress: KEPT_NAS_IP,
        input: '21474836604',
        output: '9223372036854775807',
        started: T0,
        stopped: T0 + 120,
        sessiontime: 120,
        cause: 'User-Request',
      },
    ]);
    expect(delta(before, await stats())).toMatchObject({
      received: 3,
      answered: 3,
      written: 3,
      duplicates: 0,
    });
  });

  it('answers a true retransmit again, writes it once, and counts it as a duplicate', async () => {
    const s = { username: 'bob', sessionId: 'L-2' };
    await answered(packet('Start', { ...s, eventTime: T0 }, 10));
    const interim = packet(
      'Interim-Update',
      { ...s, eventTime: T0 + 60, sessionTime: 60, inputOctets: 7n << 32n, outputOctets: 9n },
      11,
    );
    const before = await stats();
    await answered(interim);
    const afterFirst = await stats();
    // The same bytes from the same socket: the NAS did not get the answer, and asks again.
    await answered(interim);
    await answered(interim);
    expect(delta(afterFirst, await stats())).toMatchObject({
      received: 2,
      answered: 0,
      written: 0,
      duplicates: 2,
    });
    expect(delta(before, afterFirst)).toMatchObject({ received: 1, answered: 1, written: 1 });
    const rows = await sessionRows('L-2');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ input: (7n << 32n).toString(), output: '9' });

    // Stop, and a retransmit of it: still one row, stopped once.
    const stop = packet(
      'Stop',
      { ...s, eventTime: T0 + 90, sessionTime: 90, inputOctets: 8n << 32n, outputOctets: 10n },
      12,
    );
    await answered(stop);
    const stopped = await sessionRows('L-2');
    await answered(stop);
    expect(await sessionRows('L-2')).toEqual(stopped);
    expect(stopped).toEqual([expect.objectContaining({ stopped: T0 + 90, input: '34359738368' })]);
  });

  it('drops an unknown NAS, a wrong secret, truncated packets and an Access-Request: counted, unanswered, nothing written', async () => {
    // Something for the bad packets to damage: an open session, and a NAS reload time.
    await answered(packet('Start', { username: 'carol', sessionId: 'L-3', eventTime: T0 }, 20));
    await db.query(
      `INSERT INTO nasreload (nasipaddress, reloadtime) VALUES (?, ${kind === 'mysql' ? 'FROM_UNIXTIME(?)' : "datetime(?, 'unixepoch')"})`,
      [KEPT_NAS_IP, T0 - 3600],
    );
    const rowsBefore = await snapshot();
    const before = await stats();

    const accountingOn = (secret: string, identifier: number) =>
      accountingRequest(
        secret,
        [
          ['Acct-Status-Type', 'Accounting-On'],
          ['NAS-IP-Address', KEPT_NAS_IP],
          ['Event-Timestamp', new Date((T0 + 500) * 1000)],
        ],
        identifier,
      );
    const stopCarol = (secret: string, identifier: number) =>
      packet(
        'Stop',
        { username: 'carol', sessionId: 'L-3', eventTime: T0 + 30, sessionTime: 30 },
        identifier,
        secret,
      );
    const newSession = (secret: string, identifier: number) =>
      packet(
        'Start',
        { username: 'mallory', sessionId: 'L-evil', eventTime: T0 },
        identifier,
        secret,
      );

    // From 127.0.0.2: no nas row has that address (127.0.0.1 and 127.0.0.3 do, with this
    // very secret), so even correctly signed packets are dropped.
    const stranger = await openPeer('127.0.0.2');
    const known = await openPeer('127.0.0.1');
    const unknownNas = [accountingOn(SECRET, 30), stopCarol(SECRET, 31), newSession(SECRET, 32)];
    const wrongSecret = [accountingOn('not-it', 40), stopCarol('not-it', 41), newSession('x', 42)];

    const valid = stopCarol(SECRET, 50);
    const cut = valid.subarray(0, valid.length - 5); // the length field says 5 more bytes
    const longerLength = Buffer.from(valid);
    longerLength.writeUInt16BE(valid.length + 40, 2);
    const cutAttribute = Buffer.from(valid.subarray(0, valid.length - 2));
    cutAttribute.writeUInt16BE(cutAttribute.length, 2); // consistent, signed, last attribute cut
    const tooLong = Buffer.concat([valid, Buffer.alloc(5000 - valid.length)]);
    tooLong.writeUInt16BE(5000, 2);
    const truncated = [
      cut,
      longerLength,
      resign(cutAttribute, SECRET),
      valid.subarray(0, 19),
      Buffer.alloc(0),
      resign(tooLong, SECRET),
    ];
    const accessRequest = radius.encode({
      code: 'Access-Request',
      identifier: 60,
      secret: SECRET,
      attributes: [
        ['User-Name', 'carol'],
        ['User-Password', 'secret'],
        ['NAS-IP-Address', KEPT_NAS_IP],
      ],
    });
    const accountingResponse = resign(Buffer.from(valid), SECRET);
    accountingResponse[0] = 5;
    const wrongCode = [accessRequest, resign(accountingResponse, SECRET)];

    for (const p of unknownNas) stranger.fire(p, port);
    for (const p of [...wrongSecret, ...truncated, ...wrongCode]) known.fire(p, port);
    const sent = unknownNas.length + wrongSecret.length + truncated.length + wrongCode.length;
    // A packet the listener answers without writing anything (radacct has no query for
    // Failed), sent last from the same socket: once it is answered, the others were handled.
    const sentinel = accountingRequest(SECRET, [['Acct-Status-Type', 'Failed']], 99);
    known.fire(sentinel, port);
    const until = Date.now() + 5000;
    while (known.replies.length === 0 && Date.now() < until) await sleep(10);
    const after = await settled();
    await sleep(300); // time for any wrong answer to arrive

    expect(delta(before, after)).toEqual({
      received: sent + 1,
      answered: 1,
      written: 0,
      duplicates: 0,
      dropped: {
        'unknown-nas': 3,
        'bad-authenticator': 3,
        malformed: 6,
        'wrong-code': 2,
        'rate-limited': 0,
        overloaded: 0,
        'write-failed': 0,
      },
    });
    expect(stranger.replies).toEqual([]);
    expect(known.replies).toHaveLength(1);
    expect(validResponse(known.replies[0], sentinel, SECRET)).toBe(true);
    expect(await snapshot()).toEqual(rowsBefore);
  });

  it('takes a new secret that another instance wrote to the nas table within seconds, not at the next 30 s refresh', async () => {
    // 127.0.0.5 is written here, not through this instance's API: as another radgraph
    // instance (behind the same load balancer) or another tool writes it, unheard by this one.
    await db.query(
      "INSERT INTO nas (nasname, shortname, type, secret) VALUES ('127.0.0.5', 'rekeyed', 'mikrotik', ?)",
      [SECRET],
    );
    const nas = await openPeer('127.0.0.5');
    /** Sends like a NAS: again every second (a retransmit) until answered, for at most `ms`. */
    async function untilAnswered(request: Buffer, ms: number): Promise<Buffer | null> {
      const from = nas.replies.length;
      const until = Date.now() + ms;
      while (Date.now() < until) {
        nas.fire(request, port);
        const next = Date.now() + 1000;
        while (nas.replies.length === from && Date.now() < next) await sleep(20);
        if (nas.replies.length > from) return nas.replies[from];
      }
      return null;
    }
    const rekeyed = (secret: string, status: 'Start' | 'Stop', identifier: number) =>
      accountingRequest(
        secret,
        sessionAttributes(status, {
          username: 'rekeyed',
          sessionId: 'L-rekey',
          nasIp: '127.0.0.5',
          eventTime: T0 + (status === 'Start' ? 0 : 60),
          sessionTime: 60,
        }),
        identifier,
      );
    // Its first packet reads the nas table (a miss): the list is fresh now, with the old secret.
    const start = rekeyed(SECRET, 'Start', 1);
    expect(validResponse((await untilAnswered(start, 5000))!, start, SECRET)).toBe(true);

    const NEW_SECRET = 'rotated-s3cret';
    await db.query("UPDATE nas SET secret = ? WHERE nasname = '127.0.0.5'", [NEW_SECRET]);
    const stop = rekeyed(NEW_SECRET, 'Stop', 2);
    const reply = await untilAnswered(stop, 6000);
    expect(reply).not.toBeNull();
    expect(validResponse(reply!, stop, NEW_SECRET)).toBe(true);
    expect(await sessionRows('L-rekey')).toEqual([
      expect.objectContaining({ username: 'rekeyed', stopped: T0 + 60, cause: 'User-Request' }),
    ]);
  });

  it(`survives 10,000 randomly mutated packets (seed ${FUZZ_SEED}): every one accounted for, no kept row touched, still answering`, async () => {
    const int = prng(FUZZ_SEED);
    const fuzz = { username: 'fuzz', sessionId: 'fuzz-session', nasIp: FUZZ_NAS_IP };
    const bases = [
      accountingRequest(SECRET, sessionAttributes('Start', { ...fuzz, eventTime: T0 }), 1),
      accountingRequest(
        SECRET,
        sessionAttributes('Interim-Update', {
          ...fuzz,
          eventTime: T0 + 60,
          sessionTime: 60,
          inputOctets: 3n << 32n,
          outputOctets: 77n,
        }),
        2,
      ),
      accountingRequest(
        SECRET,
        [
          ...sessionAttributes('Stop', {
            ...fuzz,
            eventTime: T0 + 120,
            sessionTime: 120,
            inputOctets: 4n << 32n,
            outputOctets: 78n,
          }),
          ['Vendor-Specific', 14988, [['Mikrotik-Rate-Limit', '5120k/10240k']]],
          ['Framed-IPv6-Prefix', Buffer.from('004020010db800000001', 'hex')],
        ] as Attribute[],
        3,
      ),
    ];
    const rowsBefore = await snapshot();
    const before = await settled();
    const writeFailures: string[] = [];
    const drop = listener.stats.drop.bind(listener.stats);
    jest.spyOn(listener.stats, 'drop').mockImplementation((reason, source, detail, nas) => {
      if (reason === 'write-failed') writeFailures.push(detail);
      drop(reason, source, detail, nas);
    });
    const peer = await openPeer('127.0.0.1');
    const started = Date.now();
    const TOTAL = 10_000;
    const BURST = 100;
    for (let sent = 0; sent < TOTAL;) {
      for (let i = 0; i < BURST && sent < TOTAL; i++, sent++) {
        peer.fire(
          mutate(bases[sent % bases.length], int, { secret: SECRET, resignTenths: 5 }),
          port,
        );
      }
      // Paced: the next burst goes once the listener has read this one (no socket overflow).
      const until = Date.now() + 5000;
      while (listener.stats.received - before.received < sent) {
        if (Date.now() > until) {
          throw new Error(
            `the listener read ${listener.stats.received - before.received} of ${sent}`,
          );
        }
        await sleep(2);
      }
    }
    const after = await settled();
    const d = delta(before, after);
    const dropped = Object.values(d.dropped).reduce((a, b) => a + b, 0);
    expect(d.received).toBe(TOTAL);
    expect(d.received).toBe(d.answered + d.duplicates + dropped);
    // The fuzz reached every stage: framing, authenticator, decoder, and the database.
    expect(d.dropped.malformed).toBeGreaterThan(100);
    expect(d.dropped['bad-authenticator']).toBeGreaterThan(100);
    expect(d.written).toBeGreaterThan(50);
    // A packet that decodes can be written: none left for the NAS to retransmit forever.
    expect(writeFailures).toEqual([]);
    expect(d.dropped.overloaded).toBe(0);
    expect(d.dropped['rate-limited']).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);

    // Every row that was there is as it was; new rows are the mutants' sessions, never on
    // the NAS address of the kept sessions.
    const rowsAfter = await snapshot();
    const kept = new Set(rowsBefore.radacct.map((r) => String(r.radacctid)));
    expect(rowsAfter.radacct.filter((r) => kept.has(String(r.radacctid)))).toEqual(
      rowsBefore.radacct,
    );
    const added = rowsAfter.radacct.filter((r) => !kept.has(String(r.radacctid)));
    expect(added.length).toBeGreaterThan(0);
    expect(added.filter((r) => r.nasipaddress === KEPT_NAS_IP)).toEqual([]);
    expect(rowsAfter.nasreload.filter((r) => r.nasipaddress === KEPT_NAS_IP)).toEqual(
      rowsBefore.nasreload,
    );
    // What came back are Accounting-Responses (with a mutant's Proxy-State copied, RFC 2866).
    expect(peer.replies.every((r) => r[0] === 5 && r.readUInt16BE(2) === r.length)).toBe(true);
    expect(peer.replies.length).toBeGreaterThanOrEqual(d.answered);

    // Still alive and answering.
    const { body } = await api.gql('{ accountingListener { listening } }');
    expect(body.data.accountingListener.listening).toBe(true);
    await answered(packet('Start', { username: 'dave', sessionId: 'L-after', eventTime: T0 }, 70));
    expect(await sessionRows('L-after')).toHaveLength(1);
  });

  it('an Accounting-On from a NAS with 40,000 open sessions closes them all and publishes every STOPPED', async () => {
    const NAS_IP = '10.20.31.1';
    const OPEN = 40_000;
    // The sessions, inserted by SQL as radgraph's own writes (the change feed leaves them).
    const ds = api.app.get(DataSource);
    const start = new Date((T0 - 3600) * 1000).toISOString().slice(0, 19).replace('T', ' ');
    await ds.transaction((m) =>
      RadacctOrigin.around(m, () =>
        insertRows(
          m,
          'radacct',
          ['acctsessionid', 'acctuniqueid', 'username', 'nasipaddress', 'acctstarttime'],
          Array.from({ length: OPEN }, (_, i) => [`R-${i}`, `reboot-${i}`, `r${i}`, NAS_IP, start]),
        ),
      ),
    );
    const stopped = new Set<string>();
    const publish = jest.spyOn(api.app.get(SessionEventBus), 'publish');
    const failures: string[] = [];
    const error = jest
      .spyOn(Logger.prototype, 'error')
      .mockImplementation((message: unknown) => void failures.push(String(message)));
    try {
      const timer = performance.now();
      const on = accountingRequest(
        SECRET,
        [
          ['Acct-Status-Type', 'Accounting-On'],
          ['NAS-IP-Address', NAS_IP],
          ['Event-Timestamp', new Date(T0 * 1000)],
        ],
        80,
      );
      // Answered once the sessions are closed (committed).
      const reply = await client.send(on, port, 10_000);
      expect(reply && validResponse(reply, on, SECRET)).toBe(true);
      let seen = 0;
      const until = Date.now() + 15_000;
      while (stopped.size < OPEN && failures.length === 0 && Date.now() < until) {
        for (; seen < publish.mock.calls.length; seen++) {
          for (const c of publish.mock.calls[seen][0]) {
            if (c.type === SessionEventType.STOPPED && c.row.nasIpAddress === NAS_IP) {
              stopped.add(c.row.acctUniqueId);
            }
          }
        }
        await sleep(20);
      }
      expect(failures).toEqual([]);
      expect(stopped.size).toBe(OPEN);
      expect(performance.now() - timer).toBeLessThan(15_000);
    } finally {
      publish.mockRestore();
      error.mockRestore();
    }
    const [{ n }] = await db.query<{ n: number | string }>(
      "SELECT COUNT(*) AS n FROM radacct WHERE nasipaddress = ? AND acctstoptime IS NOT NULL AND acctterminatecause = 'NAS-Reboot'",
      [NAS_IP],
    );
    expect(Number(n)).toBe(OPEN);
  });
});

/**
 * The per-source rate limit, over real UDP: a flood from one NAS address is dropped past its
 * bucket (rate-limited, counted, unanswered), while another NAS's packets are all answered.
 * SQLite only: the limit sits before any database work.
 */
describe('accounting listener rate limit per source', () => {
  const RATE = 100;
  const BURST = 50;
  let db: TestDatabase;
  let api: RunningApp;
  let listener: AccountingListener;
  let port: number;
  const peers: UdpPeer[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    api = await startApp(db, {
      RADIUS_ACCT_RATE_PER_SOURCE: String(RATE),
      RADIUS_ACCT_BURST_PER_SOURCE: String(BURST),
    });
    await db.query(
      "INSERT INTO nas (nasname, shortname, type, secret) VALUES ('127.0.0.1', 'noisy', 'mikrotik', ?), ('127.0.0.3', 'quiet', 'mikrotik', ?)",
      [SECRET, SECRET],
    );
    listener = api.app.get(AccountingListener);
    port = listener.address()!.port;
  });

  afterAll(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await api?.close();
    await db?.drop();
  });

  it('limits a flood from one source while a second source is still answered in full', async () => {
    const noisy = await UdpPeer.open('127.0.0.1');
    const quiet = await UdpPeer.open('127.0.0.3');
    peers.push(noisy, quiet);
    const before = { ...listener.stats, dropped: new Map(listener.stats.dropped) };
    // Valid packets the listener answers without writing (Failed): the flood is all good
    // packets, so only the limit can drop them.
    const flood = (id: number) => accountingRequest(SECRET, [['Acct-Status-Type', 'Failed']], id);
    const quietPackets = Array.from({ length: 20 }, (_, i) =>
      accountingRequest(
        SECRET,
        sessionAttributes('Start', {
          username: `quiet-${i}`,
          sessionId: `Q-${i}`,
          nasIp: '127.0.0.3',
          eventTime: T0,
        }),
        i,
      ),
    );
    const FLOOD = 4000;
    const started = Date.now();
    for (let sent = 0, q = 0; sent < FLOOD;) {
      for (let i = 0; i < 200 && sent < FLOOD; i++, sent++) noisy.fire(flood(sent % 256), port);
      if (q < quietPackets.length) quiet.fire(quietPackets[q++], port);
      await sleep(5);
    }
    const elapsed = () => (Date.now() - started) / 1000;
    const until = Date.now() + 10_000;
    while (quiet.replies.length < quietPackets.length && Date.now() < until) await sleep(20);
    const floodSeconds = elapsed();
    await sleep(300);

    // Every packet of the quiet NAS answered, each correctly.
    expect(quiet.replies).toHaveLength(quietPackets.length);
    for (const reply of quiet.replies) {
      const request = quietPackets.find((p) => p[1] === reply[1])!;
      expect(validResponse(reply, request, SECRET)).toBe(true);
    }
    // The flood: what the bucket allows was answered, the rest dropped as rate-limited.
    const limited =
      listener.stats.dropped.get('rate-limited')! - before.dropped.get('rate-limited')!;
    const received = listener.stats.received - before.received;
    expect(limited).toBeGreaterThan(FLOOD / 2);
    expect(noisy.replies.length).toBeLessThanOrEqual(BURST + RATE * (floodSeconds + 1));
    expect(noisy.replies.length + limited).toBe(received - quietPackets.length);
    expect(Date.now() - started).toBeLessThan(20_000);

    // The GraphQL stats list the reason.
    const { body } = await api.gql('{ accountingListener { dropped { reason count } } }');
    expect(body.data.accountingListener.dropped).toContainEqual({
      reason: 'rate-limited',
      count: limited,
    });
  });
});

/**
 * A batch that partly committed (MySQL, where the listener updates the sessions it has written
 * without reading them first): one session's row was deleted since, and writing its packet
 * again as a new row failed. Only that packet goes unanswered (the NAS sends it again); the
 * others are answered and written once, not again packet by packet (an Interim-Update applied
 * twice leaves an interval of 0).
 */
describe('accounting listener, a batch that partly committed', () => {
  let db: TestDatabase;
  let api: RunningApp;
  let listener: AccountingListener;
  let port: number;
  let client: RadiusTestClient;
  let holder: Connection | undefined;

  const packet = (
    status: 'Start' | 'Interim-Update',
    sessionId: string,
    identifier: number,
    over: Partial<Parameters<typeof sessionAttributes>[1]> = {},
  ) =>
    accountingRequest(
      SECRET,
      sessionAttributes(status, {
        nasIp: KEPT_NAS_IP,
        username: sessionId,
        sessionId,
        eventTime: T0,
        ...over,
      }),
      identifier,
    );

  async function answered(request: Buffer): Promise<void> {
    const reply = await client.send(request, port, 10_000);
    expect(reply).not.toBeNull();
    expect(validResponse(reply!, request, SECRET)).toBe(true);
  }

  async function until(done: () => boolean, timeoutMs = 5_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > end) throw new Error('timed out waiting');
      await sleep(10);
    }
  }

  const interval = async (sessionId: string) =>
    db.query<{ acctinterval: number | null }>(
      'SELECT acctinterval FROM radacct WHERE acctsessionid = ?',
      [sessionId],
    );

  beforeAll(async () => {
    db = await createTestDatabase('mysql');
    api = await startApp(db, { RADIUS_ACCT_RATE_PER_SOURCE: '0' });
    await db.query(
      "INSERT INTO nas (nasname, shortname, type, secret) VALUES ('127.0.0.1', 'loopback', 'mikrotik', ?)",
      [SECRET],
    );
    listener = api.app.get(AccountingListener);
    port = listener.address()!.port;
    client = await RadiusTestClient.open();
  });

  afterAll(async () => {
    await holder?.end().catch(() => undefined);
    await client?.close();
    await api?.close();
    await db?.drop();
  });

  it('answers and writes once the packets that committed; only the one not written goes unanswered', async () => {
    for (const [i, id] of ['P-lock', 'P-kept', 'P-gone'].entries()) {
      await answered(packet('Start', id, i + 1, { eventTime: T0 }));
    }
    await db.query("DELETE FROM radacct WHERE acctsessionid = 'P-gone'");
    await db.query(
      "CREATE TRIGGER t_refuse_gone BEFORE INSERT ON radacct FOR EACH ROW IF NEW.acctsessionid = 'P-gone' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'; END IF",
    );
    // P-lock's row held by another transaction: the batch writing P-lock waits, and the two
    // packets sent meanwhile queue behind it, into the next batch together.
    holder = await createConnection({ ...db.mysql!, database: db.database });
    await holder.query('START TRANSACTION');
    await holder.query("SELECT radacctid FROM radacct WHERE acctsessionid = 'P-lock' FOR UPDATE");
    const interim = (id: string, identifier: number) =>
      packet('Interim-Update', id, identifier, { eventTime: T0 + 300, sessionTime: 300 });
    const writes = jest.spyOn(api.app.get(RadacctWriter), 'write');
    const published = jest.spyOn(api.app.get(SessionEventBus), 'publish');
    const lockReply = client.send(interim('P-lock', 10), port, 10_000);
    await until(() => writes.mock.calls.length === 1);
    const before = { ...listener.stats, dropped: new Map(listener.stats.dropped) };
    const kept = interim('P-kept', 11);
    const gone = interim('P-gone', 12);
    const keptReply = client.send(kept, port, 10_000);
    const goneReply = client.send(gone, port, 2_000);
    await until(() => listener.stats.received - before.received === 2);
    await holder.query('COMMIT');

    expect(await lockReply).not.toBeNull();
    const reply = await keptReply;
    expect(reply).not.toBeNull();
    expect(validResponse(reply!, kept, SECRET)).toBe(true);
    expect(await goneReply).toBeNull();
    // The two went in one batch, and it partly committed.
    expect(writes.mock.calls.map((call) => call[0].map((r) => r.acctSessionId))).toEqual([
      ['P-lock'],
      ['P-kept', 'P-gone'],
    ]);
    const [, partly] = await Promise.allSettled(writes.mock.results.map((r) => r.value));
    expect(partly).toMatchObject({ status: 'rejected', reason: expect.any(PartlyCommittedError) });
    const after = listener.stats;
    const dropped = (stats: { dropped: Map<string, number> }) =>
      [...stats.dropped.values()].reduce((a, b) => a + b, 0);
    expect({
      received: after.received - before.received,
      answered: after.answered - before.answered,
      written: after.written - before.written,
      duplicates: after.duplicates - before.duplicates,
      dropped: dropped(after) - dropped(before),
      writeFailed: after.dropped.get('write-failed')! - (before.dropped.get('write-failed') ?? 0),
    }).toEqual({
      received: 2,
      // P-kept's, and P-lock's (received before): every packet answered or dropped.
      answered: 2,
      written: 2,
      duplicates: 0,
      dropped: 1,
      writeFailed: 1,
    });
    // Written once: the interval since the Start, not 0 from the same update applied again;
    // and its event published once.
    expect(await interval('P-kept')).toEqual([{ acctinterval: 300 }]);
    expect(await interval('P-gone')).toEqual([]);
    await until(() => published.mock.calls.length === 2);
    expect(
      published.mock.calls.flatMap((call) => call[0].map((c) => [c.type, c.row.acctSessionId])),
    ).toEqual([
      ['UPDATED', 'P-lock'],
      ['UPDATED', 'P-kept'],
    ]);
    writes.mockRestore();
    published.mockRestore();

    // The NAS sends it again; it is written as a new row this time.
    await db.query('DROP TRIGGER t_refuse_gone');
    await answered(gone);
    expect(await interval('P-gone')).toEqual([{ acctinterval: null }]);
  });

  it('one packet the database refuses fails its batch: the others are written one by one and answered, it alone is not', async () => {
    await answered(packet('Start', 'Q-lock', 20));
    await db.query(
      "CREATE TRIGGER t_refuse_poison BEFORE INSERT ON radacct FOR EACH ROW IF NEW.acctsessionid = 'Q-poison' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'; END IF",
    );
    // Q-lock's row held: its Interim-Update's batch waits, and the three Starts queue behind it.
    await holder?.end();
    holder = await createConnection({ ...db.mysql!, database: db.database });
    await holder.query('START TRANSACTION');
    await holder.query("SELECT radacctid FROM radacct WHERE acctsessionid = 'Q-lock' FOR UPDATE");
    const writes = jest.spyOn(api.app.get(RadacctWriter), 'write');
    const lockReply = client.send(
      packet('Interim-Update', 'Q-lock', 21, { eventTime: T0 + 300, sessionTime: 300 }),
      port,
      10_000,
    );
    await until(() => writes.mock.calls.length === 1);
    const before = { ...listener.stats, dropped: new Map(listener.stats.dropped) };
    const starts = ['Q-a', 'Q-poison', 'Q-b'].map((id, i) => packet('Start', id, 22 + i));
    const replies = starts.map((p) => client.send(p, port, 3_000));
    await until(() => listener.stats.received - before.received === 3);
    await holder.query('COMMIT');
    await holder.end();
    holder = undefined;

    expect(await lockReply).not.toBeNull();
    const [a, poison, b] = await Promise.all(replies);
    expect(validResponse(a!, starts[0], SECRET)).toBe(true);
    expect(validResponse(b!, starts[2], SECRET)).toBe(true);
    expect(poison).toBeNull();
    expect(writes.mock.calls.map((call) => call[0].map((r) => r.acctSessionId))).toEqual([
      ['Q-lock'],
      ['Q-a', 'Q-poison', 'Q-b'],
      ['Q-a'],
      ['Q-poison'],
      ['Q-b'],
    ]);
    writes.mockRestore();
    expect(
      listener.stats.dropped.get('write-failed')! - (before.dropped.get('write-failed') ?? 0),
    ).toBe(1);
    const rows = await db.query<{ acctsessionid: string }>(
      "SELECT acctsessionid FROM radacct WHERE acctsessionid LIKE 'Q-%' ORDER BY acctsessionid",
    );
    expect(rows.map((r) => r.acctsessionid)).toEqual(['Q-a', 'Q-b', 'Q-lock']);

    // Once the database takes it, the NAS's retransmit is written and answered.
    await db.query('DROP TRIGGER t_refuse_poison');
    await answered(starts[1]);
  });
});
