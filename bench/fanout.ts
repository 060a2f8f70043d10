/**
 * Bench: live fan-out of session events to many dashboards (issue 8's goals: p99 from packet to
 * subscriber under 1 s, radgraph under 1.5 cores and 1 GiB RSS, every session's final state
 * delivered to every subscriber whose filter matches it).
 *
 *   npm run build && npx ts-node -T bench/fanout.ts [--write] [--unbatched | --batched]
 *       [--max-latency-ms=100] [--seconds=60] [--rate=833] [--sessions=50000] [--nas=20]
 *       [--per-nas=50] [--unfiltered=10] [--drain-seconds=30]
 *
 * 1. Seeds 20 NAS (nasname 127.0.0.2 … 127.0.0.21, each its own secret) and 50,000 open
 *    radacct sessions spread over them, with multi-row INSERTs (the table's indexes and
 *    triggers dropped meanwhile, then rebuilt and checked), on a fresh MariaDB database made by
 *    radgraph's migrations. acctuniqueid is the listener's (src/radius/acct-unique-id.ts over
 *    the attributes the updates carry), so every update lands on its seeded row.
 * 2. Starts radgraph as its own process (dist/src/main.js, NODE_ENV=production) and, in another
 *    process (support/fanout-subscribers.ts), 1,010 graphql-ws subscribers, each its own
 *    WebSocket with the admin token: 50 per NAS with `nasId` = that NAS, 10 unfiltered, on
 *    sessionEventBatches (maxLatencyMs 100) or, with --unbatched, sessionEvents. A warm-up
 *    (one update per NAS every 500 ms) runs until every subscriber has received an event.
 * 3. Replays 833 Interim-Updates a second for 60 s, open loop (a timer paces them; nothing
 *    waits for answers), round robin over the NAS, each from its NAS's loopback address and
 *    signed with its secret, each for a random session of that NAS. Every update carries its
 *    sequence number in its upload counter (2^32 + seq: it only grows, per session), so each
 *    event a subscriber receives names the packet it comes from. Answers are checked
 *    (Response Authenticator) and counted.
 * 4. After a drain (until no message came for 2 s, at most --drain-seconds), joins the send
 *    times (here) with the receive times (in the subscriber process; both on the epoch clock of
 *    this machine) and reports messages/s and events/s delivered, latency p50/p99/max over all
 *    (update, subscriber) deliveries, radgraph's CPU (cores over the replay, from /proc) and
 *    peak RSS (VmHWM), dropped subscribers, updates coalesced away, and the (session,
 *    subscriber) pairs whose final state never arrived. An event for no update sent, for
 *    another NAS than the filter's, twice or out of order fails the bench (the figures are
 *    printed, not written); a slow figure does not.
 *
 * The database is dropped and both processes stopped at the end, even on failure or Ctrl-C.
 * --write puts the results in the fanout section of bench/RESULTS.md.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { acctUniqueId } from '../src/radius/acct-unique-id';
import { TEST_TOKEN } from '../test/support/app';
import { freeUdpPorts } from '../test/support/freeradius';
import {
  accountingRequest,
  sessionAttributes,
  validResponse,
} from '../test/support/radius-packets';
import type { TestDatabase } from '../test/support/test-database';
import { busyShare, machineBusySeconds, processCpuSeconds, processMemory } from './support/cpu';
import {
  readDeliveries,
  type Deliveries,
  type FromSubscribers,
  type SubscriberProgress,
  type SubscriberSpec,
  type ToSubscribers,
} from './support/fanout-subscribers';
import { parseOptions, runBench, type Bench } from './support/main';
import { FIRST_NAMES, LAST_NAMES, uniqueUsername } from './support/names';
import { RADACCT_COLUMNS, radacctRow, randomMac } from './support/radacct';
import { random } from './support/random';
import { commandLine, machine, ms, percentile, revision } from './support/report';
import { bulkLoad, insertRows } from './support/seed';
import { describeListener, startServerProcess, type ServerProcess } from './support/server';

// ---------------------------------------------------------------------------------------------
// Options

const NAME = 'fanout';
const USAGE =
  'Usage: npm run build && npx ts-node -T bench/fanout.ts [--write] [--unbatched | --batched] ' +
  '[--max-latency-ms=N] [--seconds=N] [--rate=N] [--sessions=N] [--nas=N] [--per-nas=N] ' +
  '[--unfiltered=N] [--drain-seconds=N]';

const options = () => {
  const o = parseOptions(
    process.argv.slice(2),
    {
      write: false,
      batched: false,
      unbatched: false,
      'max-latency-ms': 100,
      seconds: 60,
      rate: 833,
      sessions: 50_000,
      nas: 20,
      'per-nas': 50,
      unfiltered: 10,
      'drain-seconds': 30,
    },
    USAGE,
  );
  if (o.batched && o.unbatched) throw new Error(`--batched or --unbatched, not both. ${USAGE}`);
  if (o.nas > 200) throw new Error(`--nas is at most 200 (127.0.0.2 on). ${USAGE}`);
  if (o.sessions < o.nas) throw new Error(`--sessions must be at least --nas. ${USAGE}`);
  if (o.nas * o['per-nas'] + o.unfiltered > 0xffff) {
    throw new Error(`At most 65,535 subscribers. ${USAGE}`);
  }
  return { ...o, batched: !o.unbatched };
};
type Options = ReturnType<typeof options>;

/** The goals (issue 8). */
const GOAL_P99_MS = 1000;
const GOAL_CORES = 1.5;
const GOAL_RSS = 2 ** 30;

