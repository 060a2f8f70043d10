/**
 * Bench: who is online (`onlineSessions`, `onlineSummary`) at 1,000,000 radacct rows, 50,000
 * of them open, on MariaDB.
 *
 *   npx ts-node -T bench/online-sessions.ts [--write]
 *       [--sessions=1000000] [--open=50000] [--nas=20] [--requests=300] [--max-seconds=300]
 *
 * 1. Creates a database of its own on TEST_DATABASE_URL's server (default
 *    mysql://root@127.0.0.1:3306) with radgraph's migrations, and drops it at the end, even
 *    on failure or Ctrl-C.
 * 2. Seeds 20 MikroTik routers in `nas` (nasname = the address their sessions carry in
 *    radacct.nasipaddress) and 1,000,000 radacct rows as FreeRADIUS writes them: 65,000
 *    subscribers, each on one NAS with one router (MAC), 50,000 of them online (one open
 *    session each, started up to 30 days ago, a unique address from its NAS's pool) and
 *    950,000 closed sessions over 120 days; counters grow with each session's length and
 *    rate, many beyond 2^32. radacctid follows acctstarttime. Every subscriber is a radgraph
 *    customer (rg_customers and its search keys, which a search reads). The rows go in with
 *    multi-row INSERTs while the tables' secondary indexes and triggers are dropped; they are
 *    then rebuilt from their own definitions (checked to be exactly the migrations'), then
 *    ANALYZE TABLE.
 * 3. Starts radgraph in its own process and times sequential HTTP GraphQL requests of four
 *    kinds, shuffled together after a warm-up: the first page of `onlineSessions(first: 50)`,
 *    the same with a NAS filter, with a search (username prefix, part of a username, IP, IP
 *    prefix, MAC, MAC without separators, no match), and `onlineSummary`. Every answer is checked against the seeded data: the
 *    totalCount, the ids of the page in order, the fields of its first session, and each
 *    NAS's count and exact byte totals.
 * 4. For one request in three, times one layer down: OnlineSessionsService in-process, and
 *    the SQL statements it sent (caught from TypeORM's logger), run alone (for the summary:
 *    readTotals(), the read that summary() serves from memory for up to a second). Then prints
 *    MariaDB's ANALYZE FORMAT=JSON of them for the slowest request of each kind and search.
 *
 * --write puts the results in the online-sessions section of bench/RESULTS.md.
 * Not a test: nothing here fails on a slow figure.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { generateAccountNo, searchKeys, searchText } from '../src/customers/customer-rules';
import {
  ONLINE_TOTALS_MAX_AGE_MS,
  OnlineSessionsService,
} from '../src/sessions/online-sessions.service';
import type { RunningApp } from '../test/support/app';
import type { TestDatabase } from '../test/support/test-database';
import { parseOptions, runBench, type Bench } from './support/main';
import { FIRST_NAMES, LAST_NAMES, uniqueUsername } from './support/names';
import { RADACCT_COLUMNS, radacctRow, randomMac, TERMINATE_CAUSES } from './support/radacct';
import { random } from './support/random';
import {
  commandLine,
  defined,
  machine,
  ms,
  p50p95,
  percentile,
  percentileCells,
  revision,
  timed,
} from './support/report';
import { insertRows, bulkLoad } from './support/seed';
import { queryData, type Gql } from './support/server';
import { analyze, isCount, SqlCatcher, type Statement } from './support/sql';

// ---------------------------------------------------------------------------------------------
// Options

const NAME = 'online-sessions';
const USAGE =
  'Usage: npx ts-node -T bench/online-sessions.ts [--write] [--sessions=N] [--open=N] ' +
  '[--nas=N] [--requests=N] [--max-seconds=N]';

function options() {
  const opts = parseOptions(
    process.argv.slice(2),
    { write: false, sessions: 1_000_000, open: 50_000, nas: 20, requests: 300, 'max-seconds': 300 },
    USAGE,
  );
  if (opts.open > opts.sessions) throw new Error(`--open cannot exceed --sessions. ${USAGE}`);
  if (opts.nas > 150) throw new Error(`--nas is at most 150 (one /16 pool each). ${USAGE}`);
  return opts;
}
type Options = ReturnType<typeof options>;

/** The goals (p95, ms). */
const PAGE_GOAL = 25;
const SUMMARY_GOAL = 100;
const PAGE_SIZE = 50;

// ---------------------------------------------------------------------------------------------
// Seed data

const r = random(20261123);
const { between, pick, rand } = r;

