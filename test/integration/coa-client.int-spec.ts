import { createSocket } from 'node:dgram';
import { Logger } from '@nestjs/common';
import { CoaClient, type CoaResult, type CoaTarget } from '../../src/radius/coa/coa-client';
import { responseAuthenticator } from '../../src/radius/coa/coa-packet';
import { runAll } from '../support/cleanup';
import { until } from '../support/until';
import { startCoaResponder, type CoaResponder } from '../support/coa-responder';

const SECRET = 'coa-s3cret-value';
const TIMEOUT_MS = 150;
const RETRIES = 2;
const SESSION = { userName: 'alice', acctSessionId: '81a00001', framedIpAddress: '10.1.0.5' };
/** SESSION's attributes, as the responder decodes them. */
const SESSION_ATTRIBUTES = {
  'User-Name': 'alice',
  'Acct-Session-Id': '81a00001',
  'Framed-IP-Address': '10.1.0.5',
};

/** Every line the client logs, to check that none holds the secret. */
const logged: string[] = [];
const record = (...args: unknown[]) => {
  logged.push(args.map(String).join(' '));
};

describe('CoaClient against a CoA/Disconnect responder over UDP', () => {
  let responder: CoaResponder;
  let client: CoaClient;
  let target: CoaTarget;
  const results: CoaResult[] = [];
  const track = async (pending: Promise<CoaResult>) => {
    const result = await pending;
    results.push(result);
    return result;
  };

  beforeAll(async () => {
    for (const level of ['log', 'warn', 'error', 'debug', 'verbose'] as const) {
      jest.spyOn(Logger.prototype, level).mockImplementation(record);
    }
    responder = await startCoaResponder({ secret: SECRET, mode: 'ack' });
    target = { host: '127.0.0.1', port: responder.port, secret: SECRET };
    client = new CoaClient({ timeoutMs: TIMEOUT_MS, retries: RETRIES });
  });

  beforeEach(() => {
    responder.received.length = 0;
    responder.setMode('ack');
  });

  afterAll(async () => {
    await runAll([
      () => client.onApplicationShutdown(),
      () => responder.close(),
      () => jest.restoreAllMocks(),
    ]);
  });

  it('Disconnect-Request: the NAS gets the session and a valid authenticator, and ACKs', async () => {
    const result = await track(client.disconnect(target, SESSION));
    expect(result).toEqual({
      ok: true,
      kind: 'ack',
      attempts: 1,
      message: `Disconnect-ACK from 127.0.0.1:${responder.port}`,
    });
    expect(responder.received).toHaveLength(1);
    expect(responder.received[0]).toMatchObject({
      code: 'Disconnect-Request',
      authenticatorValid: true,
      attributes: SESSION_ATTRIBUTES,
      from: { address: '127.0.0.1' },
    });
    // Nothing else: toMatchObject allows more keys.
    expect(Object.keys(responder.received[0].attributes)).toHaveLength(3);
  });

  it('sends from COA_SOURCE_ADDRESS, the address the NAS knows, and takes its answer there', async () => {
    const from = new CoaClient({
      timeoutMs: TIMEOUT_MS,
      retries: RETRIES,
      sourceAddress: '127.0.0.2',
    });
    try {
      const result = await track(from.disconnect(target, SESSION));
      expect(result).toMatchObject({ ok: true, kind: 'ack', attempts: 1 });
      expect(responder.received).toHaveLength(1);
      expect(responder.received[0].from.address).toBe('127.0.0.2');
    } finally {
      await from.onApplicationShutdown();
    }
  });

  it('says so when COA_SOURCE_ADDRESS is not an address of this host, and sends nothing', async () => {
    const from = new CoaClient({
      timeoutMs: TIMEOUT_MS,
      retries: RETRIES,
      sourceAddress: '192.0.2.1',
    });
    try {
      const result = await track(from.disconnect(target, SESSION));
      expect(result).toMatchObject({ ok: false, kind: 'error', attempts: 0 });
      expect(result.message).toMatch(
        /cannot send from COA_SOURCE_ADDRESS 192\.0\.2\.1 \(EADDRNOTAVAIL\)/,
      );
      expect(responder.received).toHaveLength(0);
    } finally {
      await from.onApplicationShutdown();
    }
  });

  it("sends a NAS of the other family from the kernel's choice of address", async () => {
    const from = new CoaClient({ timeoutMs: TIMEOUT_MS, retries: RETRIES, sourceAddress: '::1' });
    try {
      const result = await track(from.disconnect(target, SESSION));
      expect(result).toMatchObject({ ok: true, kind: 'ack' });
      expect(responder.received[0].from.address).toBe('127.0.0.1');
    } finally {
      await from.onApplicationShutdown();
    }
  });

  it('leaves out Framed-IP-Address when the session has none', async () => {
    await track(client.disconnect(target, { ...SESSION, framedIpAddress: null }));
    expect(responder.received[0].attributes).toEqual({
      'User-Name': 'alice',
      'Acct-Session-Id': '81a00001',
    });
  });

  it('Disconnect-NAK with Error-Cause 503: kind nak, the cause named', async () => {
    responder.setMode('nak', { errorCause: 503 });
    const result = await track(client.disconnect(target, SESSION));
    expect(result).toEqual({
      ok: false,
      kind: 'nak',
      attempts: 1,
      errorCause: 503,
      message: `Disconnect-NAK from 127.0.0.1:${responder.port}: 503 Session-Context-Not-Found`,
    });
  });

  it('appends a Reply-Message, quoted, and reports a NAK without Error-Cause', async () => {
    responder.setMode('nak', { errorCause: null, replyMessage: 'no such "session"\n' });
    const result = await track(client.disconnect(target, SESSION));
    expect(result).toMatchObject({ ok: false, kind: 'nak', errorCause: null });
    expect(result.message).toBe(
      `Disconnect-NAK from 127.0.0.1:${responder.port} (no Error-Cause); ` +
        'Reply-Message "no such \\"session\\"\\n"',
    );
  });

  it('CoA-Request carries Mikrotik-Rate-Limit with the exact rate string', async () => {
    const result = await track(client.changeRate(target, SESSION, '5120k/10240k'));
    expect(result).toMatchObject({ ok: true, kind: 'ack', attempts: 1 });
    expect(result.message).toBe(`CoA-ACK from 127.0.0.1:${responder.port}`);
    expect(responder.received[0]).toMatchObject({ code: 'CoA-Request', authenticatorValid: true });
    expect(responder.received[0].attributes).toEqual({
      ...SESSION_ATTRIBUTES,
      'Vendor-Specific': { 'Mikrotik-Rate-Limit': '5120k/10240k' },
    });
  });

  it('CoA-NAK names its cause', async () => {
    responder.setMode('nak', { errorCause: 407 });
    const result = await track(client.changeRate(target, SESSION, '1k/1k'));
    expect(result).toMatchObject({ kind: 'nak', errorCause: 407 });
    expect(result.message).toBe(
      `CoA-NAK from 127.0.0.1:${responder.port}: 407 Invalid-Attribute-Value`,
    );
  });

  it('silent NAS: times out after exactly 1+retries identical attempts, in bounded time', async () => {
    responder.setMode('silent');
    const started = Date.now();
    const result = await track(client.disconnect(target, SESSION));
    const elapsed = Date.now() - started;
    expect(result).toEqual({
      ok: false,
      kind: 'timeout',
      attempts: 1 + RETRIES,
      // Where to look: the NAS says nothing of a request it does not take.
      message:
        `no answer from 127.0.0.1:${responder.port} after 3 attempts (a NAS drops a request it ` +
        "does not take without a word: check that it accepts CoA on that port from this host's " +
        'address with the same secret (RouterOS: /radius incoming accept=yes, and a /radius ' +
        'entry for this address))',
    });
    expect(elapsed).toBeGreaterThanOrEqual((1 + RETRIES) * TIMEOUT_MS - 5);
    expect(elapsed).toBeLessThan((1 + RETRIES) * TIMEOUT_MS + 1000);
    expect(responder.received).toHaveLength(1 + RETRIES);
    const [first, ...again] = responder.received;
    for (const retransmission of again) {
      // The same packet: identifier, authenticator, attributes, and source port.
      expect(retransmission.identifier).toBe(first.identifier);
      expect(retransmission.raw).toEqual(first.raw);
      expect(retransmission.from).toEqual(first.from);
    }
  });

  it('a lost request is retransmitted and the answer to the retransmission counts', async () => {
    responder.setMode('ack', { dropFirst: 1 });
    const result = await track(client.disconnect(target, SESSION));
    expect(result).toMatchObject({ ok: true, kind: 'ack', attempts: 2 });
    expect(responder.received.map((r) => r.raw.toString('hex'))).toEqual([
      responder.received[0].raw.toString('hex'),
      responder.received[0].raw.toString('hex'),
    ]);
  });

  it('a signed ACK from another address or port than the NAS it was sent to is never taken', async () => {
    // Whoever can see the request could answer it, signed right with a leaked secret or not:
    // only the NAS's own address and CoA port count (the socket is connected to them).
    responder.setMode('silent');
    const spoofers = await Promise.all(
      ['127.0.0.1', '127.0.0.2'].map(async (address) => {
        const s = createSocket('udp4');
        await new Promise<void>((resolve) => s.bind(0, address, resolve));
        return s;
      }),
    );
    try {
      const pending = track(client.disconnect(target, SESSION));
      await until(() => responder.received.length > 0, 'the Disconnect-Request');
      const request = responder.received[0];
      const ack = Buffer.from(request.raw.subarray(0, 20));
      ack[0] = 41; // Disconnect-ACK, same identifier, no attributes
      ack.writeUInt16BE(20, 2);
      responseAuthenticator(ack, request.raw.subarray(4, 20), SECRET).copy(ack, 4);
      for (const s of spoofers) s.send(ack, request.from.port, request.from.address);
      const result = await pending;
      expect(result).toMatchObject({ ok: false, kind: 'timeout', attempts: 1 + RETRIES });
    } finally {
      for (const s of spoofers) s.close();
    }
  });

  it('an ACK signed with the wrong secret is never taken as an ACK', async () => {
    responder.setMode('bad-authenticator');
    const ignoredBefore = client.ignoredResponses;
    const result = await track(client.disconnect(target, SESSION));
    expect(result).toEqual({
      ok: false,
      kind: 'timeout',
      attempts: 3,
      // The reason reaches the API caller, not only the log: a wrong secret is the usual one.
      message:
        `no answer from 127.0.0.1:${responder.port} after 3 attempts (3 invalid responses ` +
        'ignored, the last: the Response Authenticator does not match (wrong secret?))',
    });
    expect(client.ignoredResponses - ignoredBefore).toBe(3);
    // Logged once for the request, not once per datagram.
    const warnings = logged.filter((line) => line.startsWith('ignored a response'));
    expect(warnings).toEqual([
      `ignored a response from 127.0.0.1:${responder.port} to a Disconnect-Request: ` +
        'the Response Authenticator does not match (wrong secret?)',
    ]);
  });

  it('junk before the real answer (garbage, truncated, forged, wrong id or code) is ignored', async () => {
    responder.setMode('nak', {
      errorCause: 504,
      junkFirst: ['garbage', 'truncated', 'forged-ack', 'wrong-identifier', 'wrong-code'],
    });
    const ignoredBefore = client.ignoredResponses;
    const result = await track(client.disconnect(target, SESSION));
    expect(result).toMatchObject({ ok: false, kind: 'nak', errorCause: 504, attempts: 1 });
    expect(result.message).toContain('504 Session-Context-Not-Removable');
    expect(client.ignoredResponses - ignoredBefore).toBe(5);
  });

  it('parallel requests each get their own answer', async () => {
    responder.setMode('ack', {
      replyMessage: (request) => `bye ${String(request.attributes['User-Name'])}`,
    });
    const users = Array.from({ length: 200 }, (_, i) => `user${i}`);
    // 200 at once on a busy machine: a timeout long enough that no answer comes after it
    // (this is about answers reaching their own request, not about speed).
    const busy = new CoaClient({ timeoutMs: 3_000, retries: RETRIES });
    const answers = await Promise.all(
      users.map((userName, i) =>
        track(
          i % 2 === 0
            ? busy.disconnect(target, { ...SESSION, userName, acctSessionId: `s${i}` })
            : busy.changeRate(target, { ...SESSION, userName, acctSessionId: `s${i}` }, '2M/4M'),
        ),
      ),
    );
    answers.forEach((result, i) => {
      expect(result).toMatchObject({ ok: true, kind: 'ack', attempts: 1 });
      const code = i % 2 === 0 ? 'Disconnect-ACK' : 'CoA-ACK';
      expect(result.message).toBe(
        `${code} from 127.0.0.1:${responder.port}; Reply-Message "bye ${users[i]}"`,
      );
    });
    expect(responder.received).toHaveLength(users.length);
    expect(responder.received.every((r) => r.authenticatorValid)).toBe(true);
    // One socket per request: as many source ports as requests.
    expect(new Set(responder.received.map((r) => r.from.port)).size).toBe(users.length);
  });

  it('a closed port (ICMP port unreachable) ends early as an error', async () => {
    const closed = createSocket('udp4');
    await new Promise<void>((resolve) => closed.bind(0, '127.0.0.1', resolve));
    const port = closed.address().port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const slow = new CoaClient({ timeoutMs: 5_000, retries: 2 });
    const started = Date.now();
    const result = await track(slow.disconnect({ ...target, port }, SESSION));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result).toEqual({
      ok: false,
      kind: 'error',
      attempts: 1,
      message: `Disconnect-Request to 127.0.0.1:${port} refused: ICMP port unreachable (is CoA enabled on that port?)`,
    });
  });

  it('a NAS on IPv6 is reached from a udp6 socket', async () => {
    const v6 = await startCoaResponder({ secret: SECRET, mode: 'nak', host: '::1' }).catch(
      (err: Error) => {
        throw new Error(`this test needs the IPv6 loopback ::1: ${err.message}`);
      },
    );
    try {
      const result = await track(
        client.disconnect({ ...target, host: '::1', port: v6.port }, SESSION),
      );
      expect(result.message).toBe(
        `Disconnect-NAK from [::1]:${v6.port}: 503 Session-Context-Not-Found`,
      );
      expect(v6.received[0].from.address).toBe('::1');
      expect(v6.received[0].authenticatorValid).toBe(true);
    } finally {
      await v6.close();
    }
  });

  it('shutdown gives up the requests in flight, as errors', async () => {
    responder.setMode('silent');
    const patient = new CoaClient({ timeoutMs: 10_000, retries: 5 });
    const pending = track(patient.disconnect(target, SESSION));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await patient.onApplicationShutdown();
    const result = await pending;
    expect(Date.now() - started).toBeLessThan(500);
    expect(result).toEqual({
      ok: false,
      kind: 'error',
      attempts: 1,
      message: `Disconnect-Request to 127.0.0.1:${responder.port} abandoned: radgraph is shutting down`,
    });
  });

  it('no result message and no log line holds the secret', () => {
    expect(results.length).toBeGreaterThan(200);
    expect(logged.length).toBeGreaterThan(0);
    for (const line of [...results.map((r) => r.message), ...logged]) {
      expect(line).not.toContain(SECRET);
    }
  });
});
