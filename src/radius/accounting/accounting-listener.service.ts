import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { LogThrottle } from '../../common/logging/log-throttle';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.tokens';
import { SessionEventBus } from '../../sessions/events/session-event-bus.service';
import { loadRadiusDictionaries } from '../dictionary';
import { literalLookup } from '../literal-lookup';
import {
  checkFraming,
  decodeAccounting,
  encodeAccountingResponse,
  type AccountingRecord,
} from './accounting-request';
import { ListenerStats } from './listener-stats';
import { NasClients, normalizeAddress, type NasClient } from '../../nas/nas-clients';
import { MAX_IN_FLIGHT } from './batch-connections';
import { PacketDropError } from './packet-drop';
import { PartlyCommittedError, RadacctWriter, type CommittedChange } from './radacct-writer';
import { SourceRateLimiter } from './source-rate-limiter';
import { Metrics } from '../../metrics/metrics.service';
import { isLockConflict } from '../../database/database-errors';

/** Packets written in one transaction, at most. */
const MAX_BATCH = 500;
/** Packets waiting for the database, at most; more are dropped (the NAS retransmits). */
const MAX_QUEUE = 20_000;
const RECV_BUFFER = 4 * 1024 * 1024;
/** How long an answer is kept to re-send for a retransmit (FreeRADIUS's cleanup_delay). */
const ANSWER_CACHE_MS = 5_000;

interface Pending {
  key: string;
  /** The NAS (its nasname), for metrics. */
  nas: string;
  /** When it arrived (performance.now()), for the ingest latency. */
  at: number;
  record: AccountingRecord;
  /** Its Accounting-Response, made on arrival and sent once the batch has committed. */
  response: Buffer;
  to: RemoteInfo;
}

type Seen = { nas: string } & ({ answer: null } | { answer: Buffer; at: number });

/** Connection-level database errors: the whole batch failed, retrying packet by packet is futile. */
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CON_COUNT_ERROR',
  'SQLITE_BUSY',
]);

/**
 * radgraph's RADIUS accounting server (RFC 2866) on RADIUS_ACCT_HOST:RADIUS_ACCT_PORT.
 *
 * - Each source address may send RADIUS_ACCT_RATE_PER_SOURCE packets a second (a token bucket
 *   with a burst); more are dropped as rate-limited before anything else, so one noisy
 *   address cannot starve the others.
 * - A packet's source address must be a NAS of the nas table; its Request Authenticator is
 *   checked with that NAS's secret (read again, at most every 2 s, when it does not match: it
 *   may have changed through another instance). Anything else is dropped, counted and logged
 *   (rate limited); nothing a packet holds can throw out of the handler.
 * - Valid packets queue for the database and are written in batches, one transaction per
 *   batch (group commit): while one batch commits, the next gathers.
 * - The Accounting-Response goes out only after the batch committed; a failed write is never
 *   answered, so the NAS retransmits it. Then the batch's session events are published.
 * - A retransmit (same source, identifier and authenticator) of a packet being written is
 *   ignored, and one of a packet answered in the last 5 s gets the same answer again, so a
 *   retransmit never writes twice.
 */
@Injectable()
export class AccountingListener implements BeforeApplicationShutdown {
  private readonly log = new Logger('AccountingListener');
  readonly stats: ListenerStats;
  private socket: Socket | null = null;
  private readonly seen = new Map<string, Seen>();
  private queue: Pending[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** Sessions (acctuniqueid) of the batches in flight. */
  private readonly busy = new Set<string>();
  /** Session events go out in commit order, off the path of the next batch. */
  private publishing: Promise<void> = Promise.resolve();
  private sweeper: NodeJS.Timeout | null = null;
  /** Shutting down: no packet is taken, no batch started (see beforeApplicationShutdown). */
  private closing = false;
  private readonly limiter: SourceRateLimiter;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clients: NasClients,
    private readonly writer: RadacctWriter,
    private readonly bus: SessionEventBus,
    private readonly metrics: Metrics,
  ) {
    this.stats = new ListenerStats(this.log, metrics);
    const { perSecond, burst } = config.radiusAcctRateLimit;
    this.limiter = new SourceRateLimiter(perSecond, burst);
  }

