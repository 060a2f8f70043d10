/**
 * Bench: `customers(search)` at 200,000 customers on MariaDB (issue 3's acceptance).
 *
 *   npx ts-node -T bench/customers-search.ts [--write]
 *       [--customers=200000] [--terms=300] [--max-seconds=600]
 *
 * 1. Creates a database of its own on TEST_DATABASE_URL's server (default
 *    mysql://root@127.0.0.1:3306) with radgraph's migrations, and drops it at the end, even
 *    on failure or Ctrl-C.
 * 2. Seeds it with multi-row INSERTs of the rows CustomersService.create and
 *    ProfilesService.create write (rg_profiles + radgroupreply; rg_customers +
 *    rg_customer_search_keys + radcheck + radusergroup, with the real searchText(),
 *    searchKeys(), generateAccountNo() and expirationValue()), then open and closed radacct
 *    sessions, then ANALYZE TABLE.
 * 3. Starts the real app and times sequential HTTP GraphQL `customers(search, first: 50)`
 *    requests for account-no, username and phone terms picked from the seeded data (10% match
 *    nothing). Every answer is checked: a term made from a customer finds at least one, a
 *    no-match term none.
 * 4. For one term in three, times one layer down: CustomerDirectoryService.list() in-process,
 *    and the SQL statements it sent (caught from TypeORM's logger), run alone. Then prints
 *    MariaDB's ANALYZE FORMAT=JSON of them for a term that matches nothing and for the term
 *    that matched the most.
 *
 * --write puts the results in the customers-search section of bench/RESULTS.md.
 * Not a test: nothing here fails on a slow figure.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { CustomerDirectoryService } from '../src/customers/customer-directory.service';
import {
  DAY_MS,
  expirationValue,
  generateAccountNo,
  phoneDigits,
  searchKeys,
  searchText,
} from '../src/customers/customer-rules';
import { groupReplyRows } from '../src/profiles/profile-rules';
import type { RunningApp } from '../test/support/app';
import type { TestDatabase } from '../test/support/test-database';
import { parseOptions, runBench, type Bench } from './support/main';
import { FIRST_NAMES, LAST_NAMES, uniqueUsername } from './support/names';
import { RADACCT_COLUMNS, radacctRow, randomMac, TERMINATE_CAUSES } from './support/radacct';
import { capitalize, random } from './support/random';
import {
  commandLine,
  defined,
  machine,
  ms,
  p50p95,
  percentile,
  percentileCells,
  timed,
} from './support/report';
import { bulkLoad, insertRows } from './support/seed';
import { queryData, type Gql } from './support/server';
import { analyze, isCount, SqlCatcher } from './support/sql';

// ---------------------------------------------------------------------------------------------
// Options

const NAME = 'customers-search';
const USAGE =
  'Usage: npx ts-node -T bench/customers-search.ts [--write] ' +
  '[--customers=N] [--terms=N] [--max-seconds=N]';

const options = () =>
  parseOptions(
    process.argv.slice(2),
    { write: false, customers: 200_000, terms: 300, 'max-seconds': 600 },
    USAGE,
  );
type Options = ReturnType<typeof options>;

// ---------------------------------------------------------------------------------------------
// Seed data

// The names, phones and terms are the same every run.
const r = random(20261122);
const { rand, pick, between, digitsOf, mixCase, shuffle } = r;

interface SeedProfile {
  name: string;
  downloadRateKbps: number;
  uploadRateKbps: number;
  dataLimitBytes: string | null;
  validityDays: number;
  interimIntervalSeconds: number;
  weight: number;
}

const PROFILES: SeedProfile[] = [
  { name: 'Home 5M', downloadRateKbps: 5120, uploadRateKbps: 2048, dataLimitBytes: null, validityDays: 30, interimIntervalSeconds: 300, weight: 35 },
  { name: 'Home 10M', downloadRateKbps: 10240, uploadRateKbps: 5120, dataLimitBytes: null, validityDays: 30, interimIntervalSeconds: 300, weight: 30 },
  { name: 'Home 20M', downloadRateKbps: 20480, uploadRateKbps: 10240, dataLimitBytes: null, validityDays: 30, interimIntervalSeconds: 300, weight: 15 },
  { name: 'Weekly 3M', downloadRateKbps: 3072, uploadRateKbps: 1024, dataLimitBytes: '53687091200', validityDays: 7, interimIntervalSeconds: 600, weight: 12 },
  { name: 'Business 50M', downloadRateKbps: 51200, uploadRateKbps: 25600, dataLimitBytes: null, validityDays: 30, interimIntervalSeconds: 300, weight: 8 },
]; // prettier-ignore

interface SeedCustomer {
  accountNo: string;
  username: string;
  phone: string | null;
  name: string;
  profile: number; // index in PROFILES
  joinedAt: Date;
  expiresAt: Date;
  suspended: boolean;
}

/** A Kenyan mobile number (07xx / 01xx ranges) as people type it, with its country code. */
function kenyanPhone(): string {
  const n = `${pick(['7', '7', '7', '1'])}${digitsOf(8)}`; // 712345678
  const a = n.slice(0, 3);
  const b = n.slice(3, 6);
  const c = n.slice(6);
  switch (between(0, 6)) {
    case 0:
      return `+254 ${a} ${b} ${c}`;
    case 1:
      return `+254${n}`;
    case 2:
      return `254${n}`;
    case 3:
      return `+254-${a}-${b}-${c}`;
    case 4:
      return `(+254) ${a} ${b}${c}`;
    case 5:
      return `+254 ${a}-${b}${c}`;
    default:
      return `+254.${a}.${b}.${c}`;
  }
}

