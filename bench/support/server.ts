import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { freePort, TEST_TOKEN, type RunningApp } from '../../test/support/app';
import type { TestDatabase } from '../../test/support/test-database';

/** What the timed requests need: GraphQL over HTTP, as RunningApp.gql gives it. */
export type Gql = Pick<RunningApp, 'gql'>;

/**
 * radgraph as its own process (src/main.ts on the bench database), so the timed HTTP requests
 * measure a server that does not share its event loop with the client sending them.
 */
export async function startServerProcess(
  db: TestDatabase,
): Promise<Gql & { close(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: path.join(__dirname, '..', '..'),
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: db.url,
      PORT: String(port),
      ADMIN_TOKEN: TEST_TOKEN,
      LOG_LEVEL: 'error',
      RUN_MIGRATIONS: 'false',
      RADIUS_ACCT_PORT: String(await freePort()),
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
        if (child.exitCode !== null) return resolve();
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
