import { isIPv4 } from 'node:net';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, Like } from 'typeorm';
import { SecretBox } from '../common/crypto/secret-box';
import { parseId } from '../common/validation/id';
import { NasRow } from '../database/freeradius';
import { Nas } from './models/nas.model';
import { canonicalNasName, isNasNetwork, NasAddressMatcher } from './nas-address-match';
import { NasSettingsEntity } from './nas-settings.entity';
import { DEFAULT_COA_PORT, ROUTEROS_API_PORT, ROUTEROS_API_TLS_PORT } from './nas-rules';

export { DEFAULT_COA_PORT };

export function toNas(row: NasRow, settings: NasSettingsEntity | null | undefined): Nas {
  const api = settings?.apiUser ? settings : null;
  return {
    id: String(row.id),
    name: row.nasname,
    shortname: row.shortname,
    type: row.type,
    description: row.description,
    coaPort: settings?.coaPort ?? DEFAULT_COA_PORT,
    routerOs: api
      ? {
          host: api.apiHost ?? row.nasname,
          port: api.apiPort ?? (api.apiTls ? ROUTEROS_API_TLS_PORT : ROUTEROS_API_PORT),
          user: api.apiUser!,
          tls: api.apiTls,
          tlsVerify: api.apiTlsVerify,
          passwordSet: api.apiPassword !== null,
        }
      : null,
  };
}

/**
 * How radgraph reaches a NAS: its CoA port and secret, and its RouterOS API if it has one.
 * For a NAS entered as a network ("10.0.0.0/24"), the CoA host is the address of the session
 * the access was looked up for (the router that sent its accounting), and the API host is
 * routerOs.host, else that same address; looked up by id, it has no such address: its CoA host
 * is the nasname, and its API is null unless routerOs.host is set.
 */
export interface NasAccess {
  nas: Nas;
  coa: { host: string; port: number; secret: string };
  routerOs: {
    key: string;
    host: string;
    port: number;
    user: string;
    password: string;
    tls: boolean;
    tlsVerify: boolean;
  } | null;
}

