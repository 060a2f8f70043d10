import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { SecretBox } from '../common/crypto/secret-box';
import { NasRow } from '../database/freeradius';
import { Nas } from './models/nas.model';
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

/** How radgraph reaches a NAS: its CoA port and secret, and its RouterOS API if it has one. */
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

  /** The NAS with this id, or null. */
  async find(id: string): Promise<Nas | null> {
    const row = await this.row(id);
    return row ? toNas(row, (await this.settingsOf([row])).get(row.id)) : null;
  }

  /** NAS routers by nasname (a session's nasipaddress), for one batch of sessions. */
  async byNames(names: readonly string[]): Promise<Map<string, Nas>> {
    if (names.length === 0) return new Map();
    const rows = await this.repo.findBy({ nasname: In([...new Set(names)]) });
    const settings = await this.settingsOf(rows);
    return new Map(rows.map((r) => [r.nasname, toNas(r, settings.get(r.id))]));
  }

  /**
   * For radgraph's own use, never the API: how to reach the NAS named `nasname` (a session's
   * nasipaddress), with its secret and decrypted API password. Null when no nas row has it.
   */
  async access(nasname: string): Promise<NasAccess | null> {
    const row = await this.repo.findOneBy({ nasname });
    return row ? this.accessOf(row) : null;
  }

  /** As `access`, by id. */
  async accessById(id: string): Promise<NasAccess | null> {
    const row = await this.row(id);
    return row ? this.accessOf(row) : null;
  }

  /** Every NAS that has RouterOS API settings. */
  async withRouterOs(): Promise<NasAccess[]> {
    const settings = await this.dataSource.getRepository(NasSettingsEntity).find();
    const ids = settings.filter((s) => s.apiUser && s.apiPassword).map((s) => s.nasId);
    if (ids.length === 0) return [];
    const rows = await this.repo.findBy({ id: In(ids) });
    return Promise.all(rows.map((r) => this.accessOf(r)));
  }

  private async row(id: string): Promise<NasRow | null> {
    const key = Number(id);
    return Number.isSafeInteger(key) ? this.repo.findOneBy({ id: key }) : null;
  }

  private async accessOf(row: NasRow): Promise<NasAccess> {
    const settings = (await this.settingsOf([row])).get(row.id);
    const nas = toNas(row, settings);
    const api = nas.routerOs;
    return {
      nas,
      coa: { host: row.nasname, port: nas.coaPort, secret: row.secret },
      routerOs:
        api && settings?.apiPassword
          ? { key: nas.id, ...api, password: this.secrets.open(settings.apiPassword) }
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
