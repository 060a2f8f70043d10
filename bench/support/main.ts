import { startApp, type RunningApp } from '../../test/support/app';
import { createTestDatabase, type TestDatabase } from '../../test/support/test-database';
import { startServerProcess, type Gql } from './server';
import { writeResults } from './report';

export interface Bench {
  db: TestDatabase;
  log(msg: string): void;
  /**
   * The real app twice: in this process (for timing its services and catching their SQL)
   * and as its own process (for the timed HTTP requests). Both stop at the end.
   */
  startApps(): Promise<{ app: RunningApp; server: Gql }>;
  /** Runs `cleanup` at the end, also on failure or Ctrl-C (the last deferred first). */
  defer(cleanup: () => Promise<void>): void;
}

/**
 * The in-process app is there to time services and catch the SQL they send: it runs none of
 * radgraph's background work (the radacct change feed, the stale-session reaper, the
 * accounting listener), whose statements would be caught with a service's and whose load
 * would be a second instance's.
 */
const IN_PROCESS_ENV = {
  CHANGE_FEED_INTERVAL_MS: '0',
  STALE_SESSION_MULTIPLIER: '0',
  RADIUS_ACCT_ENABLED: 'false',
};

type Parsed<T> = {
  [K in keyof T]: T[K] extends boolean ? boolean : T[K] extends number[] ? number[] : number;
};

/**
 * `--name` flags, `--name=N` positive integers and `--name=N,N…` lists of them (where the
 * default is a list), with their defaults.
 */
export function parseOptions<T extends Record<string, boolean | number | number[]>>(
  argv: string[],
  defaults: T,
  usage: string,
): Parsed<T> {
  const opts: Record<string, boolean | number | number[]> = { ...defaults };
  for (const arg of argv) {
    const [flag, value] = arg.split('=', 2);
    const key = flag.replace(/^--/, '');
    if (!flag.startsWith('--') || !(key in defaults)) {
      throw new Error(`Unknown argument ${arg}. ${usage}`);
    }
    if (typeof defaults[key] === 'boolean') {
      if (value !== undefined) throw new Error(`${flag} takes no value. ${usage}`);
      opts[key] = true;
    } else {
      const list = Array.isArray(defaults[key]);
      const ns = (list ? (value ?? '').split(',') : [value]).map(Number);
      if (ns.some((n) => !Number.isInteger(n) || n < 1)) {
        throw new Error(
          `${flag} needs ${list ? 'positive integers, comma-separated' : 'a positive integer'}. ${usage}`,
        );
      }
      opts[key] = list ? ns : ns[0];
    }
  }
  return opts as Parsed<T>;
}

/**
 * Runs a bench on a MariaDB database of its own (TEST_DATABASE_URL's server, radgraph's
 * migrations), prints the Markdown section `body` returns, puts it in bench/RESULTS.md with
 * `--write`, and drops the database at the end, even on failure or Ctrl-C. `options` parses
 * the command line (a bad argument fails the run before any database is made).
 */
export function runBench<O extends { write: boolean }>(
  name: string,
  options: () => O,
  body: (bench: Bench, opts: O) => Promise<string>,
): void {
  const log = (msg: string) => process.stderr.write(`[${name}] ${msg}\n`);
  let db: TestDatabase | undefined;
  let app: RunningApp | undefined;
  let server: { close(): Promise<void> } | undefined;
  let cleaning: Promise<void> | undefined;
  const deferred: Array<() => Promise<void>> = [];
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const fn of deferred.reverse()) {
        await fn().catch((err: Error) => log(`cleaning up: ${err.message}`));
      }
      await server?.close();
      await app?.close().catch((err: Error) => log(`closing the app: ${err.message}`));
      if (!db) return;
      const database = db.database;
      await db.drop().then(
        () => log(`dropped database ${database}`),
        (err: Error) => log(`could not drop database ${database}: ${err.message}`),
      );
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const main = async () => {
    const opts = options();
    try {
      db = await createTestDatabase('mysql');
      log(`created and migrated database ${db.database}`);
      const bench: Bench = {
        db,
        log,
        async startApps() {
          app = await startApp(db!, IN_PROCESS_ENV);
          const http = await startServerProcess(db!);
          server = http;
          return { app, server: http };
        },
        defer: (fn) => void deferred.push(fn),
      };
      const section = await body(bench, opts);
      process.stdout.write(`\n${section}\n`);
      if (opts.write) log(`wrote ${await writeResults(name, section)}`);
    } finally {
      await cleanup();
    }
  };
  main().then(
    () => process.exit(0),
    (err: Error) => {
      log(`failed: ${err.stack ?? err.message}`);
      process.exit(1);
    },
  );
}
