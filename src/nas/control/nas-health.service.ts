import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RouterOsClient } from '../routeros/routeros-client.service';
import type { Nas } from '../models/nas.model';
import { isNasNetwork, NasAddressMatcher } from '../nas-address-match';
import { NasService } from '../nas.service';
import type { LiveRate } from './models/live-rate.model';
import { placeholders } from '../../common/sql/in-list';
import { readSqlDatetime } from '../../common/sql/datetime';

/** How long a NAS's reachability is remembered. */
const REACHABLE_TTL_MS = 30_000;

/** What the RouterOS API and radacct say about a NAS now. */
@Injectable()
export class NasHealthService {
  private readonly log = new Logger('NasHealth');
  private readonly reachable = new Map<string, { at: number; value: Promise<boolean> }>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly nas: NasService,
    private readonly routerOs: RouterOsClient,
  ) {}

  /**
   * Whether the NAS answers on its RouterOS API (identity), remembered for 30 s; null when it
   * has no API settings (unknown).
   */
  async isReachable(nasId: string): Promise<boolean | null> {
    const access = await this.nas.accessById(nasId);
    if (!access?.routerOs) return null;
    const key = `${nasId}:${access.routerOs.host}:${access.routerOs.port}`;
    const known = this.reachable.get(key);
    if (known && Date.now() - known.at < REACHABLE_TTL_MS) return known.value;
    const value = this.routerOs.identity(access.routerOs).then(
      () => true,
      (err: Error) => {
        this.log.warn(`${access.nas.name} is not reachable on its RouterOS API: ${err.message}`);
        return false;
      },
    );
    this.reachable.set(key, { at: Date.now(), value });
    return value;
  }

  /**
   * The latest accounting change among each NAS's open sessions (rg_seen_at: the server's
   * clock), and its last Accounting-On/Off (nasreload), whichever is later; null for none. A
   * NAS entered as a network counts the open sessions of its session addresses
   * (NasService.sessionAddresses) and the Accounting-On/Off of every address it holds.
   */
  async lastAccountingAt(nases: readonly Nas[]): Promise<Map<Nas, Date>> {
    const addresses = new Map<Nas, string[]>();
    for (const n of new Set(nases)) addresses.set(n, await this.nas.sessionAddresses(n));
    const names = [...new Set([...addresses.values()].flat())];
    const networks = [...addresses.keys()].filter((n) => isNasNetwork(n.name));
    if (names.length === 0 && networks.length === 0) return new Map();
    const marks = placeholders(names.length);
    const rows: Array<{ kind: string; nas: string; at: Date | string | null }> =
      await this.dataSource.query(
        [
          ...(names.length === 0
            ? []
            : [
                `SELECT 'open' AS kind, nasipaddress AS nas, MAX(rg_seen_at) AS at FROM radacct WHERE acctstoptime IS NULL AND nasipaddress IN (${marks}) GROUP BY nasipaddress`,
              ]),
          // nasreload has a row per NAS address: a network's are read whole and matched here.
          networks.length === 0
            ? `SELECT 'reload' AS kind, nasipaddress AS nas, reloadtime AS at FROM nasreload WHERE nasipaddress IN (${marks})`
            : `SELECT 'reload' AS kind, nasipaddress AS nas, reloadtime AS at FROM nasreload`,
        ].join(' UNION ALL '),
        networks.length === 0 ? [...names, ...names] : names,
      );
    const out = new Map<Nas, Date>();
    for (const [n, list] of addresses) {
      const inside = isNasNetwork(n.name) ? new NasAddressMatcher([[n.name, true]]) : null;
      for (const row of rows) {
        if (row.at === null) continue;
        const mine =
          list.includes(row.nas) ||
          (row.kind === 'reload' && inside !== null && inside.find(row.nas) !== null);
        if (!mine) continue;
        const at = readSqlDatetime(row.at);
        const before = out.get(n);
        if (!before || at > before) out.set(n, at);
      }
    }
    return out;
  }

  /** A session's rate now, from its PPPoE interface on the router; null without API settings. */
  async liveRate(nasname: string, username: string): Promise<LiveRate | null> {
    const access = await this.nas.access(nasname);
    if (!access?.routerOs) return null;
    try {
      const sample = await this.routerOs.monitorTraffic(access.routerOs, `<pppoe-${username}>`);
      return {
        uploadBps: BigInt(Math.round(sample.rxBitsPerSecond)),
        downloadBps: BigInt(Math.round(sample.txBitsPerSecond)),
      };
    } catch (err) {
      this.log.warn(`no live rate for ${username} on ${nasname}: ${(err as Error).message}`);
      return null;
    }
  }
}