function seedCustomers(count: number, now: Date): SeedCustomer[] {
  const usernames = new Set<string>();
  const accountNos = new Set<string>();
  const weights = PROFILES.map((p) => p.weight);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const span = 3 * 365 * DAY_MS;
  const customers: SeedCustomer[] = [];
  for (let i = 0; i < count; i++) {
    const first = pick(FIRST_NAMES);
    const last = pick(LAST_NAMES);
    const username = uniqueUsername(r, first, last, usernames);
    let accountNo: string;
    do accountNo = generateAccountNo();
    while (accountNos.has(accountNo));
    accountNos.add(accountNo);
    let w = rand() * totalWeight;
    let profile = 0;
    while (w >= weights[profile]) w -= weights[profile++];
    // Ids grow with joinedAt, as they do when customers are added one by one.
    const joinedAt = new Date(now.getTime() - span + Math.floor(((i + rand()) / count) * span));
    const validity = PROFILES[profile].validityDays * DAY_MS;
    const roll = rand();
    const expiresAt =
      roll < 0.1 // lapsed: expired up to 90 days ago
        ? new Date(now.getTime() - between(1, 90 * 24) * 3_600_000)
        : new Date(now.getTime() + Math.floor(rand() * validity));
    customers.push({
      accountNo,
      username,
      phone: rand() < 0.03 ? null : kenyanPhone(),
      name: `${capitalize(first)} ${capitalize(last)}`,
      profile,
      joinedAt: joinedAt < expiresAt || roll < 0.1 ? joinedAt : new Date(expiresAt.getTime() - 1),
      expiresAt,
      suspended: rand() < 0.02,
    });
  }
  return customers;
}

// ---------------------------------------------------------------------------------------------
// Seeding MariaDB

/**
 * rg_customer_search_keys as writeSearchKeys writes them: (customer_id, pos, k) for each of
 * searchKeys(customer), loaded with the table's secondary index dropped (see bulkLoad).
 */
async function seedSearchKeys(db: TestDatabase, customers: SeedCustomer[]): Promise<void> {
  await bulkLoad(db, 'rg_customer_search_keys', async () => {
    const ids = await db.query<{ id: number; account_no: string }>(
      'SELECT id, account_no FROM rg_customers',
    );
    const idOf = new Map(ids.map((r) => [r.account_no, Number(r.id)]));
    const sorted = [...customers].sort((a, b) => idOf.get(a.accountNo)! - idOf.get(b.accountNo)!);
    for (let i = 0; i < sorted.length; i += 5000) {
      const rows = sorted.slice(i, i + 5000).flatMap((c) => {
        const id = idOf.get(c.accountNo)!;
        return searchKeys(c).map((k, pos) => [id, pos, k]);
      });
      await insertRows(db, 'rg_customer_search_keys', ['customer_id', 'pos', 'k'], rows);
    }
  });
}

