import { createSocket } from 'node:dgram';
import { collect, startApp, type RunningApp } from '../support/app';
import { gqlData } from '../support/graphql';
import { grew, scrapeMetrics, type Scrape } from '../support/metrics';
import {
  accountingRequest,
  RadiusTestClient,
  resign,
  sessionAttributes,
} from '../support/radius-packets';
import { closedPort } from '../support/routeros-double';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const SECRET = 'metrics-nas-secret';
const METRICS_TOKEN = 'metrics-token-0123456789';

/** Sends one datagram from a given loopback address, without waiting for an answer. */
async function sendFrom(address: string, port: number, packet: Buffer): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  await new Promise<void>((resolve, reject) =>
    socket.send(packet, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
  );
  socket.close();
}

/**
 * GET /metrics on a real app and MariaDB: each accounting result by NAS, ingest latency and
 * batch sizes, GraphQL operations by name and outcome, CoA results, session events, the
 * database pool; and METRICS_TOKEN.
 */
describe('Prometheus metrics', () => {
  let db: TestDatabase;
  let api: RunningApp;
  let before: Scrape;

  beforeAll(async () => {
    db = await createTestDatabase('mysql');
    api = await startApp(db, { METRICS_TOKEN, COA_TIMEOUT_MS: '100', COA_RETRIES: '0' });
    await gqlData(api, 'mutation($i: CreateNasInput!) { createNas(input: $i) { id } }', {
      i: { name: '127.0.0.1', secret: SECRET, coaPort: await closedPort() },
    });
    before = await scrapeMetrics(api, METRICS_TOKEN);
  });

  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('needs METRICS_TOKEN when it is set', async () => {
    expect((await fetch(`${api.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${api.url}/metrics`, {
      headers: { authorization: 'Bearer wrong-token-0123456789' },
    });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${api.url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('text/plain');
    expect(await ok.text()).toContain('# TYPE radgraph_accounting_packets_total counter');
  });

  it('counts every accounting result by NAS, and the latency and batches of what it wrote', async () => {
    const port = api.config.radiusAcctPort;
    const client = await RadiusTestClient.open();
    const t = Math.floor(Date.now() / 1000);
    const start = accountingRequest(
      SECRET,
      sessionAttributes('Start', { username: 'm-alice', sessionId: 'm1', eventTime: t }),
      1,
    );
    try {
      expect(await client.send(start, port)).not.toBeNull();
      expect(await client.send(start, port)).not.toBeNull(); // a retransmit
      const forged = accountingRequest(
        'not-the-secret',
        sessionAttributes('Start', { username: 'm-bob', sessionId: 'm2', eventTime: t }),
        2,
      );
      expect(await client.send(forged, port, 300)).toBeNull();
      const broken = Buffer.from(start);
      broken.writeUInt16BE(15, 2); // a length shorter than the header
      expect(await client.send(resign(broken, SECRET), port, 300)).toBeNull();
    } finally {
      await client.close();
    }
    await sendFrom('127.0.0.2', port, start); // no NAS has this address
    await new Promise((r) => setTimeout(r, 300));

    const after = await scrapeMetrics(api, METRICS_TOKEN);
    const moved = (sample: string) => grew(before, after, sample);
    const nas = (result: string, name = '127.0.0.1') =>
      moved(`radgraph_accounting_packets_total{nas="${name}",result="${result}"}`);
    expect({
      ok: nas('ok'),
      duplicate: nas('duplicate'),
      badAuthenticator: nas('bad-authenticator'),
      malformed: nas('malformed', 'unknown'),
      unknownNas: nas('unknown-nas', 'unknown'),
    }).toEqual({ ok: 1, duplicate: 1, badAuthenticator: 1, malformed: 1, unknownNas: 1 });
    expect(moved('radgraph_accounting_ingest_seconds_count')).toBe(1);
    expect(moved('radgraph_accounting_batch_packets_count')).toBe(1);
    expect(moved('radgraph_session_events_published_total')).toBe(1);
  });

  it('counts GraphQL operations by root field and outcome, CoA results, and shows the pool', async () => {
    const c = await gqlData(
      api,
      'mutation { createProfile(input: { name: "m", downloadRateKbps: 1, uploadRateKbps: 1, validityDays: 1 }) { id } }',
    );
    const customer = await gqlData(
      api,
      'mutation($p: ID!) { createCustomer(input: { username: "m-alice", profileId: $p }) { id } }',
      { p: c.createProfile.id },
    );
    await api.gql('{ customer(id: "1", username: "x") { id } }'); // BAD_USER_INPUT
    // Refused before the document is read: without a token, and with a wrong one.
    for (const token of [null, 'not-a-token-0123456789']) {
      expect((await api.gql('{ customers { totalCount } }', {}, token)).status).toBe(401);
    }
    await gqlData(api, 'mutation($id: ID!) { disconnectCustomer(id: $id) { ok } }', {
      id: customer.createCustomer.id,
    });
    const after = await scrapeMetrics(api, METRICS_TOKEN);
    const moved = (sample: string) => grew(before, after, sample);
    expect(
      moved(
        'radgraph_graphql_operations_total{operation="createCustomer",type="mutation",outcome="ok"}',
      ),
    ).toBe(1);
    expect(
      moved(
        'radgraph_graphql_operations_total{operation="customer",type="query",outcome="BAD_USER_INPUT"}',
      ),
    ).toBe(1);
    expect(
      moved(
        'radgraph_graphql_operations_total{operation="(invalid)",type="unknown",outcome="UNAUTHENTICATED"}',
      ),
    ).toBe(2);
    // m-alice's session (the Start above) is open on 127.0.0.1, whose CoA port is closed: an error (ICMP port unreachable).
    expect(moved('radgraph_coa_requests_total{request="Disconnect-Request",result="error"}')).toBe(
      1,
    );
    expect(moved('radgraph_disconnects_total{method="coa",result="failed"}')).toBe(1);
    expect(after.get('radgraph_db_pool_connections{state="limit"}')).toBeGreaterThan(0);
    expect(after.get('radgraph_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('names graphql-ws operations only by root fields the schema has: made-up ones add no series', async () => {
    const start = await scrapeMetrics(api, METRICS_TOKEN);
    const stranger = api.wsClient(null);
    const admin = api.wsClient();
    // Before any authentication, and after it: names a client makes up (a username, an address).
    for (const client of [stranger, admin]) {
      for (const field of ['mAliceMadeUp', 'ip_192_0_2_7']) {
        const { errors } = await collect(client, `subscription { ${field} }`, 1);
        expect(errors.length).toBeGreaterThan(0);
      }
    }
    const syntax = await collect(admin, 'subscription { heartbeat(', 1);
    expect(syntax.errors[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    const invalid = await collect(admin, 'subscription { mAliceMadeUp }', 1);
    expect(invalid.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const beat = await collect(admin, 'subscription { heartbeat(intervalSeconds: 1) }', 1);
    expect(beat.errors).toEqual([]);
    const unauthenticated = await collect(stranger, 'subscription { heartbeat }', 1);
    expect(unauthenticated.errors[0].extensions.code).toBe('UNAUTHENTICATED');

    const after = await scrapeMetrics(api, METRICS_TOKEN);
    const series = [...after.keys()].filter((k) => k.startsWith('radgraph_graphql_operations'));
    expect(series.filter((k) => /MadeUp|192_0_2/.test(k))).toEqual([]);
    const moved = (labels: string) =>
      grew(start, after, `radgraph_graphql_operations_total{${labels}}`);
    expect({
      unauthenticated: moved('operation="(invalid)",type="unknown",outcome="UNAUTHENTICATED"'),
      invalid: moved('operation="(invalid)",type="unknown",outcome="GRAPHQL_VALIDATION_FAILED"'),
      unparsable: moved('operation="(invalid)",type="unknown",outcome="GRAPHQL_PARSE_FAILED"'),
      heartbeat: moved('operation="heartbeat",type="subscription",outcome="ok"'),
      heartbeatRefused: moved(
        'operation="heartbeat",type="subscription",outcome="UNAUTHENTICATED"',
      ),
    }).toEqual({
      unauthenticated: 2,
      invalid: 3,
      unparsable: 1,
      heartbeat: 1,
      heartbeatRefused: 1,
    });
  });
});