/** An update's upload counter is UPLOAD_BASE + its sequence number; seeded ones are below. */
const UPLOAD_BASE = 2 ** 32;
const NAS_PORT = 15728640;
const NAS_PORT_ID = 'ether2';
const DAY = 86_400;

/** Wall-clock milliseconds, sub-millisecond: comparable between this process and its child. */
const now = () => performance.timeOrigin + performance.now();
const sleep = (msec: number) => new Promise((resolve) => setTimeout(resolve, msec));
const count = (n: number) => n.toLocaleString('en-US');

// ---------------------------------------------------------------------------------------------
// Seeding

interface SeedNas {
  /** nas.id */
  id: string;
  /** nasname: the loopback address its packets come from. */
  name: string;
  secret: string;
}

/** The open sessions; session i (radacctid i + 1) is on NAS i % nas.length. */
interface Seeded {
  nas: SeedNas[];
  username: string[];
  sessionId: string[];
  ip: string[];
  mac: string[];
  start: Float64Array;
  /** Seeded acctoutputoctets; an update sends this + seq × 1,500. */
  download: Float64Array;
}

const nasOf = (seeded: Seeded, s: number) => s % seeded.nas.length;

async function seed(db: TestDatabase, opts: Options): Promise<Seeded> {
  const r = random(20261130);
  const nas: SeedNas[] = Array.from({ length: opts.nas }, (_, k) => ({
    id: '',
    name: `127.0.0.${k + 2}`,
    secret: randomBytes(12).toString('base64url'),
  }));
  await insertRows(
    db,
    'nas',
    ['nasname', 'shortname', 'type', 'secret', 'description'],
    nas.map((n, k) => [n.name, `mtk-fanout-${k + 1}`, 'mikrotik', n.secret, 'bench/fanout']),
  );
  const ids = await db.query<{ id: number | string; nasname: string }>(
    'SELECT id, nasname FROM nas',
  );
  for (const n of nas) n.id = String(ids.find((row) => row.nasname === n.name)!.id);

  const total = opts.sessions;
  const nowSec = Math.floor(Date.now() / 1000);
  const seeded: Seeded = {
    nas,
    username: [],
    sessionId: [],
    ip: [],
    mac: [],
    start: new Float64Array(total),
    download: new Float64Array(total),
  };
  const taken = new Set<string>();
  const rows: unknown[][] = [];
  const sqlTime = (sec: number) =>
    new Date(sec * 1000).toISOString().slice(0, 19).replace('T', ' ');
  for (let s = 0; s < total; s++) {
    const k = s % opts.nas;
    const j = Math.floor(s / opts.nas); // the session's place on its NAS
    const username = uniqueUsername(r, r.pick(FIRST_NAMES), r.pick(LAST_NAMES), taken);
    const sessionId = (0x81000000 + s).toString(16);
    const ip = `10.${100 + k}.${Math.floor(j / 250)}.${(j % 250) + 2}`;
    const mac = randomMac(r, '3C:84:6A');
    const start = nowSec - r.between(600, 3 * DAY);
    const download = r.between(10_000_000, 20_000_000_000);
    seeded.username.push(username);
    seeded.sessionId.push(sessionId);
    seeded.ip.push(ip);
    seeded.mac.push(mac);
    seeded.start[s] = start;
    seeded.download[s] = download;
    const updated = nowSec - r.between(0, 299);
    rows.push([
      s + 1,
      ...radacctRow({
        sessionId,
        uniqueId: acctUniqueId({
          userName: username,
          acctSessionId: sessionId,
          nasIpAddress: nas[k].name,
          nasPortId: NAS_PORT_ID,
          nasPort: NAS_PORT,
        }),
        username,
        nas: nas[k].name,
        portId: NAS_PORT_ID,
        start: sqlTime(start),
        updated: sqlTime(updated),
        stop: null,
        seconds: updated - start,
        inputOctets: String(r.between(1_000_000, UPLOAD_BASE - 1)),
        outputOctets: String(download),
        mac,
        terminateCause: '',
        ip,
      }),
    ]);
  }
  // Loaded without triggers, so radgraph's change feed has nothing queued for the seed.
  await bulkLoad(db, 'radacct', () =>
    insertRows(db, 'radacct', ['radacctid', ...RADACCT_COLUMNS], rows, 5000),
  );
  await db.query('ANALYZE TABLE radacct, nas');
  return seeded;
}