const DAY = 86_400;
/** Closed sessions spread over this many days before now. */
const HISTORY_DAYS = 120;

const AREAS = [
  'kasarani', 'roysambu', 'githurai', 'kahawa', 'ruiru', 'juja', 'thika', 'umoja', 'donholm',
  'embakasi', 'rongai', 'kitengela', 'syokimau', 'westlands', 'kilimani', 'ngong', 'kikuyu',
  'ruaka', 'kiambu', 'zimmerman',
]; // prettier-ignore

/** OUIs of the CPE routers subscribers have: TP-Link, Huawei, Tenda, MikroTik, ZTE, Ubiquiti. */
const OUIS = ['50:C7:BF', '98:DA:C4', '00:E0:FC', '48:46:FB', 'C8:3A:35', '4C:5E:0C', 'DC:2C:6E',
  '34:4B:50', '24:A4:3C']; // prettier-ignore

interface SeedNas {
  /** nas.id, once inserted. */
  id: string;
  /** nasname = radacct.nasipaddress */
  name: string;
  shortname: string;
  description: string;
  /** Its address pool is 10.<pool>.0.0/16. */
  pool: number;
  weight: number;
}

interface Subscriber {
  username: string;
  nas: number;
  mac: string;
}

/** An open session as the answers must show it. */
interface OpenRow {
  id: string;
  username: string;
  ip: string;
  mac: string;
  nas: number;
  nasName: string;
  up: bigint;
  down: bigint;
}

/**
 * Whether a search term (lower case) finds a session: its IP or MAC starts with the term (a
 * MAC also when written without separators), or its username contains it (every subscriber
 * is a customer, and a customer's username is found by any part of it).
 */
function matches(o: OpenRow, t: string): boolean {
  const mac = o.mac.toLowerCase();
  return (
    o.username.toLowerCase().includes(t) ||
    o.ip.startsWith(t) ||
    mac.startsWith(t) ||
    (/^[0-9a-f]+$/.test(t) && mac.replace(/:/g, '').startsWith(t))
  );
}

interface Seeded {
  nas: SeedNas[];
  subscribers: Subscriber[];
  /** Newest first (radacctid descending). */
  open: OpenRow[];
  over32: number;
}

function seedNas(count: number): SeedNas[] {
  return Array.from({ length: count }, (_, k) => ({
    id: '',
    name: `172.16.${k + 1}.1`,
    shortname: `mtk-${AREAS[k % AREAS.length]}-${String(Math.floor(k / AREAS.length) + 1).padStart(2, '0')}`,
    description: `PPPoE ${AREAS[k % AREAS.length]}`,
    pool: 100 + k,
    weight: between(1, 6),
  }));
}

function seedSubscribers(count: number, nas: SeedNas[]): Subscriber[] {
  const taken = new Set<string>();
  const macs = new Set<string>();
  const totalWeight = nas.reduce((a, n) => a + n.weight, 0);
  return Array.from({ length: count }, () => {
    const username = uniqueUsername(r, pick(FIRST_NAMES), pick(LAST_NAMES), taken);
    let w = rand() * totalWeight;
    let k = 0;
    while (w >= nas[k].weight) w -= nas[k++].weight;
    let mac: string;
    do mac = randomMac(r, pick(OUIS));
    while (macs.has(mac));
    macs.add(mac);
    return { username, nas: k, mac };
  });
}

/** From lo to hi, evenly on a log scale: session lengths, transfer rates. */
const logUniform = (lo: number, hi: number) =>
  Math.exp(Math.log(lo) + rand() * (Math.log(hi) - Math.log(lo)));

/** UTC 'YYYY-MM-DD HH:MM:SS' of a Unix time (cheaper for mysql2 than a Date). */
const sqlTime = (sec: number) => new Date(sec * 1000).toISOString().slice(0, 19).replace('T', ' ');

const hostIp = (pool: number) => `10.${pool}.${between(0, 254)}.${between(1, 254)}`;

/**
 * 1,000,000 sessions: first the open ones (one per online subscriber), then the closed
 * history, each a start time and a length (-1: open), sorted by start into radacctid order.
 */
