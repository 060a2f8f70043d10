import { createConnection, type Connection } from 'mysql2';
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

/**
 * A batch's request that gets no answer for this long fails, and its connection is closed: a
 * MariaDB that hangs, or a network that drops everything without a reset, would otherwise hold
 * the listener's one batch (and every packet queued behind it) until TCP gives up, many
 * minutes later. The packets are not answered, so the NAS devices send them again.
 */
export const BATCH_QUERY_TIMEOUT_MS = 30_000;

/** How long the kill of a timed-out request's connection may take (see abandon). */
const KILL_TIMEOUT_MS = 2_000;

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
 * The connections are held open and handed out synchronously: a batch that starts when the
 * last one commits is on the wire before anything else runs (a pool's asynchronous
 * getConnection let the answers of the last batch, and the packets that had arrived, go
 * first: about 1.3 ms, a tenth of a batch's time, during which MariaDB waited).
 *
 * Only RadacctWriter's own statements run here, with every value escaped by mysql2's
 * placeholders; nothing else in radgraph gets multipleStatements or these session settings.
 * A connection that failed mid-transaction is rolled back, or dropped when it cannot be, so
 * the next batch never inherits half a transaction. A dead server shows as the driver's
 * connection error (ECONNREFUSED, PROTOCOL_CONNECTION_LOST...); the next batch connects
 * again.
 */
export class BatchConnections {
  /** Connected, set up and not in use. */
  private readonly idle: Connection[] = [];
  /** Connections that exist (idle or in use), or are being made. */
  private count = 0;
  /** Runs waiting for a connection when MAX_IN_FLIGHT are in use. */
  private readonly waiting: Array<() => void> = [];
  private readonly active = new Set<Promise<unknown>>();
  private closed: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly queryTimeoutMs = BATCH_QUERY_TIMEOUT_MS,
  ) {}

  /**
   * Runs `work` on a connection of its own. `work` starts and commits its transaction; when
   * it throws, whatever it left open is rolled back. With an idle connection, `work` starts
   * at once (synchronously).
   */
  run<T>(work: (query: MultiQuery) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the batch connections are closed'));
    const conn = this.idle.pop();
    const done = conn ? this.runOn(conn, work) : this.acquire().then((c) => this.runOn(c, work));
    const settled = done.catch(() => undefined);
    this.active.add(settled);
    void settled.finally(() => this.active.delete(settled));
    return done;
  }

  /**
   * Opens the first connection ahead of the first batch, so that the first packets after a
   * start (a NAS's retransmits pile up while radgraph restarts) do not also wait for a connect
   * and its setup. A failure is left to the first batch, which connects again.
   */
  async warm(): Promise<void> {
    if (this.closed || this.count > 0) return;
    // A run with nothing to do: close() waits for it like any other.
    await this.run(() => Promise.resolve()).catch(() => undefined);
  }

  /** Ends the connections once the transactions running on them are over. */
  close(): Promise<void> {
    // Runs waiting for a connection give up now (acquire() throws once closed).
    for (const wake of this.waiting.splice(0)) wake();
    this.closed ??= Promise.all(this.active).then(async () => {
      const ending = this.idle.splice(0).map(
        (conn) =>
          new Promise<void>((resolve) =>
            conn.end(() => {
              this.count--;
              resolve();
            }),
          ),
      );
      await Promise.all(ending);
    });
    return this.closed;
  }

  private async runOn<T>(conn: Connection, work: (query: MultiQuery) => Promise<T>): Promise<T> {
    const query: MultiQuery = (statements) =>
      new Promise((resolve, reject) => {
        conn.query(
          {
            sql: statements.map((s) => s.sql).join(';\n'),
            values: statements.flatMap((s) => s.params),
            timeout: this.queryTimeoutMs,
          },
          (err: Error | null, results: unknown) => {
            if (err) reject(err);
            // One statement gives its result alone; several give a list of them.
            else resolve(statements.length === 1 ? [results] : (results as unknown[]));
          },
        );
      });
    let result: T;
    try {
      result = await work(query);
    } catch (err) {
      // Timed out: the connection still waits for that answer; it cannot be used again.
      if ((err as { code?: unknown }).code === 'PROTOCOL_SEQUENCE_TIMEOUT')
        await this.abandon(conn);
      else await this.rollbackOrDrop(conn);
      throw err;
    }
    this.release(conn);
    return result;
  }

  /** An idle connection, a new one (up to MAX_IN_FLIGHT), or the next one released. */
  private async acquire(): Promise<Connection> {
    for (;;) {
      const conn = this.idle.pop();
      if (conn) return conn;
      if (this.count < MAX_IN_FLIGHT) return this.connect();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (this.closed) {
        this.wakeOne();
        throw new Error('the batch connections are closed');
      }
    }
  }

  private async connect(): Promise<Connection> {
    this.count++;
    let made: Connection | undefined;
    try {
      const conn = createConnection({
        uri: this.url,
        multipleStatements: true,
        // As the app's TypeORM connections (database/data-source-options.ts).
        supportBigNumbers: true,
        bigNumberStrings: true,
        charset: 'utf8mb4',
        timezone: 'Z',
        connectTimeout: 10_000,
        // No typeCast for zero dates here: it would be a closure and a call per field of every
        // row the batches read back; RadacctWriter's eventRows() clears them on the few
        // date fields instead.
      });
      made = conn;
      // A connection that dies while idle is dropped; one in use fails its query instead.
      conn.on('error', () => this.forget(conn));
      conn.on('end', () => this.forget(conn));
      await new Promise<void>((resolve, reject) =>
        conn.query(
          'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED; SET @rg_origin = 1',
          (err) => (err ? reject(err) : resolve()),
        ),
      );
      return conn;
    } catch (err) {
      made?.destroy(); // a connection whose setup failed is not left open, uncounted
      this.count--;
      this.wakeOne();
      throw err;
    }
  }

  private release(conn: Connection): void {
    if (dead(conn)) {
      this.drop(conn);
      return;
    }
    this.idle.push(conn);
    this.wakeOne();
  }

  private async rollbackOrDrop(conn: Connection): Promise<void> {
    if (dead(conn)) {
      this.drop(conn);
      return;
    }
    try {
      await new Promise<void>((resolve, reject) =>
        conn.query('ROLLBACK', (err) => (err ? reject(err) : resolve())),
      );
      this.release(conn);
    } catch {
      this.drop(conn);
    }
  }

  /**
   * A request that timed out is still running on the server, and would commit whenever what
   * held it (a row lock, a stalled disk) let go: after its packets went unanswered, so that the
   * NAS's retransmits would write them twice. So the connection is dropped, and its server
   * side killed from a connection of its own (KILL CONNECTION rolls its transaction back)
   * before the batch is reported failed. A server that cannot be reached within
   * KILL_TIMEOUT_MS is left alone: then the outcome is unknown, as for any request whose answer
   * was lost.
   */
  private async abandon(conn: Connection): Promise<void> {
    const id = conn.threadId;
    this.drop(conn);
    if (id === null) return;
    await new Promise<void>((resolve) => {
      const killer = createConnection({ uri: this.url, connectTimeout: KILL_TIMEOUT_MS });
      killer.on('error', () => undefined);
      killer.query({ sql: 'KILL CONNECTION ?', values: [id], timeout: KILL_TIMEOUT_MS }, () => {
        killer.destroy();
        resolve();
      });
    });
  }

  /** Closes a connection that cannot be used again, freeing its place. */
  private drop(conn: Connection): void {
    conn.destroy();
    this.forget(conn);
    this.count--;
    this.wakeOne();
  }

  /** An idle connection that died is closed and no longer handed out. */
  private forget(conn: Connection): void {
    const i = this.idle.indexOf(conn);
    if (i >= 0) {
      this.idle.splice(i, 1);
      conn.destroy();
      this.count--;
      this.wakeOne();
    }
  }

  private wakeOne(): void {
    this.waiting.shift()?.();
  }
}

/** A connection the driver has given up on (its socket closed or broken). */
function dead(conn: Connection): boolean {
  const state = conn as unknown as {
    _fatalError?: unknown;
    _protocolError?: unknown;
    _closing?: boolean;
  };
  return Boolean(state._fatalError || state._protocolError || state._closing);
}
