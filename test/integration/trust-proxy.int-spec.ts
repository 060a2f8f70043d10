import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { collect, startApp, TEST_TOKEN, type RunningApp } from '../support/app';
import { LogCapture } from '../support/log-capture';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { TEST_LOG_DIR } from '../support/test-logs';

/**
 * radgraph behind a proxy (nginx, a load balancer): every connection comes from the proxy's
 * address, and the client's is in X-Forwarded-For. Here the proxy is the test itself, on
 * 127.0.0.1, sending the header a proxy would.
 */

const codes = (errors: any[] | undefined): string[] =>
  (errors ?? []).map((e: any) => e?.extensions?.code as string);

const WRONG = 'wrong-token-0123456789';

/** POST { __typename } as a client a proxy forwards from `forwardedFor` (none: direct). */
async function typename(api: RunningApp, token: string, forwardedFor?: string) {
  const res = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
      ...(forwardedFor !== undefined && { 'x-forwarded-for': forwardedFor }),
    },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  const body = (await res.json()) as { data?: unknown; errors?: any[] };
  return { status: res.status, body };
}

/** A graphql-ws client whose upgrade request carries X-Forwarded-For: `forwardedFor`. */
function wsClientFrom(api: RunningApp, forwardedFor: string, token: string): Client {
  class Forwarded extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { 'x-forwarded-for': forwardedFor } });
    }
  }
  return createClient({
    url: api.wsUrl,
    webSocketImpl: Forwarded,
    retryAttempts: 0,
    lazy: true,
    connectionParams: { authorization: `Bearer ${token}` },
  });
}

/** A raw socket, forwarded from `forwardedFor`, that sent a connection_init without a token. */
async function anonymousSocket(api: RunningApp, forwardedFor: string) {
  const socket = new WebSocket(api.wsUrl, 'graphql-transport-ws', {
    headers: { 'x-forwarded-for': forwardedFor },
  });
  const closes: number[] = [];
  socket.on('close', (code) => closes.push(code));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const ack = new Promise<string>((resolve) =>
    socket.once('message', (data: Buffer) => resolve(data.toString('utf8'))),
  );
  socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
  expect(JSON.parse(await ack)).toEqual({ type: 'connection_ack' });
  return { socket, closes };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('behind a proxy, with TRUST_PROXY=loopback', () => {
  let db: TestDatabase;
  let api: RunningApp;
  const logs = new LogCapture();

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    logs.start();
    api = await startApp(db, {
      TRUST_PROXY: 'loopback',
      // Three failed logins per address, and none back during the test.
      GRAPHQL_RATE_LIMIT_PER_MINUTE: '1',
      GRAPHQL_RATE_LIMIT_BURST: '3',
      // The request lines (429 is a warn), unless the run keeps every log (debug).
      ...(TEST_LOG_DIR ? {} : { LOG_LEVEL: 'warn' }),
    });
  });

  afterAll(async () => {
    logs.stop();
    await api?.close();
    await db?.drop();
  });

  it("over HTTP: one client's failed logins use up its own budget, not another client's", async () => {
    const attacker = '203.0.113.10';
    // What nginx's $proxy_add_x_forwarded_for sends: whatever the client claimed, then the
    // address it came from. The claims differ; the address does not.
    for (let i = 0; i < 3; i++) {
      const guess = await typename(api, WRONG, `198.51.100.${i}, ${attacker}`);
      expect(guess.status).toBe(401);
    }
    const limited = await typename(api, WRONG, `198.51.100.99, ${attacker}`);
    expect(limited.status).toBe(429);
    expect(codes(limited.body.errors)).toEqual(['RATE_LIMITED']);
    // Still limited with the right key: the budget is checked before authenticating.
    expect((await typename(api, TEST_TOKEN, attacker)).status).toBe(429);

    // Another client, through the same proxy, with a valid key: served.
    const other = await typename(api, TEST_TOKEN, '203.0.113.20');
    expect(other.status).toBe(200);
    expect(other.body.data).toEqual({ __typename: 'Query' });

    // The request log names the client, not the proxy.
    await sleep(100);
    const lines = logs
      .text()
      .split('\n')
      .filter((line) => line.includes('"statusCode":429'));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines[0]).toContain(`"remoteAddress":"${attacker}"`);
  });

  it("over graphql-ws: one client's failed logins use up its own budget, not another client's", async () => {
    const attacker = '203.0.113.30';
    const guesses: string[] = [];
    for (let i = 0; i < 3; i++) {
      const client = wsClientFrom(api, attacker, `wrong-token-${i}-0123456789`);
      const answer = await collect(client, '{ __typename }', 1, 2000);
      await client.dispose();
      guesses.push(codes(answer.errors)[0]);
    }
    // A failed login and an operation on its socket both count: the third guess is refused.
    expect(guesses).toEqual(['UNAUTHENTICATED', 'RATE_LIMITED', 'RATE_LIMITED']);
    const attackerRight = wsClientFrom(api, attacker, TEST_TOKEN);
    const refused = await collect(attackerRight, '{ __typename }', 1, 2000);
    await attackerRight.dispose();
    expect(codes(refused.errors)).toEqual(['RATE_LIMITED']);

    const other = wsClientFrom(api, '203.0.113.40', TEST_TOKEN);
    const served = await collect(other, '{ __typename }', 1, 2000);
    await other.dispose();
    expect(served.errors).toEqual([]);
    expect(served.results).toEqual([{ __typename: 'Query' }]);
  });
});