async function seedRadacct(
  opts: Options,
  db: TestDatabase,
  nas: SeedNas[],
  subscribers: Subscriber[],
  nowSec: number,
): Promise<{ open: OpenRow[]; over32: number }> {
  const total = opts.sessions;
  const user = new Int32Array(total);
  const start = new Float64Array(total);
  const length = new Int32Array(total);
  const openIp = new Map<number, string>();
  const openStartOf = new Map<number, number>();
  const online = r.shuffle(subscribers.map((_, i) => i)).slice(0, opts.open);
  const used = nas.map(() => new Set<string>());
  for (const [s, u] of online.entries()) {
    const x = rand();
    const age =
      x < 0.3 ? between(60, DAY) : x < 0.8 ? between(DAY, 7 * DAY) : between(7 * DAY, 30 * DAY);
    user[s] = u;
    start[s] = nowSec - age;
    length[s] = -1;
    openStartOf.set(u, start[s]);
    const k = subscribers[u].nas;
    let ip: string;
    do ip = hostIp(nas[k].pool);
    while (used[k].has(ip));
    used[k].add(ip);
    openIp.set(s, ip);
  }
  const earliest = nowSec - HISTORY_DAYS * DAY;
  for (let s = opts.open; s < total; s++) {
    const u = between(0, subscribers.length - 1);
    const seconds = Math.round(logUniform(60, 3 * DAY));
    // An online subscriber's history ends before the session that is open now.
    const latestStop = (openStartOf.get(u) ?? nowSec) - between(5, 600);
    user[s] = u;
    start[s] = between(earliest, Math.max(earliest, latestStop - seconds));
    length[s] = seconds;
  }
  const order = new Uint32Array(total).map((_, i) => i);
  order.sort((a, b) => start[a] - start[b] || a - b);

  const open: OpenRow[] = [];
  let over32 = 0;
  const columns = ['radacctid', ...RADACCT_COLUMNS];
  const chunk = 15_000; // three INSERTs of 5,000 rows
  const rowsOf = (from: number, to: number) => {
    const rows: unknown[][] = [];
    for (let p = from; p < to; p++) {
      const s = order[p];
      const sub = subscribers[user[s]];
      const isOpen = length[s] < 0;
      const updated = isOpen ? Math.max(start[s], nowSec - between(0, 299)) : start[s] + length[s];
      const seconds = updated - start[s];
      const downRate = logUniform(2_000, 1_500_000); // bytes a second
      const down = Math.floor(downRate * seconds);
      const up = Math.floor(downRate * (0.05 + rand() * 0.35) * seconds);
      if (down >= 2 ** 32) over32++;
      const id = String(p + 1);
      const ip = isOpen ? openIp.get(s)! : hostIp(nas[sub.nas].pool);
      const row = radacctRow({
        sessionId: randomBytes(4).toString('hex'),
        username: sub.username,
        nas: nas[sub.nas].name,
        portId: `vlan${100 + sub.nas}`,
        start: sqlTime(start[s]),
        updated: sqlTime(updated),
        stop: isOpen ? null : sqlTime(updated),
        seconds,
        inputOctets: String(up),
        outputOctets: String(down),
        mac: sub.mac,
        terminateCause: isOpen ? '' : pick(TERMINATE_CAUSES),
        ip,
      });
      rows.push([id, ...row]);
      if (isOpen) {
        open.push({
          id,
          username: sub.username,
          ip,
          mac: sub.mac,
          nas: sub.nas,
          nasName: nas[sub.nas].name,
          up: BigInt(up),
          down: BigInt(down),
        });
      }
    }
    return rows;
  };
  await bulkLoad(db, 'radacct', async () => {
    // Builds the next chunk while the last one is being inserted.
    let inserting = Promise.resolve();
    for (let from = 0; from < total; from += chunk) {
      const rows = rowsOf(from, Math.min(total, from + chunk));
      await inserting;
      inserting = insertRows(db, 'radacct', columns, rows, 5000);
    }
    await inserting;
  });
  return { open: open.reverse(), over32 };
}

/**
 * Every subscriber as a radgraph customer: one profile, and rg_customers and
 * rg_customer_search_keys as CustomersService writes them (searchText, searchKeys), the keys
 * loaded with their secondary index dropped (bulkLoad). radcheck and radusergroup, which no
 * query here reads, are left out.
 */
