import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { createPool, Pool } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { DatabaseConfig, parseDatabaseUrl } from '../../src/config/app-config';
import { createDataSource } from '../../src/database/data-source-options';

export interface TestDatabase {
  kind: 'mysql' | 'sqlite';
  /** DATABASE_URL for radgraph: mysql://… or sqlite:/abs/path */
  url: string;
  /** The MySQL database name, or the SQLite file. */
  database: string;
  config: DatabaseConfig;
  mysql?: { host: string; port: number; user: string; password: string };
  query<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs radgraph's migrations (createTestDatabase does, unless told not to). */
  migrate(): Promise<void>;
  /** A TypeORM DataSource on this database, initialized; the caller destroys it. */
  openDataSource(): Promise<DataSource>;
  drop(): Promise<void>;
}

const DEFAULT_TEST_DATABASE_URL = 'mysql://root@127.0.0.1:3306';

const MARIADB_HOWTO =
  'Integration tests need MariaDB/MySQL. Start the local one with ' +
  '`start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd`, install it with ' +
  '`apt-get install -y mariadb-server`, or point TEST_DATABASE_URL at a server ' +
  '(mysql://user:password@host:port) where the user may CREATE and DROP databases.';

function mysqlServer(): { host: string; port: number; user: string; password: string } {
  const url = new URL(process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL);
  return {
    host: url.hostname,
    port: url.port === '' ? 3306 : Number(url.port),
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
  };
}

async function adminPool(): Promise<Pool> {
  const server = mysqlServer();
  const pool = createPool({ ...server, connectionLimit: 2, multipleStatements: true });
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(
      `Cannot reach MariaDB at ${server.host}:${server.port} (${(err as Error).message}). ${MARIADB_HOWTO}`,
    );
  }
  return pool;
}

async function migrateDatabase(config: DatabaseConfig): Promise<void> {
  const ds = await createDataSource(config);
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}

async function openDataSource(config: DatabaseConfig): Promise<DataSource> {
  const ds = await createDataSource(config);
  await ds.initialize();
  return ds;
}

/**
 * A database of its own for one test file: a uniquely named MariaDB database, or a SQLite
 * file in a temp dir, with radgraph's migrations applied unless `migrate: false`. `drop()`
 * removes it. A missing MariaDB is an error that says how to get one, never a skip.
 */
export async function createTestDatabase(
  kind: 'mysql' | 'sqlite',
  opts: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const db = kind === 'mysql' ? await createMysql() : createSqlite();
  if (opts.migrate !== false) await db.migrate();
  return db;
}

async function createMysql(): Promise<TestDatabase> {
  const server = mysqlServer();
  const admin = await adminPool();
  const name = `radgraph_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
  const pool = createPool({
    ...server,
    database: name,
    connectionLimit: 4,
    multipleStatements: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    timezone: 'Z',
  });
  const auth = server.password
    ? `${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}`
    : encodeURIComponent(server.user);
  const url = `mysql://${auth}@${server.host}:${server.port}/${name}`;
  const config = parseDatabaseUrl(url, tmpdir());
  return {
    kind: 'mysql',
    url,
    database: name,
    config,
    mysql: server,
    async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
      const [rows] = await pool.query(sql, params);
      return rows as T[];
    },
    migrate: () => migrateDatabase(config),
    openDataSource: () => openDataSource(config),
    async drop() {
      await pool.end();
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await admin.end();
    },
  };
}

function createSqlite(): TestDatabase {
  const dir = mkdtempSync(path.join(tmpdir(), 'radgraph-test-'));
  const file = path.join(dir, 'radgraph.sqlite');
  const config: DatabaseConfig = { kind: 'sqlite', file };
  let conn: Database.Database | undefined;
  const open = () => (conn ??= new Database(file));
  return {
    kind: 'sqlite',
    url: `sqlite:${file}`,
    database: file,
    config,
    query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
      const stmt = open().prepare(sql);
      if (stmt.reader) return Promise.resolve(stmt.all(...params) as T[]);
      stmt.run(...params);
      return Promise.resolve([]);
    },
    migrate: () => migrateDatabase(config),
    openDataSource: () => openDataSource(config),
    drop() {
      conn?.close();
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}