async function seed(db: TestDatabase, customers: SeedCustomer[], now: Date): Promise<number> {
  // Profiles: rg_profiles and the group's radgroupreply rows, as ProfilesService.create.
  await insertRows(
    db,
    'rg_profiles',
    [
      'name',
      'download_rate_kbps',
      'upload_rate_kbps',
      'data_limit_bytes',
      'validity_days',
      'interim_interval_seconds',
    ],
    PROFILES.map((p) => [
      p.name,
      p.downloadRateKbps,
      p.uploadRateKbps,
      p.dataLimitBytes,
      p.validityDays,
      p.interimIntervalSeconds,
    ]),
  );
  const ids = await db.query<{ id: number; name: string }>('SELECT id, name FROM rg_profiles');
  const profileId = PROFILES.map((p) => ids.find((r) => r.name === p.name)!.id);
  await insertRows(
    db,
    'radgroupreply',
    ['groupname', 'attribute', 'op', 'value'],
    PROFILES.flatMap((p) => groupReplyRows(p).map((r) => [p.name, r.attribute, r.op, r.value])),
  );

  // Customers: rg_customers, then radcheck and radusergroup, as CustomersService.create
  // (CustomerRadiusRows.create) and, for suspended ones, setSuspended(true).
  await insertRows(
    db,
    'rg_customers',
    [
      'account_no',
      'username',
      'phone',
      'name',
      'profile_id',
      'joined_at',
      'expires_at',
      'suspended',
      'search_text',
      'created_at',
      'updated_at',
    ],
    customers.map((c) => [
      c.accountNo,
      c.username,
      c.phone,
      c.name,
      profileId[c.profile],
      c.joinedAt,
      c.expiresAt,
      c.suspended ? 1 : 0,
      searchText(c),
      c.joinedAt,
      c.joinedAt,
    ]),
  );
  await seedSearchKeys(db, customers);
  await insertRows(
    db,
    'radcheck',
    ['username', 'attribute', 'op', 'value'],
    customers.flatMap((c) => [
      [c.username, 'Cleartext-Password', ':=', randomBytes(6).toString('base64url')],
      [c.username, 'Simultaneous-Use', ':=', '1'],
      [c.username, 'Expiration', ':=', expirationValue(c.expiresAt)],
      ...(c.suspended ? [[c.username, 'Auth-Type', ':=', 'Reject']] : []),
    ]),
  );
  await insertRows(
    db,
    'radusergroup',
    ['username', 'groupname', 'priority'],
    customers.map((c) => [c.username, PROFILES[c.profile].name, 1]),
  );

  // radacct: an open session for 10k active customers (5%), and closed history.
  const active = customers.filter((c) => !c.suspended && c.expiresAt > now);
  const sessions: unknown[][] = [];
  const openCount = Math.min(10_000, Math.round(customers.length * 0.05), active.length);
  const closedCount = openCount * 2;
  const open = new Set<number>();
  while (open.size < openCount) open.add(Math.floor(rand() * active.length));
  const session = (c: SeedCustomer, start: Date, stop: Date | null) => {
    const sessionId = randomBytes(4).toString('hex');
    const nas = `10.0.0.${between(1, 6)}`;
    const portId = `vlan${between(100, 140)}`;
    const updated =
      stop ?? new Date(Math.max(start.getTime(), now.getTime() - between(0, 299) * 1000));
    return radacctRow({
      sessionId,
      username: c.username,
      nas,
      portId,
      start,
      updated,
      stop,
      seconds: Math.floor(((stop ?? updated).getTime() - start.getTime()) / 1000),
      inputOctets: String(between(1, 5_000) * 1_048_576 + between(0, 1_048_575)),
      outputOctets: String(between(1, 40_000) * 1_048_576 + between(0, 1_048_575)),
      mac: randomMac(r),
      terminateCause: stop ? pick(TERMINATE_CAUSES) : '',
      ip: `100.64.${between(0, 255)}.${between(1, 254)}`,
    });
  };
  for (const i of open) {
    sessions.push(
      session(active[i], new Date(now.getTime() - between(60, 7 * 86_400) * 1000), null),
    );
  }
  for (let i = 0; i < closedCount; i++) {
    const c = pick(customers);
    const start = new Date(now.getTime() - between(86_400, 60 * 86_400) * 1000);
    sessions.push(session(c, start, new Date(start.getTime() + between(60, 86_400) * 1000)));
  }
  await insertRows(db, 'radacct', RADACCT_COLUMNS, sessions);
  await db.query(
    'ANALYZE TABLE rg_profiles, rg_customers, rg_customer_search_keys, radcheck, radusergroup, ' +
      'radgroupreply, radacct',
  );
  return openCount;
}

