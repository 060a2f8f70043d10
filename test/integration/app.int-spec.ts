import { connect } from 'node:net';
import { DataSource } from 'typeorm';
import { collect, startApp, TEST_TOKEN, type RunningApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe.each(['mysql', 'sqlite'] as const)('radgraph on %s', (kind) => {
  let db: TestDatabase;
  let api: RunningApp;

  beforeAll(async () => {
    db = await createTestDatabase(kind, { migrate: false });
    api = await startApp(db); // migrations run on start
  });

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('ran the migrations on start', async () => {
    const rows = await db.query<{ name: string }>('SELECT name FROM radgraph_migrations');
    expect(rows.map((r) => r.name)).toContain('FreeradiusSchema1763769600000');
  });

  it('answers { __typename } over HTTP with the bearer token', async () => {
    const { status, body } = await api.gql('{ __typename viewer { name role } }');
    expect(status).toBe(200);
    expect(body).toEqual({
      data: { __typename: 'Query', viewer: { name: 'admin-token', role: 'ADMIN' } },
    });
  });

  it.each([
    ['no Authorization header', null],
    ['a wrong token', 'not-the-admin-token-at-all'],
    ['an empty token', ''],
  ])('rejects %s with UNAUTHENTICATED and executes nothing', async (_label, token) => {
    const { status, body } = await api.gql('{ __typename }', undefined, token);
    expect(status).toBe(401);
    expect(body.data).toBeUndefined();
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0].extensions.code).toBe('UNAUTHENTICATED');
    expect(body.errors![0].message).toMatch(/Authorization: Bearer/);
  });

  // HTTP's own, whatever the database: once.
  if (kind === 'sqlite')
    it('keeps an idle connection open past a few seconds of a busy event loop (keep-alive 65 s), so its next request is answered', async () => {
      // Two requests on one raw connection. The second is sent, then this process (which runs
      // the app) is kept busy for 6 s: after such a wait Node runs its timers before reading the
      // sockets, so with Node's default keep-alive of 5 s it closed the connection under the
      // request (ECONNRESET), as it would under a proxy that reuses a connection after 5 s idle.
      const { port } = new URL(api.url);
      const socket = connect(Number(port), '127.0.0.1');
      socket.setEncoding('utf8');
      let received = '';
      socket.on('data', (d: string) => (received += d));
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.on('error', () => undefined); // seen as the close, with what was received
      const request = JSON.stringify({ query: '{ __typename }' });
      const send = () =>
        socket.write(
          `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
            `Authorization: Bearer ${TEST_TOKEN}\r\nContent-Length: ${Buffer.byteLength(request)}\r\n\r\n${request}`,
        );
      const answers = () => received.match(/HTTP\/1\.1 200 OK/g)?.length ?? 0;
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      send();
      const first = Date.now();
      while (answers() < 1 && Date.now() - first < 5_000)
        await new Promise((r) => setTimeout(r, 10));
      expect(received).toMatch(/keep-alive: timeout=65/i);
      send();
      const busyUntil = Date.now() + 6_000;
      while (Date.now() < busyUntil); // the event loop held, as by a long synchronous write
      const second = Date.now();
      while (answers() < 2 && socket.readyState === 'open' && Date.now() - second < 5_000) {
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(answers()).toBe(2);
      socket.end();
      await closed;
    }, 30_000);

  it('accepts the scheme in any case', async () => {
    const res = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `bearer ${TEST_TOKEN}` },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(res.status).toBe(200);
  });

  it('gives a coded, field-naming error for bad input', async () => {
    const client = api.wsClient();
    const { errors } = await collect(client, 'subscription { heartbeat(intervalSeconds: 0) }', 1);
    expect(errors[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'intervalSeconds',
    });
  });

  it('serves subscriptions over graphql-ws on /graphql with connectionParams.authorization', async () => {
    const client = api.wsClient();
    const { results, errors } = await collect<{ heartbeat: string }>(
      client,
      'subscription { heartbeat(intervalSeconds: 1) }',
      2,
    );
    expect(errors).toEqual([]);
    expect(results).toHaveLength(2);
    for (const r of results) expect(Date.parse(r.heartbeat)).not.toBeNaN();
  });

  it.each([
    ['no connectionParams.authorization', null],
    ['a wrong token', 'wrong-token-wrong-token'],
  ])('rejects graphql-ws operations with %s as UNAUTHENTICATED', async (_label, token) => {
    const client = api.wsClient(token);
    const { results, errors } = await collect(
      client,
      'subscription { heartbeat(intervalSeconds: 1) }',
      1,
    );
    expect(results).toEqual([]);
    expect(errors[0].extensions?.code).toBe('UNAUTHENTICATED');
    const query = await collect(client, '{ __typename }', 1);
    expect(query.errors[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('GET /ready is 200 with the database and the accounting listener up; /health is 200', async () => {
    const res = await fetch(`${api.url}/ready`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.status).toBe('ok');
    expect(body.info.database).toEqual({ status: 'up', kind });
    expect(body.info.accountingListener).toEqual({ status: 'up', port: api.config.radiusAcctPort });
    expect(body.info.redis).toBeUndefined(); // no REDIS_URL
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
  });

  // Last: it takes the app's database away.
  it('GET /ready is 503 when the database does not answer; /health (liveness) stays 200', async () => {
    await api.app.get(DataSource).destroy();
    const res = await fetch(`${api.url}/ready`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as any;
    expect(body.status).toBe('error');
    expect(body.error.database.status).toBe('down');
    const live = await fetch(`${api.url}/health`);
    expect(live.status).toBe(200);
    expect(((await live.json()) as any).info.process.status).toBe('up');
  });

  it('shows an unexpected error only as "Internal server error", over HTTP and graphql-ws alike', async () => {
    // The database is gone (previous test): reading profiles fails inside TypeORM.
    const http = await api.gql('{ profiles { id } }');
    expect(http.body.errors).toEqual([
      expect.objectContaining({
        message: 'Internal server error',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      }),
    ]);
    const ws = await collect(api.wsClient(), '{ profiles { id } }', 1);
    expect(ws.errors).toEqual([
      expect.objectContaining({
        message: 'Internal server error',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      }),
    ]);
  });

  it('gives graphql-ws validation errors a code too', async () => {
    const ws = await collect(api.wsClient(), '{ nope }', 1);
    expect(ws.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
