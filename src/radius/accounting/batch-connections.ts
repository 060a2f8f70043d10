import type { Connection as CallbackConnection } from 'mysql2';
import { createPool, type Pool, type PoolConnection } from 'mysql2/promise';
import type { Statement } from './radacct-sql';

/**
 * Batches the listener writes at once; each has one of the connections below. One: while it
 * commits, the next batch gathers every packet that arrives, so batches are about twice as
 * large as with two in flight and each packet pays half the per-batch cost (the requests,
 * the statements' parsing and planning, the commit) in radgraph and MariaDB. With one request
 * per batch there is little latency left for a second batch to hide (and the listener sends
 * the next batch before answering the last): in bench/ingest.ts one in flight gave more
 * packets/s than two at windows 64 and 256, with about a fifth less CPU per packet.
 */
export const MAX_IN_FLIGHT = 1;

/** Sends statements in one request, run in order; one result per statement. */
export type MultiQuery = (statements: readonly Statement[]) => Promise<unknown[]>;

/**
 * The accounting listener's own MySQL connections (MAX_IN_FLIGHT of them), so that a batch
 * costs two round trips instead of about ten:
 * - each connection is READ COMMITTED and marks its radacct writes as radgraph's
 *   (`@rg_origin`, see sessions/feed/radacct-origin.ts) for its whole life, set once when it
 *   connects instead of around every transaction;
 * - `multipleStatements` lets a batch send `START TRANSACTION` with its state read, then all
 *   its writes with `COMMIT`, in one request each.
 *
 * Only RadacctWriter's own statements run here, with every value escaped by mysql2's
 * placeholders; nothing else in radgraph gets multipleStatements or these session settings.
 * A connection that failed mid-transaction is rolled back, or dropped when it cannot be, so
 * the next batch never inherits half a transaction. A dead server shows as the driver's
 * connection error (ECONNREFUSED, PROTOCOL_CONNECTION_LOST...), and the pool reconnects when
 * it is back.
 */
export class BatchConnections {
  private readonly pool: Pool;
  private readonly active = new Set<Promise<unknown>>();
  /** Connections whose session is set up (by the driver's connection, which outlives a lease). */
  private readonly ready = new WeakSet<object>();
  private closed: Promise<void> | null = null;

  constructor(url: string) {
    this.pool = createPool({
      uri: url,
      connectionLimit: MAX_IN_FLIGHT,
      multipleStatements: true,
      // As the app's TypeORM connections (database/data-source-options.ts).
      supportBigNumbers: true,
      bigNumberStrings: true,
      charset: 'utf8mb4',
      timezone: 'Z',
      connectTimeout: 10_000,
    });
  }

  /**
   * Runs `work` on a connection of its own. `work` starts and commits its transaction; when
   * it throws, whatever it left open is rolled back.
   */
  run<T>(work: (query: MultiQuery) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the batch connections are closed'));
    const done = this.runOnConnection(work);
    const settled = done.catch(() => undefined);
    this.active.add(settled);
    void settled.finally(() => this.active.delete(settled));
    return done;
  }

  /** Ends the connections once the transactions running on them are over. */
  close(): Promise<void> {
    this.closed ??= Promise.all(this.active).then(() => this.pool.end());
    return this.closed;
  }

  private async runOnConnection<T>(work: (query: MultiQuery) => Promise<T>): Promise<T> {
    const conn = await this.pool.getConnection();
    if (!this.ready.has(conn.connection)) {
      try {
        await conn.query(
          'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED; SET @rg_origin = 1',
        );
      } catch (err) {
        conn.destroy();
        throw err;
      }
      this.ready.add(conn.connection);
    }
    const query: MultiQuery = (statements) =>
      new Promise((resolve, reject) => {
        // The driver's own connection, with a callback: the promise wrapper captures a stack
        // trace for every query, a cost paid on each batch.
        (conn.connection as unknown as CallbackConnection).query(
          statements.map((s) => s.sql).join(';\n'),
          statements.flatMap((s) => s.params),
          (err, results) => {
            if (err) reject(err);
            // One statement gives its result alone; several give a list of them.
            else resolve(statements.length === 1 ? [results] : (results as unknown[]));
          },
        );
      });
    try {
      const result = await work(query);
      conn.release();
      return result;
    } catch (err) {
      await rollbackOrDrop(conn);
      throw err;
    }
  }
}

async function rollbackOrDrop(conn: PoolConnection): Promise<void> {
  try {
    await conn.query('ROLLBACK');
    conn.release();
  } catch {
    conn.destroy();
  }
}
