/**
 * Issue 4's differential test: one scripted sequence of Accounting-Requests goes once through
 * real FreeRADIUS 3.2 (radius-config/: preprocess, acct_unique, rlm_sql with the stock mysql
 * queries.conf) into one MariaDB database, and once through radgraph's own accounting listener
 * into another. radgraph migrates both databases, so their radacct tables are the same. Every
 * packet is built once and the very same bytes go to both servers, from 127.0.0.1.
 *
 * Then the radacct rows must agree column by column (every column but radacctid and radgraph's
 * own rg_seen_at, acctuniqueid included: rows are matched by Acct-Session-Id, unique in the
 * script), and so must nasreload, apart from the differences radius-config/README.md documents
 * ("radgraph's accounting listener and FreeRADIUS's queries.conf"). Those are asserted exactly:
 * which session, which column, what each side holds.
 *
 * The script: start, two interims, a true retransmit (same bytes, same socket), an interim
 * resent as a new packet, stop, a late interim after the stop, interims out of order, counters
 * that go down, interim-without-start, stop-without-start, a repeated Start, strings that need
 * escaping, a string too long for its column, packets that exercise preprocess (no
 * Event-Timestamp, no Service-Type, NAS-IPv6-Address only, a hints-file suffix), and
 * Accounting-On for a NAS with open sessions and for one without. A second script sends odd
 * shapes: every Service-Type and Framed-Protocol value FreeRADIUS names, zero-length and
 * wrong-sized attributes, a stop whose start would be before 1970, and an Acct-Session-Id
 * reused after a NAS reboot.
 */
import { RunningApp, startApp } from '../support/app';
import { freeradiusDatabase, RunningFreeradius, startFreeradius } from '../support/freeradius';
import {
  accountingRequest,
  RadiusTestClient,
  resign,
  validResponse,
  type Attribute,
} from '../support/radius-packets';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { AccountingListener } from '../../src/radius/accounting/accounting-listener.service';
import { runAll } from '../support/cleanup';

jest.setTimeout(60_000);

const SECRET = 'e2e-Differential-s3cret';
const NAS = '127.0.0.1';
/** Event-Timestamps: a fixed time in the past, so which sessions Accounting-On closes is fixed. */
const T0 = 1_763_800_000;
const GIB = 1n << 32n;
/** When an answer must have come (both servers answer on loopback in milliseconds). */
const ANSWER_MS = 3000;
/** How long to wait for an answer that must not come. */
const NO_ANSWER_MS = 1500;

/** A session of the script: the attributes every packet of it carries. */
interface Session {
  label: string;
  username: string;
  sessionId: string;
  /** Replaces NAS-IP-Address (default 127.0.0.1); null leaves it out. */
  nasIp?: string | null;
  /** Extra attributes on every packet of the session, after the defaults. */
  extra?: Attribute[];
  /** Default attributes this session's packets leave out. */
  omit?: string[];
  /** Attributes appended as they are to every packet of the session (see PacketSpec.raw). */
  raw?: Array<[number, Buffer]>;
}

interface PacketSpec {
  /** Event-Timestamp; null leaves it out (FreeRADIUS then uses the arrival time). */
  t: number | null;
  sessionTime?: number;
  input?: bigint;
  output?: bigint;
  cause?: string;
  extra?: Attribute[];
  omit?: string[];
  /** Attributes appended as they are (type, value): repeats and shapes the encoder refuses. */
  raw?: Array<[number, Buffer]>;
}

const split = (v: bigint): [number, number] => [Number(v & 0xffffffffn), Number(v >> 32n)];

let identifier = 0;