async function seedCustomers(db: TestDatabase, subscribers: Subscriber[], nowSec: number) {
  await db.query(
    "INSERT INTO rg_profiles (name, download_rate_kbps, upload_rate_kbps, validity_days) VALUES ('Home 10M', 10240, 5120, 30)",
  );
  const [{ id: profileId }] = await db.query<{ id: number }>('SELECT id FROM rg_profiles');
  const joined = new Date((nowSec - 200 * DAY) * 1000);
  const expires = new Date((nowSec + 30 * DAY) * 1000);
  const customers = subscribers.map((s) => ({
    accountNo: generateAccountNo(),
    username: s.username,
    phone: `+2547${String(between(0, 99_999_999)).padStart(8, '0')}`,
  }));
  await insertRows(
    db,
    'rg_customers',
    ['account_no', 'username', 'phone', 'profile_id', 'joined_at', 'expires_at', 'search_text'],
    customers.map((c) => [
      c.accountNo,
      c.username,
      c.phone,
      profileId,
      joined,
      expires,
      searchText(c),
    ]),
    5000,
  );
  const ids = await db.query<{ id: number; username: string }>(
    'SELECT id, username FROM rg_customers',
  );
  const idOf = new Map(ids.map((row) => [row.username, Number(row.id)]));
  await bulkLoad(db, 'rg_customer_search_keys', async () => {
    for (let i = 0; i < customers.length; i += 5000) {
      const rows = customers
        .slice(i, i + 5000)
        .flatMap((c) => searchKeys(c).map((k, pos) => [idOf.get(c.username)!, pos, k]));
      await insertRows(db, 'rg_customer_search_keys', ['customer_id', 'pos', 'k'], rows, 10_000);
    }
  });
}

async function seed(opts: Options, db: TestDatabase, log: (msg: string) => void): Promise<Seeded> {
  const nowSec = Math.floor(Date.now() / 1000);
  const nas = seedNas(opts.nas);
  await insertRows(
    db,
    'nas',
    ['nasname', 'shortname', 'type', 'secret', 'description'],
    nas.map((n) => [
      n.name,
      n.shortname,
      'mikrotik',
      randomBytes(12).toString('base64url'),
      n.description,
    ]),
  );
  const ids = await db.query<{ id: number | string; nasname: string }>(
    'SELECT id, nasname FROM nas',
  );
  for (const n of nas) n.id = String(ids.find((row) => row.nasname === n.name)!.id);
  const subscribers = seedSubscribers(Math.max(opts.open, Math.round(opts.open * 1.3)), nas);
  log(`seeding ${opts.sessions.toLocaleString('en-US')} radacct rows`);
  const { open, over32 } = await seedRadacct(opts, db, nas, subscribers, nowSec);
  log(`seeding ${subscribers.length.toLocaleString('en-US')} customers`);
  await seedCustomers(db, subscribers, nowSec);
  await db.query('ANALYZE TABLE radacct, nas, rg_customers, rg_customer_search_keys');
  return { nas, subscribers, open, over32 };
}

// ---------------------------------------------------------------------------------------------
// Requests

type Kind = 'first page' | 'NAS filter' | 'search' | 'summary';
const KINDS: Kind[] = ['first page', 'NAS filter', 'search', 'summary'];

interface PageExpectation {
  totalCount: number;
  /** The page's session ids, in order. */
  ids: string[];
  first: OpenRow | undefined;
  /** Every session on the page is on this NAS. */
  nasName?: string;
}

interface Request {
  kind: Kind;
  /** The search's shape ("username prefix", "MAC tail"…), or the NAS's name. */
  shape: string;
  variables: { nasId?: string; search?: string };
  /** null for the summary. */
  expect: PageExpectation | null;
}

const pageOf = (rows: OpenRow[], nasName?: string): PageExpectation => ({
  totalCount: rows.length,
  ids: rows.slice(0, PAGE_SIZE).map((o) => o.id),
  first: rows[0],
  nasName,
});