  /** The bound address, or null when not listening. */
  address(): { address: string; port: number } | null {
    if (!this.socket) return null;
    const { address, port } = this.socket.address();
    return { address, port };
  }

  /** Binds the UDP socket; rejects with the socket error (EADDRINUSE) when it cannot. */
  async start(): Promise<void> {
    if (this.socket) return;
    this.closing = false;
    loadRadiusDictionaries();
    // The database connection, before the first batch needs it; not awaited (a database that
    // does not answer must not hold the bind up): a batch that comes first waits for it as it
    // would have for its own. (Not the NAS list: loaded now, a NAS row written just after the
    // start would be unknown until a miss may reload it, 2 s later.)
    void this.writer.warmUp();
    const host = this.config.radiusAcctHost;
    // A large receive buffer rides out bursts (a NAS reboot, many NAS devices at once) while a
    // batch commits; the kernel caps it at net.core.rmem_max.
    const socket = createSocket({
      type: isIPv6(host) ? 'udp6' : 'udp4',
      recvBufferSize: RECV_BUFFER,
      lookup: literalLookup,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.config.radiusAcctPort, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', (err) => this.log.error(`socket error: ${err.message}`));
    socket.on('message', (msg, rinfo) => {
      try {
        this.onMessage(msg, rinfo);
      } catch (err) {
        this.log.error(`unexpected error handling a packet: ${(err as Error).message}`);
      }
    });
    this.socket = socket;
    this.sweeper = setInterval(() => {
      this.sweepAnswers();
      this.limiter.sweep();
    }, ANSWER_CACHE_MS);
    this.sweeper.unref();
    const bound = this.address();
    this.log.log(`RADIUS accounting on udp ${bound?.address}:${bound?.port}`);
  }

  /**
   * Stops taking packets, lets the batches being written commit and answers them, then closes
   * the socket: a packet committed before the shutdown is answered, so the NAS does not send
   * it again to the next instance (which would write it twice). Packets still queued were not
   * written and are not answered: the NAS retransmits them. Before the application shuts down,
   * while the database and the event bus's transport are open: the events of the batches
   * committed meanwhile reach the other instances' subscribers.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.closing = true;
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    // Let any answer still on its way through dgram leave before the socket closes.
    await new Promise((resolve) => setImmediate(resolve));
    const socket = this.socket;
    this.socket = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    await this.publishing;
  }

  /**
   * A datagram: dropped, answered again (a retransmit) or queued. Synchronous while the NAS
   * list is fresh (no promise per packet); it waits for the nas table only as lookup() would.
   */
  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closing) return;
    this.stats.received++;
    const source = normalizeAddress(rinfo.address);
    const receivedAt = new Date();
    const at = performance.now();
    try {
      if (!this.limiter.take(source)) {
        throw new PacketDropError(
          'rate-limited',
          `more than ${this.config.radiusAcctRateLimit.perSecond} packets/s from this source`,
        );
      }
      checkFraming(msg);
      // The authenticator's 16 bytes as 16 one-byte characters (cheaper than 32 hex digits).
      const key = `${source}:${rinfo.port}:${msg[1]}:${msg.toString('latin1', 4, 20)}`;
      if (this.retransmit(key, rinfo)) return;
      const client = this.clients.lookupNow(source);
      if (client !== undefined) {
        this.accept(msg, rinfo, source, key, client, receivedAt, at);
        return;
      }
      this.clients
        .lookup(source)
        .then((found) => {
          // A retransmit may have arrived while the lookup waited for the nas table.
          if (this.retransmit(key, rinfo)) return;
          this.accept(msg, rinfo, source, key, found, receivedAt, at);
        })
        .catch((err: unknown) =>
          this.log.error(`unexpected error handling a packet: ${(err as Error).message}`),
        );
    } catch (err) {
      if (!(err instanceof PacketDropError)) throw err;
      this.stats.drop(err.reason, source, err.message, 'unknown');
    }
  }

