import { createServer } from 'node:net';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createApp, listen } from '../../src/bootstrap';
import { AccountingListener } from '../../src/radius/accounting/accounting-listener.service';
import { loadConfig, type AppConfig } from '../../src/config/app-config';
import type { TestDatabase } from './test-database';
import { noteGraphqlSecrets, noteSecret, TEST_LOG_DIR } from './test-logs';

export const TEST_TOKEN = 'test-admin-token-0123456789abcdef';

/** A free TCP port on 127.0.0.1 (tests never use the default ports). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningApp {
  app: NestExpressApplication;
  config: AppConfig;
  url: string;
  wsUrl: string;
  gql<T = any>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string | null,
  ): Promise<{ status: number; body: { data?: T; errors?: any[] } }>;
  wsClient(token?: string | null): Client;
  close(): Promise<void>;
}

/** The real app, listening on a free loopback port, on the given test database. */
export async function startApp(
  db: TestDatabase,
  env: Record<string, string> = {},
): Promise<RunningApp> {
  const port = await freePort();
  const config = loadConfig({
    DATABASE_URL: db.url,
    PORT: String(port),
    ADMIN_TOKEN: TEST_TOKEN,
    // A whole run's logs are checked for secrets (test/logs): at debug, they hold the most.
    LOG_LEVEL: TEST_LOG_DIR ? 'debug' : 'error',
    // The OS picks a free UDP port when the listener binds (config.radiusAcctPort is then the
    // bound one, below). A port found free over TCP beforehand could be taken as UDP by another
    // test file's socket (a CoA responder, FreeRADIUS) before this one binds it.
    RADIUS_ACCT_PORT: '0',
    ...env,
  });
  noteSecret(TEST_TOKEN);
  noteSecret(env.ADMIN_TOKEN);
  const app = await createApp(config);
  try {
    await listen(app, config);
  } catch (err) {
    // A port taken, say: the app's connections, listener and jobs would keep jest alive.
    await app.close().catch(() => undefined);
    throw err;
  }
  const bound = config.radiusAcctEnabled ? app.get(AccountingListener).address() : null;
  if (bound) config.radiusAcctPort = bound.port;
  const url = `http://127.0.0.1:${port}`;
  const clients: Client[] = [];
  return {
    app,
    config,
    url,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    async gql(query, variables, token = TEST_TOKEN) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token !== null && { authorization: `Bearer ${token}` }),
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as any;
      noteGraphqlSecrets(query, variables, body);
      noteSecret(token);
      return { status: res.status, body };
    },
    wsClient(token = TEST_TOKEN) {
      const client = createClient({
        url: `ws://127.0.0.1:${port}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
        connectionParams: token === null ? {} : { authorization: `Bearer ${token}` },
      });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map(async (c) => c.dispose()));
      await app.close();
    },
  };
}

/** Collects a subscription's results until `count` arrived or an error/completion. */
export function collect<T = any>(
  client: Client,
  query: string,
  count: number,
  timeoutMs = 10_000,
): Promise<{ results: T[]; errors: any[] }> {
  return new Promise((resolve) => {
    const results: T[] = [];
    let unsubscribe: () => void = () => undefined;
    const done = (errors: any[]) => {
      clearTimeout(timer);
      unsubscribe();
      resolve({ results, errors });
    };
    const timer = setTimeout(
      () => done([new Error(`timed out after ${results.length} of ${count} results`)]),
      timeoutMs,
    );
    unsubscribe = client.subscribe<T>(
      { query },
      {
        next: (value) => {
          if (value.errors) return done(value.errors as any[]);
          results.push(value.data as T);
          if (results.length >= count) done([]);
        },
        error: (err) => done(Array.isArray(err) ? err : [err]),
        complete: () => done([]),
      },
    );
  });
}