function makeRequests(seeded: Seeded, perKind: number): Request[] {
  const requests: Request[] = [];
  const everyone = pageOf(seeded.open);
  const byNas = seeded.nas.map((_, k) => seeded.open.filter((o) => o.nas === k));
  const search = (shape: string, term: string) => {
    const t = term.toLowerCase();
    const found = seeded.open.filter((o) => matches(o, t));
    requests.push({ kind: 'search', shape, variables: { search: term }, expect: pageOf(found) });
  };
  const noMatch = Math.round(perKind * 0.1);
  for (let i = 0; i < perKind; i++) {
    requests.push({ kind: 'first page', shape: 'first page', variables: {}, expect: everyone });
    requests.push({ kind: 'summary', shape: 'summary', variables: {}, expect: null });
    const k = between(0, seeded.nas.length - 1);
    const nas = seeded.nas[k];
    requests.push({
      kind: 'NAS filter',
      shape: nas.shortname,
      variables: { nasId: nas.id },
      expect: pageOf(byNas[k], nas.name),
    });
    if (i < noMatch) {
      // A username is first.last<digits>; 10.99 is no NAS's pool; no CPE has the OUI 02:00:00.
      switch (i % 3) {
        case 0:
          search('no match', `${pick(FIRST_NAMES)}.${pick(LAST_NAMES)}${between(1, 99)}.q`);
          break;
        case 1:
          search('no match', `10.99.${between(0, 254)}.${between(1, 254)}`);
          break;
        default:
          search('no match', randomMac(r, '02:00:00'));
      }
      continue;
    }
    const o = pick(seeded.open);
    switch (i % 6) {
      case 0:
        search(
          'username prefix',
          r.mixCase(o.username.slice(0, between(4, o.username.length - 2))),
        );
        break;
      case 1: {
        // A customer's username by a part of it: "ry.wamb", "ANJIRU8".
        const from = between(1, o.username.length - 5);
        search('username part', r.mixCase(o.username.slice(from, from + between(5, 8))));
        break;
      }
      case 2:
        search('IP', o.ip);
        break;
      case 3:
        search('IP prefix', o.ip.slice(0, o.ip.lastIndexOf('.') + 1)); // 10.107.23.
        break;
      case 4:
        search('MAC', rand() < 0.5 ? o.mac.toLowerCase() : o.mac);
        break;
      default:
        search('MAC without separators', o.mac.replace(/:/g, '').slice(0, between(8, 12))); // 98DAC4C7ED
    }
  }
  // Interleaved, so no kind gets a warmer or colder cache than another.
  return r.shuffle(requests);
}

// ---------------------------------------------------------------------------------------------
// Measuring

const ONLINE_QUERY = `query Online($nasId: ID, $search: String) {
  onlineSessions(nasId: $nasId, search: $search, first: ${PAGE_SIZE}) {
    totalCount
    edges {
      node { id username ipAddress macAddress startedAt uploadBytes downloadBytes nas { name } }
    }
  }
}`;

const SUMMARY_QUERY = `{
  onlineSummary { total byNas { nasIpAddress nas { name } count uploadBytes downloadBytes } }
}`;

interface SessionNode {
  id: string;
  username: string;
  ipAddress: string | null;
  macAddress: string | null;
  startedAt: string | null;
  /** BigInt: a JSON number while exact, else a string. */
  uploadBytes: number | string;
  downloadBytes: number | string;
  nas: { name: string } | null;
}

interface Summary {
  total: number;
  byNas: Array<{
    nasIpAddress: string;
    nas: { name: string } | null;
    count: number;
    uploadBytes: number | string;
    downloadBytes: number | string;
  }>;
}

/** Every SQL_EVERY-th request is also timed in-process and as plain SQL. */
const SQL_EVERY = 3;

const describe = (req: Request) =>
  req.kind === 'search'
    ? `onlineSessions(search: "${req.variables.search}") (${req.shape})`
    : req.kind === 'NAS filter'
      ? `onlineSessions(nasId: ${req.variables.nasId}) (${req.shape})`
      : req.kind;

function checkPage(req: Request, totalCount: number, nodes: SessionNode[]): void {
  const want = req.expect!;
  const fail = (what: string) => {
    throw new Error(`${describe(req)}: ${what}`);
  };
  if (totalCount !== want.totalCount) fail(`totalCount ${totalCount}, expected ${want.totalCount}`);
  const ids = nodes.map((n) => n.id).join(',');
  if (ids !== want.ids.join(',')) fail(`ids ${ids}, expected ${want.ids.join(',')}`);
  if (want.nasName !== undefined && nodes.some((n) => n.nas?.name !== want.nasName)) {
    fail(`a session on another NAS than ${want.nasName}`);
  }
  const o = want.first;
  const n = nodes[0];
  if (o === undefined || n === undefined) return;
  const got = [n.username, n.ipAddress, n.macAddress, n.uploadBytes, n.downloadBytes, n.nas?.name];
  const expected = [o.username, o.ip, o.mac, o.up, o.down, o.nasName];
  if (got.map(String).join('|') !== expected.map(String).join('|') || !n.startedAt) {
    fail(`first session ${JSON.stringify(n)}, expected ${JSON.stringify(expected)}`);
  }
}