// ---------------------------------------------------------------------------------------------
// Search terms

type Kind = 'account no' | 'username' | 'phone';
const KINDS: Kind[] = ['account no', 'username', 'phone'];

interface Term {
  kind: Kind;
  /** What it is: "prefix", "full", "substring", "no match"… */
  shape: string;
  term: string;
  /** A term made from a seeded customer must find at least one; a no-match term none. */
  expectMatch: boolean;
}

function makeTerms(customers: SeedCustomer[], perKind: number): Term[] {
  const terms: Term[] = [];
  const allDigits = customers.map((c) => phoneDigits(c.phone));
  const noMatch = Math.round(perKind * 0.1);
  const withMatch = perKind - noMatch;
  const withPhone = customers.filter((c) => c.phone !== null);
  const account = (shape: string, term: string, expectMatch = true) =>
    terms.push({ kind: 'account no', shape, term, expectMatch });
  const user = (shape: string, term: string, expectMatch = true) =>
    terms.push({ kind: 'username', shape, term, expectMatch });
  const phone = (shape: string, term: string, expectMatch = true) =>
    terms.push({ kind: 'phone', shape, term, expectMatch });

  for (let i = 0; i < withMatch; i++) {
    const a = pick(customers).accountNo; // RG-7KQ2-M9XD
    if (i % 2 === 0)
      account('prefix', mixCase(a.slice(0, between(5, 8)))); // RG-7K .. RG-7KQ2-
    else account('full', rand() < 0.8 ? a : a.toLowerCase());

    const u = pick(customers).username;
    if (i % 2 === 0) user('prefix', mixCase(u.slice(0, between(4, Math.max(4, u.length - 2)))));
    else {
      const from = between(2, Math.max(2, u.length - 5));
      user('substring', mixCase(u.slice(from, from + between(4, 8))));
    }

    const c = pick(withPhone);
    const d = phoneDigits(c.phone); // 254712345678
    if (i % 2 === 0) {
      const len = between(6, 9);
      const from = between(3, d.length - len);
      phone('digits', d.slice(from, from + len));
    } else phone('full', `+${d.slice(0, 3)} ${d.slice(3, 6)}-${d.slice(6)}`); // +254 712-345678
  }
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const none = (n: number) => Array.from({ length: n }, () => pick([...alphabet])).join('');
  for (let i = 0; i < noMatch; i++) {
    // U is not in the account-number alphabet: no such account no.
    account('no match', i % 2 === 0 ? `RG-${none(3)}U` : `RG-${none(4)}-${none(3)}U`, false);
    // A username is first.last<digits>: nothing follows the digits.
    user('no match', `${pick(FIRST_NAMES)}.${pick(LAST_NAMES)}${between(1, 99)}.q`, false);
    let d: string;
    do d = `2547${digitsOf(8)}`;
    while (allDigits.some((x) => x.includes(d)));
    phone('no match', `+${d.slice(0, 3)} ${d.slice(3, 6)}-${d.slice(6)}`, false);
  }
  // Interleaved, so no kind gets a warmer or colder cache than another.
  return shuffle(terms);
}

// ---------------------------------------------------------------------------------------------
// Measuring

const CUSTOMERS_QUERY = `query Search($term: String!) {
  customers(search: $term, first: 50) {
    totalCount
    edges { node { id accountNo username phone profile { name } status joinedAt } }
  }
}`;