function packet(s: Session, status: 'Start' | 'Interim-Update' | 'Stop', p: PacketSpec): Buffer {
  const omit = new Set([...(s.omit ?? []), ...(p.omit ?? [])]);
  const attrs: Attribute[] = [
    ['Acct-Status-Type', status],
    ['User-Name', s.username],
    ['Acct-Session-Id', s.sessionId],
    ['NAS-IP-Address', s.nasIp === undefined ? NAS : s.nasIp],
    ['NAS-Port', 15728641],
    ['NAS-Port-Id', `pppoe-${s.label}`],
    ['NAS-Port-Type', 'Ethernet'],
    ['Service-Type', 'Framed-User'],
    ['Framed-Protocol', 'PPP'],
    ['Acct-Authentic', 'RADIUS'],
    ['Called-Station-Id', 'pppoe-isp'],
    ['Calling-Station-Id', 'AA:BB:CC:00:11:22'],
    ['Framed-IP-Address', '100.64.0.10'],
  ];
  if (p.t !== null) attrs.push(['Event-Timestamp', new Date(p.t * 1000)]);
  if (status !== 'Start') {
    const [inLo, inHi] = split(p.input ?? 0n);
    const [outLo, outHi] = split(p.output ?? 0n);
    attrs.push(
      ['Acct-Session-Time', p.sessionTime ?? 0],
      ['Acct-Input-Octets', inLo],
      ['Acct-Output-Octets', outLo],
    );
    if (inHi > 0) attrs.push(['Acct-Input-Gigawords', inHi]);
    if (outHi > 0) attrs.push(['Acct-Output-Gigawords', outHi]);
  }
  if (status === 'Stop') attrs.push(['Acct-Terminate-Cause', p.cause ?? 'User-Request']);
  // Later attributes of the same name replace earlier ones (one of each in the packet).
  const merged = new Map<string, Attribute>();
  for (const a of [...attrs, ...(s.extra ?? []), ...(p.extra ?? [])]) merged.set(String(a[0]), a);
  const list = [...merged.values()].filter((a) => a[1] !== null && !omit.has(String(a[0])));
  identifier = (identifier + 1) % 256;
  const encoded = accountingRequest(SECRET, list, identifier);
  const raw = [...(s.raw ?? []), ...(p.raw ?? [])];
  if (raw.length === 0) return encoded;
  const bytes = Buffer.concat([
    encoded,
    ...raw.map(([type, value]) => Buffer.concat([Buffer.from([type, value.length + 2]), value])),
  ]);
  bytes.writeUInt16BE(bytes.length, 2);
  return resign(bytes, SECRET);
}

function accountingOn(nasIp: string, t: number): Buffer {
  identifier = (identifier + 1) % 256;
  return accountingRequest(
    SECRET,
    [
      ['Acct-Status-Type', 'Accounting-On'],
      ['NAS-IP-Address', nasIp],
      ['NAS-Identifier', 'mikrotik-e2e'],
      ['Acct-Delay-Time', 0],
      ['Event-Timestamp', new Date(t * 1000)],
    ],
    identifier,
  );
}

/** An IPv6 address (or prefix, with its length) as RADIUS attribute bytes. */
function ipv6Bytes(groups: number[]): Buffer {
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(g, i * 2));
  return b;
}
const ipv6Prefix = (length: number, groups: number[]) =>
  Buffer.concat([Buffer.from([0, length]), ipv6Bytes(groups)]);

// The sessions (one radacct row each); their packets follow in the test, in order.
const A: Session = {
  label: 'a',
  username: 'amina.wanjiru',
  sessionId: '81a00001',
  // Quotes, a comma, a backslash, a semicolon, an equals sign and UTF-8 (2, 3 and 4 bytes).
  extra: [['Connect-Info', 'PPPoE, 1000BASE-T "full"; \\ duplex=ok é ✓ 東京 😀']],
};
const B: Session = {
  label: 'b',
  // '+' and "'" are not among queries.conf's safe_characters.
  username: "kamau+tv'x@isp",
  sessionId: '81a00002',
  extra: [
    ['Calling-Station-Id', 'aa,bb;"cc"\\dd'],
    ['Called-Station-Id', 'service=fibre'],
    ['NAS-Port-Id', 'ether1,vlan 10'],
    // A tab in the middle: the one control character FreeRADIUS's escaping passes through.
    ['Connect-Info', 'Café\t100M %{User-Name}'],
  ],
};
const C: Session = { label: 'c', username: 'c.reordered', sessionId: '81a00003' };
const D: Session = { label: 'd', username: 'd.countersdown', sessionId: '81a00004' };
const E: Session = { label: 'e', username: 'e.interimonly', sessionId: '81a00005' };
const F: Session = { label: 'f', username: 'f.stoponly', sessionId: '81a00006' };
const G: Session = { label: 'g', username: 'g.twostarts', sessionId: '81a00007' };
const H: Session = { label: 'h', username: 'h.notimestamp', sessionId: '81a00008' };
const I: Session = {
  label: 'i',
  username: 'i.noservicetype',
  sessionId: '81a00009',
  omit: ['Service-Type'],
};
const J: Session = {
  label: 'j',
  username: 'j.ipv6nas',
  sessionId: '81a0000a',
  nasIp: null,
  extra: [
    ['NAS-IPv6-Address', ipv6Bytes([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])],
    ['Framed-IPv6-Prefix', ipv6Prefix(64, [0x2001, 0xdb8, 0x100, 0x1, 0, 0, 0, 0])],
    ['Delegated-IPv6-Prefix', ipv6Prefix(56, [0x2001, 0xdb8, 0x200, 0, 0, 0, 0, 0])],
    ['Framed-Interface-Id', Buffer.from([0, 0, 0, 0, 0x0a, 0xbc, 0, 0x01])],
    // Framed-IPv6-Address (RFC 6911) is not in the radius package's dictionaries: raw bytes.
    ['168', ipv6Bytes([0x2001, 0xdb8, 0x100, 0x1, 0, 0, 0, 0x5])],
  ],
};
const K: Session = {
  label: 'k',
  username: 'k.othernas',
  sessionId: '81a0000b',
  nasIp: '192.0.2.7',
};
const L: Session = {
  label: 'l',
  username: 'l.toolong',
  sessionId: '81a0000c',
  extra: [['Calling-Station-Id', 'x'.repeat(60)]],
};
// A suffix of the stock preprocess hints file, without Service-Type and Framed-Protocol.
const M: Session = {
  label: 'm',
  username: 'm.dialup.ppp',
  sessionId: '81a0000d',
  omit: ['Service-Type', 'Framed-Protocol'],
};
const SESSIONS = [A, B, C, D, E, F, G, H, I, J, K, L, M];

