import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { createConnection } from 'mysql2/promise';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import type { DatabaseConfig } from '../config/app-config';
import { ENTITIES } from './entities';
import { MYSQL_MIGRATIONS } from './migrations/mysql';
import { SQLITE_MIGRATIONS } from './migrations/sqlite';
import { RadgraphNamingStrategy } from './naming.strategy';

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
    logging: ['error' as const],
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
      extra: { connectionLimit: 10 },
      migrations: MYSQL_MIGRATIONS,
      namingStrategy: new RadgraphNamingStrategy('mysql'),
    };
  }
  if (db.file !== ':memory:') mkdirSync(path.dirname(db.file), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: db.file,
    enableWAL: true,
    prepareDatabase: (conn: { pragma(s: string): unknown }) => {
      conn.pragma('busy_timeout = 5000');
      conn.pragma('foreign_keys = ON');
    },
    migrations: SQLITE_MIGRATIONS,
    namingStrategy: new RadgraphNamingStrategy('sqlite'),
  };
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
 *   MySQL `bigint` of radacct.radacctid is `integer` there.
 */
export function newDataSource(options: DataSourceOptions): DataSource {
  const dataSource = new DataSource(options);
  const driver = dataSource.driver;
  if (options.type === 'better-sqlite3' && !driver.supportedDataTypes.includes('char')) {
    driver.supportedDataTypes.push('char', 'timestamp');
    driver.withLengthColumnTypes.push('char');
    driver.withPrecisionColumnTypes.push('timestamp');
    const normalizeType = driver.normalizeType.bind(driver);
    driver.normalizeType = (column) =>
      column.type === 'bigint' && isGeneratedPrimary(column) ? 'integer' : normalizeType(column);
  }
  return dataSource;
}

function isGeneratedPrimary(column: unknown): boolean {
  return column instanceof ColumnMetadata && column.isPrimary && column.isGenerated;
}
