import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Brackets, DataSource, SelectQueryBuilder } from 'typeorm';
import { BadUserInputError, NotFoundError } from '../common/errors/app-error';
import { Connection, pageSize } from '../common/pagination/connection';
import { likeLiteral } from '../common/sql/like';
import { RadAcct } from '../database/freeradius';
import { NasService } from '../nas/nas.service';
import { sessionPage, toSession } from './models/session.mapper';
import type { Session } from './models/session.model';

export interface OnlineFilter {
  nasId?: string | null;
  search?: string | null;
}

/** Who is online now: the open radacct rows (acctstoptime IS NULL). */
@Injectable()
export class OnlineSessionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly nas: NasService,
  ) {}

  /** Open sessions, newest first; search matches username, IP address or MAC address. */
  async list(
    filter: OnlineFilter,
    first: number,
    after?: string | null,
  ): Promise<Connection<Session>> {
    const nasName = filter.nasId == null ? null : await this.nasNameOf(filter.nasId);
    return sessionPage(() => this.open(filter.search, nasName), 'o', first, after);
  }

  /** The open sessions with the most traffic in this session. */
  async top(first: number): Promise<Session[]> {
    const rows = await this.open(null, null)
      .orderBy('COALESCE(a.acctinputoctets, 0) + COALESCE(a.acctoutputoctets, 0)', 'DESC')
      .limit(pageSize(first))
      .getMany();
    const now = new Date();
    return rows.map((row) => toSession(row, now));
  }

  /** Totals per NAS address: sessions, upload and download. */
  async summary(): Promise<{
    total: number;
    byNas: Array<{
      nasIpAddress: string;
      count: number;
      uploadBytes: string;
      downloadBytes: string;
    }>;
  }> {
    const rows = await this.open(null, null)
      .select('a.nasipaddress', 'nasIpAddress')
      .addSelect('COUNT(*)', 'n')
      .addSelect('COALESCE(SUM(a.acctinputoctets), 0)', 'up')
      .addSelect('COALESCE(SUM(a.acctoutputoctets), 0)', 'down')
      .groupBy('a.nasipaddress')
      .getRawMany<{
        nasIpAddress: string;
        n: number | string;
        up: number | string;
        down: number | string;
      }>();
    const byNas = rows
      .map((r) => ({
        nasIpAddress: r.nasIpAddress,
        count: Number(r.n),
        uploadBytes: String(r.up),
        downloadBytes: String(r.down),
      }))
      .sort((a, b) => b.count - a.count || a.nasIpAddress.localeCompare(b.nasIpAddress));
    return { total: byNas.reduce((sum, n) => sum + n.count, 0), byNas };
  }

  /** Open sessions per NAS address, for one batch of NAS routers. */
  async countByNasNames(names: readonly string[]): Promise<Map<string, number>> {
    if (names.length === 0) return new Map();
    const rows = await this.open(null, null)
      .select('a.nasipaddress', 'name')
      .addSelect('COUNT(*)', 'n')
      .andWhere('a.nasipaddress IN (:...names)', { names: [...new Set(names)] })
      .groupBy('a.nasipaddress')
      .getRawMany<{ name: string; n: number | string }>();
    return new Map(rows.map((r) => [r.name, Number(r.n)]));
  }

  private open(
    search: string | null | undefined,
    nasName: string | null,
  ): SelectQueryBuilder<RadAcct> {
    const qb = this.dataSource
      .getRepository(RadAcct)
      .createQueryBuilder('a')
      .where('a.acctstoptime IS NULL');
    if (nasName !== null) qb.andWhere('a.nasipaddress = :nasName', { nasName });
    const term = search?.trim();
    if (term) {
      if ([...term].length > 100)
        throw new BadUserInputError('search', 'search must be at most 100 characters');
      const pattern = `%${likeLiteral(term)}%`;
      qb.andWhere(
        new Brackets((or) =>
          ['a.username', 'a.framedipaddress', 'a.callingstationid'].forEach((column) =>
            or.orWhere(`${column} LIKE :pattern ESCAPE '!'`, { pattern }),
          ),
        ),
      );
    }
    return qb;
  }

  /** The nasname (the sessions' nasipaddress) that a nasId filter means; NOT_FOUND names nasId. */
  async nasNameOf(nasId: string): Promise<string> {
    const nas = await this.nas.find(nasId);
    if (!nas) throw new NotFoundError(`No NAS with id ${nasId}`, { field: 'nasId' });
    return nas.name;
  }
}
