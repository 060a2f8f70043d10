import * as path from 'node:path';
import { createConnection } from 'mysql2/promise';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { DatabaseConfig } from '../config/app-config';
import { makeDataDir } from '../config/data-dir';
import { ENTITIES } from './entities';
import { MYSQL_MIGRATIONS } from './migrations/mysql';
import { SQLITE_MIGRATIONS } from './migrations/sqlite';
import { RadgraphNamingStrategy } from './naming.strategy';
import { zeroDatesAsNull } from './zero-dates';

/**
 * The one place that turns a DatabaseConfig into TypeORM options. The app, the migration
 * CLI (ormconfig.ts) and the tests all go through it, so they cannot drift apart.
 * `synchronize` is off everywhere: the committed migrations are the schema.
 */
export async function buildDataSourceOptions(
  db: DatabaseConfig,
  opts: { runMigrations?: boolean } = {},
): Promise<DataSourceOptions> {
  const common = {
    entities: ENTITIES,
    synchronize: false,
    migrationsRun: opts.runMigrations ?? false,
    migrationsTableName: 'radgraph_migrations',
    migrationsTransactionMode: 'each' as const,
    // TypeORM's own query logging prints parameters (passwords, secrets): never on.
    logging: false,
  };
  if (db.kind === 'mysql') {
    return {
      ...common,
      // TypeORM reads MariaDB's information_schema differently from MySQL's (quoted
      // defaults, display widths), so it must know which one it talks to.
      type: await detectMysqlFlavor(db.url),
      url: db.url,
      // Exact 64-bit counters: BIGINT columns come back as strings, never as rounded numbers.
      supportBigNumbers: true,
      bigNumberStrings: true,
      charset: 'utf8mb4',
      timezone: 'Z',
      connectTimeout: 10_000,
      // TypeORM reads only the host, the user and the database from the URL: the options in
      // its query string (`?ssl=…` for TLS) reach its pool here, as they reach every other
      // connection radgraph makes from the URL (mysql2's own `uri`).
      // A zero date (an old tool's '0000-00-00 00:00:00' in radacct) reads as null.
      extra: { ...urlQueryOptions(db.url), connectionLimit: 10, typeCast: zeroDatesAsNull },
      migrations: MYSQL_MIGRATIONS,
      namingStrategy: new RadgraphNamingStrategy('mysql'),
    };
  }
  // Owner-only when radgraph makes it: the file holds customer passwords and NAS secrets.
  if (db.file !== ':memory:') makeDataDir(path.dirname(db.file), db.from ?? 'DATABASE_URL');
  return {
    ...common,
    type: 'better-sqlite3',
    database: db.file,
    enableWAL: true,
    prepareDatabase: (conn: SqliteConnection) => {
      conn.pragma('busy_timeout = 5000');
      conn.pragma('foreign_keys = ON');
      readIntegersExactly(conn);
    },
    migrations: SQLITE_MIGRATIONS,
    namingStrategy: new RadgraphNamingStrategy('sqlite'),
  };
}

/** radgraph's own connection settings, which a DATABASE_URL query string cannot change. */
const FIXED_OPTIONS = new Set([
  'host',
  'port',
  'database',
  'user',
  'password',
  'supportBigNumbers',
  'bigNumberStrings',
  'charset',
  'timezone',
  'connectTimeout',
  'connectionLimit',
  'typeCast',
]);

/**
 * The connection options in a mysql:// URL's query string, read as mysql2 reads its `uri`
 * (a JSON value, else the string): `?ssl={"rejectUnauthorized":true}` is `{ ssl: {…} }`.
 */
export function urlQueryOptions(url: string): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [key, value] of new URL(url).searchParams) {
    if (FIXED_OPTIONS.has(key)) continue;
    try {
      options[key] = JSON.parse(value);
    } catch {
      options[key] = value;
    }
  }
  return options;
}

/**
 * Asks the server what it is: `SELECT VERSION()` ends in "-MariaDB" on MariaDB. A server
 * that does not answer is an error that names DATABASE_URL's host.
 */
export async function detectMysqlFlavor(url: string): Promise<'mysql' | 'mariadb'> {
  if (url.startsWith('mariadb:')) return 'mariadb';
  let conn;
  try {
    conn = await createConnection({ uri: url, connectTimeout: 10_000 });
  } catch (err) {
    const u = new URL(url);
    throw new DatabaseUnreachableError(
      `Cannot connect to the database at ${u.hostname}:${u.port || 3306} named by DATABASE_URL: ${(err as Error).message}`,
    );
  }
  try {
    const [rows] = await conn.query('SELECT VERSION() AS v');
    const version = String((rows as Array<{ v: string }>)[0]?.v ?? '');
    return /mariadb/i.test(version) ? 'mariadb' : 'mysql';
  } finally {
    await conn.end();
  }
}

export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';
}

/** The DataSource (not yet initialized) for a DatabaseConfig. */
export async function createDataSource(
  db: DatabaseConfig,
  opts: { runMigrations?: boolean } = {},
): Promise<DataSource> {
  return newDataSource(await buildDataSourceOptions(db, opts));
}

