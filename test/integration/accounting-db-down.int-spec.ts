import { createSocket, type Socket } from 'node:dgram';
import { isDeepStrictEqual } from 'node:util';
import { AccountingListener } from '../../src/radius/accounting/accounting-listener.service';
import { startApp, type RunningApp } from '../support/app';
import { PrivateMariaDb } from '../support/private-mariadb';
import {
  accountingRequest,
  sessionAttributes,
  validResponse,
  type Attribute,
} from '../support/radius-packets';
import type { TestDatabase } from '../support/test-database';

const SECRET = 'db-down-s3cret';
const T0 = 1_700_000_000;
/** A NAS retransmits what is unanswered this often, with the same bytes. */
const RETRANSMIT_MS = 500;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Status = 'Start' | 'Interim-Update' | 'Stop';

/** One Accounting-Request as the NAS sent it, and what became of it. */
interface Transmission {
  session: number;
  status: Status;
  bytes: Buffer;
  firstSentAt: number;
  lastSentAt: number;
  sends: number;
  /** When the first valid Accounting-Response came, or null. */
  answeredAt: number | null;
  done: () => void;
}

/**
 * A NAS as far as accounting goes: one UDP socket (one source port), an identifier per
 * outstanding packet, and every packet without a valid answer sent again, byte for byte,
 * every 500 ms until it has one. It logs every packet it sent and when it was answered.
 */