function expectedSummary(seeded: Seeded): Summary {
  const byNas = seeded.nas.map((nas, k) => {
    const rows = seeded.open.filter((o) => o.nas === k);
    return {
      nasIpAddress: nas.name,
      nas: { name: nas.name },
      count: rows.length,
      uploadBytes: String(rows.reduce((a, o) => a + o.up, 0n)),
      downloadBytes: String(rows.reduce((a, o) => a + o.down, 0n)),
    };
  });
  // Most sessions first, as the summary orders them (ties by address).
  byNas.sort((a, b) => b.count - a.count || a.nasIpAddress.localeCompare(b.nasIpAddress));
  return { total: seeded.open.length, byNas: byNas.filter((n) => n.count > 0) };
}

async function requestHttp(http: Gql, req: Request, summary: Summary): Promise<number> {
  if (req.kind === 'summary') {
    const data = await queryData<{ onlineSummary: Summary }>(http, SUMMARY_QUERY, {}, 'summary');
    const got = {
      ...data.onlineSummary,
      byNas: data.onlineSummary.byNas.map((n) => ({
        ...n,
        uploadBytes: String(n.uploadBytes),
        downloadBytes: String(n.downloadBytes),
      })),
    };
    if (JSON.stringify(got) !== JSON.stringify(summary)) {
      throw new Error(
        `onlineSummary ${JSON.stringify(data.onlineSummary)}, expected ${JSON.stringify(summary)}`,
      );
    }
    return data.onlineSummary.total;
  }
  const data = await queryData<{
    onlineSessions: { totalCount: number; edges: Array<{ node: SessionNode }> };
  }>(http, ONLINE_QUERY, req.variables, describe(req));
  const { totalCount, edges } = data.onlineSessions;
  checkPage(
    req,
    totalCount,
    edges.map((e) => e.node),
  );
  return totalCount;
}

interface Sample {
  req: Request;
  http: number;
  totalCount: number;
  service?: number;
  sqlCount?: number;
  sqlRows?: number;
}

/**
 * COUNT, page, summary (its GROUP BY) or the nas lookups of a nasId filter (its row and its
 * settings). A search finds its
 * page's ids and their count in one statement (COUNT(*) OVER ()): "ids and COUNT", timed as
 * the COUNT; its page is then the read of those rows.
 */
const label = (s: Statement) =>
  /\bGROUP BY\b/i.test(s.sql)
    ? 'summary'
    : /\bFROM `(nas|rg_nas_settings)`/i.test(s.sql)
      ? 'nas'
      : /\bOVER \(\)/i.test(s.sql)
        ? 'ids and COUNT'
        : isCount(s)
          ? 'COUNT'
          : 'page';

async function measure(
  opts: Options,
  app: RunningApp,
  http: Gql,
  db: TestDatabase,
  warmUp: Request[],
  requests: Request[],
  summary: Summary,
  log: (msg: string) => void,
): Promise<{ samples: Sample[]; complete: boolean; seconds: number; plan: string[] }> {
  const online = app.app.get(OnlineSessionsService);
  const catcher = new SqlCatcher(app.app.get(DataSource));
  const viaService = (req: Request) =>
    catcher.capture<unknown>(() =>
      req.kind === 'summary' ? online.readTotals() : online.list(req.variables, PAGE_SIZE),
    );
  const w0 = performance.now();
  for (const req of warmUp) {
    await requestHttp(http, req, summary);
    await viaService(req);
  }
  log(
    `warmed up with ${warmUp.length} requests in ${((performance.now() - w0) / 1000).toFixed(0)} s`,
  );
  const t0 = performance.now();
  const samples: Sample[] = [];
  let complete = true;
  for (const [i, req] of requests.entries()) {
    if (performance.now() - t0 > opts['max-seconds'] * 1000) {
      complete = false;
      break;
    }
    const [took, totalCount] = await timed(() => requestHttp(http, req, summary));
    const sample: Sample = { req, http: took, totalCount };
    if (i % SQL_EVERY === 0) {
      const [service, [, statements]] = await timed(() => viaService(req));
      sample.service = service;
      for (const st of statements) {
        const what = label(st);
        // A page's totals come from memory: a read of them caught with the page is the
        // summary's (renewed in the background, or awaited once they are a second old).
        if (what === 'summary' && req.kind !== 'summary') continue;
        const [sqlTook] = await timed(() => db.query(st.sql, st.params));
        if (what === 'COUNT' || what === 'ids and COUNT') {
          sample.sqlCount = (sample.sqlCount ?? 0) + sqlTook;
        } else if (what !== 'nas') sample.sqlRows = (sample.sqlRows ?? 0) + sqlTook;
      }
    }
    samples.push(sample);
  }
  const seconds = (performance.now() - t0) / 1000;

  // Where the time goes: the slowest request of each kind and of each search shape, and the
  // NAS with the most sessions.
  const slowest = (of: Sample[]) =>
    of.reduce<Sample | undefined>(
      (a, b) => (a === undefined || b.http > a.http ? b : a),
      undefined,
    );
  const searchShapes = [...new Set(samples.filter(isSearch).map((s) => s.req.shape))].sort();
  const biggestNas = samples
    .filter((s) => s.req.kind === 'NAS filter')
    .reduce<Sample | undefined>(
      (a, b) => (a === undefined || b.totalCount > a.totalCount ? b : a),
      undefined,
    );
  const explained = new Set<string>();
  const plan: string[] = [];
  for (const s of [
    ...KINDS.filter((k) => k !== 'search').map((k) =>
      slowest(samples.filter((x) => x.req.kind === k)),
    ),
    biggestNas,
    ...searchShapes.map((shape) =>
      slowest(samples.filter((x) => isSearch(x) && x.req.shape === shape)),
    ),
  ]) {
    if (s === undefined || explained.has(JSON.stringify(s.req.variables) + s.req.kind)) continue;
    explained.add(JSON.stringify(s.req.variables) + s.req.kind);
    const [, statements] = await viaService(s.req);
    const found = s.req.kind === 'summary' ? '' : `; ${s.totalCount.toLocaleString('en-US')} found`;
    plan.push(
      `- Plan (ANALYZE FORMAT=JSON) of ${describe(s.req).replace(/^(\w+)\((.*)\)/, '`$1($2)`')}${found}; ` +
        `${ms(s.http)} ms over HTTP:`,
    );
    for (const line of await analyze(db, statements, { label, detail: true })) {
      plan.push(`  - ${line}`);
    }
  }
  return { samples, complete, seconds, plan };
}