/** One column of one session that differs: what each side holds. */
interface Difference {
  session: string;
  column: string;
  freeradius: unknown;
  radgraph: unknown;
}

/**
 * The differences radius-config/README.md documents, for this script: radgraph's rules
 * (radacct-sql.ts) where FreeRADIUS's queries.conf has none. L (a string too long for its
 * column) and nasreload are asserted on their own.
 */
const DOCUMENTED: Difference[] = [
  // A: the interim delayed past the stop. FreeRADIUS's interim UPDATE rewrites the stopped
  // row (update time, interval, session time, counters); radgraph leaves it as the stop left it.
  { session: 'a', column: 'acctupdatetime', freeradius: T0 + 800, radgraph: T0 + 600 },
  { session: 'a', column: 'acctinterval', freeradius: 200, radgraph: 0 },
  { session: 'a', column: 'acctsessiontime', freeradius: 800, radgraph: 900 },
  {
    session: 'a',
    column: 'acctinputoctets',
    freeradius: String(5n * GIB + 5000n),
    radgraph: String(6n * GIB + 7n),
  },
  {
    session: 'a',
    column: 'acctoutputoctets',
    freeradius: String(3n * GIB + 1n),
    radgraph: String(3n * GIB + 9n),
  },
  // C: the older interim, arriving last. FreeRADIUS goes back in time (a negative interval);
  // radgraph keeps the newer state. Accounting-On then set the same session time on both.
  { session: 'c', column: 'acctupdatetime', freeradius: T0 + 300, radgraph: T0 + 600 },
  { session: 'c', column: 'acctinterval', freeradius: -300, radgraph: 600 },
  { session: 'c', column: 'acctinputoctets', freeradius: '3000', radgraph: '6000' },
  { session: 'c', column: 'acctoutputoctets', freeradius: '3500', radgraph: '7000' },
  // D: smaller counters in an interim and in the stop. Counters never go down in radgraph.
  {
    session: 'd',
    column: 'acctinputoctets',
    freeradius: '300',
    radgraph: String(5n * GIB + 123n),
  },
  { session: 'd', column: 'acctoutputoctets', freeradius: '150', radgraph: String(2n * GIB) },
];