/** Every SQL_EVERY-th term is also timed in-process and as plain SQL. */
const SQL_EVERY = 3;

interface Sample {
  term: Term;
  http: number;
  totalCount: number;
  service?: number;
  sqlCount?: number;
  sqlPage?: number;
}

interface Pass {
  samples: Sample[];
  complete: boolean;
  seconds: number;
  /** Markdown lines: ANALYZE FORMAT=JSON of list()'s statements for a few terms. */
  plan: string[];
}

async function searchHttp(app: Gql, term: Term): Promise<number> {
  const data = await queryData<{ customers: { totalCount: number; edges: unknown[] } }>(
    app,
    CUSTOMERS_QUERY,
    { term: term.term },
    `customers(search: "${term.term}")`,
  );
  const { totalCount, edges } = data.customers;
  if (term.expectMatch !== totalCount > 0 || edges.length !== Math.min(50, totalCount)) {
    throw new Error(
      `customers(search: "${term.term}") (${term.kind}, ${term.shape}) found ${totalCount} ` +
        `(${edges.length} edges); expected ${term.expectMatch ? 'some' : 'none'}`,
    );
  }
  return totalCount;
}

async function measurePass(
  app: RunningApp,
  http: Gql,
  db: TestDatabase,
  catcher: SqlCatcher,
  warmUp: Term[],
  terms: Term[],
  maxSeconds: number,
): Promise<Pass> {
  const directory = app.app.get(CustomerDirectoryService);
  const list = (term: string) => catcher.capture(() => directory.list({ search: term }, 50));
  for (const t of warmUp) {
    await searchHttp(http, t);
    await list(t.term);
  }
  const t0 = performance.now();
  const samples: Sample[] = [];
  let complete = true;
  for (const [i, term] of terms.entries()) {
    if (performance.now() - t0 > maxSeconds * 1000) {
      complete = false;
      break;
    }
    const [ms, totalCount] = await timed(() => searchHttp(http, term));
    const sample: Sample = { term, http: ms, totalCount };
    if (i % SQL_EVERY === 0) {
      const [service, [, statements]] = await timed(() => list(term.term));
      sample.service = service;
      for (const st of statements) {
        const [took] = await timed(() => db.query(st.sql, st.params));
        if (isCount(st)) sample.sqlCount = (sample.sqlCount ?? 0) + took;
        else sample.sqlPage = (sample.sqlPage ?? 0) + took;
      }
    }
    samples.push(sample);
  }
  const seconds = (performance.now() - t0) / 1000;
  // Where the time goes: a term that matches nothing, the one that matched the most, and
  // the slowest of each kind.
  const noMatch = samples.find((s) => s.term.kind === 'username' && s.totalCount === 0);
  const most = samples.reduce((a, b) => (b.totalCount > a.totalCount ? b : a), samples[0]);
  const slowest = KINDS.map((kind) =>
    samples
      .filter((s) => s.term.kind === kind)
      .reduce<Sample | undefined>(
        (a, b) => (a === undefined || b.http > a.http ? b : a),
        undefined,
      ),
  );
  const explained = new Set<Sample>();
  const plan: string[] = [];
  for (const s of [noMatch, most, ...slowest]) {
    if (s === undefined || explained.has(s)) continue;
    explained.add(s);
    const [, statements] = await list(s.term.term);
    const found = s.totalCount === 0 ? '' : `; ${s.totalCount.toLocaleString('en-US')} found`;
    plan.push(
      `- Plan (ANALYZE FORMAT=JSON) of \`${s.term.term}\` (${s.term.kind}, ${s.term.shape}` +
        `${found}; ${ms(s.http)} ms over HTTP):`,
    );
    for (const line of await analyze(db, statements)) plan.push(`  - ${line}`);
  }
  return { samples, complete, seconds, plan };
}

// ---------------------------------------------------------------------------------------------
// Report

