import { createConnection } from 'mysql2/promise';
import { BatchConnections } from '../../src/radius/accounting/batch-connections';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * The accounting listener's own MySQL connections against a MariaDB that stops answering
 * without closing anything (a hung server, or a partition): a batch fails after the query
 * timeout instead of holding the listener for as long as TCP takes to give up, and the next
 * batch gets a new connection. A batch that timed out while the server was reachable (held by
 * a lock) never commits afterwards.
 */
describe('batch connections', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let batches: BatchConnections;

  beforeAll(async () => {
    db = await createTestDatabase('mysql', { migrate: false });
    proxy = await startTcpProxy(db.mysql!.port);
    const url = new URL(db.url);
    url.port = String(proxy.port);
    batches = new BatchConnections(url.toString(), 500);
  });

  afterAll(async () => {
    proxy?.thaw();
    await batches?.close();
    await proxy?.close();
    await db?.drop();
  });

  const origin = () =>
    batches.run(async (query) => {
      const [rows] = await query([{ sql: 'SELECT @rg_origin AS origin', params: [] }]);
      return (rows as Array<{ origin: unknown }>)[0].origin;
    });

  it('fails a request that gets no answer after the timeout, then connects again', async () => {
    expect(Number(await origin())).toBe(1); // the session is set up as the listener's

    proxy.freeze();
    const started = Date.now();
    await expect(origin()).rejects.toMatchObject({ code: 'PROTOCOL_SEQUENCE_TIMEOUT' });
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(450);
    expect(waited).toBeLessThan(5_000);

    proxy.thaw();
    expect(Number(await origin())).toBe(1); // a new connection, set up again
  });

  it('warm() opens the connection the first batch then runs on; against no server it is silent', async () => {
    const admin = await createConnection({ ...db.mysql! });
    const ids = async () =>
      new Set(
        (
          (await admin.query('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ?', [
            db.database,
          ])) as unknown as [Array<{ id: number }>]
        )[0].map((r) => Number(r.id)),
      );
    const warmed = new BatchConnections(db.url, 5_000);
    try {
      const before = await ids();
      await warmed.warm();
      const opened = [...(await ids())].filter((id) => !before.has(id));
      expect(opened).toHaveLength(1);
      const used = await warmed.run(async (query) => {
        const [rows] = await query([{ sql: 'SELECT CONNECTION_ID() AS id', params: [] }]);
        return Number((rows as Array<{ id: unknown }>)[0].id);
      });
      expect(used).toBe(opened[0]);
    } finally {
      await warmed.close();
      await admin.end();
    }
    // A server that refuses: warm() resolves, and the first batch fails as it would have.
    await proxy.cut();
    const url = new URL(db.url);
    url.port = String(proxy.port);
    const refused = new BatchConnections(url.toString(), 500);
    try {
      await expect(refused.warm()).resolves.toBeUndefined();
      await expect(refused.run(() => Promise.resolve(1))).rejects.toMatchObject({
        code: 'ECONNREFUSED',
      });
    } finally {
      await refused.close();
      await proxy.restore();
    }
  });

  it('kills a request that timed out on a lock, so that it never commits once the lock is gone', async () => {
    await db.query('CREATE TABLE held (id INT PRIMARY KEY, a INT) ENGINE=InnoDB');
    await db.query('INSERT INTO held VALUES (1, 0)');
    const holder = await createConnection({ ...db.mysql!, database: db.database });
    try {
      await holder.query('START TRANSACTION');
      await holder.query('SELECT a FROM held WHERE id = 1 FOR UPDATE');
      const write = batches.run((query) =>
        query([
          { sql: 'START TRANSACTION', params: [] },
          { sql: 'UPDATE held SET a = a + 1 WHERE id = 1', params: [] },
          { sql: 'COMMIT', params: [] },
        ]),
      );
      await expect(write).rejects.toMatchObject({ code: 'PROTOCOL_SEQUENCE_TIMEOUT' });
      await holder.query('COMMIT');
      // Had it been left running, its UPDATE would now get the lock and commit.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await db.query('SELECT a FROM held')).toEqual([{ a: 0 }]);
      expect(Number(await origin())).toBe(1); // and the next batch connects again
    } finally {
      await holder.end();
    }
  });
});
