import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { NasRow } from '../database/freeradius';
import { Nas } from './models/nas.model';

/** RFC 5176's port; per-NAS settings (CoA port, RouterOS API) come with NAS management. */
export const DEFAULT_COA_PORT = 3799;

export function toNas(row: NasRow): Nas {
  return {
    id: String(row.id),
    name: row.nasname,
    shortname: row.shortname,
    type: row.type,
    description: row.description,
    coaPort: DEFAULT_COA_PORT,
  };
}

/** Reads the NAS routers from FreeRADIUS's nas table. */
@Injectable()
export class NasService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get repo() {
    return this.dataSource.getRepository(NasRow);
  }

  async list(): Promise<Nas[]> {
    return (await this.repo.find({ order: { nasname: 'ASC' } })).map(toNas);
  }

  /** The NAS with this id, or null. */
  async find(id: string): Promise<Nas | null> {
    const key = Number(id);
    const row = Number.isSafeInteger(key) ? await this.repo.findOneBy({ id: key }) : null;
    return row ? toNas(row) : null;
  }

  /** NAS routers by nasname (a session's nasipaddress), for one batch of sessions. */
  async byNames(names: readonly string[]): Promise<Map<string, Nas>> {
    if (names.length === 0) return new Map();
    const rows = await this.repo.findBy({ nasname: In([...new Set(names)]) });
    return new Map(rows.map((r) => [r.nasname, toNas(r)]));
  }
}
