import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { RouterOsConnection, type Row } from './routeros-connection';
import {
  ROUTEROS_OPTIONS,
  RouterOsError,
  type PppActive,
  type RouterHealth,
  type RouterOsOptions,
  type RouterOsTarget,
  type TrafficSample,
} from './routeros.types';

const PPP_ACTIVE_PROPS = '.id,name,service,caller-id,address,uptime,session-id';

/**
 * The RouterOS API, over node-routeros, behind a small surface. One pooled connection per target
 * key: reused across calls, reopened lazily after a failure, replaced when the target's address or
 * credentials change, closed after idleCloseMs unused. Every call settles within
 * connectTimeoutMs + commandTimeoutMs, and every failure of the router's is a rejected
 * RouterOsError; a target whose stored password this SECRETS_KEY cannot open
 * (NasService.access opens it when it is used) rejects with SecretUnreadableError before any
 * connection.
 */
@Injectable()
export class RouterOsClient implements OnApplicationShutdown {
  private readonly logger = new Logger(RouterOsClient.name);
  private readonly pool = new Map<string, RouterOsConnection>();

  constructor(@Inject(ROUTEROS_OPTIONS) private readonly opts: RouterOsOptions) {}

  /** /system/identity/print and /system/resource/print (run concurrently: one time bound). */
  async identity(t: RouterOsTarget): Promise<RouterHealth> {
    const [identity, resource] = await this.call(t, (c) =>
      Promise.all([c.run(['/system/identity/print']), c.run(['/system/resource/print'])]),
    );
    return {
      identity: first(identity, '/system/identity/print').name ?? '',
      uptime: orNull(resource[0]?.uptime),
      version: orNull(resource[0]?.version),
    };
  }

  /** The active PPP sessions, only `name`'s when given. A RouterOS 7.18 `!empty` gives []. */
  async listActive(t: RouterOsTarget, name?: string): Promise<PppActive[]> {
    const words = ['/ppp/active/print', `=.proplist=${PPP_ACTIVE_PROPS}`];
    if (name !== undefined) words.push(`?name=${name}`);
    const rows = await this.call(t, (c) => c.run(words));
    return rows.flatMap((row) => {
      const id = row['.id'];
      if (!id) return [];
      return [
        {
          id,
          name: row.name ?? '',
          service: orNull(row.service),
          callerId: orNull(row['caller-id']),
          address: orNull(row.address),
          uptime: orNull(row.uptime),
          sessionId: orNull(row['session-id']),
        },
      ];
    });
  }

  /** Removes (disconnects) one active session; an unknown id rejects with kind 'trap'. */
  async removeActive(t: RouterOsTarget, id: string): Promise<void> {
    await this.call(t, (c) => c.run(['/ppp/active/remove', `=.id=${id}`]));
  }

  /** One sample of an interface's rates, e.g. `<pppoe-alice>` or `ether1`. */
  async monitorTraffic(t: RouterOsTarget, iface: string): Promise<TrafficSample> {
    const command = '/interface/monitor-traffic';
    const rows = await this.call(t, (c) => c.run([command, `=interface=${iface}`, '=once=']));
    const row = first(rows, command);
    return {
      rxBitsPerSecond: bitsPerSecond(row['rx-bits-per-second'], command),
      txBitsPerSecond: bitsPerSecond(row['tx-bits-per-second'], command),
    };
  }

  onApplicationShutdown(): Promise<void> {
    for (const conn of [...this.pool.values()]) conn.close('shutdown');
    this.pool.clear();
    return Promise.resolve();
  }

  private async call<T>(
    t: RouterOsTarget,
    work: (c: RouterOsConnection) => Promise<T>,
  ): Promise<T> {
    const conn = this.connection(t);
    conn.acquire();
    try {
      await conn.open();
      return await work(conn);
    } finally {
      conn.release();
    }
  }

  private connection(t: RouterOsTarget): RouterOsConnection {
    const current = this.pool.get(t.key);
    if (current?.serves(t)) return current;
    current?.retire();
    const conn = new RouterOsConnection(t, this.opts, this.logger, (closed) => {
      if (this.pool.get(t.key) === closed) this.pool.delete(t.key);
    });
    this.pool.set(t.key, conn);
    return conn;
  }
}

function orNull(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

function first(rows: Row[], command: string): Row {
  const row = rows[0];
  if (!row) throw new RouterOsError('connection', `RouterOS: no reply row to ${command}`);
  return row;
}

function bitsPerSecond(value: string | undefined, command: string): number {
  const n = Number(value);
  if (value === undefined || value === '' || !Number.isFinite(n)) {
    throw new RouterOsError('connection', `RouterOS: unreadable rate "${value}" from ${command}`);
  }
  return n;
}
