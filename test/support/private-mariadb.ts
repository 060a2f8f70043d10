/**
 * A MariaDB server of a test's own, a child process on a temp datadir and a free loopback
 * port, that the test may kill (SIGKILL, or a clean SIGTERM shutdown) and start again on the
 * same datadir and port. The shared server (TEST_DATABASE_URL) is never touched.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import * as path from 'node:path';
import { createConnection, type Connection } from 'mysql2/promise';
import { parseDatabaseUrl } from '../../src/config/app-config';
import { createDataSource } from '../../src/database/data-source-options';
import { freePort } from './app';
import type { TestDatabase } from './test-database';

export const PRIVATE_MARIADB_HOWTO =
  'This test runs a private MariaDB server of its own, which needs the MariaDB server ' +
  'binaries mariadbd and mariadb-install-db (looked for on PATH and in /usr/sbin, /usr/bin, ' +
  '/usr/local/sbin, /usr/local/bin). Install them with `apt-get install -y mariadb-server` ' +
  '(Debian/Ubuntu) or `dnf install -y mariadb-server` (Fedora/RHEL); the system service need ' +
  'not run.';

const SEARCH = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];

function findBinary(names: string[]): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SEARCH];
  for (const name of names) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // not here
      }
    }
  }
  return null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every server still running is killed when the test process exits, however it exits. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export class PrivateMariaDb {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    private readonly mariadbd: string,
    /** The temp directory holding the datadir, the socket and the error log. */
    readonly dir: string,
    readonly port: number,
    private readonly serverArgs: readonly string[] = [],
    private readonly serverEnv: Readonly<Record<string, string>> = {},
  ) {}

  /**
   * Installs a fresh datadir (root@127.0.0.1 with no password) and starts the server, with
   * `serverArgs` added to mariadbd's (e.g. `--ssl-cert=…` and `--ssl-key=…`) and `serverEnv` to
   * its environment (e.g. `TZ`, its system time zone).
   */
  static async create(
    serverArgs: readonly string[] = [],
    serverEnv: Readonly<Record<string, string>> = {},
  ): Promise<PrivateMariaDb> {
    const mariadbd = findBinary(['mariadbd', 'mysqld']);
    const installDb = findBinary(['mariadb-install-db', 'mysql_install_db']);
    if (!mariadbd || !installDb) {
      throw new Error(
        `Cannot find ${mariadbd ? 'mariadb-install-db' : 'mariadbd'}. ${PRIVATE_MARIADB_HOWTO}`,
      );
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'radgraph-mariadb-'));
    const server = new PrivateMariaDb(mariadbd, dir, await freePort(), serverArgs, serverEnv);
    try {
      const install = spawnSync(
        installDb,
        [
          '--no-defaults',
          `--user=${userInfo().username}`,
          `--datadir=${server.datadir}`,
          '--auth-root-authentication-method=normal',
          '--skip-test-db',
          '--skip-name-resolve',
        ],
        { encoding: 'utf8', timeout: 60_000 },
      );
      if (install.status !== 0) {
        throw new Error(
          `${installDb} failed (${install.error?.message ?? `exit ${install.status}`}): ` +
            `${install.stderr}${install.stdout}`.slice(-2000),
        );
      }
      await server.start();
    } catch (err) {
      await server.destroy();
      throw err;
    }
    return server;
  }

  get datadir(): string {
    return path.join(this.dir, 'data');
  }

  /** mysql://root@127.0.0.1:<port>, or with a database. */
  url(database?: string): string {
    return `mysql://root@127.0.0.1:${this.port}${database ? `/${database}` : ''}`;
  }

  get isRunning(): boolean {
    return this.child !== null;
  }

  /** Starts mariadbd on the datadir and port, and waits until it accepts connections. */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.child) return;
    const child = spawn(
      this.mariadbd,
      [
        '--no-defaults',
        `--user=${userInfo().username}`,
        `--datadir=${this.datadir}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        `--socket=${path.join(this.dir, 'mariadbd.sock')}`,
        `--pid-file=${path.join(this.dir, 'mariadbd.pid')}`,
        `--log-error=${this.errorLog}`,
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=32M',
        // Durable commits (the default, stated): an acknowledged commit survives a SIGKILL.
        '--innodb-flush-log-at-trx-commit=1',
        ...this.serverArgs,
      ],
      { stdio: 'ignore', env: { ...process.env, ...this.serverEnv } },
    );
    running.add(child);
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        running.delete(child);
        if (this.child === child) this.child = null;
        resolve();
      }),
    );
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (!this.child) {
        throw new Error(`mariadbd exited while starting: ${this.errorTail()}`);
      }
      try {
        const conn = await this.connect();
        await conn.query('SELECT 1');
        await conn.end();
        return;
      } catch (err) {
        if (Date.now() > until) {
          await this.stop('SIGKILL');
          throw new Error(
            `mariadbd did not accept connections in ${timeoutMs} ms (${(err as Error).message}): ${this.errorTail()}`,
          );
        }
        await sleep(100);
      }
    }
  }

  /**
   * Stops the server: SIGKILL (a crash: no clean shutdown, InnoDB recovers at the next start)
   * or SIGTERM (a clean shutdown; SIGKILL after timeoutMs). Resolves once it has exited.
   */
  async stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGTERM', timeoutMs = 30_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** A connection as root (the caller ends it). */
  connect(database?: string): Promise<Connection> {
    return createConnection({
      host: '127.0.0.1',
      port: this.port,
      user: 'root',
      database,
      connectTimeout: 2_000,
      supportBigNumbers: true,
      bigNumberStrings: true,
      timezone: 'Z',
    });
  }

  /** A database on this server with radgraph's migrations applied, as a TestDatabase. */
  async createDatabase(name: string): Promise<TestDatabase> {
    const admin = await this.connect();
    try {
      await admin.query(
        `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`,
      );
    } finally {
      await admin.end();
    }
    const url = this.url(name);
    const config = parseDatabaseUrl(url, tmpdir());
    const openDataSource = async () => {
      const ds = await createDataSource(config);
      await ds.initialize();
      return ds;
    };
    const db: TestDatabase = {
      kind: 'mysql',
      url,
      database: name,
      config,
      mysql: { host: '127.0.0.1', port: this.port, user: 'root', password: '' },
      // A connection per query: the server may have been restarted since the last one.
      query: async <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
        const conn = await this.connect(name);
        try {
          const [rows] = await conn.query(sql, params);
          return rows as T[];
        } finally {
          await conn.end();
        }
      },
      migrate: async () => {
        const ds = await openDataSource();
        try {
          await ds.runMigrations({ transaction: 'each' });
        } finally {
          await ds.destroy();
        }
      },
      openDataSource,
      drop: async () => {
        if (!this.child) return;
        const conn = await this.connect();
        try {
          await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
        } finally {
          await conn.end();
        }
      },
    };
    await db.migrate();
    return db;
  }

  /** Kills the server (if running) and removes its directory. Safe to call more than once. */
  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }

  private get errorLog(): string {
    return path.join(this.dir, 'mariadbd.err');
  }

  private errorTail(): string {
    try {
      return readFileSync(this.errorLog, 'utf8').slice(-2000);
    } catch {
      return '(no error log)';
    }
  }
}
