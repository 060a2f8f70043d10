import { execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from '../support/app';
import { until } from '../support/until';
import { createConnection } from 'mysql2/promise';
import { SQLITE_MIGRATIONS } from '../../src/database/migrations/sqlite';
import { MYSQL_MIGRATIONS } from '../../src/database/migrations/mysql';
import { createTestDatabase } from '../support/test-database';
import { BUILT_CLI, BUILT_MAIN, ROOT, ensureBuilt } from '../support/built-app';

ensureBuilt(); // these tests run radgraph as built (built-app.ts)

/** A built entry point of the project as a process, with only PATH and `env`. */
function spawnBuilt(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  return { child, out };
}

function runMain(
  env: Record<string, string>,
  timeoutMs = 60_000,
  args = [BUILT_MAIN],
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const { child, out } = spawnBuilt(args, env);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${args.join(' ')} did not exit within ${timeoutMs} ms\n${out.stdout}\n${out.stderr}`,
        ),
      );
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, ...out });
    });
  });
}

/** radgraph as a running server: its JSON log lines as they come, and how it exits. */
function startMain(env: Record<string, string>) {
  const { child, out } = spawnBuilt([BUILT_MAIN], env);
  let exitedWith: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve((exitedWith = { code, signal }))),
  );
  const lines = () =>
    out.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: string; context?: string; msg: string });
  return {
    child,
    exited,
    lines,
    /** The first log line that `match` accepts, once it is written. */
    async line(match: (l: { msg: string; context?: string }) => boolean, what: string) {
      await until(
        () => {
          if (exitedWith) throw new Error(`exited before ${what}:\n${out.stdout}\n${out.stderr}`);
          return lines().some(match);
        },
        what,
        { timeoutMs: 60_000, everyMs: 50 },
      );
      return lines().find(match)!;
    },
    async stop() {
      if (!exitedWith) child.kill('SIGKILL');
      await exited;
    },
  };
}

describe('starting radgraph', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'radgraph-proc-'));
  });

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses bad values with a non-zero exit and a message naming each variable', async () => {
    const { code, stderr } = await runMain({
      DATA_DIR: dataDir,
      PORT: '70000',
      RADIUS_ACCT_PORT: 'eighteen',
      RADIUS_ACCT_HOST: 'not-an-ip',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'postgres://db/radius',
      RUN_MIGRATIONS: 'maybe',
    });
    expect(code).toBe(1);
    for (const name of [
      'PORT',
      'RADIUS_ACCT_PORT',
      'RADIUS_ACCT_HOST',
      'LOG_LEVEL',
      'DATABASE_URL',
      'RUN_MIGRATIONS',
    ]) {
      expect(stderr).toMatch(new RegExp(`- ${name} `));
    }
  });

  it('refuses to start in production without ADMIN_TOKEN', async () => {
    const { code, stderr } = await runMain({
      DATA_DIR: dataDir,
      NODE_ENV: 'production',
      PORT: String(await freePort()),
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/ADMIN_TOKEN is required when NODE_ENV=production/);
  });

  it('stops with a message naming PORT when the port is taken', async () => {
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const { code, stderr } = await runMain({
        DATA_DIR: dataDir,
        PORT: String(port),
        RADIUS_ACCT_PORT: String(await freePort()),
        LOG_LEVEL: 'fatal',
      });
      expect(code).toBe(1);
      expect(stderr).toContain(`PORT=${port} is already in use on 127.0.0.1`);
    } finally {
      blocker.close();
    }
  });

  it('stops with a message naming RADIUS_ACCT_PORT when the accounting port is taken', async () => {
    const blocker = createSocket('udp4');
    await new Promise<void>((resolve) => blocker.bind(0, '127.0.0.1', resolve));
    try {
      const { code, stderr } = await runMain({
        DATA_DIR: dataDir,
        PORT: String(await freePort()),
        RADIUS_ACCT_PORT: String(blocker.address().port),
        LOG_LEVEL: 'fatal',
      });
      expect(code).toBe(1);
      expect(stderr).toMatch(/RADIUS_ACCT_PORT=\d+ is already in use on 127\.0\.0\.1/);
    } finally {
      blocker.close();
    }
  });

  it('stops with a message naming DATABASE_URL when the database is unreachable', async () => {
    const { code, stderr } = await runMain({
      DATA_DIR: dataDir,
      PORT: String(await freePort()),
      DATABASE_URL: `mysql://root@127.0.0.1:${await freePort()}/radius`,
      LOG_LEVEL: 'fatal',
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /Cannot connect to the database at 127\.0\.0\.1:\d+ named by DATABASE_URL/,
    );
  });
  // /etc/hostname is a file: no directory can be made under it, not even by root (CI).
  it.each([
    ['DATA_DIR', { DATA_DIR: '/etc/hostname/radgraph' }, '/etc/hostname/radgraph'],
    [
      'DATABASE_URL',
      { DATABASE_URL: 'sqlite:/etc/hostname/radgraph/db.sqlite', ADMIN_TOKEN: 'a'.repeat(32) },
      '/etc/hostname/radgraph',
    ],
  ])(
    'stops with one line naming %s when its directory cannot be created',
    async (variable, env, dir) => {
      const { code, stderr } = await runMain({
        DATA_DIR: dataDir,
        PORT: String(await freePort()),
        RADIUS_ACCT_PORT: '0',
        LOG_LEVEL: 'fatal',
        ...env,
      });
      expect(code).toBe(1);
      expect(stderr).toBe(
        `radgraph: ${variable}: cannot create the directory "${dir}" (ENOTDIR: not a directory): ` +
          `create it for the user radgraph runs as, or set ${variable} to a place that user can write\n`,
      );
    },
  );

  it('logs the accounting port it bound in its Started line, not the configured 0', async () => {
    const port = await freePort();
    const server = startMain({
      DATA_DIR: dataDir,
      PORT: String(port),
      RADIUS_ACCT_PORT: '0',
      LOG_LEVEL: 'info',
    });
    try {
      const line = await server.line((l) => l.msg.startsWith('Started: '), 'the Started line');
      const started = JSON.parse(line.msg.slice('Started: '.length)) as Record<string, unknown>;
      const ready = (await (await fetch(`http://127.0.0.1:${port}/ready`)).json()) as any;
      const bound = ready.info.accountingListener.port as number;
      expect(bound).toBeGreaterThan(0);
      expect(started.radiusAccounting).toBe(`127.0.0.1:${bound}`);
    } finally {
      await server.stop();
    }
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'logs one line when a %s shutdown starts and one when it ends, with how long it took',
    async (signal) => {
      const server = startMain({
        DATA_DIR: dataDir,
        PORT: String(await freePort()),
        RADIUS_ACCT_PORT: '0',
        LOG_LEVEL: 'info',
      });
      try {
        await server.line((l) => l.msg.startsWith('Started: '), 'the Started line');
        const before = server.lines().length;
        server.child.kill(signal);
        // Ended by the signal once closed, as with Nest's own shutdown hooks.
        expect(await server.exited).toEqual({ code: null, signal });
        const shutdown = server
          .lines()
          .slice(before)
          .filter((l) => l.context === 'radgraph');
        expect(shutdown).toEqual([
          expect.objectContaining({ level: 'info', msg: `Stopping on ${signal}` }),
          expect.objectContaining({
            level: 'info',
            msg: expect.stringMatching(/^Stopped in \d+ ms$/),
          }),
        ]);
      } finally {
        await server.stop();
      }
    },
  );

  /**
   * radgraph on a new MariaDB database, waiting for its migrations' lock, which this test
   * holds (so a signal surely comes before they are done); `lock` is that connection.
   */
  async function startedBeforeMigrations() {
    const db = await createTestDatabase('mysql', { migrate: false });
    const lock = await createConnection({ ...db.mysql!, database: db.database });
    const lockName = "CONCAT('radgraph_migrations_', MD5(DATABASE()))";
    await lock.query(`SELECT GET_LOCK(${lockName}, 5)`);
    const server = startMain({
      DATABASE_URL: db.url,
      DATA_DIR: dataDir,
      PORT: String(await freePort()),
      RADIUS_ACCT_PORT: '0',
      LOG_LEVEL: 'info',
    });
    const count = async (sql: string) =>
      Number(((await lock.query(sql))[0] as Array<{ n: number | string }>)[0].n);
    await until(
      async () =>
        (await count(
          // This database's: other tests' migrations take their own databases' locks.
          "SELECT COUNT(*) AS n FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID() AND info LIKE 'SELECT GET_LOCK(CONCAT(''radgraph_migrations_''%'",
        )) > 0,
      'radgraph waiting for the migrations lock',
      { timeoutMs: 60_000, everyMs: 50 },
    );
    return {
      server,
      release: () => lock.query(`SELECT RELEASE_LOCK(${lockName})`),
      applied: () =>
        count(
          "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'radgraph_migrations'",
        ).then((exists) => (exists ? count('SELECT COUNT(*) AS n FROM radgraph_migrations') : 0)),
      async close() {
        await server.stop();
        await lock.end();
        await db.drop();
      },
    };
  }

  it('holds a SIGTERM that comes while the migrations run, and stops once they are all applied', async () => {
    // Killed in the middle, a MariaDB would keep a migration half applied (its DDL is not
    // transactional).
    const start = await startedBeforeMigrations();
    try {
      start.server.child.kill('SIGTERM');
      await start.server.line((l) => l.msg.startsWith('SIGTERM while starting'), 'the held signal');
      await new Promise((r) => setTimeout(r, 1000));
      expect(start.server.child.exitCode).toBeNull(); // still starting, not killed
      await start.release();
      expect(await start.server.exited).toEqual({ code: null, signal: 'SIGTERM' });
      expect(await start.applied()).toBe(MYSQL_MIGRATIONS.length);
      const msgs = start.server.lines().map((l) => l.msg);
      expect(msgs).toContain('Stopping on SIGTERM');
      expect(msgs.some((m) => m.startsWith('Started: '))).toBe(false); // never listened
    } finally {
      await start.close();
    }
  });

  it('stops at once on a second signal while starting (an operator who insists)', async () => {
    const start = await startedBeforeMigrations();
    try {
      start.server.child.kill('SIGTERM');
      await start.server.line((l) => l.msg.startsWith('SIGTERM while starting'), 'the held signal');
      start.server.child.kill('SIGINT');
      expect(await start.server.exited).toEqual({ code: null, signal: 'SIGINT' });
      expect(await start.applied()).toBe(0); // it never got the lock
    } finally {
      await start.close();
    }
  });

  it('holds a SIGTERM that comes while it starts listening, and stops once started, logged', async () => {
    // A "Redis" that answers the handshake (so a SUBSCRIBE queued before it goes out) and
    // nothing else: the subscriptions to the deployment's channels, made once the app is built
    // (in listen(), Nest's init), each wait up to 5 s for it, so the signal surely comes while
    // radgraph is still starting to listen.
    const sockets = new Set<import('node:net').Socket>();
    let subscribed = false;
    const silentRedis: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('data', (d: Buffer) => {
        const text = d.toString().toLowerCase();
        for (const _ of text.matchAll(/\$6\r\nclient\r\n/g)) socket.write('+OK\r\n');
        for (const _ of text.matchAll(/\$4\r\ninfo\r\n/g)) socket.write('$9\r\nloading:0\r\n');
        if (text.includes('subscribe')) subscribed = true;
      });
    });
    await new Promise<void>((resolve) => silentRedis.listen(0, '127.0.0.1', resolve));
    const redisPort = (silentRedis.address() as { port: number }).port;
    const server = startMain({
      DATA_DIR: dataDir,
      PORT: String(await freePort()),
      RADIUS_ACCT_PORT: '0',
      LOG_LEVEL: 'info',
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    });
    try {
      await until(() => subscribed, 'a SUBSCRIBE (the app built, listen() under way)', {
        timeoutMs: 60_000,
        everyMs: 20,
      });
      server.child.kill('SIGTERM');
      // Before, the signal closed the app while Nest was still initialising it, and the
      // process ended silently: the log lines held until listen() were never written.
      expect(await server.exited).toEqual({ code: null, signal: 'SIGTERM' });
      const msgs = server.lines().map((l) => l.msg);
      expect(msgs.some((m) => m.startsWith('SIGTERM while starting'))).toBe(true);
      expect(msgs).toContain('Stopping on SIGTERM');
      expect(msgs.some((m) => /^Stopped in \d+ ms$/.test(m))).toBe(true);
      expect(msgs.some((m) => m.startsWith('Started: '))).toBe(false);
    } finally {
      await server.stop();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silentRedis.close(resolve));
    }
  });

  it('logs a failed start as JSON lines at LOG_LEVEL, like every other line', async () => {
    // A start that fails (here: the database is down) still logs JSON on stdout, not Nest's
    // coloured text, and the last line says why.
    const { code, stdout, stderr } = await runMain({
      DATA_DIR: dataDir,
      PORT: String(await freePort()),
      DATABASE_URL: `mysql://root@127.0.0.1:${await freePort()}/radius`,
      LOG_LEVEL: 'error',
    });
    expect(code).toBe(1);
    expect(stdout + stderr).not.toContain('\x1b[');
    const lines = stdout.split('\n').filter((l) => l.trim() !== '');
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    // At LOG_LEVEL=error, the info lines held while Nest started are not written.
    expect(parsed.map((l) => l.level)).toEqual(['error']);
    expect(parsed[0]).toMatchObject({ service: 'radgraph', context: 'ExceptionHandler' });
    expect(String(parsed[0].msg)).toMatch(/named by DATABASE_URL/);
    expect(stderr).toMatch(/^radgraph: Cannot connect to the database at 127\.0\.0\.1:\d+/m);
  });
});

