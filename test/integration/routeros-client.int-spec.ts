import { ConsoleLogger, Logger, type LoggerService } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInThisContext } from 'node:vm';
import { Transmitter } from 'node-routeros';
import { RouterOsClient } from '../../src/nas/routeros/routeros-client.service';
import { RouterOsConnection } from '../../src/nas/routeros/routeros-connection';
import {
  RouterOsError,
  type RouterOsErrorKind,
  type RouterOsOptions,
  type RouterOsTarget,
} from '../../src/nas/routeros/routeros.types';
import {
  closedPort,
  decodeLength,
  encodeLength,
  encodeSentence,
  readSentences,
  startRouterOsDouble,
  type RouterOsDouble,
} from '../support/routeros-double';
import { ensureBuilt } from '../support/built-app';

ensureBuilt(); // these tests run radgraph as built (built-app.ts)

const PASSWORD = 'Pa55-w0rd!secret';
const OPTS: RouterOsOptions = { connectTimeoutMs: 800, commandTimeoutMs: 800, idleCloseMs: 10_000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(10);
  }
}

async function rejection(p: Promise<unknown>): Promise<RouterOsError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RouterOsError);
    return err as RouterOsError;
  }
  throw new Error('expected a rejection');
}

async function expectKind(p: Promise<unknown>, kind: RouterOsErrorKind): Promise<RouterOsError> {
  const err = await rejection(p);
  expect(err.kind).toBe(kind);
  expect(err.message).not.toContain(PASSWORD);
  return err;
}

/**
 * A self-signed certificate for CN=router.test (like RouterOS's usual api-ssl one), made by the
 * openssl CLI into `dir`. No openssl is a failure with the fix in it, never a skip.
 */
async function selfSignedCertificate(dir: string): Promise<{ key: string; cert: string }> {
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem'];
  args.push('-out', 'c.pem', '-days', '1', '-subj', '/CN=router.test');
  await new Promise<void>((resolve, reject) => {
    execFile('openssl', args, { cwd: dir, timeout: 30_000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return reject(
          new Error(
            'the TLS tests need the openssl CLI to make a self-signed certificate, and there ' +
              'is none on the PATH: apt-get install -y openssl',
          ),
        );
      }
      reject(new Error(`openssl req failed: ${err.message}\n${stderr}`));
    });
  });
  const [key, cert] = await Promise.all([
    readFile(join(dir, 'k.pem'), 'utf8'),
    readFile(join(dir, 'c.pem'), 'utf8'),
  ]);
  return { key, cert };
}

/** Runs a Node script in the repository's root, with the RouterOS password in ROS_PASSWORD. */
function runNode(
  script: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-e', script],
      {
        cwd: join(__dirname, '..', '..'),
        timeout: 30_000,
        env: { ...process.env, ROS_PASSWORD: PASSWORD, ...env },
      },
      (err, stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stdout, stderr }),
    );
  });
}

/** Every log line of the file, to check the password never reaches one. */
const logLines: string[] = [];
const collector: LoggerService = {
  log: (...args: unknown[]) => logLines.push(args.map(String).join(' ')),
  error: (...args: unknown[]) => logLines.push(args.map(String).join(' ')),
  warn: (...args: unknown[]) => logLines.push(args.map(String).join(' ')),
  debug: (...args: unknown[]) => logLines.push(args.map(String).join(' ')),
  verbose: (...args: unknown[]) => logLines.push(args.map(String).join(' ')),
};

/**
 * The worker's real `process` (jest hands tests a copy whose events never fire): an uncaught
 * exception or unhandled rejection anywhere in a test is recorded and fails it.
 */
const realProcess = runInThisContext('process') as NodeJS.Process;
const processFaults: unknown[] = [];
const recordFault = (err: unknown) => processFaults.push(err);