describe("radacct: FreeRADIUS+rlm_sql and radgraph's listener, the same packets", () => {
  let frDb: TestDatabase;
  let rgDb: TestDatabase;
  let radius: RunningFreeradius | undefined;
  let api: RunningApp | undefined;
  let frClient: RadiusTestClient | undefined;
  let rgClient: RadiusTestClient | undefined;

  beforeAll(async () => {
    [frDb, rgDb] = await Promise.all([createTestDatabase('mysql'), createTestDatabase('mysql')]);
    if (!frDb.mysql) throw new Error('createTestDatabase("mysql") returned no MySQL credentials');
    // The same NAS in both: FreeRADIUS reads its clients at startup, so the row goes in first.
    for (const db of [frDb, rgDb]) {
      await db.query(
        'INSERT INTO nas (nasname, shortname, type, secret, description) VALUES (?, ?, ?, ?, ?)',
        [NAS, 'e2e-loopback', 'other', SECRET, 'radacct differential e2e'],
      );
    }
    radius = await startFreeradius({
      db: freeradiusDatabase(frDb),
    });
    api = await startApp(rgDb);
    frClient = await RadiusTestClient.open();
    rgClient = await RadiusTestClient.open();
  }, 60_000);

  afterAll(async () => {
    const steps = [
      () => frClient?.close(),
      () => rgClient?.close(),
      () => api?.close(),
      () => radius?.stop(),
      () => frDb?.drop(),
      () => rgDb?.drop(),
    ];
    await runAll(steps);
  }, 60_000);

  function listenerPort(): number {
    const address = api?.app.get(AccountingListener).address();
    if (!address) throw new Error('radgraph did not start its accounting listener');
    return address.port;
  }

  /**
   * Sends the same bytes to FreeRADIUS, then to radgraph, each waiting for its answer, so the
   * packets of the script reach each server in order.
   */
  async function sendBoth(
    label: string,
    bytes: Buffer,
    timeoutMs = ANSWER_MS,
  ): Promise<{ fr: Buffer | null; rg: Buffer | null }> {
    const fr = await frClient!.send(bytes, radius!.acctPort, timeoutMs);
    const rg = await rgClient!.send(bytes, listenerPort(), timeoutMs);
    for (const [who, answer] of [
      ['FreeRADIUS', fr],
      ['radgraph', rg],
    ] as const) {
      if (answer && !validResponse(answer, bytes, SECRET)) {
        throw new Error(`${label}: ${who} answered with an invalid Accounting-Response`);
      }
    }
    return { fr, rg };
  }

  async function expectAnswered(label: string, bytes: Buffer): Promise<void> {
    const { fr, rg } = await sendBoth(label, bytes);
    if (!fr || !rg) {
      throw new Error(
        `${label}: no answer from ${!fr ? 'FreeRADIUS' : ''} ${!rg ? 'radgraph' : ''}` +
          `\n--- FreeRADIUS (last 3000 characters)\n${radius!.output().slice(-3000)}`,
      );
    }
  }

  type Row = Record<string, unknown>;

  /** radacct by acctsessionid (unique in the script): times as Unix seconds, BIGINTs as strings. */
  async function radacct(db: TestDatabase): Promise<Map<string, Row>> {
    const columns = await db.query<{ name: string; type: string }>(
      'SELECT COLUMN_NAME AS name, DATA_TYPE AS type FROM information_schema.COLUMNS ' +
        "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'radacct' ORDER BY ORDINAL_POSITION",
      [db.database],
    );
    const times = new Set(columns.filter((c) => c.type === 'datetime').map((c) => c.name));
    const select = columns
      .map((c) => (times.has(c.name) ? `UNIX_TIMESTAMP(${c.name}) AS ${c.name}` : c.name))
      .join(', ');
    const rows = await db.query<Row>(`SELECT ${select} FROM radacct`);
    return new Map(
      rows.map((r) => {
        for (const t of times) if (r[t] !== null) r[t] = Number(r[t]);
        return [String(r.acctsessionid), r];
      }),
    );
  }

  async function rowOf(db: TestDatabase, s: Session): Promise<Row | undefined> {
    return (await radacct(db)).get(s.sessionId);
  }

  async function nasreload(db: TestDatabase): Promise<Row[]> {
    return db.query(
      'SELECT nasipaddress, UNIX_TIMESTAMP(reloadtime) AS reloadtime FROM nasreload ORDER BY nasipaddress',
    );
  }

  it('writes the same rows, apart from the documented differences', async () => {
    // A: start, two interims, a true retransmit, a NAS retransmit as a new packet, stop, and
    // an interim that was delayed and arrives after the stop.
    await expectAnswered('A start', packet(A, 'Start', { t: T0 }));
    const a2 = packet(A, 'Interim-Update', {
      t: T0 + 300,
      sessionTime: 300,
      input: 5n * GIB + 123n,
      output: 2n * GIB + 456n,
    });
    await expectAnswered('A interim 1', a2);
    const beforeRetransmit = [await rowOf(frDb, A), await rowOf(rgDb, A)];
    expect(beforeRetransmit.map((r) => r?.acctinterval)).toEqual([300, 300]);
    // The same bytes from the same socket: a retransmit. Answered again and written once (a
    // second write would set acctinterval to 0).
    await expectAnswered('A interim 1, retransmitted', a2);
    expect([await rowOf(frDb, A), await rowOf(rgDb, A)]).toEqual(beforeRetransmit);

    const a3: PacketSpec = {
      t: T0 + 600,
      sessionTime: 600,
      input: 5n * GIB + 1000n,
      output: 3n * GIB,
    };
    await expectAnswered('A interim 2', packet(A, 'Interim-Update', a3));
    // A NAS resends an unanswered interim as a new packet (new identifier, Acct-Delay-Time
    // counted): both servers write it again.
    await expectAnswered(
      'A interim 2, resent as a new packet',
      packet(A, 'Interim-Update', { ...a3, extra: [['Acct-Delay-Time', 5]] }),
    );
    expect([(await rowOf(frDb, A))?.acctinterval, (await rowOf(rgDb, A))?.acctinterval]).toEqual([
      0, 0,
    ]);
    await expectAnswered(
      'A stop',
      packet(A, 'Stop', {
        t: T0 + 900,
        sessionTime: 900,
        input: 6n * GIB + 7n,
        output: 3n * GIB + 9n,
        extra: [['Connect-Info', 'stop: "ok", \\n ü']],
      }),
    );
    await expectAnswered(
      'A late interim after the stop',
      packet(A, 'Interim-Update', {
        t: T0 + 800,
        sessionTime: 800,
        input: 5n * GIB + 5000n,
        output: 3n * GIB + 1n,
      }),
    );

    // B: strings that need escaping.
    await expectAnswered('B start', packet(B, 'Start', { t: T0 + 10 }));
    await expectAnswered(
      'B stop',
      packet(B, 'Stop', { t: T0 + 70, sessionTime: 60, input: 10n, output: 20n }),
    );

    // C: interims out of order (the older one arrives last); left open.
    await expectAnswered('C start', packet(C, 'Start', { t: T0 }));
    await expectAnswered(
      'C interim (newer)',
      packet(C, 'Interim-Update', { t: T0 + 600, sessionTime: 600, input: 6000n, output: 7000n }),
    );
    await expectAnswered(
      'C interim (older, late)',
      packet(C, 'Interim-Update', { t: T0 + 300, sessionTime: 300, input: 3000n, output: 3500n }),
    );

    // D: the NAS reports smaller counters (Gigawords lost), in an interim and in the stop.
    await expectAnswered('D start', packet(D, 'Start', { t: T0 }));
    await expectAnswered(
      'D interim',
      packet(D, 'Interim-Update', {
        t: T0 + 300,
        sessionTime: 300,
        input: 5n * GIB + 123n,
        output: 2n * GIB,
      }),
    );
    await expectAnswered(
      'D interim, smaller counters',
      packet(D, 'Interim-Update', { t: T0 + 600, sessionTime: 600, input: 200n, output: 100n }),
    );
    await expectAnswered(
      'D stop, smaller counters',
      packet(D, 'Stop', { t: T0 + 900, sessionTime: 900, input: 300n, output: 150n }),
    );

    // E: an interim without a start; left open. F: a stop without a start.
    await expectAnswered(
      'E interim without start',
      packet(E, 'Interim-Update', {
        t: T0 + 1200,
        sessionTime: 1200,
        input: 1000n,
        output: 2000n,
      }),
    );
    await expectAnswered(
      'F stop without start',
      packet(F, 'Stop', {
        t: T0 + 1500,
        sessionTime: 1500,
        input: 3n * GIB,
        output: 4n,
        cause: 'Lost-Carrier',
      }),
    );

    // G: a second Start for an open session, as a new packet with other attributes, within a
    // minute of the first: a copy of the session's own Start to both (radgraph takes a Start
    // more than 60 s later for a new session in the row: a documented difference).
    await expectAnswered(
      'G start',
      packet(G, 'Start', { t: T0 + 100, extra: [['Connect-Info', 'first']] }),
    );
    await expectAnswered(
      'G start again, changed',
      packet(G, 'Start', {
        t: T0 + 160,
        extra: [
          ['Connect-Info', 'second'],
          ['Framed-IP-Address', '100.64.0.99'],
          ['Acct-Authentic', 'Local'],
        ],
      }),
    );

    // H: no Event-Timestamp, but an Acct-Delay-Time: the NAS sent it 100 s before arrival.
    const hSentAt = Math.floor(Date.now() / 1000);
    await expectAnswered(
      'H start without Event-Timestamp',
      packet(H, 'Start', { t: null, extra: [['Acct-Delay-Time', 100]] }),
    );

    // I: Framed-Protocol without Service-Type. J: NAS-IPv6-Address without NAS-IP-Address.
    // M: a User-Name the hints file knows, without either.
    await expectAnswered('I start', packet(I, 'Start', { t: T0 + 200 }));
    await expectAnswered('J start', packet(J, 'Start', { t: T0 + 200 }));
    await expectAnswered(
      'J stop',
      packet(J, 'Stop', { t: T0 + 260, sessionTime: 60, input: 1n, output: 2n }),
    );
    await expectAnswered('M start', packet(M, 'Start', { t: T0 + 200 }));
    await expectAnswered(
      'M stop',
      packet(M, 'Stop', { t: T0 + 230, sessionTime: 30, input: 5n, output: 6n }),
    );

    // K: a session of another NAS (sent from the same address); left open.
    await expectAnswered('K start', packet(K, 'Start', { t: T0 + 50 }));

    // L: a Calling-Station-Id longer than its column (50). FreeRADIUS's INSERT fails (strict
    // mode) and it does not answer; radgraph cuts the value and answers.
    const l = await sendBoth('L start', packet(L, 'Start', { t: T0 + 50 }), NO_ANSWER_MS);
    expect({ freeradius: l.fr !== null, radgraph: l.rg !== null }).toEqual({
      freeradius: false,
      radgraph: true,
    });

    // Accounting-On for this NAS (closes C, E, G, I and radgraph's L; not H, which started
    // after it, nor K of another NAS) and for a NAS with no open session.
    await expectAnswered('Accounting-On 127.0.0.1', accountingOn(NAS, T0 + 5000));
    await expectAnswered('Accounting-On 192.0.2.99', accountingOn('192.0.2.99', T0 + 5000));

    const fr = await radacct(frDb);
    const rg = await radacct(rgDb);
    // Same schema, and every session in both but L.
    expect(Object.keys(rg.get(A.sessionId) ?? {})).toEqual(Object.keys(fr.get(A.sessionId) ?? {}));
    expect([...fr.keys()].sort()).toEqual(
      SESSIONS.filter((s) => s !== L)
        .map((s) => s.sessionId)
        .sort(),
    );
    expect([...rg.keys()].sort()).toEqual(SESSIONS.map((s) => s.sessionId).sort());
    expect(rg.get(L.sessionId)).toMatchObject({ callingstationid: 'x'.repeat(50) });

    const differences: Difference[] = [];
    for (const s of SESSIONS.filter((x) => x !== L)) {
      const f = fr.get(s.sessionId)!;
      const r = rg.get(s.sessionId)!;
      for (const column of Object.keys(f)) {
        if (column === 'radacctid' || column === 'rg_seen_at') continue;
        if (f[column] === r[column]) continue;
        // H's times are its arrival times at each server, which were a moment apart.
        const arrival = s === H && (column === 'acctstarttime' || column === 'acctupdatetime');
        if (arrival && Math.abs(Number(f[column]) - Number(r[column])) <= 2) continue;
        differences.push({ session: s.label, column, freeradius: f[column], radgraph: r[column] });
      }
    }
    expect(differences).toEqual(DOCUMENTED);

    // What FreeRADIUS stores, and radgraph therefore too (the rows are equal there):
    // rlm_sql's escaping of anything outside safe_characters ("=XX"), NAS-Port-Id escaped twice;
    // UTF-8 and a tab kept.
    expect(fr.get(A.sessionId)).toMatchObject({
      connectinfo_start: 'PPPoE=2C 1000BASE-T =22full=22=3B =5C duplex=3Dok é ✓ 東京 😀',
      connectinfo_stop: 'stop: =22ok=22=2C =5Cn ü',
    });
    expect(fr.get(B.sessionId)).toMatchObject({
      username: 'kamau=2Btv=27x@isp',
      nasportid: 'ether1=3D2Cvlan 10',
      calledstationid: 'service=3Dfibre',
      callingstationid: 'aa=2Cbb=3B=22cc=22=5Cdd',
      connectinfo_start: 'Café\t100M =25=7BUser-Name=7D',
    });
    // The exact 64-bit counters.
    expect(fr.get(F.sessionId)).toMatchObject({
      acctinputoctets: String(3n * GIB),
      acctstarttime: T0,
      acctstoptime: T0 + 1500,
      acctterminatecause: 'Lost-Carrier',
    });
    // A repeated Start sets only the times and connectinfo_start.
    expect(fr.get(G.sessionId)).toMatchObject({
      acctstarttime: T0 + 160,
      connectinfo_start: 'second',
      framedipaddress: '100.64.0.10',
      acctauthentic: 'RADIUS',
    });
    // preprocess: the arrival time less Acct-Delay-Time; Service-Type for Framed-Protocol; the
    // source address as NAS-IP-Address next to NAS-IPv6-Address; the hints file.
    expect(Number(fr.get(H.sessionId)?.acctstarttime) - (hSentAt - 100)).toBeGreaterThanOrEqual(0);
    expect(Number(fr.get(H.sessionId)?.acctstarttime) - (hSentAt - 100)).toBeLessThanOrEqual(2);
    expect(fr.get(I.sessionId)).toMatchObject({ servicetype: 'Framed-User' });
    expect(fr.get(J.sessionId)).toMatchObject({
      nasipaddress: NAS,
      framedipv6address: '2001:db8:100:1::5',
      framedipv6prefix: '2001:db8:100:1::/64',
      delegatedipv6prefix: '2001:db8:200::/56',
      framedinterfaceid: '0:0:abc:1',
    });
    expect(fr.get(M.sessionId)).toMatchObject({
      servicetype: 'Framed-User',
      framedprotocol: 'PPP',
    });
    // Accounting-On closed the sessions of this NAS that started before it, and no other.
    const closedByOn = (rows: Map<string, Row>) =>
      SESSIONS.filter((s) => rows.get(s.sessionId)?.acctterminatecause === 'NAS-Reboot').map(
        (s) => s.label,
      );
    expect(closedByOn(fr)).toEqual(['c', 'e', 'g', 'i']);
    expect(closedByOn(rg)).toEqual(['c', 'e', 'g', 'i', 'l']);
    expect(fr.get(H.sessionId)?.acctstoptime).toBeNull();
    expect(fr.get(K.sessionId)?.acctstoptime).toBeNull();

    // nasreload: FreeRADIUS's stock queries.conf has its nasreload query disabled (`-query`);
    // radgraph records every Accounting-On/Off.
    expect(await nasreload(frDb)).toEqual([]);
    expect(await nasreload(rgDb)).toEqual([
      { nasipaddress: NAS, reloadtime: String(T0 + 5000) },
      { nasipaddress: '192.0.2.99', reloadtime: String(T0 + 5000) },
    ]);
  });
  /**
   * Shapes of packet the script above does not send, each written differently by radgraph
   * before its fix. Every column of every row must agree: there is no documented difference
   * among them.
   */
  it('writes the same rows for odd value names, empty and malformed attributes, a start before 1970 and a reused session id', async () => {
    // After the first test's Accounting-On (T0 + 5000), so it closes none of these.
    const T1 = T0 + 10_000;
    const sessions: Session[] = [];
    const session = (label: string, more: Partial<Session> = {}): Session => {
      const s: Session = { label, username: `s.${label}`, sessionId: `82${label}`, ...more };
      sessions.push(s);
      return s;
    };
    const integer = (v: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(v);
      return b;
    };
    // Every Service-Type and Framed-Protocol value FreeRADIUS 3.2's dictionaries name (some
    // of which the `radius` package names otherwise, or not at all), and one neither names.
    const named = [
      ...Array.from({ length: 19 }, (_, i) => i),
      30,
      31,
      252,
      255,
      256,
      257,
      258,
      259,
      260,
      261,
      262,
      263,
      70_000,
      0x06300001,
      0x06300002,
      0x38df0001,
      ...Array.from({ length: 13 }, (_, i) => 0x01100002 + i),
    ];
    for (const n of named) {
      await expectAnswered(
        `value ${n}`,
        packet(session(`v${n.toString(16)}`), 'Stop', {
          t: T1,
          sessionTime: 10,
          omit: ['Service-Type', 'Framed-Protocol'],
          raw: [
            [6, integer(n)],
            [7, integer(n)],
          ],
        }),
      );
    }

    // Zero-length attributes, which FreeRADIUS drops: the next one of the type counts.
    const zero = session('zero', {
      omit: ['User-Name', 'Called-Station-Id', 'Calling-Station-Id', 'NAS-Port-Id'],
      raw: [
        [1, Buffer.alloc(0)],
        [1, Buffer.from('s.zero')],
        [30, Buffer.alloc(0)],
        [30, Buffer.from('after-empty')],
        [31, Buffer.alloc(0)],
        [87, Buffer.alloc(0)],
      ],
    });
    await expectAnswered('zero-length attributes', packet(zero, 'Start', { t: T1 }));

    // IPv6 attributes of the wrong size, which FreeRADIUS keeps as raw bytes: the next one of
    // the type counts, else the column is empty. A prefix of 17 bytes (too long); one that
    // is shorter than 16 bytes is zero-padded.
    const prefix = (length: number, bytes: number[]) => Buffer.from([0, length, ...bytes]);
    const v6 = session('v6sizes', {
      raw: [
        [97, prefix(64, [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 7])],
        [123, prefix(56, [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 7])],
        [123, prefix(56, [0x20, 0x01, 0x0d, 0xb8, 0, 0x77])],
        [168, ipv6Bytes([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]).subarray(0, 15)],
        [168, ipv6Bytes([0x2001, 0xdb8, 0, 0, 0, 0, 0, 2])],
        [96, Buffer.from([0, 0, 0, 0, 0, 0, 1])],
        [96, Buffer.from([0, 0, 0, 0, 0, 0, 0, 2])],
      ],
    });
    await expectAnswered('IPv6 attributes of odd sizes', packet(v6, 'Start', { t: T1 }));

    // User-Names that are not plain text: FreeRADIUS hashes their bytes for acctuniqueid (up
    // to a NUL), and stores them quoted (SQL-User-Name: \" \\ \t \ooo), then SQL-escaped.
    const userNames: Array<[string, Buffer]> = [
      ['latin1', Buffer.from([0x73, 0x2e, 0x6a, 0x6f, 0x73, 0xe9, 0x22, 0x5c, 0x01])],
      ['quoted', Buffer.from('s.a"b\\c$d\'e')],
      ['nul', Buffer.from('s.n\0ul')],
      ['trailing', Buffer.from('s.trail\0\0')],
      [
        'control',
        Buffer.from([0x73, 0x09, 0x0a, 0x0d, 0x7f, 0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80, 0x1b]),
      ],
    ];
    for (const [label, bytes] of userNames) {
      const s = session(label, { omit: ['User-Name'], raw: [[1, bytes]] });
      await expectAnswered(`User-Name ${label}`, packet(s, 'Start', { t: T1 }));
    }
    // Other strings are escaped as they are (no quoting), like NAS-Port-Id but twice.
    const strings = session('strings', {
      extra: [
        ['NAS-Port-Id', 'ether1,"vl\\an'],
        ['Called-Station-Id', 'a"b\\c'],
      ],
      raw: [[31, Buffer.from([0x61, 0xe9, 0x22])]],
      omit: ['Calling-Station-Id'],
    });
    await expectAnswered('strings', packet(strings, 'Start', { t: T1 }));

    // A stop without a start whose Acct-Session-Time is longer than its Event-Timestamp is
    // old (a NAS clock near 1970): the start it implies is before 1970.
    const early = session('before1970');
    await expectAnswered(
      'stop without start, starting before 1970',
      packet(early, 'Stop', { t: 1000, sessionTime: 5000, input: 1n, output: 2n }),
    );

    // A NAS that reuses an Acct-Session-Id (and port) after a reboot: a new session, in the
    // stopped row of the old one.
    const reused = session('reused');
    const attempt = (label: string, status: 'Start' | 'Interim-Update' | 'Stop', p: PacketSpec) =>
      expectAnswered(`reused: ${label}`, packet(reused, status, p));
    await attempt('start', 'Start', { t: T1, extra: [['Connect-Info', 'before reboot']] });
    await attempt('interim', 'Interim-Update', {
      t: T1 + 300,
      sessionTime: 300,
      input: 100n,
      output: 200n,
    });
    await attempt('stop', 'Stop', {
      t: T1 + 400,
      sessionTime: 400,
      input: 150n,
      output: 250n,
      cause: 'NAS-Reboot',
    });
    const after: Attribute[] = [['Framed-IP-Address', '100.64.0.77']];
    await attempt('start after the reboot', 'Start', {
      t: T1 + 1000,
      extra: [...after, ['Connect-Info', 'after reboot']],
    });
    // The documented difference, until the new session's Stop: radgraph's row is the new
    // session, open; FreeRADIUS's Start rewrites only the times and connectinfo_start of the
    // stopped row, which keeps the old session's stop, cause, counters and address.
    const between = async (target: TestDatabase) => (await radacct(target)).get(reused.sessionId);
    expect(await between(rgDb)).toMatchObject({
      acctstarttime: T1 + 1000,
      acctstoptime: null,
      acctterminatecause: '',
      acctinputoctets: '0',
      framedipaddress: '100.64.0.77',
      connectinfo_start: 'after reboot',
    });
    expect(await between(frDb)).toMatchObject({
      acctstarttime: T1 + 1000,
      acctstoptime: T1 + 400,
      acctterminatecause: 'NAS-Reboot',
      acctinputoctets: '150',
      connectinfo_start: 'after reboot',
    });
    await attempt('interim after the reboot', 'Interim-Update', {
      t: T1 + 1300,
      sessionTime: 300,
      input: 10n,
      output: 20n,
      extra: after,
    });
    await attempt('stop after the reboot', 'Stop', {
      t: T1 + 1600,
      sessionTime: 600,
      input: 30n,
      output: 40n,
      cause: 'Lost-Carrier',
      extra: after,
    });

    const fr = await radacct(frDb);
    const rg = await radacct(rgDb);
    const differences: Difference[] = [];
    for (const s of sessions) {
      const f = fr.get(s.sessionId);
      const r = rg.get(s.sessionId);
      if (!f || !r) throw new Error(`${s.label}: no row in ${!f ? 'FreeRADIUS' : 'radgraph'}`);
      for (const column of Object.keys(f)) {
        if (column === 'radacctid' || column === 'rg_seen_at' || f[column] === r[column]) continue;
        differences.push({ session: s.label, column, freeradius: f[column], radgraph: r[column] });
      }
    }
    expect(differences).toEqual([]);

    // What FreeRADIUS stores, and radgraph therefore too.
    const row = (label: string) => fr.get(`82${label}`);
    expect(row('vc')).toMatchObject({ servicetype: 'Sip-session', framedprotocol: '12' });
    expect(row('latin1')).toMatchObject({ username: 's.jos=5C351=5C=22=5C=5C=5C001' });
    expect(row('nul')).toMatchObject({ username: 's.n=5C000ul' });
    expect(row('vff')).toMatchObject({ servicetype: 'HP-User', framedprotocol: 'Ascend-ARA' });
    expect(row('v100')).toMatchObject({ servicetype: '256', framedprotocol: 'Ascend-MPP' });
    expect(row('v11170')).toMatchObject({ servicetype: '70000', framedprotocol: '70000' });
    expect(row('zero')).toMatchObject({
      username: 's.zero',
      calledstationid: 'after-empty',
      callingstationid: '',
      nasportid: '15728641',
    });
    expect(row('v6sizes')).toMatchObject({
      framedipv6prefix: '',
      delegatedipv6prefix: '2001:db8:77::/56',
      framedipv6address: '2001:db8::2',
      framedinterfaceid: '0:0:0:2',
    });
    expect(row('reused')).toMatchObject({
      acctstarttime: T1 + 1000,
      acctupdatetime: T1 + 1300,
      acctstoptime: T1 + 1600,
      acctsessiontime: 600,
      acctinputoctets: '30',
      acctoutputoctets: '40',
      framedipaddress: '100.64.0.77',
      connectinfo_start: 'after reboot',
      acctterminatecause: 'Lost-Carrier',
    });
    expect(row('before1970')).toMatchObject({
      acctstarttime: null,
      acctstoptime: 1000,
      acctsessiontime: 5000,
    });
  });
});