function kindTable(samples: Sample[]): string[] {
  const lines = [
    '| Term kind | Requests (matching) | p50 | p95 | p99 | max | list() p50 / p95 | SQL COUNT p50 / p95 | SQL page p50 / p95 |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: |',
  ];
  for (const kind of KINDS) {
    const of = samples.filter((s) => s.term.kind === kind);
    const http = of.map((s) => s.http);
    lines.push(
      `| ${kind} | ${of.length} (${of.filter((s) => s.totalCount > 0).length}) | ` +
        `${percentileCells(http)} | ${p50p95(defined(of.map((s) => s.service)))} | ` +
        `${p50p95(defined(of.map((s) => s.sqlCount)))} | ${p50p95(defined(of.map((s) => s.sqlPage)))} |`,
    );
  }
  return lines;
}

function shapeTable(samples: Sample[]): string[] {
  const lines = [
    '| Term | Example | Requests | Median totalCount | p50 | p95 |',
    '| --- | --- | --: | --: | --: | --: |',
  ];
  const shapes = [...new Set(samples.map((s) => `${s.term.kind}: ${s.term.shape}`))].sort();
  for (const shape of shapes) {
    const of = samples.filter((s) => `${s.term.kind}: ${s.term.shape}` === shape);
    const http = of.map((s) => s.http);
    lines.push(
      `| ${shape} | \`${of[0].term.term}\` | ${of.length} | ${percentile(
        of.map((s) => s.totalCount),
        50,
      )} | ${ms(percentile(http, 50))} | ${ms(percentile(http, 95))} |`,
    );
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------

async function run({ db, log, startApps }: Bench, opts: Options): Promise<string> {
  const now = new Date();
  const t0 = performance.now();
  const customers = seedCustomers(opts.customers, now);
  const openSessions = await seed(db, customers, now);
  const seedSeconds = (performance.now() - t0) / 1000;
  log(
    `seeded ${customers.length} customers, ${PROFILES.length} profiles, ${openSessions} open ` +
      `sessions in ${seedSeconds.toFixed(0)} s`,
  );

  const { app, server } = await startApps();
  const catcher = new SqlCatcher(app.app.get(DataSource));
  const warmUp = makeTerms(customers, 20);
  const terms = makeTerms(customers, opts.terms);
  log(`timing ${terms.length} terms, at most ${opts['max-seconds']} s`);
  const current = await measurePass(app, server, db, catcher, warmUp, terms, opts['max-seconds']);
  log(`timed ${current.samples.length} requests in ${current.seconds.toFixed(0)} s`);

  const out: string[] = [
    '## customers-search',
    '',
    '`customers(search: $term, first: 50) { totalCount edges { node { id accountNo username ' +
      'phone profile { name } status joinedAt } } }` over HTTP GraphQL to radgraph in its own process, one request at a time, ' +
      `at ${customers.length.toLocaleString('en-US')} customers (${PROFILES.length} profiles, ` +
      `${openSessions.toLocaleString('en-US')} open sessions) on MariaDB. Milliseconds; the goal ` +
      'is p95 under 20 ms.',
    '',
    ...kindTable(current.samples),
    '',
    ...shapeTable(current.samples),
    '',
    `- list(): \`CustomerDirectoryService.list()\` in-process, no HTTP or GraphQL (its COUNT and ` +
      `page run in parallel). SQL: those two statements, caught from TypeORM and run alone. ` +
      `Both for one term in ${SQL_EVERY}.`,
    ...current.plan,
  ];
  if (!current.complete) out.push(`- Stopped at ${opts['max-seconds']} s, before every term.`);

  out.push(
    '',
    '- Terms: account no (a prefix such as `RG-7K`, and full numbers), username (a prefix and a ' +
      'middle substring, mixed case), phone (6-9 digits, and full numbers written ' +
      '`+254 712-345678`), picked from the seeded data; 10% of each kind match nothing. Every ' +
      'answer is checked.',
    `- Command: \`${commandLine(NAME)}\` ` +
      `(seeding ${seedSeconds.toFixed(0)} s, timing ${current.seconds.toFixed(0)} s).`,
    `- Date: ${new Date().toISOString().slice(0, 10)}. Machine: ${await machine(db)}.`,
  );
  return out.join('\n');
}

runBench(NAME, options, run);