// ---------------------------------------------------------------------------------------------
// The NAS: Interim-Updates, open loop

interface NasSocket {
  socket: Socket;
  secret: string;
  nextId: number;
  /** By identifier: the update in flight (overwritten when its identifier comes round again). */
  inFlight: Array<{ seq: number; request: Buffer } | undefined>;
}

/** One UDP socket per NAS, bound to its address; updates numbered from 1 (seq). */
class Updates {
  /** By seq: the session, the send time (epoch ms) and whether a valid answer came. */
  readonly session: Int32Array;
  readonly sentAt: Float64Array;
  readonly answered: Uint8Array;
  /** The last seq sent. */
  seq = 0;
  answers = 0;
  badAnswers = 0;
  strayAnswers = 0;
  /** Closed (the end of the bench, or Ctrl-C): nothing more is sent. */
  closed = false;

  private constructor(
    private readonly seeded: Seeded,
    private readonly port: number,
    private readonly sockets: NasSocket[],
    capacity: number,
  ) {
    this.session = new Int32Array(capacity + 1);
    this.sentAt = new Float64Array(capacity + 1);
    this.answered = new Uint8Array(capacity + 1);
    for (const nas of sockets) nas.socket.on('message', (msg) => this.onAnswer(nas, msg));
  }

  static async open(seeded: Seeded, port: number, capacity: number): Promise<Updates> {
    const sockets: NasSocket[] = [];
    for (const nas of seeded.nas) {
      const socket = createSocket({ type: 'udp4', recvBufferSize: 1024 * 1024 });
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, nas.name, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      sockets.push({ socket, secret: nas.secret, nextId: 0, inFlight: [] });
    }
    return new Updates(seeded, port, sockets, capacity);
  }

  /** Sends the next update of session `s` from its NAS; returns its seq. */
  send(s: number): number {
    if (this.seq + 1 >= this.session.length) throw new Error('more updates than planned');
    const seq = ++this.seq;
    const k = nasOf(this.seeded, s);
    const nas = this.sockets[k];
    const eventTime = Math.floor(Date.now() / 1000);
    const id = nas.nextId;
    nas.nextId = (id + 1) & 0xff;
    const request = accountingRequest(
      nas.secret,
      sessionAttributes('Interim-Update', {
        username: this.seeded.username[s],
        sessionId: this.seeded.sessionId[s],
        nasIp: this.seeded.nas[k].name,
        eventTime,
        sessionTime: eventTime - this.seeded.start[s],
        inputOctets: BigInt(UPLOAD_BASE + seq),
        outputOctets: BigInt(this.seeded.download[s] + seq * 1500),
        framedIp: this.seeded.ip[s],
        mac: this.seeded.mac[s],
      }),
      id,
    );
    nas.inFlight[id] = { seq, request };
    this.session[seq] = s;
    this.sentAt[seq] = now();
    nas.socket.send(request, this.port, '127.0.0.1');
    return seq;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.sockets.map((n) => new Promise<void>((resolve) => n.socket.close(() => resolve()))),
    );
  }

  private onAnswer(nas: NasSocket, msg: Buffer): void {
    const f = msg.length >= 20 ? nas.inFlight[msg[1]] : undefined;
    if (!f) {
      this.strayAnswers++;
      return;
    }
    if (!validResponse(msg, f.request, nas.secret)) {
      this.badAnswers++;
      return;
    }
    nas.inFlight[msg[1]] = undefined;
    this.answered[f.seq] = 1;
    this.answers++;
  }
}

/**
 * Sends `total` updates at `rate` a second, paced by a timer, choosing each with `pick(i)`;
 * stops early when the sockets close (Ctrl-C).
 */
function replay(
  updates: Updates,
  total: number,
  rate: number,
  pick: (i: number) => number,
): Promise<void> {
  const started = now();
  let sent = 0;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((now() - started) / 1000) * rate));
      for (; sent < due && !updates.closed; sent++) updates.send(pick(sent));
      if (sent >= total || updates.closed) {
        clearInterval(timer);
        resolve();
      }
    }, 2);
  });
}