  /**
   * A packet from `client` (null: no NAS has its address): decoded, then answered or queued.
   * One whose authenticator fails is checked once more (`rechecked`) against the nas table as
   * it is now, when NasClients may read it (recheck).
   */
  private accept(
    msg: Buffer,
    rinfo: RemoteInfo,
    source: string,
    key: string,
    client: NasClient | null,
    receivedAt: Date,
    at: number,
    rechecked = false,
  ): void {
    let nas = 'unknown';
    try {
      if (!client) throw new PacketDropError('unknown-nas', 'no nas row has this address');
      nas = source;
      const { packet, record } = decodeAccounting(msg, client.secret, source, receivedAt);
      if (record === null) {
        // A valid status type radacct has no query for: FreeRADIUS answers it (noop -> ok).
        this.answer(key, nas, encodeAccountingResponse(packet, client.secret), rinfo);
        this.metrics.accountingPackets.inc({ nas, result: 'ok' });
        return;
      }
      if (this.queue.length >= MAX_QUEUE) {
        throw new PacketDropError('overloaded', `${MAX_QUEUE} packets wait for the database`);
      }
      const response = encodeAccountingResponse(packet, client.secret);
      this.seen.set(key, { nas, answer: null });
      this.queue.push({ key, nas, at, record, response, to: rinfo });
      this.kick();
    } catch (err) {
      if (!(err instanceof PacketDropError)) throw err;
      if (err.reason === 'bad-authenticator' && client && !rechecked) {
        // The NAS's secret may have changed where this instance did not hear of it.
        const again = this.clients.recheck(source, client);
        if (again) {
          again
            .then((changed) => {
              if (!changed) this.stats.drop(err.reason, source, err.message, nas);
              else if (!this.retransmit(key, rinfo)) {
                this.accept(msg, rinfo, source, key, changed, receivedAt, at, true);
              }
            })
            .catch((e: unknown) =>
              this.log.error(`unexpected error handling a packet: ${(e as Error).message}`),
            );
          return;
        }
      }
      this.stats.drop(err.reason, source, err.message, nas);
    }
  }