const isSearch = (s: Sample) => s.req.kind === 'search';

// ---------------------------------------------------------------------------------------------
// Report

const goalOf = (kind: Kind) => (kind === 'summary' ? SUMMARY_GOAL : PAGE_GOAL);

function kindTable(samples: Sample[]): string[] {
  const lines = [
    '| Query | Requests | Median totalCount | p50 | p95 | p99 | max | Goal (p95) | service p50 / p95 | SQL COUNT p50 / p95 | SQL page or GROUP BY p50 / p95 |',
    '| --- | --: | --: | --: | --: | --: | --: | --- | --: | --: | --: |',
  ];
  for (const kind of KINDS) {
    const of = samples.filter((s) => s.req.kind === kind);
    if (of.length === 0) continue;
    const http = of.map((s) => s.http);
    const goal = goalOf(kind);
    const met = percentile(http, 95) < goal ? 'met' : '**missed**';
    lines.push(
      `| ${kind} | ${of.length} | ${percentile(
        of.map((s) => s.totalCount),
        50,
      )} | ${percentileCells(http)} | < ${goal} ms: ${met} | ` +
        `${p50p95(defined(of.map((s) => s.service)))} | ` +
        `${kind === 'summary' ? '' : p50p95(defined(of.map((s) => s.sqlCount)))} | ` +
        `${p50p95(defined(of.map((s) => s.sqlRows)))} |`,
    );
  }
  return lines;
}

function searchTable(samples: Sample[]): string[] {
  const lines = [
    '| Search | Example | Requests | Median totalCount | p50 | p95 | max |',
    '| --- | --- | --: | --: | --: | --: | --: |',
  ];
  const of = samples.filter(isSearch);
  for (const shape of [...new Set(of.map((s) => s.req.shape))].sort()) {
    const mine = of.filter((s) => s.req.shape === shape);
    const http = mine.map((s) => s.http);
    lines.push(
      `| ${shape} | \`${mine[0].req.variables.search}\` | ${mine.length} | ${percentile(
        mine.map((s) => s.totalCount),
        50,
      )} | ${ms(percentile(http, 50))} | ${ms(percentile(http, 95))} | ${ms(Math.max(...http))} |`,
    );
  }
  return lines;
}