// ---------------------------------------------------------------------------------------------
// The subscribers' process

const FIELDS =
  'type session { id username ipAddress uploadBytes downloadBytes updatedAt nas { name } }';
const UNBATCHED_QUERY = `subscription($nasId: ID) { sessionEvents(nasId: $nasId) { ${FIELDS} } }`;
const BATCHED_QUERY =
  'subscription($nasId: ID, $ms: Int) { sessionEventBatches(nasId: $nasId, maxLatencyMs: $ms) ' +
  `{ ${FIELDS} } }`;

class Subscribers {
  progress: SubscriberProgress | undefined;
  private error: string | undefined;
  private output = '';
  private exited: string | undefined;
  private done: ((p: SubscriberProgress) => void) | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.on('message', (msg: FromSubscribers) => {
      if (msg.type === 'error') this.error ??= msg.message;
      else this.progress = msg.progress;
      if (msg.type === 'done') this.done?.(msg.progress);
    });
    child.once('exit', (code, signal) => (this.exited = `exited with ${code ?? signal}`));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Forks support/fanout-subscribers.ts (through ts-node) and starts its subscriptions. */
  static start(url: string, query: string, subscribers: SubscriberSpec[]): Subscribers {
    const child = fork(path.join(__dirname, 'support', 'fanout-subscribers.ts'), [], {
      cwd: path.join(__dirname, '..'),
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const msg: ToSubscribers = {
      type: 'start',
      url: url.replace(/^http/, 'ws'),
      token: TEST_TOKEN,
      query,
      subscribers,
    };
    child.send(msg);
    return new Subscribers(child);
  }

  /** Resolves once `ready(progress)` holds; rejects on a subscription error or after timeoutMs. */
  async waitFor(
    ready: (p: SubscriberProgress) => boolean,
    timeoutMs: number,
    what: string,
    tick?: () => void,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.check();
      if (this.progress && ready(this.progress)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `${what}: not reached after ${timeoutMs / 1000} s (${JSON.stringify(this.progress)})`,
        );
      }
      tick?.();
      await sleep(250);
    }
  }

  /** Has the process write what it received to `file`, and waits for it. */
  async finish(file: string): Promise<SubscriberProgress> {
    this.check();
    const done = new Promise<SubscriberProgress>((resolve) => (this.done = resolve));
    const msg: ToSubscribers = { type: 'finish', file };
    this.child.send(msg);
    const timeout = sleep(60_000).then(() => {
      throw new Error('the subscriber process did not write its deliveries in 60 s');
    });
    return Promise.race([done, timeout]);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }

  private check(): void {
    if (this.error !== undefined) {
      throw new Error(`a subscription failed: ${this.error}`);
    }
    if (this.exited !== undefined) {
      throw new Error(`the subscriber process ${this.exited}:\n${this.output}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Joining sends and deliveries

interface Analysis {
  /** Milliseconds from send to receipt, one per (timed update, subscriber) delivery. */
  latencies: Float64Array;
  /** (timed update, subscriber) pairs: whose filter matches, and that got that update. */
  expected: number;
  delivered: number;
  /** Pairs whose subscriber got neither that update nor a later state of its session. */
  lost: number;
  /** Sessions updated (answered at least once), and (session, subscriber) pairs among them. */
  sessions: number;
  finalPairs: number;
  /** Pairs whose subscriber never got the session's last answered update (or a later one). */
  finalMissing: number;
  /** Events for no sent update or for another NAS than the filter's. */
  wrong: number;
  /** Events a subscriber had already received (the same update twice). */
  doubled: number;
  /** Events older than one the subscriber had received for that session. */
  outOfOrder: number;
  /** A few of the events above, described. */
  examples: string[];
}

function analyze(
  seeded: Seeded,
  updates: Updates,
  firstTimed: number,
  subscriberNas: Int32Array,
  d: Deliveries,
): Analysis {
  const nasCount = seeded.nas.length;
  const total = seeded.username.length;
  const subs = subscriberNas.length;
  const sessionsOn = (k: number) => Math.floor((total - 1 - k) / nasCount) + 1;
  // Per subscriber, per session it may see: the highest seq it received.
  const offset = new Float64Array(subs + 1);
  for (let u = 0; u < subs; u++) {
    offset[u + 1] = offset[u] + (subscriberNas[u] < 0 ? total : sessionsOn(subscriberNas[u]));
  }
  const slot = (u: number, s: number) =>
    offset[u] + (subscriberNas[u] < 0 ? s : Math.floor(s / nasCount));
  const highest = new Uint32Array(offset[subs]);
  const highestAt = new Float64Array(offset[subs]);
  const latencies = new Float64Array(d.count);
  let delivered = 0;
  const problems = { wrong: 0, doubled: 0, outOfOrder: 0 };
  const examples: string[] = [];
  /** Sessions with an example: one example per session, for up to 5 sessions. */
  const exampled = new Set<number>();
  const bad = (kind: keyof typeof problems, session: number, text: string) => {
    problems[kind]++;
    if (examples.length < 5 && !exampled.has(session)) {
      exampled.add(session);
      examples.push(text);
    }
  };
  for (let i = 0; i < d.count; i++) {
    const u = d.subscriber[i];
    const s = d.session[i] - 1;
    const seq = d.upload[i] - UPLOAD_BASE;
    if (!(seq >= 1 && seq <= updates.seq && Number.isInteger(seq)) || updates.session[seq] !== s) {
      bad(
        'wrong',
        s,
        `subscriber ${u}: session ${s + 1} with uploadBytes ${d.upload[i]}: no such update`,
      );
      continue;
    }
    if (subscriberNas[u] >= 0 && nasOf(seeded, s) !== subscriberNas[u]) {
      bad(
        'wrong',
        s,
        `subscriber ${u} (NAS ${seeded.nas[subscriberNas[u]].name}): session ${s + 1}`,
      );
      continue;
    }
    const at = slot(u, s);
    if (seq <= highest[at]) {
      bad(
        seq === highest[at] ? 'doubled' : 'outOfOrder',
        s,
        `subscriber ${u}: session ${s + 1}'s update ${seq} after ${highest[at]}, ` +
          `${ms(d.at[i] - highestAt[at])} ms later`,
      );
      continue;
    }
    highest[at] = seq;
    highestAt[at] = d.at[i];
    if (seq >= firstTimed) latencies[delivered++] = d.at[i] - updates.sentAt[seq];
  }