describe('the unauthenticated-socket cap behind a proxy, with TRUST_PROXY=1', () => {
  let db: TestDatabase;
  let api: RunningApp;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    api = await startApp(db, {
      TRUST_PROXY: '1',
      GRAPHQL_WS_MAX_UNAUTHENTICATED_PER_IP: '2',
      GRAPHQL_WS_AUTH_TIMEOUT_SECONDS: '60',
    });
  });

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('counts GRAPHQL_WS_MAX_UNAUTHENTICATED_PER_IP per forwarded client address', async () => {
    const a = [
      await anonymousSocket(api, '203.0.113.50'),
      await anonymousSocket(api, '203.0.113.50'),
    ];
    const b = [
      await anonymousSocket(api, '203.0.113.60'),
      await anonymousSocket(api, '203.0.113.60'),
    ];
    await sleep(200);
    // Four sockets through one proxy, two per client: none over its client's cap.
    expect([...a, ...b].flatMap(({ closes }) => closes)).toEqual([]);
    // A third from A closes A's oldest, and none of B's.
    const third = await anonymousSocket(api, '203.0.113.50');
    await sleep(200);
    expect(a[0].closes).toEqual([4403]);
    expect([a[1], third, ...b].flatMap(({ closes }) => closes)).toEqual([]);
    for (const { socket } of [a[1], third, ...b]) socket.close();
  });
});

describe('without TRUST_PROXY, X-Forwarded-For is ignored', () => {
  let db: TestDatabase;
  let api: RunningApp;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    api = await startApp(db, {
      GRAPHQL_RATE_LIMIT_PER_MINUTE: '1',
      GRAPHQL_RATE_LIMIT_BURST: '3',
      GRAPHQL_WS_MAX_UNAUTHENTICATED_PER_IP: '2',
      GRAPHQL_WS_AUTH_TIMEOUT_SECONDS: '60',
    });
  });

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('a client that claims another address in each request is still limited by its own', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await typename(api, WRONG, `203.0.113.${100 + i}`)).status).toBe(401);
    }
    const limited = await typename(api, WRONG, '203.0.113.199');
    expect(limited.status).toBe(429);
    expect(codes(limited.body.errors)).toEqual(['RATE_LIMITED']);
  });

  it('a client that claims another address on each socket is still capped by its own', async () => {
    const first = await anonymousSocket(api, '203.0.113.110');
    const second = await anonymousSocket(api, '203.0.113.111');
    const third = await anonymousSocket(api, '203.0.113.112');
    await sleep(200);
    expect(first.closes).toEqual([4403]);
    expect([...second.closes, ...third.closes]).toEqual([]);
    second.socket.close();
    third.socket.close();
  });
});