describe('the CLI', () => {
  it('stops with a message naming DATABASE_URL, without a stack trace, when the database is unreachable', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'radgraph-cli-'));
    try {
      const { code, stdout, stderr } = await runMain(
        { DATA_DIR: dataDir, DATABASE_URL: `mysql://root@127.0.0.1:${await freePort()}/radius` },
        60_000,
        [BUILT_CLI, 'apikey', 'list'],
      );
      expect(stdout).toBe('');
      expect(stderr).toMatch(
        /^radgraph: Cannot connect to the database at 127\.0\.0\.1:\d+ named by DATABASE_URL: connect ECONNREFUSED/,
      );
      expect(stderr).not.toMatch(/^\s+at /m);
      expect(code).toBe(1);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
  it('stops with a message naming DATA_DIR, without a stack trace, when it cannot be created', async () => {
    const { code, stdout, stderr } = await runMain({ DATA_DIR: '/etc/hostname/radgraph' }, 60_000, [
      BUILT_CLI,
      'apikey',
      'list',
    ]);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      /^radgraph: DATA_DIR: cannot create the directory "\/etc\/hostname\/radgraph" \(ENOTDIR/,
    );
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(code).toBe(1);
  });
});

describe('the migration CLI', () => {
  it('lists the migrations through ormconfig.ts, as the README says (`npm run migration:show`)', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'radgraph-migrations-'));
    try {
      // npm's own script, so that the check covers what the README tells an operator to run
      // (typeorm's CLI on ts-node, which type-checks ormconfig.ts and what it imports).
      const { code, stdout, stderr } = await new Promise<{
        code: number | null;
        stdout: string;
        stderr: string;
      }>((resolve) =>
        execFile(
          'npm',
          ['run', '--silent', 'migration:show'],
          { cwd: ROOT, env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir }, timeout: 120_000 },
          (err, stdout, stderr) =>
            resolve({ code: err ? (err.code as number) : 0, stdout, stderr }),
        ),
      );
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      const pending = stdout.split('\n').filter((l) => l.startsWith('[ ] '));
      expect(pending).toEqual(SQLITE_MIGRATIONS.map((m) => `[ ] ${m.name}`));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('command 1: radgraph with nothing configured', () => {
  it('starts on embedded SQLite, prints its token, answers with it and refuses without it', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'radgraph-first-run-'));
    const dataDir = path.join(home, 'data'); // radgraph makes it, owner-only
    const port = await freePort();
    const child = spawn(process.execPath, [BUILT_MAIN], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        DATA_DIR: dataDir,
        PORT: String(port),
        RADIUS_ACCT_PORT: String(await freePort()),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      const token = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no token printed in 60 s:\n${output}`)),
          60_000,
        );
        const poll = setInterval(() => {
          const match = /Authorization: Bearer (rg_\S+)/.exec(output);
          if (match) {
            clearInterval(poll);
            clearTimeout(timer);
            resolve(match[1]);
          }
        }, 50);
        child.on('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
      });
      expect(output).toContain(`GraphQL at http://localhost:${port}/graphql`);
      const url = `http://127.0.0.1:${port}`;
      const post = (auth?: string) =>
        fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(auth && { authorization: auth }) },
          body: JSON.stringify({ query: '{ __typename }' }),
        });
      const ok = await post(`Bearer ${token}`);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ data: { __typename: 'Query' } });
      const denied = await post();
      expect(((await denied.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect(statSync(path.join(dataDir, 'radgraph.sqlite')).isFile()).toBe(true);
      expect(statSync(dataDir).mode & 0o077).toBe(0);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(home, { recursive: true, force: true });
    }
  });
});