/**
 * `new DataSource(options)`, the one place every DataSource is made (the app's
 * TypeOrmModule uses it as its dataSourceFactory). For SQLite it teaches TypeORM two things
 * about FreeRADIUS's schema:
 * - `char(2)` and `timestamp(6)` are type names SQLite accepts (TEXT and NUMERIC affinity,
 *   as in FreeRADIUS's own sqlite schema.sql), though TypeORM's SQLite driver does not list
 *   them;
 * - an auto-increment primary key must be declared `integer` (SQLite's 64-bit rowid), so the
 *   MySQL `bigint` of radacct.radacctid is `integer` there;
 * - radacct.rg_seen_at, which MySQL keeps with `DEFAULT CURRENT_TIMESTAMP ON UPDATE
 *   CURRENT_TIMESTAMP`, has no default in the table there (it is not a change to make): SQLite cannot ADD COLUMN with a non-constant
 *   default, so triggers keep it instead.
 */
export function newDataSource(options: DataSourceOptions): DataSource {
  const dataSource = new DataSource(options);
  if (options.type === 'mysql' || options.type === 'mariadb') serializeMigrations(dataSource);
  const driver = dataSource.driver;
  if (options.type === 'better-sqlite3' && !driver.supportedDataTypes.includes('char')) {
    driver.supportedDataTypes.push('char', 'timestamp');
    driver.withLengthColumnTypes.push('char');
    driver.withPrecisionColumnTypes.push('timestamp');
    const normalizeType = driver.normalizeType.bind(driver);
    driver.normalizeType = (column) =>
      column.type === 'bigint' && isGeneratedPrimary(column) ? 'integer' : normalizeType(column);
    const findChangedColumns = driver.findChangedColumns.bind(driver);
    driver.findChangedColumns = (tableColumns, columns) =>
      findChangedColumns(tableColumns, columns).filter((c) => !isTriggerMaintained(c));
  }
  return dataSource;
}

/** How long an instance waits for another one's migrations before it gives up. */
const MIGRATION_LOCK_TIMEOUT_SECONDS = 600;

/**
 * Migrations on MySQL/MariaDB run under a named lock of the database (GET_LOCK): several
 * instances that start at once (replicas, all with RUN_MIGRATIONS=true) take turns, and the
 * ones after the first find nothing pending. Without it each one runs every pending migration
 * (TypeORM takes no lock), and MySQL's DDL is not transactional. The lock goes with its
 * connection, so an instance that dies while it holds it frees it.
 */
function serializeMigrations(dataSource: DataSource): void {
  const runMigrations = dataSource.runMigrations.bind(dataSource);
  dataSource.runMigrations = async (options) => {
    const runner = dataSource.createQueryRunner();
    try {
      // One lock per database (a lock name is server-wide, and at most 64 characters).
      const [row] = (await runner.query(
        "SELECT GET_LOCK(CONCAT('radgraph_migrations_', MD5(DATABASE())), ?) AS got",
        [MIGRATION_LOCK_TIMEOUT_SECONDS],
      )) as Array<{ got: number | string | null }>;
      if (Number(row?.got) !== 1) {
        throw new Error(
          `Another instance has been running the migrations for ${MIGRATION_LOCK_TIMEOUT_SECONDS} s; not running them alongside it`,
        );
      }
      try {
        return await runMigrations(options);
      } finally {
        await runner
          .query("SELECT RELEASE_LOCK(CONCAT('radgraph_migrations_', MD5(DATABASE())))")
          .catch(() => undefined);
      }
    } finally {
      await runner.release();
    }
  };
}

/** Columns SQLite keeps by triggers (see radacct-change-triggers.ts), not by a default. */
const TRIGGER_MAINTAINED = new Set(['radacct.rg_seen_at']);

function isTriggerMaintained(column: ColumnMetadata): boolean {
  return TRIGGER_MAINTAINED.has(`${column.entityMetadata.tableName}.${column.databaseName}`);
}

function isGeneratedPrimary(column: unknown): boolean {
  return column instanceof ColumnMetadata && column.isPrimary && column.isGenerated;
}

interface SqliteStatement {
  reader: boolean;
  safeIntegers(on: boolean): unknown;
  all(...params: unknown[]): unknown[];
  get(...params: unknown[]): unknown;
}
interface SqliteConnection {
  pragma(source: string): unknown;
  prepare(source: string): SqliteStatement;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

function exactValue(value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  return value <= MAX_SAFE && value >= MIN_SAFE ? Number(value) : value.toString();
}

function exactRow(row: unknown): unknown {
  if (row === null || typeof row !== 'object') return exactValue(row);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key] = exactValue(value);
  return out;
}

/**
 * better-sqlite3 reads INTEGER as a JS number, which rounds past 2^53 (a 64-bit octet
 * counter or data limit). Every reading statement here reads integers exactly instead: as
 * numbers while they are safe, as decimal strings beyond (as mysql2's bigNumberStrings does),
 * so the BigInt columns are exact on SQLite too.
 */
function readIntegersExactly(conn: SqliteConnection): void {
  const prepare = conn.prepare.bind(conn);
  conn.prepare = (source: string) => {
    const stmt = prepare(source);
    if (stmt.reader) {
      stmt.safeIntegers(true);
      const all = stmt.all.bind(stmt);
      const get = stmt.get.bind(stmt);
      stmt.all = (...params: unknown[]) => all(...params).map(exactRow);
      stmt.get = (...params: unknown[]) => exactRow(get(...params));
    }
    return stmt;
  };
}