async function run({ db, log, startApps }: Bench, opts: Options): Promise<string> {
  const t0 = performance.now();
  const seeded = await seed(opts, db, log);
  const seedSeconds = (performance.now() - t0) / 1000;
  const sessions = opts.sessions.toLocaleString('en-US');
  const open = seeded.open.length.toLocaleString('en-US');
  const perNas = seeded.nas.map((_, k) => seeded.open.filter((o) => o.nas === k).length);
  log(
    `seeded ${sessions} sessions (${open} open) on ${seeded.nas.length} NAS in ${seedSeconds.toFixed(0)} s`,
  );

  const { app, server } = await startApps();
  const summary = expectedSummary(seeded);
  const warmUp = makeRequests(seeded, 10);
  const requests = makeRequests(seeded, opts.requests);
  log(`timing ${requests.length} requests, at most ${opts['max-seconds']} s`);
  const pass = await measure(opts, app, server, db, warmUp, requests, summary, log);
  // Whatever else ran on the machine meanwhile: the 5-minute load average, as the pass ends.
  const load = loadavg()[1];
  log(
    `timed ${pass.samples.length} requests in ${pass.seconds.toFixed(0)} s, load average ${load.toFixed(1)}`,
  );

  const out = [
    '## online-sessions',
    '',
    `Who is online at ${sessions} radacct rows, ${open} of them open, on ` +
      `${seeded.nas.length} NAS (MariaDB): HTTP GraphQL to radgraph in its own process, one ` +
      `request at a time. Milliseconds; the goals are p95 under ${PAGE_GOAL} ms for a page and ` +
      `under ${SUMMARY_GOAL} ms for the summary.`,
    '',
    ...kindTable(pass.samples),
    '',
    ...searchTable(pass.samples),
    '',
    `- first page: \`onlineSessions(first: ${PAGE_SIZE}) { totalCount edges { node { id username ` +
      'ipAddress macAddress startedAt uploadBytes downloadBytes nas { name } } } }`; NAS ' +
      `filter: the same with \`nasId\` (a NAS picked at random; ${Math.min(...perNas).toLocaleString('en-US')} ` +
      `to ${Math.max(...perNas).toLocaleString('en-US')} open sessions each); search: the same with ` +
      '`search` (in mixed case a username prefix or a part of a username, an IP, the first ' +
      'three octets of one, a MAC, the first 4 to 6 octets of one without separators; 10% ' +
      'match nothing); summary: `onlineSummary { total byNas { ' +
      'nasIpAddress nas { name } count uploadBytes downloadBytes } }`. Every answer is checked ' +
      'against the seeded data (totalCount, the ids of the page in order, the first session, ' +
      'each NAS’s count and byte totals).',
    `- service: \`OnlineSessionsService.list()\` in-process, no HTTP or GraphQL (a page's ` +
      `COUNT and rows run in parallel; the first page's count is the totals', served from ` +
      `memory, so it waits when those are older than ${ONLINE_TOTALS_MAX_AGE_MS} ms), or, for ` +
      `the summary, \`.readTotals()\`: the read that \`summary()\` serves ` +
      `from memory for up to ${ONLINE_TOTALS_MAX_AGE_MS} ms (renewed in the background from ` +
      `half of that on), so what a request costs when that has expired. SQL: those ` +
      `statements, caught from TypeORM and run alone; a search's COUNT is the statement that ` +
      `finds the page's ids and counts every match (COUNT(*) OVER ()), its page the read of ` +
      `those rows. Both for one request in ${SQL_EVERY}.`,
    ...pass.plan,
  ];
  if (!pass.complete) out.push(`- Stopped at ${opts['max-seconds']} s, before every request.`);
  out.push(
    '',
    `- Data: ${seeded.subscribers.length.toLocaleString('en-US')} subscribers, each on one NAS ` +
      `with one MAC, each a radgraph customer; ${open} online (one open session each, started up to 30 days ago, a ` +
      `unique address from its NAS's pool) and the rest of the ${sessions} sessions closed, over ` +
      `${HISTORY_DAYS} days; radacctid follows acctstarttime. ` +
      `${((100 * seeded.over32) / opts.sessions).toFixed(0)}% of the sessions downloaded more ` +
      'than 2^32 bytes. Seeded with multi-row INSERTs while the secondary indexes and triggers ' +
      'were dropped, then rebuilt and checked to be the migrations’, then ANALYZE TABLE.',
    `- Command: \`${commandLine(NAME)}\` (seeding ${seedSeconds.toFixed(0)} s, timing ` +
      `${pass.seconds.toFixed(0)} s; 5-minute load average ${load.toFixed(1)} as the timing ended).`,
    `- Date: ${new Date().toISOString().slice(0, 10)}, radgraph at ${revision()}. Machine: ` +
      `${await machine(db)}.`,
  );
  return out.join('\n');
}

runBench(NAME, options, run);