describe('RouterOS API wire codec (test double)', () => {
  const cases: Array<[number, number[]]> = [
    [0, [0x00]],
    [0x7f, [0x7f]],
    [0x80, [0x80, 0x80]],
    [0x3fff, [0xbf, 0xff]],
    [0x4000, [0xc0, 0x40, 0x00]],
    [0x1fffff, [0xdf, 0xff, 0xff]],
    [0x200000, [0xe0, 0x20, 0x00, 0x00]],
    [0xfffffff, [0xef, 0xff, 0xff, 0xff]],
    [0x10000000, [0xf0, 0x10, 0x00, 0x00, 0x00]],
    [0xffffffff, [0xf0, 0xff, 0xff, 0xff, 0xff]],
  ];

  it.each(cases)('encodes and decodes length %i in every prefix size', (len, bytes) => {
    expect([...encodeLength(len)]).toEqual(bytes);
    expect(decodeLength(Buffer.from(bytes))).toEqual({ length: len, bytes: bytes.length });
    expect(decodeLength(Buffer.from(bytes.slice(0, -1)))).toBeNull();
  });

  it("agrees with node-routeros's own encoder (the client under test)", () => {
    const encoder = new Transmitter(null as any);
    for (const len of [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 0x1fffff, 0x200000]) {
      const prefix = encodeLength(len);
      const theirs: Buffer = (encoder as any).encodeString('x'.repeat(len));
      expect(theirs.subarray(0, prefix.length)).toEqual(prefix);
      expect(theirs.length).toBe(prefix.length + len);
    }
  });

  it('reads sentences split at every byte boundary', () => {
    const long = 'v'.repeat(0x4100); // a 3-byte prefix
    const wire = Buffer.concat([
      encodeSentence(['/login', '=name=admin', `=password=${long}`, '.tag=1']),
      encodeSentence([]),
      encodeSentence(['/ppp/active/print', '?name=alice']),
    ]);
    for (const split of [1, 2, 3, 7, 0x4000, wire.length - 1]) {
      const first = readSentences(wire.subarray(0, split));
      const second = readSentences(Buffer.concat([first.rest, wire.subarray(split)]));
      const all = [...first.sentences, ...second.sentences];
      expect(all).toEqual([
        ['/login', '=name=admin', `=password=${long}`, '.tag=1'],
        [],
        ['/ppp/active/print', '?name=alice'],
      ]);
      expect(second.rest.length).toBe(0);
    }
  });

  it('rejects a reserved control byte', () => {
    expect(() => decodeLength(Buffer.from([0xf8]))).toThrow(/control byte/);
  });
});

