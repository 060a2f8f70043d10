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
}

/** `--name` flags and `--name=N` positive integers, with their defaults. */
export function parseOptions<T extends Record<string, boolean | number>>(
  argv: string[],
  defaults: T,
  usage: string,
): T {
  const opts: Record<string, boolean | number> = { ...defaults };
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
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) {
        throw new Error(`${flag} needs a positive integer. ${usage}`);
      }
      opts[key] = n;
    }
  }
  return opts as T;
}

/**
 * Runs a bench on a MariaDB database of its own (TEST_DATABASE_URL's server, radgraph's
 * migrations), prints the Markdown section `body` returns, puts it in bench/RESULTS.md with
 * `write`, and drops the database at the end, even on failure or Ctrl-C.
 */
export function runBench(
  name: string,
  write: boolean,
  body: (bench: Bench) => Promise<string>,
): void {
  const log = (msg: string) => process.stderr.write(`[${name}] ${msg}\n`);
  let db: TestDatabase | undefined;
  let app: RunningApp | undefined;
  let server: { close(): Promise<void> } | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
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
    try {
      db = await createTestDatabase('mysql');
      log(`created and migrated database ${db.database}`);
      const bench: Bench = {
        db,
        log,
        async startApps() {
          app = await startApp(db!);
          const http = await startServerProcess(db!);
          server = http;
          return { app, server: http };
        },
      };
      const section = await body(bench);
      process.stdout.write(`\n${section}\n`);
      if (write) log(`wrote ${await writeResults(name, section)}`);
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