  const subscribersOf = seeded.nas.map((_, k) => {
    const list: number[] = [];
    for (let u = 0; u < subs; u++) if (subscriberNas[u] < 0 || subscriberNas[u] === k) list.push(u);
    return list;
  });
  let expected = 0;
  let lost = 0;
  for (let seq = firstTimed; seq <= updates.seq; seq++) {
    const s = updates.session[seq];
    for (const u of subscribersOf[nasOf(seeded, s)]) {
      expected++;
      if (highest[slot(u, s)] < seq) lost++;
    }
  }
  const finalSeq = new Uint32Array(total);
  for (let seq = 1; seq <= updates.seq; seq++) {
    if (updates.answered[seq]) finalSeq[updates.session[seq]] = seq;
  }
  let sessions = 0;
  let finalPairs = 0;
  let finalMissing = 0;
  for (let s = 0; s < total; s++) {
    if (finalSeq[s] === 0) continue;
    sessions++;
    for (const u of subscribersOf[nasOf(seeded, s)]) {
      finalPairs++;
      if (highest[slot(u, s)] < finalSeq[s]) finalMissing++;
    }
  }
  return {
    latencies: latencies.subarray(0, delivered),
    expected,
    delivered,
    lost,
    sessions,
    finalPairs,
    finalMissing,
    ...problems,
    examples,
  };
}

// ---------------------------------------------------------------------------------------------
// The run

interface Cpu {
  server: number;
  subscribers: number;
  sender: number;
  machine: number;
}

function cpuNow(server: number, subscribers: number): Cpu {
  const usage = process.cpuUsage();
  return {
    server: processCpuSeconds(server),
    subscribers: processCpuSeconds(subscribers),
    sender: (usage.user + usage.system) / 1e6,
    machine: machineBusySeconds(),
  };
}

const cpuDelta = (a: Cpu, b: Cpu): Cpu => ({
  server: b.server - a.server,
  subscribers: b.subscribers - a.subscribers,
  sender: b.sender - a.sender,
  machine: b.machine - a.machine,
});

interface Sample {
  at: number;
  cpu: Cpu;
}