describe('RouterOsClient against the RouterOS API double', () => {
  let double: RouterOsDouble;
  let client: RouterOsClient;
  let target: RouterOsTarget;
  const extraClients: RouterOsClient[] = [];
  const extraDoubles: RouterOsDouble[] = [];

  const newClient = (opts: Partial<RouterOsOptions> = {}) => {
    const c = new RouterOsClient({ ...OPTS, ...opts });
    extraClients.push(c);
    return c;
  };

  beforeAll(() => Logger.overrideLogger(collector));

  afterAll(() => {
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) expect(line).not.toContain(PASSWORD);
    Logger.overrideLogger(new ConsoleLogger());
  });

  beforeEach(async () => {
    processFaults.length = 0;
    realProcess.on('uncaughtException', recordFault);
    realProcess.on('unhandledRejection', recordFault);
    double = await startRouterOsDouble({ password: PASSWORD, identity: 'core-1' });
    client = new RouterOsClient(OPTS);
    target = {
      key: 'nas-1',
      host: '127.0.0.1',
      port: double.port,
      user: 'admin',
      password: PASSWORD,
      tls: false,
    };
  });

  afterEach(async () => {
    await client.onApplicationShutdown();
    for (const c of extraClients.splice(0)) await c.onApplicationShutdown();
    await double.close();
    for (const d of extraDoubles.splice(0)) await d.close();
    await sleep(20); // let late socket events land while the fault listeners still listen
    realProcess.off('uncaughtException', recordFault);
    realProcess.off('unhandledRejection', recordFault);
    expect(processFaults).toEqual([]);
  });

  it('reads the identity, uptime and version', async () => {
    await expect(client.identity(target)).resolves.toEqual({
      identity: 'core-1',
      uptime: '1w2d3h4m5s',
      version: '7.18.2 (stable)',
    });
    expect(double.commands('/login')).toHaveLength(1);
  });

  it('lists every active session, and one by name', async () => {
    const alice = double.addSession({
      name: 'alice',
      address: '100.64.0.10',
      callerId: 'AA:BB:CC:00:00:01',
      uptime: '3h2m',
      sessionId: '0x81000010',
    });
    double.addSession({ name: 'bob', address: '100.64.0.11' });

    const all = await client.listActive(target);
    expect(all.map((s) => s.name)).toEqual(['alice', 'bob']);
    expect(all[0]).toEqual({
      id: alice.id,
      name: 'alice',
      service: 'pppoe',
      callerId: 'AA:BB:CC:00:00:01',
      address: '100.64.0.10',
      uptime: '3h2m',
      sessionId: '0x81000010',
    });

    const bob = await client.listActive(target, 'bob');
    expect(bob.map((s) => s.name)).toEqual(['bob']);
    const prints = double.commands('/ppp/active/print');
    expect(prints[1].words).toContain('?name=bob');
    expect(prints[1].words.some((w) => w.startsWith('=.proplist='))).toBe(true);
  });

  it("survives RouterOS 7.18's !empty: a user who is not connected gives []", async () => {
    double.addSession({ name: 'alice' });
    await expect(client.listActive(target, 'nobody')).resolves.toEqual([]);
    // The same connection still parses replies afterwards.
    await expect(client.listActive(target, 'alice')).resolves.toHaveLength(1);
    double.sessions.length = 0;
    await expect(client.listActive(target)).resolves.toEqual([]);
    await expect(client.identity(target)).resolves.toMatchObject({ identity: 'core-1' });
    expect(double.accepted).toBe(1);
  });

  it('(control) plain node-routeros dies on the same !empty from the double', async () => {
    double.addSession({ name: 'alice' });
    const script = `
      const { RouterOSAPI } = require('node-routeros');
      const api = new RouterOSAPI({ host: '127.0.0.1', port: ${double.port}, user: 'admin',
        password: process.env.ROS_PASSWORD, timeout: 5 });
      api.connect()
        .then(() => api.write(['/ppp/active/print', '?name=alice']))
        .then(() => api.write(['/ppp/active/print', '?name=nobody']))
        .then(() => { console.log('survived'); process.exit(0); });`;
    const outcome = await runNode(script);
    expect(outcome.stdout).not.toContain('survived');
    expect(outcome.code).not.toBe(0);
    expect(outcome.stderr).toContain('Tried to process unknown reply: !empty');
  });

  it("never lets node-routeros's debug log (DEBUG=routeros-api:*) print the password", async () => {
    const script = `
      const { RouterOsClient } = require('./dist/src/nas/routeros/routeros-client.service');
      const c = new RouterOsClient({ connectTimeoutMs: 5000, commandTimeoutMs: 5000, idleCloseMs: 60000 });
      c.identity({ key: 'k', host: '127.0.0.1', port: ${double.port}, user: 'admin',
          password: process.env.ROS_PASSWORD, tls: false })
        .then((r) => console.log('identity ' + r.identity))
        .finally(() => c.onApplicationShutdown());`;
    const outcome = await runNode(script, {
      DEBUG: 'routeros-api:*',
      DEBUG_COLORS: 'no',
    });
    expect(outcome.stdout).toContain('identity core-1');
    // (control) the debug log is on, and saw the login
    expect(outcome.stderr).toContain('routeros-api:');
    expect(outcome.stderr).toContain('Logged in on 127.0.0.1');
    expect(outcome.stderr + outcome.stdout).not.toContain(PASSWORD);
  });

  it('reads replies whose words arrive one TCP segment at a time, the empty word apart', async () => {
    double.setWrites('word');
    const alice = double.addSession({ name: 'alice', address: '100.64.0.10' });
    double.addSession({ name: 'bob', address: '100.64.0.11' });
    const fast = newClient({ connectTimeoutMs: 3000, commandTimeoutMs: 3000 });

    await expect(fast.identity(target)).resolves.toMatchObject({ identity: 'core-1' });
    const all = await fast.listActive(target);
    expect(all.map((s) => [s.id, s.name, s.address])).toEqual([
      [alice.id, 'alice', '100.64.0.10'],
      [expect.any(String), 'bob', '100.64.0.11'],
    ]);
    await expect(fast.listActive(target, 'nobody')).resolves.toEqual([]);
    await expectKind(fast.removeActive(target, '*FFFF'), 'trap');
    await fast.removeActive(target, alice.id);
    await expect(fast.listActive(target)).resolves.toHaveLength(1);
    expect(double.accepted).toBe(1);
  });

  it('removes an active session by .id', async () => {
    double.addSession({ name: 'alice' });
    const bob = double.addSession({ name: 'bob' });
    await client.removeActive(target, bob.id);
    expect(double.sessions.map((s) => s.name)).toEqual(['alice']);
    const [remove] = double.commands('/ppp/active/remove');
    expect(remove.words).toContain(`=.id=${bob.id}`);
  });

  it("rejects removing an absent id with kind 'trap', and keeps the connection", async () => {
    const err = await expectKind(client.removeActive(target, '*FFFF'), 'trap');
    expect(err.message).toBe('no such item');
    await expect(client.identity(target)).resolves.toMatchObject({ identity: 'core-1' });
    expect(double.accepted).toBe(1);
  });

  it("rejects a wrong password with kind 'auth', and logs in again once it is right", async () => {
    const wrong = { ...target, password: 'not-the-password' };
    const err = await expectKind(client.identity(wrong), 'auth');
    expect(err.message).not.toContain('not-the-password');
    expect(err.message).toContain('admin');
    await expect(client.identity(target)).resolves.toMatchObject({ identity: 'core-1' });
  });

  it("rejects a refused connection with kind 'refused', quickly", async () => {
    const started = Date.now();
    await expectKind(client.identity({ ...target, port: await closedPort() }), 'refused');
    expect(Date.now() - started).toBeLessThan(OPTS.connectTimeoutMs);
  });

  it("rejects a router that never answers with kind 'timeout', within the bound", async () => {
    double.setMode('silent');
    const started = Date.now();
    await expectKind(client.listActive(target), 'timeout');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(OPTS.connectTimeoutMs - 20);
    expect(elapsed).toBeLessThan(OPTS.connectTimeoutMs + OPTS.commandTimeoutMs + 200);
    expect(double.commands('/login')).toHaveLength(1);
    await until('the client dropped the silent connection', () => double.open === 0);
  });

  it("rejects a command that is never answered with kind 'timeout', within the bound", async () => {
    double.setMode('hang-commands');
    const started = Date.now();
    await expectKind(client.identity(target), 'timeout');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(OPTS.commandTimeoutMs - 20);
    expect(elapsed).toBeLessThan(OPTS.connectTimeoutMs + OPTS.commandTimeoutMs + 200);
    // The wedged connection is dropped; the next call logs in afresh.
    double.setMode('normal');
    await expect(client.identity(target)).resolves.toMatchObject({ identity: 'core-1' });
    expect(double.accepted).toBe(2);
  });

  it('reuses one TCP connection across calls, concurrent ones included', async () => {
    double.addSession({ name: 'alice' });
    await client.identity(target);
    await client.listActive(target);
    await Promise.all([
      client.identity(target),
      client.listActive(target, 'alice'),
      client.listActive(target, 'nobody'),
      client.removeActive(target, '*FFFF').catch((e: unknown) => e),
    ]);
    expect(double.accepted).toBe(1);
    expect(double.commands('/login')).toHaveLength(1);
  });

  it.each(['close', 'reset'] as const)(
    'reconnects on the next call after the router drops the connection (%s)',
    async (how) => {
      await client.identity(target);
      double.dropConnections(how);
      await until('the double closed it', () => double.open === 0);
      await sleep(50); // the FIN or RST reaches the client
      await expect(client.identity(target)).resolves.toMatchObject({ identity: 'core-1' });
      expect(double.accepted).toBe(2);
    },
  );

  it('reconnects on the next call after a !fatal', async () => {
    await client.identity(target);
    double.fatal('system is rebooting');
    await until('the client closed it', () => double.open === 0);
    await expect(client.identity(target)).resolves.toMatchObject({ identity: 'core-1' });
    expect(double.accepted).toBe(2);
  });

  it('closes a connection idle for idleCloseMs, and opens a new one when needed', async () => {
    const idle = newClient({ idleCloseMs: 150 });
    await idle.identity(target);
    expect(double.open).toBe(1);
    await until('the idle connection closed', () => double.open === 0, 2000);
    await idle.identity(target);
    expect(double.accepted).toBe(2);
  });

  it('replaces the connection when the target of a key changes', async () => {
    const other = await startRouterOsDouble({ password: PASSWORD, identity: 'core-2' });
    extraDoubles.push(other);
    await expect(client.identity(target)).resolves.toMatchObject({ identity: 'core-1' });
    const moved = { ...target, port: other.port };
    await expect(client.identity(moved)).resolves.toMatchObject({ identity: 'core-2' });
    await until('the old connection closed', () => double.open === 0);
    await client.identity(moved);
    expect(other.accepted).toBe(1);
  });

  it('reads one traffic sample of an interface', async () => {
    double.addSession({
      name: 'alice',
      traffic: { rxBitsPerSecond: 1_250_000, txBitsPerSecond: 48_000_000 },
    });
    double.interfaces.set('ether1', { rxBitsPerSecond: 7, txBitsPerSecond: 9 });
    await expect(client.monitorTraffic(target, '<pppoe-alice>')).resolves.toEqual({
      rxBitsPerSecond: 1_250_000,
      txBitsPerSecond: 48_000_000,
    });
    await expect(client.monitorTraffic(target, 'ether1')).resolves.toEqual({
      rxBitsPerSecond: 7,
      txBitsPerSecond: 9,
    });
    const [monitor] = double.commands('/interface/monitor-traffic');
    expect(monitor.words).toEqual(expect.arrayContaining(['=interface=<pppoe-alice>', '=once=']));
    await expectKind(client.monitorTraffic(target, '<pppoe-nobody>'), 'trap');
  });

  it('closes every pooled connection on shutdown', async () => {
    await client.identity(target);
    await client.identity({ ...target, key: 'nas-2' });
    expect(double.open).toBe(2);
    await client.onApplicationShutdown();
    await until('both connections closed', () => double.open === 0);
  });

  describe('over TLS (api-ssl) with a self-signed certificate', () => {
    let certDir: string | undefined;
    let certificate: { key: string; cert: string };
    let tlsDouble: RouterOsDouble;
    /** Encrypted, certificate not checked: how a RouterOS self-signed api-ssl is reached. */
    let tlsTarget: RouterOsTarget;

    beforeAll(async () => {
      certDir = await mkdtemp(join(tmpdir(), 'routeros-tls-'));
      certificate = await selfSignedCertificate(certDir);
    });

    afterAll(async () => {
      if (certDir) await rm(certDir, { recursive: true, force: true });
    });

    beforeEach(async () => {
      tlsDouble = await startRouterOsDouble({
        password: PASSWORD,
        identity: 'core-tls',
        tls: certificate,
      });
      extraDoubles.push(tlsDouble);
      tlsTarget = { ...target, port: tlsDouble.port, tls: true, tlsVerify: false };
    });

    it('connects with tlsVerify false, logs in and lists sessions, !empty included', async () => {
      const alice = tlsDouble.addSession({ name: 'alice', address: '100.64.0.10' });
      await expect(client.identity(tlsTarget)).resolves.toMatchObject({ identity: 'core-tls' });
      await expect(client.listActive(tlsTarget)).resolves.toEqual([
        expect.objectContaining({ id: alice.id, name: 'alice', address: '100.64.0.10' }),
      ]);
      await expect(client.listActive(tlsTarget, 'nobody')).resolves.toEqual([]);
      // The same TLS connection still parses replies after the !empty.
      await expect(client.listActive(tlsTarget, 'alice')).resolves.toHaveLength(1);
      tlsDouble.sessions.length = 0;
      await expect(client.listActive(tlsTarget)).resolves.toEqual([]);
      expect(tlsDouble.accepted).toBe(1);
      expect(tlsDouble.commands('/login')).toHaveLength(1);
      expect(double.accepted).toBe(0);
    });

    it.each(['close', 'reset'] as const)(
      'reconnects over TLS after the router drops the connection (%s)',
      async (how) => {
        await client.identity(tlsTarget);
        tlsDouble.dropConnections(how);
        await until('the double closed it', () => tlsDouble.open === 0);
        await sleep(50); // the FIN or RST reaches the client
        await expect(client.identity(tlsTarget)).resolves.toMatchObject({ identity: 'core-tls' });
        expect(tlsDouble.accepted).toBe(2);
      },
    );

    it('(control) the TLS double does not speak plain text', async () => {
      await expectKind(client.identity({ ...tlsTarget, tls: false }), 'connection');
      expect(tlsDouble.accepted).toBe(0);
      expect(tlsDouble.received).toEqual([]);
    });

    it.each([true, undefined])(
      "refuses the certificate with tlsVerify %s: kind 'connection', the reason named",
      async (tlsVerify) => {
        const started = Date.now();
        const err = await expectKind(client.identity({ ...tlsTarget, tlsVerify }), 'connection');
        expect(err.message).toContain('DEPTH_ZERO_SELF_SIGNED_CERT');
        expect(Date.now() - started).toBeLessThan(OPTS.connectTimeoutMs);
        // Refused in the handshake: the login, and its password, never left the client.
        expect(tlsDouble.accepted).toBe(0);
        expect(tlsDouble.commands('/login')).toEqual([]);
      },
    );

    it('does not reuse a pooled connection when tlsVerify differs', async () => {
      await client.identity(tlsTarget);
      expect(tlsDouble.open).toBe(1);
      // Reusing the pooled, unverified connection would answer; a new, verifying one refuses.
      const err = await expectKind(
        client.identity({ ...tlsTarget, tlsVerify: true }),
        'connection',
      );
      expect(err.message).toContain('DEPTH_ZERO_SELF_SIGNED_CERT');
      await until('the unverified connection closed', () => tlsDouble.open === 0);
      await expect(client.identity(tlsTarget)).resolves.toMatchObject({ identity: 'core-tls' });
      expect(tlsDouble.accepted).toBe(2);
      expect(tlsDouble.commands('/login')).toHaveLength(2);
    });

    it('serves() tells tlsVerify apart, absent counting as true', () => {
      const tls = { ...tlsTarget, tlsVerify: undefined };
      const conn = new RouterOsConnection(tls, OPTS, new Logger('test'), () => undefined);
      expect(conn.serves({ ...tls })).toBe(true);
      expect(conn.serves({ ...tls, tlsVerify: true })).toBe(true);
      expect(conn.serves({ ...tls, tlsVerify: false })).toBe(false);
      expect(conn.serves({ ...tls, tls: false })).toBe(false);
      conn.close('test over');
    });
  });
});
