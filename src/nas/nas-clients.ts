import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { NasRow } from '../database/freeradius';
import { NasAddressMatcher, normalizeAddress } from './nas-address-match';
import { NasChanges } from './nas-changes';

export { normalizeAddress };

/** A RADIUS client as FreeRADIUS reads it from the nas table: its address and shared secret. */
export interface NasClient {
  nasname: string;
  secret: string;
}

/**
 * One load of the nas table, as NasClients' listeners get it: each NAS's nasname by id, and
 * the load's number: a load numbered above what loadsStarted said at some moment began after
 * it, so it read the table as it was then or later.
 */
export interface NasNames {
  readonly seq: number;
  readonly byId: ReadonlyMap<string, string>;
}

/** How long a loaded client list is trusted, and how often a miss may reload it. */
export const REFRESH_MS = 30_000;
const MISS_RELOAD_MS = 2_000;

/**
 * The NAS routers allowed to send accounting, from FreeRADIUS's nas table, by source address:
 * a nasname that is an address matches exactly, one that is a network ("10.0.0.0/24")
 * matches its addresses, the longest prefix first, as FreeRADIUS's client lookup does.
 * The list is cached; a packet from an unknown address, or one that fails its authenticator,
 * reloads it (at most every 2 s), so a NAS added or a secret changed by another writer of the
 * nas table is known within seconds, and a spoofing flood cannot turn into a query per packet.
 * A change through radgraph's API (NasChanges: this instance's, and with REDIS_URL every
 * other instance's) invalidates it at once.
 */
@Injectable()
export class NasClients {
  private readonly log = new Logger('NasClients');
  private clients = new NasAddressMatcher<NasClient>([]);
  private loadedAt = 0;
  private loading: { seq: number; done: Promise<void> } | null = null;
  /** Counts the loads: what was derived from an older list (a cache) is stale. */
  private loads = 0;
  /** Loads begun; the one whose list is in use; loadsStarted when invalidated last. */
  private started = 0;
  private applied = 0;
  private invalidatedAt = 0;
  private readonly listeners = new Set<(names: NasNames) => void>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    changes: NasChanges,
  ) {
    changes.subscribe(() => this.invalidate());
  }

  /**
   * What lookup() would give without waiting for the nas table: the client, null when the
   * table has none, or undefined when lookup() would read the table first (the list is stale,
   * or a miss may reload it). The listener's hot path, without a promise per packet.
   */
  lookupNow(sourceAddress: string): NasClient | null | undefined {
    const address = normalizeAddress(sourceAddress);
    if (Date.now() - this.loadedAt > REFRESH_MS) return undefined;
    const client = this.find(address);
    if (!client && Date.now() - this.loadedAt > MISS_RELOAD_MS) return undefined;
    return client;
  }

  /** The client for a source address, or null when the nas table has none. */
  async lookup(sourceAddress: string): Promise<NasClient | null> {
    const address = normalizeAddress(sourceAddress);
    if (Date.now() - this.loadedAt > REFRESH_MS) await this.reload();
    let client = this.find(address);
    if (!client && Date.now() - this.loadedAt > MISS_RELOAD_MS) {
      await this.reload();
      client = this.find(address);
    }
    return client;
  }

  /**
   * After a packet from `client`'s address failed its authenticator: the client as the nas
   * table has it now, when that is another secret, else null. Its secret may have changed
   * where NasChanges does not hear of it (another tool, or another radgraph instance whose
   * change did not come through Redis): the list is read again, as for a miss, when it is older than 2 s;
   * otherwise (undefined, without a promise) the packet is simply dropped, and the NAS's
   * retransmit comes back when the list may be read.
   */
  recheck(sourceAddress: string, client: NasClient): Promise<NasClient | null> | undefined {
    if (Date.now() - this.loadedAt <= MISS_RELOAD_MS) return undefined;
    return this.reload().then(() => {
      const now = this.find(normalizeAddress(sourceAddress));
      return now && now.secret !== client.secret ? now : null;
    });
  }

  /** How many times the list was loaded; changes whenever it may have changed. */
  get generation(): number {
    return this.loads;
  }

  /** Whether the cached list is older than lookup() trusts (or was invalidated). */
  get stale(): boolean {
    return Date.now() - this.loadedAt > REFRESH_MS;
  }

  /**
   * Reads the nas table when the cached list is older than lookup() trusts, or than
   * `olderThanMs` when given.
   */
  async refresh(olderThanMs = REFRESH_MS): Promise<void> {
    if (Date.now() - this.loadedAt > olderThanMs) await this.reload();
  }

  /**
   * Forget the cached list: the next lookup reads the nas table (after a secret changed).
   * What others derived from it is stale now too (generation).
   */
  invalidate(): void {
    this.loadedAt = 0;
    this.loads++;
    this.invalidatedAt = this.started;
  }

  /** How many loads have begun: a load numbered above it reads the table from now on. */
  get loadsStarted(): number {
    return this.started;
  }

  /**
   * Calls `listener` after every load of the nas table, with each NAS's nasname by id: so it
   * learns of a NAS renamed or removed here or through any other instance or tool. Returns the
   * way to stop. It must not throw.
   */
  onLoad(listener: (names: NasNames) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private find(address: string): NasClient | null {
    return this.clients.find(address);
  }

  /**
   * Reads the nas table again. When the database does not answer, the list loaded last stays
   * in use (the NAS routers keep their secrets while MariaDB restarts) and the next attempt
   * waits as a miss does.
   */
  private reload(): Promise<void> {
    // A load begun before the last invalidate() may have read the table before the change:
    // another one reads it again.
    if (this.loading && this.loading.seq > this.invalidatedAt) return this.loading.done;
    const seq = ++this.started;
    const done = this.load(seq)
      .catch((err: unknown) => {
        this.loadedAt = Date.now() - REFRESH_MS + MISS_RELOAD_MS;
        this.log.warn(`cannot read the nas table, using the last list: ${(err as Error).message}`);
      })
      .finally(() => {
        if (this.loading?.seq === seq) this.loading = null;
      });
    this.loading = { seq, done };
    return done;
  }

  private async load(seq: number): Promise<void> {
    const rows = await this.dataSource
      .getRepository(NasRow)
      .find({ select: { id: true, nasname: true, secret: true } });
    // A load begun later finished first: its list is the newer one.
    if (seq < this.applied) return;
    const clients = new NasAddressMatcher(
      rows.map((row) => [row.nasname, { nasname: row.nasname, secret: row.secret }] as const),
    );
    for (const bad of clients.invalid) {
      this.log.warn(`nasname "${bad.nasname}" is not an address or network`);
    }
    this.clients = clients;
    this.applied = seq;
    // A list read before the last invalidate() is used, but not trusted (stale).
    if (seq > this.invalidatedAt) this.loadedAt = Date.now();
    this.loads++;
    const names: NasNames = { seq, byId: new Map(rows.map((r) => [String(r.id), r.nasname])) };
    for (const listener of this.listeners) listener(names);
  }
}