class SimulatedNas {
  readonly log: Transmission[] = [];
  private readonly outstanding = new Map<number, Transmission>();
  private nextId = 0;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly socket: Socket,
    private readonly port: number,
  ) {
    socket.on('message', (msg) => this.onAnswer(msg));
    this.timer = setInterval(() => this.retransmit(), 50);
  }

  static async open(port: number): Promise<SimulatedNas> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new SimulatedNas(socket, port);
  }

  /** Sends a packet and resolves once it has a valid answer, however many sends it takes. */
  async transmit(session: number, status: Status, attributes: Attribute[]): Promise<void> {
    while (this.outstanding.size >= 256) await sleep(10);
    while (this.outstanding.has(this.nextId)) this.nextId = (this.nextId + 1) % 256;
    const id = this.nextId;
    this.nextId = (this.nextId + 1) % 256;
    const bytes = accountingRequest(SECRET, attributes, id);
    await new Promise<void>((done) => {
      const now = Date.now();
      const tx: Transmission = {
        session,
        status,
        bytes,
        firstSentAt: now,
        lastSentAt: now,
        sends: 1,
        answeredAt: null,
        done,
      };
      this.log.push(tx);
      this.outstanding.set(id, tx);
      this.socket.send(bytes, this.port, '127.0.0.1');
    });
  }

  private onAnswer(msg: Buffer): void {
    const tx = this.outstanding.get(msg[1]);
    if (!tx || !validResponse(msg, tx.bytes, SECRET)) return;
    this.outstanding.delete(msg[1]);
    tx.answeredAt = Date.now();
    tx.done();
  }

  private retransmit(): void {
    const now = Date.now();
    for (const tx of this.outstanding.values()) {
      if (now - tx.lastSentAt < RETRANSMIT_MS) continue;
      tx.lastSentAt = now;
      tx.sends++;
      this.socket.send(tx.bytes, this.port, '127.0.0.1');
    }
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** Session i of a phase: what its Start, Interim-Update and Stop carry. */
function sessionPackets(phase: string, i: number): Record<Status, Attribute[]> {
  const s = { username: `${phase}-user-${i}`, sessionId: `${phase}-${i}`, framedIp: '10.9.0.1' };
  const t = T0 + i;
  return {
    Start: [...sessionAttributes('Start', { ...s, eventTime: t }), ['Connect-Info', `start-${i}`]],
    'Interim-Update': [
      ...sessionAttributes('Interim-Update', {
        ...s,
        eventTime: t + 60,
        sessionTime: 60,
        inputOctets: BigInt(1000 * (i + 1)),
        outputOctets: (5n << 30n) + BigInt(i),
      }),
      ['Connect-Info', `interim-${i}`],
    ],
    Stop: [
      ...sessionAttributes('Stop', {
        ...s,
        eventTime: t + 120,
        sessionTime: 120,
        inputOctets: (BigInt(i + 1) << 32n) | BigInt(i),
        outputOctets: (6n << 30n) + 123n + BigInt(i),
      }),
      ['Connect-Info', `stop-${i}`],
    ],
  };
}

/**
 * Database down: MariaDB stops while packets flow, then restarts. No Accounting-Response goes
 * out for a packet whose write failed, and after the restart and the NAS's retransmits,
 * radacct holds every packet exactly once. The MariaDB here is the test's own (killed and
 * restarted), never the shared one.
 */
describe('accounting listener while MariaDB goes down and comes back', () => {
  let server: PrivateMariaDb;
  let db: TestDatabase;
  let api: RunningApp;
  let port: number;
  const nases: SimulatedNas[] = [];

  beforeAll(async () => {
    server = await PrivateMariaDb.create();
    db = await server.createDatabase('radgraph');
    await db.query(
      "INSERT INTO nas (nasname, shortname, type, secret) VALUES ('127.0.0.1', 'nas-1', 'mikrotik', ?)",
      [SECRET],
    );
    api = await startApp(db);
    port = api.app.get(AccountingListener).address()!.port;
  }, 25_000);

  afterAll(async () => {
    try {
      await Promise.all(nases.map((n) => n.close()));
      // Bounded: a close stuck on a dead database must not keep the server alive.
      await Promise.race([api?.close(), new Promise((r) => setTimeout(r, 5_000).unref())]);
    } finally {
      await server?.destroy();
    }
  }, 10_000);

  async function writeFailures(): Promise<number> {
    const { body } = await api.gql('{ accountingListener { dropped { reason count } } }');
    const row = (body.data.accountingListener.dropped as Array<{ reason: string; count: unknown }>)
      .filter((d) => d.reason === 'write-failed')
      .map((d) => Number(d.count));
    return row[0] ?? 0;
  }

  /**
   * `sessions` sessions start 15 ms apart, each sending Start, Interim-Update and Stop (the
   * next once the last was answered, 300 ms later); `outageAt` ms in, the server is stopped
   * with `signal`, and `downMs` later started again on the same datadir and port. Every
   * packet must then be answered within `drainMs`.
   */
  async function flowThroughOutage(
    phase: string,
    sessions: number,
    signal: 'SIGKILL' | 'SIGTERM',
    outageAt: number,
    downMs: number,
    drainMs: number,
  ): Promise<void> {
    const nas = await SimulatedNas.open(port);
    nases.push(nas);
    const failuresBefore = await writeFailures();
    const flows = Array.from({ length: sessions }, async (_, i) => {
      await sleep(i * 15);
      const packets = sessionPackets(phase, i);
      for (const status of ['Start', 'Interim-Update', 'Stop'] as const) {
        await nas.transmit(i, status, packets[status]);
        if (status !== 'Stop') await sleep(300);
      }
    });
    const allDone = Promise.all(flows);

    await sleep(outageAt);
    const answeredBeforeOutage = nas.log.filter((tx) => tx.answeredAt !== null).length;
    await server.stop(signal);
    const downAt = Date.now();
    await sleep(downMs);
    const restartAt = Date.now();
    await server.start(10_000);

    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const left = nas.log.filter((tx) => tx.answeredAt === null).length;
        reject(
          new Error(`${phase}: ${left} packets still unanswered ${drainMs} ms after the restart`),
        );
      }, drainMs);
    });
    try {
      await Promise.race([allDone, deadline]);
    } finally {
      clearTimeout(timer);
    }

    // The outage happened mid-flow: packets were answered before it, and sent during it.
    expect(answeredBeforeOutage).toBeGreaterThan(0);
    const sentDuringOutage = nas.log.filter(
      (tx) => tx.firstSentAt > downAt && tx.firstSentAt < restartAt,
    );
    expect(sentDuringOutage.length).toBeGreaterThan(0);
    // Writes failed while the server was down, and none of those packets was answered then:
    // nothing first sent in the outage, and nothing at all once it was well under way, got
    // an answer before the server was back.
    expect(await writeFailures()).toBeGreaterThan(failuresBefore);
    const what = (tx: Transmission) =>
      `${tx.status} of session ${tx.session}, answered ${tx.answeredAt! - downAt} ms after the server went down`;
    expect(sentDuringOutage.filter((tx) => tx.answeredAt! < restartAt).map(what)).toEqual([]);
    expect(
      nas.log.filter((tx) => tx.answeredAt! > downAt + 500 && tx.answeredAt! < restartAt).map(what),
    ).toEqual([]);
    // Every packet was answered in the end (some after several sends).
    expect(nas.log).toHaveLength(sessions * 3);
    expect(nas.log.every((tx) => tx.answeredAt !== null)).toBe(true);
    expect(nas.log.some((tx) => tx.sends > 1)).toBe(true);

    // radacct holds every packet exactly once: one row per session, and each of its three
    // packets left its own mark (so none was answered without being committed):
    // - the Start: connectinfo_start (an Interim or Stop creating the row would leave theirs);
    // - the Interim-Update, applied after the Start: acctinterval = 60 (only an interim on an
    //   existing row sets it), or 0 when it was applied twice: its COMMIT went through as the
    //   database died, so it was never answered and the NAS sent it again, which FreeRADIUS's
    //   queries.conf (and so radgraph, radacct-differential) writes as an interval of 0;
    // - the Stop: the stop time, session time, cause, connectinfo_stop and final counters.
    const rows = await db.query<any>(
      `SELECT acctsessionid AS id, COUNT(*) OVER (PARTITION BY acctsessionid) AS copies,
              connectinfo_start AS startInfo, connectinfo_stop AS stopInfo,
              UNIX_TIMESTAMP(acctstarttime) AS started, UNIX_TIMESTAMP(acctstoptime) AS stopped,
              acctinterval AS intervalSeconds, acctsessiontime AS sessionTime,
              CAST(acctinputoctets AS CHAR) AS input, CAST(acctoutputoctets AS CHAR) AS output,
              acctterminatecause AS cause
         FROM radacct WHERE acctsessionid LIKE ? ORDER BY radacctid`,
      [`${phase}-%`],
    );
    expect(rows).toHaveLength(sessions);
    const resent = (session: number, status: Status) =>
      nas.log.some((tx) => tx.session === session && tx.status === status && tx.sends > 1);
    const wrong = rows.flatMap((r) => {
      const i = Number(String(r.id).slice(phase.length + 1));
      const want = {
        id: `${phase}-${i}`,
        copies: 1,
        startInfo: `start-${i}`,
        stopInfo: `stop-${i}`,
        started: T0 + i,
        stopped: T0 + i + 120,
        intervalSeconds: Number(r.intervalSeconds) === 0 && resent(i, 'Interim-Update') ? 0 : 60,
        sessionTime: 120,
        input: ((BigInt(i + 1) << 32n) | BigInt(i)).toString(),
        output: ((6n << 30n) + 123n + BigInt(i)).toString(),
        cause: 'User-Request',
      };
      const got = {
        ...r,
        copies: Number(r.copies),
        started: Number(r.started),
        stopped: Number(r.stopped),
        intervalSeconds: Number(r.intervalSeconds),
        sessionTime: Number(r.sessionTime),
      };
      return isDeepStrictEqual(got, want) ? [] : [{ got, want }];
    });
    expect(wrong).toEqual([]);
  }

  it('a crash (SIGKILL) mid-flow: unanswered while down, every packet written exactly once after', async () => {
    await flowThroughOutage('kill', 200, 'SIGKILL', 1200, 3000, 15_000);
  }, 30_000);

  it('a clean shutdown (SIGTERM) mid-flow: the same', async () => {
    await flowThroughOutage('term', 100, 'SIGTERM', 800, 2000, 10_000);
  }, 20_000);
});