/** CPU of radgraph, the subscribers, this process and the machine, and radgraph's RSS, every 250 ms. */
class Sampler {
  maxRss = 0;
  private readonly samples: Sample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly server: number,
    private readonly subscribers: number,
  ) {
    this.timer = setInterval(() => this.sample(), 250);
  }

  sample(): Sample {
    const s = { at: now(), cpu: cpuNow(this.server, this.subscribers) };
    this.samples.push(s);
    this.maxRss = Math.max(this.maxRss, processMemory(this.server).rss || 0);
    return s;
  }

  /** The first sample taken at or after `at` (else the last). */
  after(at: number): Sample {
    return this.samples.find((s) => s.at >= at) ?? this.samples[this.samples.length - 1];
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

async function startRadgraph(db: TestDatabase): Promise<{ server: ServerProcess; port: number }> {
  const [port] = await freeUdpPorts(1);
  const server = await startServerProcess(db, {
    build: 'dist',
    env: {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      GRAPHQL_RATE_LIMIT_PER_MINUTE: '0',
      RADIUS_ACCT_HOST: '127.0.0.1',
      RADIUS_ACCT_PORT: String(port),
      RADIUS_ACCT_RATE_PER_SOURCE: '0',
    },
  });
  return { server, port };
}

async function run(bench: Bench, opts: Options): Promise<string> {
  const { db, log } = bench;
  const t0 = Date.now();
  log(`seeding ${opts.nas} NAS and ${count(opts.sessions)} open sessions`);
  const seeded = await seed(db, opts);
  const seedSeconds = (Date.now() - t0) / 1000;

  const busyBefore = await busyShare(2000);
  log(`machine busy before the run: ${busyBefore.toFixed(0)}% of its CPUs`);
  const { server, port } = await startRadgraph(db);
  bench.defer(() => server.close());

  // Subscribers: per NAS, then the unfiltered ones (nas -1).
  const subscriberNas = new Int32Array(opts.nas * opts['per-nas'] + opts.unfiltered).fill(-1);
  const specs: SubscriberSpec[] = [];
  for (let u = 0; u < subscriberNas.length; u++) {
    const k = u < opts.nas * opts['per-nas'] ? Math.floor(u / opts['per-nas']) : -1;
    subscriberNas[u] = k;
    const nasId = k < 0 ? null : seeded.nas[k].id;
    specs.push({
      variables: opts.batched ? { nasId, ms: opts['max-latency-ms'] } : { nasId },
      nasName: k < 0 ? null : seeded.nas[k].name,
    });
  }
  const mode = opts.batched
    ? `sessionEventBatches (maxLatencyMs ${opts['max-latency-ms']})`
    : 'sessionEvents';
  log(`${count(specs.length)} subscribers on ${mode}`);
  const subscribers = Subscribers.start(
    server.url,
    opts.batched ? BATCHED_QUERY : UNBATCHED_QUERY,
    specs,
  );
  bench.defer(() => subscribers.stop());
  const sampler = new Sampler(server.pid, subscribers.pid);
  bench.defer(() => Promise.resolve(sampler.stop()));
  const file = path.join(os.tmpdir(), `radgraph-fanout-${process.pid}.bin`);
  bench.defer(() => Promise.resolve(rmSync(file, { force: true })));

  const total = Math.round(opts.rate * opts.seconds);
  const updates = await Updates.open(seeded, port, total + 20_000);
  bench.defer(() => updates.close());
  const r = random(20261201);
  const sessionsOn = (k: number) => Math.floor((opts.sessions - 1 - k) / opts.nas) + 1;
  const pick = (i: number) => {
    const k = i % opts.nas;
    return k + opts.nas * r.between(0, sessionsOn(k) - 1);
  };

  const connected = (p: SubscriberProgress) => p.connected === specs.length;
  try {
    await subscribers.waitFor(connected, 120_000, 'every subscriber connected');
    log('connected; warming up (an update per NAS every 500 ms until every subscriber has one)');
    let warm = 0;
    await subscribers.waitFor(
      (p) => p.receiving === specs.length,
      60_000,
      'every subscriber received an event',
      () => {
        if (warm++ % 2 === 0) for (let k = 0; k < opts.nas; k++) updates.send(pick(k));
      },
    );
  } catch (err) {
    const message = (err as Error).message;
    if (opts.batched && /sessionEventBatches/.test(message)) {
      throw new Error(
        'This radgraph has no sessionEventBatches subscription (the server rejected it: ' +
          `${message}). Build one that has it (npm run build), or run with --unbatched.`,
      );
    }
    throw err;
  }
  const warmups = updates.seq;
  await sleep(1000);
  const firstTimed = updates.seq + 1;
  const before = subscribers.progress!;
  log(`replaying ${count(total)} Interim-Updates at ${opts.rate}/s for ${opts.seconds} s`);

  const replayStart = now();
  const start = sampler.sample();
  await replay(updates, total, opts.rate, pick);
  const replayEnd = now();
  const replayed = sampler.sample();
  log(
    `replayed in ${((replayEnd - replayStart) / 1000).toFixed(1)} s; ${count(updates.answers)} answers so far; draining`,
  );
  let cutShort = false;
  await subscribers
    .waitFor(
      (p) => now() - Math.max(p.lastAt, replayEnd) > 2000,
      opts['drain-seconds'] * 1000,
      'quiet',
    )
    .catch((err: Error) => {
      cutShort = true;
      log(`drain cut short: ${err.message}`);
    });
  sampler.sample();
  const peak = processMemory(server.pid).peak;
  sampler.stop();
  const listener = await describeListener(server);
  // The change feed deletes what it publishes: its counter tells what the triggers queued.
  const [{ next }] = await db.query<{ next: string | null }>(
    `SELECT AUTO_INCREMENT AS next FROM information_schema.tables
     WHERE table_schema = DATABASE() AND table_name = 'rg_radacct_changes'`,
  );
  const queued = Math.max(0, Number(next ?? 1) - 1);
  const after = await subscribers.finish(file);
  const deliveries = readDeliveries(file);
  rmSync(file, { force: true });
  const a = analyze(seeded, updates, firstTimed, subscriberNas, deliveries);

  // The timed part: from the replay's start to the last message (or the replay's end).
  const end = sampler.after(Math.max(after.lastAt, replayEnd));
  const timed = cpuDelta(start.cpu, end.cpu);
  const timedSeconds = (end.at - start.at) / 1000;
  const replaySeconds = (replayEnd - replayStart) / 1000;
  const replayCpu = cpuDelta(start.cpu, replayed.cpu);
  const span = (Math.max(after.lastAt, replayEnd) - replayStart) / 1000;
  const messages = after.messages - before.messages;
  const events = after.events - before.events;
  const cores = timed.server / timedSeconds;
  const p50 = percentile(a.latencies, 50);
  const p99 = percentile(a.latencies, 99);
  const max = a.latencies.reduce((m, x) => Math.max(m, x), 0);
  const timedSent = updates.seq - firstTimed + 1;
  let timedAnswered = 0;
  for (let seq = firstTimed; seq <= updates.seq; seq++) timedAnswered += updates.answered[seq];
  const dropped = after.closed + after.ended;
  const coalesced = a.expected - a.delivered - a.lost;

  const goals = [
    {
      goal: `p99 latency under ${GOAL_P99_MS / 1000} s`,
      met: p99 < GOAL_P99_MS,
      figure: `${ms(p99)} ms`,
    },
    {
      goal: `radgraph under ${GOAL_CORES} cores`,
      met: cores < GOAL_CORES,
      figure: `${cores.toFixed(2)} cores`,
    },
    {
      goal: 'radgraph under 1 GiB RSS',
      met: peak < GOAL_RSS,
      figure: `peak ${(peak / 2 ** 20).toFixed(0)} MiB`,
    },
    {
      goal: 'every final state delivered',
      met: a.finalMissing === 0,
      figure: `${count(a.finalMissing)} of ${count(a.finalPairs)} (session, subscriber) pairs missing`,
    },
  ];
  for (const g of goals) log(`goal ${g.goal}: ${g.met ? 'met' : 'MISSED'} (${g.figure})`);
  const wrongEvents = a.wrong + a.doubled + a.outOfOrder + after.wrong;
  const wrongText =
    `${a.wrong} for no update sent or another NAS than the filter's (${after.wrong} with ` +
    `another nas.name), ${a.doubled} doubled (an update a subscriber had already received), ` +
    `${a.outOfOrder} out of order${a.examples.length ? `; e.g. ${a.examples.join('; ')}` : ''}`;

  const mib = (x: number) => `${(x / 2 ** 20).toFixed(0)} MiB`;
  const perSecond = (x: number, seconds: number) => count(Math.round(x / seconds));
  const other = Math.max(0, timed.machine - timed.server - timed.subscribers - timed.sender);
  const out = [
    '## fanout',
    '',
    `Live fan-out: ${count(opts.rate)} Interim-Updates a second for ${opts.seconds} s, round robin ` +
      `over ${opts.nas} NAS (each from its own loopback address, signed with its secret), each ` +
      `for a random one of ${count(opts.sessions)} open sessions on MariaDB, sent open loop to ` +
      "radgraph's accounting listener and delivered to " +
      `${count(specs.length)} graphql-ws subscribers in another process, each its own WebSocket: ` +
      `${opts['per-nas']} per NAS filtering on it (\`nasId\`), ${opts.unfiltered} unfiltered. ` +
      `Subscription: \`${mode}\`. Latency is from a packet's send to a subscriber's receipt ` +
      'of its event, over every (update, subscriber) delivery, in ms.',
    '',
    '| Goal | Result | |',
    '| --- | --- | --- |',
    ...goals.map((g) => `| ${g.goal} | ${g.figure} | ${g.met ? 'met' : '**missed**'} |`),
    '',
    '| Subscription | Updates sent (answered) | Messages/s | Events/s delivered (offered) | p50 | p99 | max | radgraph cores | radgraph peak RSS | Dropped subscribers | Deliveries coalesced / lost | Final states missing |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |',
    `| ${mode} | ${count(timedSent)} (${count(timedAnswered)}) | ${perSecond(messages, span)} | ` +
      `${perSecond(events, span)} (${perSecond(a.expected, replaySeconds)}) | ${ms(p50)} | ` +
      `**${ms(p99)}** | ${ms(max)} | **${cores.toFixed(2)}** | **${mib(peak)}** | ${dropped} | ` +
      `${count(coalesced)} / ${count(a.lost)} of ${count(a.expected)} | **${count(a.finalMissing)}** of ${count(a.finalPairs)} |`,
    '',
    `- Seeding: ${opts.nas} NAS (nasname 127.0.0.2 on) and ${count(opts.sessions)} open radacct ` +
      `rows with multi-row INSERTs (${seedSeconds.toFixed(0)} s). Before the timed part, every ` +
      `subscriber connected and received a warm-up event (${warmups} updates, not counted).`,
    `- Messages and events per second: received by the subscribers from the start of the replay ` +
      `to the last message (${span.toFixed(1)} s; the replay took ${replaySeconds.toFixed(1)} s). ` +
      `Offered: the (update, matching subscriber) pairs sent, per second of replay. Each update ` +
      `carries its sequence number in its upload counter, which names it in the event.`,
    '- Deliveries: (update, matching subscriber) pairs. Coalesced: the update never reached ' +
      'that subscriber, but a later state of its session did; lost: neither did. ' +
      `Final states: for each of the ` +
      `${count(a.sessions)} sessions updated, its last answered update (or a later one) reached ` +
      `each of its ${opts['per-nas']} NAS subscribers and the ${opts.unfiltered} unfiltered ones. ` +
      `Dropped: sockets the server closed, or subscriptions it ended (${after.closed} closed, ` +
      `${after.ended} ended). Answers: ${updates.badAnswers} with a bad authenticator, ` +
      `${updates.strayAnswers} to nothing in flight.`,
    `- CPU (from /proc, sampled every 250 ms) from the replay's start to the last message ` +
      `(${timedSeconds.toFixed(1)} s), in seconds: radgraph ${timed.server.toFixed(1)} ` +
      `(${cores.toFixed(2)} cores; ${(replayCpu.server / replaySeconds).toFixed(2)} during the ` +
      `replay alone), the subscriber process ${timed.subscribers.toFixed(1)} ` +
      `(${(timed.subscribers / timedSeconds).toFixed(2)} cores), the sender (this process) ` +
      `${timed.sender.toFixed(1)}, the rest of the machine (MariaDB…) ${other.toFixed(1)}. ` +
      "Everything shares the same CPUs. radgraph's JavaScript runs on one thread: near 1 core " +
      'it is saturated, which its latency then shows. ' +
      `radgraph's RSS: peak ${mib(peak)} (VmHWM), at most ` +
      `${mib(sampler.maxRss)} sampled during the run.`,
    ...(cutShort
      ? [
          `- The drain was cut short: ${opts['drain-seconds']} s after the replay, messages ` +
            'were still arriving; what had not arrived by then counts as not delivered.',
        ]
      : []),
    '- radgraph: `node dist/src/main.js` (NODE_ENV=production, LOG_LEVEL=warn, ' +
      'GRAPHQL_RATE_LIMIT_PER_MINUTE=0, RADIUS_ACCT_RATE_PER_SOURCE=0), its own process; ' +
      'subscribers authenticate with the admin token in connectionParams.',
    wrongEvents === 0
      ? '- Every event received was an update sent, to a subscriber whose filter matches it, ' +
        'once and in order per session.'
      : `- **Wrong events**: ${wrongText}.`,
    `- ${listener}; change-feed rows the radacct triggers queued during the run: ${queued} ` +
      "(the listener's own writes queue none).",
    `- Command: \`${commandLine(NAME)}\` (${((Date.now() - t0) / 60_000).toFixed(1)} min; ` +
      `the machine was ${busyBefore.toFixed(0)}% busy just before).`,
    `- Date: ${new Date().toISOString().slice(0, 10)}, radgraph at ${revision()}. Machine: ` +
      `${await machine(db)}.`,
  ];
  const section = out.join('\n');
  if (wrongEvents > 0) {
    process.stdout.write(`\n${section}\n`);
    throw new Error(`wrong events: ${wrongText} (the results above are not written)`);
  }
  return section;
}

runBench(NAME, options, run);