/** Reads the NAS routers: FreeRADIUS's nas table and radgraph's settings beside it. */
@Injectable()
export class NasService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly secrets: SecretBox,
  ) {}

  private get repo() {
    return this.dataSource.getRepository(NasRow);
  }

  async list(): Promise<Nas[]> {
    const rows = await this.repo.find({ order: { nasname: 'ASC' } });
    const settings = await this.settingsOf(rows);
    return rows.map((r) => toNas(r, settings.get(r.id)));
  }

  /** The NAS with this id, or null; a malformed id is BAD_USER_INPUT naming `field`. */
  async find(id: string, field = 'id'): Promise<Nas | null> {
    const row = await this.row(id, field);
    return row ? toNas(row, (await this.settingsOf([row])).get(row.id)) : null;
  }

  /**
   * The NAS of each session address (radacct.nasipaddress), for one batch of sessions: the nas
   * row named by the address, else the longest network holding it (as FreeRADIUS and the
   * accounting listener match); an address of no NAS is left out. The networks are read only
   * when some address has no row of its own.
   */
  async byAddresses(addresses: readonly string[]): Promise<Map<string, Nas>> {
    const rows = await this.rowsOf(addresses);
    const settings = await this.settingsOf([...new Set(rows.values())]);
    const out = new Map<string, Nas>();
    for (const [address, row] of rows) out.set(address, toNas(row, settings.get(row.id)));
    return out;
  }

  /**
   * For radgraph's own use, never the API: how to reach the NAS of a session from `address`
   * (its nasipaddress: the nas row named by it, else the longest network holding it), with its
   * secret and decrypted API password. Null when no nas row has it.
   */
  async access(address: string): Promise<NasAccess | null> {
    const row = (await this.rowsOf([address])).get(address);
    return row ? this.accessOf(row, address) : null;
  }

  /**
   * The session addresses (radacct.nasipaddress) of the NAS's open sessions, by the same rule
   * as byAddresses: for a NAS named by one address, that address alone (no read), in the form
   * radacct holds it (canonicalNasName: an adopted row's "2001:DB8:0::1" is "2001:db8::1", as
   * rowsOf finds it the other way); for a network, each address of an open session that it holds and that no nas row of its own or
   * longer network claims. An IPv4 network reads only the open sessions whose address starts
   * with its whole octets (rg_radacct_open_nas: acctstoptime, nasipaddress).
   */
  async sessionAddresses(nas: Nas): Promise<string[]> {
    if (!isNasNetwork(nas.name)) return [canonicalNasName(nas.name) ?? nas.name];
    const prefix = octetPrefix(nas.name);
    const rows: Array<{ address: string }> = await this.dataSource.query(
      'SELECT DISTINCT nasipaddress AS address FROM radacct WHERE acctstoptime IS NULL' +
        (prefix ? ` AND nasipaddress LIKE ?` : ''),
      prefix ? [`${prefix}%`] : [],
    );
    const inside = new NasAddressMatcher([[nas.name, true]]);
    const candidates = rows.map((r) => r.address).filter((a) => inside.find(a) !== null);
    const owners = await this.rowsOf(candidates);
    return candidates.filter((a) => String(owners.get(a)?.id) === nas.id);
  }

  /** As `access`, by id; a malformed id is BAD_USER_INPUT naming `field`. */
  async accessById(id: string, field = 'id'): Promise<NasAccess | null> {
    const row = await this.row(id, field);
    return row ? this.accessOf(row, null) : null;
  }

  /** Every NAS that has RouterOS API settings. */
  async withRouterOs(): Promise<NasAccess[]> {
    const settings = await this.dataSource.getRepository(NasSettingsEntity).find();
    const ids = settings.filter((s) => s.apiUser && s.apiPassword).map((s) => s.nasId);
    if (ids.length === 0) return [];
    const rows = await this.repo.findBy({ id: In(ids) });
    return Promise.all(rows.map((r) => this.accessOf(r, null)));
  }

  private row(id: string, field: string): Promise<NasRow | null> {
    return this.repo.findOneBy({ id: parseId(field, id) });
  }

  /**
   * The nas row of each address: its own, else the longest network holding it. An IPv6 row
   * written in another form than radacct's ("2001:DB8::1", adopted) is its own all the same.
   */
  private async rowsOf(addresses: readonly string[]): Promise<Map<string, NasRow>> {
    const wanted = [...new Set(addresses)];
    if (wanted.length === 0) return new Map();
    const exact = await this.repo.findBy({ nasname: In(wanted) });
    const out = new Map(exact.map((r) => [r.nasname, r]));
    const rest = wanted.filter((a) => !out.has(a));
    if (rest.length === 0) return out;
    const networks = new NasAddressMatcher(
      (await this.repo.findBy([{ nasname: Like('%/%') }, { nasname: Like('%:%') }])).map(
        (r) => [r.nasname, r] as const,
      ),
    );
    for (const address of rest) {
      const row = networks.find(address);
      if (row) out.set(address, row);
    }
    return out;
  }

  /**
   * `address`: the session address the NAS was looked up by, the CoA (and, without
   * routerOs.host, the API) host of a NAS entered as a network; null when looked up by id.
   */
  private async accessOf(row: NasRow, address: string | null): Promise<NasAccess> {
    const settings = (await this.settingsOf([row])).get(row.id);
    const nas = toNas(row, settings);
    const api = nas.routerOs;
    const network = isNasNetwork(row.nasname);
    const apiHost = !network ? api?.host : (settings?.apiHost ?? address);
    const sealed = settings?.apiPassword;
    const secrets = this.secrets;
    return {
      nas,
      coa: {
        host: network && address ? address : row.nasname,
        port: nas.coaPort,
        secret: row.secret,
      },
      routerOs:
        api && apiHost && sealed
          ? {
              key: apiHost === api.host ? nas.id : `${nas.id}@${apiHost}`,
              ...api,
              host: apiHost,
              // Opened when the RouterOS API is used, not here: a password this SECRETS_KEY
              // cannot open (the key changed) fails that call alone, and the CoA pushes and
              // Disconnect-Requests to the NAS, which need only its shared secret, still go.
              get password() {
                return secrets.open(sealed);
              },
            }
          : null,
    };
  }

  private async settingsOf(rows: readonly NasRow[]): Promise<Map<number, NasSettingsEntity>> {
    if (rows.length === 0) return new Map();
    const found = await this.dataSource
      .getRepository(NasSettingsEntity)
      .findBy({ nasId: In(rows.map((r) => r.id)) });
    return new Map(found.map((s) => [s.nasId, s]));
  }
}

/** "10.1.2.0/24" → "10.1.2.": the whole octets an IPv4 network fixes; "" for none or IPv6. */
export function octetPrefix(network: string): string {
  const [address, bits] = network.split('/');
  if (!isIPv4(address)) return '';
  const octets = Math.floor(Number(bits) / 8);
  return octets > 0 ? `${address.split('.').slice(0, Math.min(octets, 3)).join('.')}.` : '';
}