  /**
   * Starts batches while fewer than MAX_IN_FLIGHT are being written. Two batches never hold
   * the same session, so each session's packets still commit in order; an Accounting-On/Off
   * (which closes a NAS's sessions) waits until nothing else is in flight and goes first.
   * A batch frees its place as soon as it has committed, before its answers go out: the next
   * batch is then sent to the database first, and is written while this one is answered.
   */
  private kick(): void {
    if (this.closing) return;
    while (this.inFlight.size < MAX_IN_FLIGHT && this.queue.length > 0) {
      const batch = this.takeBatch();
      if (batch.length === 0) return;
      const sessions = batch.map((p) => p.record.acctUniqueId);
      for (const uid of sessions) this.busy.add(uid);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        for (const uid of sessions) this.busy.delete(uid);
        this.inFlight.delete(done);
        this.kick();
      };
      const done: Promise<void> = this.writeBatch(batch, release).finally(release);
      this.inFlight.add(done);
    }
  }

  /** The next batch: queued packets in order, skipping sessions a batch in flight holds. */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    const skipped: Pending[] = [];
    const blocked = new Set<string>();
    let i = 0;
    for (; i < this.queue.length && batch.length < MAX_BATCH; i++) {
      const p = this.queue[i];
      if (p.record.status === 'Accounting-On' || p.record.status === 'Accounting-Off') {
        if (batch.length === 0 && skipped.length === 0 && this.inFlight.size === 0) {
          batch.push(p);
          i++;
        }
        break; // nothing after it may overtake it
      }
      const uid = p.record.acctUniqueId;
      if (this.busy.has(uid) || blocked.has(uid)) {
        blocked.add(uid); // and every later packet of that session waits too
        skipped.push(p);
        continue;
      }
      batch.push(p);
    }
    this.queue = skipped.concat(this.queue.slice(i));
    return batch;
  }

  /** Writes a batch, then answers it; `release` is called once it has committed, first. */
  private async writeBatch(batch: Pending[], release: () => void = () => {}): Promise<void> {
    let changes: CommittedChange[];
    try {
      changes = await this.writeRetryingDeadlocks(batch);
    } catch (err) {
      if (err instanceof PartlyCommittedError) {
        // Never written again: only the packets that were not written go unanswered.
        const unwritten = (p: Pending) => err.unwritten.has(p.record.acctUniqueId);
        release();
        this.failed(batch.filter(unwritten), err.cause);
        const committed = batch.filter((p) => !unwritten(p));
        if (committed.length > 0) this.written(committed, err.committed);
        return;
      }
      if (batch.length === 1 || isConnectionError(err)) {
        this.failed(batch, err);
        return;
      }
      // Something in the batch was refused: write the packets one by one, so one bad packet
      // cannot hold back the others.
      for (const p of batch) await this.writeBatch([p]);
      return;
    }
    release();
    this.written(batch, changes);
  }

  /** Packets whose write committed: answered, counted, and their events published. */
  private written(batch: Pending[], changes: CommittedChange[]): void {
    this.committed(batch);
    this.metrics.batchPackets.observe(batch.length);
    this.publishing = this.publishing
      .then(async () => {
        await this.bus.publish(await this.writer.rows(changes));
      })
      .catch((err: unknown) =>
        this.log.error(`cannot publish session events: ${(err as Error).message}`),
      );
  }

  /**
   * A deadlock (or lock wait timeout) rolled the batch back whole: it is tried again. Not a
   * batch that partly committed (its failure may be a deadlock too).
   */
  private async writeRetryingDeadlocks(batch: Pending[]): Promise<CommittedChange[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.writer.write(batch.map((p) => p.record));
      } catch (err) {
        if (attempt >= 3 || err instanceof PartlyCommittedError || !isLockConflict(err)) {
          throw err;
        }
      }
    }
  }

  private committed(batch: Pending[]): void {
    this.stats.written += batch.length;
    const now = performance.now();
    // The packets counted once per NAS for the batch, not once each (the same totals).
    const byNas = new Map<string, number>();
    for (const p of batch) {
      this.answer(p.key, p.nas, p.response, p.to);
      byNas.set(p.nas, (byNas.get(p.nas) ?? 0) + 1);
      this.metrics.ingestSeconds.observe((now - p.at) / 1000);
    }
    for (const [nas, n] of byNas) this.metrics.accountingPackets.inc({ nas, result: 'ok' }, n);
  }

  private failed(batch: Pending[], err: unknown): void {
    const detail = `database write failed, not answered (the NAS retransmits): ${(err as Error).message}`;
    for (const p of batch) {
      this.seen.delete(p.key);
      this.stats.drop('write-failed', normalizeAddress(p.to.address), detail, p.nas);
    }
  }

  /**
   * A packet seen before (written, being written, or answered in the last 5 s) is a
   * duplicate: answered again when it was answered, never written again.
   */
  private retransmit(key: string, rinfo: RemoteInfo): boolean {
    const seen = this.seen.get(key);
    if (!seen) return false;
    this.stats.duplicate(seen.nas);
    if (seen.answer) this.send(seen.answer, rinfo);
    return true;
  }

  /** Answers a packet for the first time (`answered` counts these; a re-send is a duplicate). */
  private answer(key: string, nas: string, response: Buffer, to: RemoteInfo): void {
    this.seen.set(key, { nas, answer: response, at: Date.now() });
    this.stats.answered++;
    this.send(response, to);
  }

  private send(response: Buffer, to: RemoteInfo): void {
    this.socket?.send(response, to.port, to.address, this.sent);
  }

  /**
   * One callback for every send (not a closure each): dgram drops a failed send's error
   * unless there is a callback. Logged at most every 10 s, with how many failed meanwhile.
   */
  private readonly sent = (err: Error | null): void => {
    if (!err) return;
    const skipped = this.sendFailures.admit();
    if (skipped === undefined) return;
    this.log.warn(`cannot send ${skipped + 1} answer(s): ${err.message}`);
  };
  private readonly sendFailures = new LogThrottle();

  private sweepAnswers(): void {
    const before = Date.now() - ANSWER_CACHE_MS;
    for (const [key, seen] of this.seen) {
      if (seen.answer && seen.at < before) this.seen.delete(key);
    }
  }
}

function hasCode(err: unknown, codes: ReadonlySet<string>): boolean {
  const code = (err as { code?: unknown }).code;
  const driverCode = (err as { driverError?: { code?: unknown } }).driverError?.code;
  return [code, driverCode].some((c) => typeof c === 'string' && codes.has(c));
}

/** The server or the connection failed (mysql2 marks such errors `fatal`, some without a code). */
function isConnectionError(err: unknown): boolean {
  return hasCode(err, CONNECTION_ERRORS) || (err as { fatal?: unknown }).fatal === true;
}
