/**
 * Bench: CSV import and export of customers through radgraph's CLI (issue 9: 100,000 rows in
 * under a minute on MariaDB).
 *
 *   npm run build && npx ts-node -T bench/customers-import.ts [--write] [--rows=100000]
 *
 * 1. Writes a CSV of --rows customers (every column filled, as another billing system would
 *    export them: account numbers, passwords, phones, names with commas and quotes, three
 *    profiles, expiry dates) in a temporary directory, and makes its three profiles.
 * 2. Runs `node dist/src/cli.js customers import <file>` (the compiled CLI, its own process,
 *    not on a terminal) on a fresh MariaDB database made by radgraph's migrations, and times
 *    it from spawn to exit, for:
 *    - the first import: every row new (all or nothing, one transaction);
 *    - the same file again: every row unchanged, nothing written;
 *    - a file where every customer's expiry moved by a day: every row an update;
 *    - `customers export` of the whole base to a file.
 * 3. Checks what each run left: the row counts of rg_customers, their search keys, radcheck,
 *    radusergroup and the audit trail, a sample of customers against the file, and that the
 *    export re-imports as all unchanged.
 *
 * The database is dropped and the directory removed at the end, even on failure or Ctrl-C.
 * --write puts the results in the customers-import section of bench/RESULTS.md.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { parseOptions, runBench } from './support/main';
import { FIRST_NAMES, LAST_NAMES } from './support/names';
import { random } from './support/random';
import { commandLine, machine, revision } from './support/report';

const USAGE = 'usage: bench/customers-import.ts [--write] [--rows=100000]';
const PROFILES = ['Home 10M', 'Home 20M', 'Business 50M'];
const HEADER = 'account_no,username,password,phone,name,profile,expires';
const CLI = path.join(__dirname, '..', 'dist', 'src', 'cli.js');

interface Run {
  what: string;
  seconds: number;
  summary: string;
}

function customerFile(rows: number, shiftDays: number): string {
  const { pick } = random(9);
  const out = [HEADER];
  for (let i = 0; i < rows; i++) {
    const first = pick(FIRST_NAMES);
    const last = pick(LAST_NAMES);
    const name =
      i % 7 === 0
        ? `"${last}, ${first}"`
        : i % 13 === 0
          ? `"${first} ""${last}"""`
          : `${first} ${last}`;
    const phone = `+254 7${String(10_000_000 + ((i * 7_919) % 90_000_000)).padStart(8, '0')}`;
    const expires = new Date(Date.UTC(2027, 0, 1) + ((i % 365) + shiftDays) * 86_400_000);
    out.push(
      [
        `ACC-${String(i).padStart(7, '0')}`,
        `${first}.${last}.${i}`.toLowerCase(),
        `pw${(i * 2_654_435_761) % 1_000_000_007}`,
        phone,
        name,
        pick(PROFILES),
        expires.toISOString().replace(/\.000Z$/, 'Z'),
      ].join(','),
    );
  }
  return `${out.join('\r\n')}\r\n`;
}

runBench(
  'customers-import',
  () => parseOptions(process.argv.slice(2), { write: false, rows: 100_000 }, USAGE),
  async (bench, opts) => {
    const { db, log } = bench;
    try {
      statSync(CLI);
    } catch {
      throw new Error(
        `${CLI} is missing: run \`npm run build\` first (npm run bench:customers-import does)`,
      );
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'radgraph-import-bench-'));
    bench.defer(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
    for (const name of PROFILES) {
      await db.query(
        `INSERT INTO rg_profiles (name, download_rate_kbps, upload_rate_kbps, validity_days, interim_interval_seconds, price_minor)
         VALUES (?, 10240, 5120, 30, 300, 0)`,
        [name],
      );
    }
    const file = path.join(dir, 'customers.csv');
    const moved = path.join(dir, 'customers-moved.csv');
    writeFileSync(file, customerFile(opts.rows, 0));
    writeFileSync(moved, customerFile(opts.rows, 1));
    const mib = (statSync(file).size / 2 ** 20).toFixed(1);
    log(`wrote ${opts.rows} rows (${mib} MiB)`);

    const run = promisify(execFile);
    const env = {
      ...process.env,
      DATABASE_URL: db.url,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
      ADMIN_TOKEN: 'bench-token-0123456789abcdef',
      SECRETS_KEY: '0'.repeat(64),
    };
    const runs: Run[] = [];
    async function cli(what: string, args: string[], expect: RegExp): Promise<string> {
      const t0 = performance.now();
      const { stdout } = await run(process.execPath, [CLI, 'customers', ...args], {
        env,
        encoding: 'utf8',
        maxBuffer: 64 * 2 ** 20,
      });
      const seconds = (performance.now() - t0) / 1000;
      const summary = stdout.trim().split('\n')[0];
      if (!expect.test(stdout)) throw new Error(`${what}: unexpected output:\n${stdout}`);
      log(`${what}: ${seconds.toFixed(1)} s: ${summary}`);
      runs.push({ what, seconds, summary });
      return stdout;
    }
    const count = async (table: string) =>
      Number((await db.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
    const n = opts.rows.toLocaleString('en-US');

    await cli(
      'Import, every row new',
      ['import', file],
      new RegExp(`^${n} rows: ${opts.rows} were created`),
    );
    const counts = {
      customers: await count('rg_customers'),
      keys: await count('rg_customer_search_keys'),
      radcheck: await count('radcheck'),
      radusergroup: await count('radusergroup'),
      audit: await count('rg_audit_log'),
    };
    if (
      counts.customers !== opts.rows ||
      counts.radcheck !== 3 * opts.rows ||
      counts.radusergroup !== opts.rows ||
      counts.audit !== opts.rows + 1
    ) {
      throw new Error(`wrong row counts after the import: ${JSON.stringify(counts)}`);
    }
    const lines = readFileSync(file, 'utf8').split('\r\n');
    for (const i of [1, Math.floor(opts.rows / 2), opts.rows]) {
      const [accountNo, username, password] = lines[i].split(',');
      const [row] = await db.query<{ account_no: string; value: string }>(
        `SELECT c.account_no, r.value FROM rg_customers c JOIN radcheck r ON r.username = c.username AND r.attribute = 'Cleartext-Password' WHERE c.username = ?`,
        [username],
      );
      if (row?.account_no !== accountNo || row.value !== password) {
        throw new Error(`line ${i + 1} (${username}) was not imported as written`);
      }
    }
    await cli(
      'The same file again (all unchanged)',
      ['import', file],
      new RegExp(`0 updated, ${opts.rows} unchanged`),
    );
    await cli(
      'Every expiry moved a day (all updates)',
      ['import', moved],
      new RegExp(`0 were created, ${opts.rows} updated`),
    );
    const out = path.join(dir, 'export.csv');
    await cli('Export of the whole base', ['export', out], new RegExp(`^${n} customers written`));
    await cli(
      'The export imported again (all unchanged)',
      ['import', out],
      new RegExp(`0 updated, ${opts.rows} unchanged`),
    );

    const table = [
      '| Run | Seconds | Rows/s | CLI summary |',
      '| --- | ------: | -----: | ----------- |',
      ...runs.map(
        (r) =>
          `| ${r.what} | **${r.seconds.toFixed(1)}** | ${Math.round(opts.rows / r.seconds).toLocaleString('en-US')} | ${r.summary.replace(/\|/g, '\\|')} |`,
      ),
    ];
    const first = runs[0].seconds;
    return [
      '## customers-import',
      '',
      `CSV import and export of ${n} customers through radgraph's CLI (\`node dist/src/cli.js customers import|export\`, its own process, not on a terminal) on MariaDB. The goal is 100,000 rows in under a minute: **${first.toFixed(1)} s** for the first import (${first < 60 ? 'met' : 'not met'}).`,
      '',
      ...table,
      '',
      `- The file: ${n} rows, ${mib} MiB, every column filled (account numbers, passwords, phones, names with commas and quotes, 3 profiles, expiry dates). Seconds are from spawn to exit: Node's start, the checks of every row against the database, and the writes.`,
      `- The first import wrote, in one transaction: ${counts.customers.toLocaleString('en-US')} rg_customers rows, ${counts.keys.toLocaleString('en-US')} search keys, ${counts.radcheck.toLocaleString('en-US')} radcheck rows, ${counts.radusergroup.toLocaleString('en-US')} radusergroup rows and ${counts.audit.toLocaleString('en-US')} audit rows (one per customer, one for the import); three customers were checked against their line.`,
      '- Updates go one customer at a time, as updateCustomer writes them (its row, radcheck, its audit row), in the same single transaction.',
      `- radgraph: ${revision()}. Command: \`${commandLine('customers-import')}\`.`,
      `- Date: ${new Date().toISOString().slice(0, 10)}. Machine: ${await machine(db)}.`,
    ].join('\n');
  },
);
