import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { freePort, TEST_TOKEN, type RunningApp } from '../../test/support/app';
import type { TestDatabase } from '../../test/support/test-database';

/** A fresh key per bench process: the bench stores no RouterOS password it must read back. */
const BENCH_SECRETS_KEY = randomBytes(32).toString('hex');

/** What the timed requests need: GraphQL over HTTP, as RunningApp.gql gives it. */
export type Gql = Pick<RunningApp, 'gql'>;

export interface ServerProcessOptions {
  /** 'src': src/main.ts through ts-node (the default); 'dist': dist/src/main.js (npm run build). */
  build?: 'src' | 'dist';
  /** More environment (RADIUS_ACCT_PORT, LOG_LEVEL…), over the defaults. */
  env?: Record<string, string>;
  /** Node options before the script (--inspect=…). */
  nodeArgs?: string[];
}

export interface ServerProcess extends Gql {
  pid: number;
  /** http://127.0.0.1:<port>/graphql (graphql-ws on the same path, ws://). */
  url: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  close(): Promise<void>;
}

/**
 * radgraph as its own process (src/main.ts on the bench database), so the timed HTTP requests
 * measure a server that does not share its event loop with the client sending them.
 */
export async function startServerProcess(
  db: TestDatabase,
  opts: ServerProcessOptions = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const root = path.join(__dirname, '..', '..');
  const main =
    opts.build === 'dist'
      ? [path.join(root, 'dist', 'src', 'main.js')]
      : ['-r', 'ts-node/register/transpile-only', 'src/main.ts'];
  if (opts.build === 'dist' && !existsSync(main[0])) {
    throw new Error(`${main[0]} is missing: run \`npm run build\` first`);
  }
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...main], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: db.url,
      PORT: String(port),
      ADMIN_TOKEN: TEST_TOKEN,
      SECRETS_KEY: BENCH_SECRETS_KEY,
      // A bench is one caller sending as fast as it can: the per-caller budget would stop it.
      GRAPHQL_RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'error',
      RUN_MIGRATIONS: 'false',
      RADIUS_ACCT_PORT: String(await freePort()),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`radgraph did not start in 60 s:\n${output}`)),
      60_000,
    );
    const poll = setInterval(() => {
      if (output.includes('radgraph is up')) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve();
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`radgraph exited with ${code}:\n${output}`));
    });
  });
  const url = `http://127.0.0.1:${port}/graphql`;
  return {
    pid: child.pid!,
    url,
    output: () => output,
    async gql(query, variables) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_TOKEN}` },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: (await res.json()) as any };
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The data of a GraphQL request; an error, a non-200 status or no data throws. */
export async function queryData<T>(
  app: Gql,
  query: string,
  variables: Record<string, unknown>,
  what: string,
): Promise<T> {
  const res = await app.gql<T>(query, variables);
  if (res.status !== 200 || res.body.errors || !res.body.data) {
    throw new Error(`${what} failed: ${JSON.stringify(res.body)}`);
  }
  return res.body.data;
}

const LISTENER_QUERY =
  '{ accountingListener { received answered written duplicates dropped { reason count } } }';

/** What radgraph's accounting listener counted: "listener: received N, written N, …". */
export async function describeListener(server: Gql): Promise<string> {
  const res = await server.gql<{ accountingListener: Record<string, any> }>(LISTENER_QUERY);
  const s = res.body.data?.accountingListener;
  if (!s) return `accountingListener failed: ${JSON.stringify(res.body)}`;
  const dropped = (s.dropped as Array<{ reason: string; count: string }>)
    .filter((d) => Number(d.count) > 0)
    .map((d) => `${d.reason} ${d.count}`);
  return (
    `listener: received ${s.received}, written ${s.written}, answered ${s.answered}, ` +
    `duplicates ${s.duplicates}, dropped ${dropped.length ? dropped.join(', ') : '0'}`
  );
}
