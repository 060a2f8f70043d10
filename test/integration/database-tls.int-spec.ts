import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { DataSource } from 'typeorm';
import { parseDatabaseUrl } from '../../src/config/app-config';
import { createDataSource } from '../../src/database/data-source-options';
import { PrivateMariaDb } from '../support/private-mariadb';

/**
 * TLS to the database, as DATABASE_URL asks for it (mysql2's `ssl` option in the query string):
 * every connection radgraph makes uses it, TypeORM's pool included, on a private MariaDB whose
 * user requires it (`REQUIRE SSL`).
 */
/** openssl, or a failure that says how to get it (scripts/test-all.sh installs it). */
function openssl(args: string[], options: Parameters<typeof execFileSync>[2]): void {
  try {
    execFileSync('openssl', args, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('this test needs openssl: apt-get install -y openssl');
    }
    throw err;
  }
}

describe('DATABASE_URL with ?ssl=', () => {
  let dir: string;
  let server: PrivateMariaDb;
  let ca: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'radgraph-tls-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    // A self-signed certificate for 127.0.0.1, which is then its own CA.
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        key,
        '-out',
        cert,
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    ca = readFileSync(cert, 'utf8');
    server = await PrivateMariaDb.create([`--ssl-cert=${cert}`, `--ssl-key=${key}`]);
    const admin = await server.connect();
    try {
      await admin.query('CREATE DATABASE radgraph_tls');
      await admin.query(`CREATE USER 'tls'@'127.0.0.1' IDENTIFIED BY 'tls-only-pw' REQUIRE SSL`);
      await admin.query(`GRANT ALL ON radgraph_tls.* TO 'tls'@'127.0.0.1'`);
    } finally {
      await admin.end();
    }
  }, 120_000);

  afterAll(async () => {
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("opens TypeORM's pool over TLS, verified against the given CA, and migrates", async () => {
    const ssl = encodeURIComponent(JSON.stringify({ ca, rejectUnauthorized: true }));
    const url = `mysql://tls:tls-only-pw@127.0.0.1:${server.port}/radgraph_tls?ssl=${ssl}`;
    let ds: DataSource | undefined;
    try {
      ds = await createDataSource(parseDatabaseUrl(url, dir), { runMigrations: true });
      await ds.initialize();
      const status = await ds.query<Array<{ Value: string }>>(
        "SHOW SESSION STATUS LIKE 'Ssl_cipher'",
      );
      expect(status[0]?.Value).not.toBe('');
      const tables = await ds.query<unknown[]>("SHOW TABLES LIKE 'radcheck'");
      expect(tables).toHaveLength(1);
    } finally {
      if (ds?.isInitialized) await ds.destroy();
    }
  });
});
