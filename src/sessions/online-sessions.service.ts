import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, SelectQueryBuilder } from 'typeorm';
import { NotFoundError } from '../common/errors/app-error';
import {
  Connection,
  decodeCursor,
  encodeCursor,
  mapConnection,
  pageSize,
  toConnection,
} from '../common/pagination/connection';
import { RadAcct } from '../database/freeradius';
import type { Nas } from '../nas/models/nas.model';
import { NasService } from '../nas/nas.service';
import { sessionPage, toSession } from './models/session.mapper';
import type { Session } from './models/session.model';
import { openSessionMatches, searchTerm } from './online-search';

export interface OnlineFilter {
  nasId?: string | null;
  search?: string | null;
}

export interface OnlineTotals {
  total: number;
  byNas: Array<{
    nasIpAddress: string;
    count: number;
    uploadBytes: string;
    downloadBytes: string;
  }>;
}

/**
 * How old the unfiltered totals (onlineSummary, and the totalCount of the unfiltered
 * onlineSessions) may be, in milliseconds. Counting the open sessions reads one index entry
 * each (about 20 ms at 50,000 on MariaDB), so one read serves every request for this long, and
 * is renewed in the background from half of it on while requests keep coming. Dashboards get
 * each change as it happens from sessionEvents; these figures lag by at most this much.
 * Filtered counts (by NAS, by search) are always exact.
 */
export const ONLINE_TOTALS_MAX_AGE_MS = 1000;

/** Who is online now: the open radacct rows (acctstoptime IS NULL). */
@Injectable()
export class OnlineSessionsService {
  private readonly log = new Logger('OnlineSessions');
  /** The last totals read, and when the read began; the read under way, if one is. */
  private totals?: { value: OnlineTotals; at: number };
  private reading?: { value: Promise<OnlineTotals>; at: number };

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly nas: NasService,
  ) {}

  /**
   * Open sessions, newest first. A session matches a search when its username, IP address or
   * MAC address starts with the term, or its username is that of a customer whose username
   * contains it (see openSessionMatches).
   */
  async list(
    filter: OnlineFilter,
    first: number,
    after?: string | null,
  ): Promise<Connection<Session>> {
    const term = searchTerm(filter.search);
    const nas = filter.nasId == null ? null : await this.nasAddressesOf(filter.nasId);
    if (term !== null) return this.searchPage(term, nas, first, after);
    // The first page reads the acctstoptime index backwards (newest first), a NAS's page
    // rg_radacct_open_nas; the unfiltered count is the totals', a NAS's an index range.
    const total = async () => (await this.summary()).total;
    return sessionPage(() => this.open(nas), 'o', first, after, nas ? undefined : total);
  }

  /**
   * The open sessions with the most traffic in this session; of equal traffic (many at 0
   * bytes), the newest row first, so that a dashboard's list does not reshuffle at each call.
   */
  async top(first: number): Promise<Session[]> {
    const rows = await this.open(null)
      .orderBy('COALESCE(a.acctinputoctets, 0) + COALESCE(a.acctoutputoctets, 0)', 'DESC')
      .addOrderBy('a.radacctid', 'DESC')
      .limit(pageSize(first))
      .getMany();
    const now = new Date();
    return rows.map((row) => toSession(row, now));
  }

  /**
   * Totals per NAS address: sessions, upload and download; at most ONLINE_TOTALS_MAX_AGE_MS
   * old. One read of rg_radacct_open_nas, which holds the counters: no row is read.
   */
  summary(): Promise<OnlineTotals> {
    const now = Date.now();
    const last = this.totals;
    if (last !== undefined && now - last.at < ONLINE_TOTALS_MAX_AGE_MS) {
      // Renewed ahead of time, so that steady traffic never waits for it.
      if (now - last.at >= ONLINE_TOTALS_MAX_AGE_MS / 2 && this.reading === undefined) {
        this.renewTotals(now).catch((err: Error) =>
          this.log.warn(`Could not renew the online totals: ${err.message}`),
        );
      }
      return Promise.resolve(last.value);
    }
    return this.reading?.value ?? this.renewTotals(now);
  }

  /**
   * The totals as they are now: one read, no memory (summary() serves them for up to
   * ONLINE_TOTALS_MAX_AGE_MS).
   */
  async readTotals(): Promise<OnlineTotals> {
    const rows = await this.open(null)
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

  /**
   * Open sessions of each NAS, for one batch of NAS routers: of its address, or, for a NAS
   * entered as a network, of the addresses NasService.sessionAddresses gives it.
   */
  async countByNas(nases: readonly Nas[]): Promise<Map<Nas, number>> {
    const addresses = new Map<Nas, string[]>();
    for (const n of new Set(nases)) addresses.set(n, await this.nas.sessionAddresses(n));
    const all = [...new Set([...addresses.values()].flat())];
    if (all.length === 0) return new Map();
    const rows = await this.open(null)
      .select('a.nasipaddress', 'name')
      .addSelect('COUNT(*)', 'n')
      .andWhere('a.nasipaddress IN (:...all)', { all })
      .groupBy('a.nasipaddress')
      .getRawMany<{ name: string; n: number | string }>();
    const count = new Map(rows.map((r) => [r.name, Number(r.n)]));
    return new Map(
      [...addresses].map(([n, list]) => [n, list.reduce((sum, a) => sum + (count.get(a) ?? 0), 0)]),
    );
  }

  /**
   * What a nasId filter means: the NAS's id as radgraph writes it, and its nasname (the
   * sessions' nasipaddress); NOT_FOUND names nasId.
   */
  async nasFilterOf(nasId: string): Promise<{ nasId: string; nasName: string }> {
    const nas = await this.requireNas(nasId);
    return { nasId: nas.id, nasName: nas.name };
  }

  /**
   * The session addresses (nasipaddress) that a nasId filter means: the NAS's address, or the
   * addresses of a network's open sessions (NasService.sessionAddresses); NOT_FOUND names nasId.
   */
  async nasAddressesOf(nasId: string): Promise<string[]> {
    return this.nas.sessionAddresses(await this.requireNas(nasId));
  }

  private async requireNas(nasId: string): Promise<Nas> {
    const nas = await this.nas.find(nasId, 'nasId');
    if (!nas) throw new NotFoundError(`No NAS with id ${nasId}`, { field: 'nasId' });
    return nas;
  }

  /** One read of the totals, shared by every request that comes while it runs. */
  private renewTotals(at: number): Promise<OnlineTotals> {
    const reading = { value: this.readTotals(), at };
    this.reading = reading;
    reading.value.then(
      (value) => {
        if (this.totals === undefined || this.totals.at < at) this.totals = { value, at };
        if (this.reading === reading) this.reading = undefined;
      },
      () => {
        if (this.reading === reading) this.reading = undefined;
      },
    );
    return reading.value;
  }

  /**
   * A page of what a search finds, newest first, and its exact count, from one statement:
   * the matching ids (openSessionMatches) with COUNT(*) OVER () taken before the cursor and
   * the limit apply, so that every match is read once; then the page's rows by id.
   */
  private async searchPage(
    term: string,
    nas: readonly string[] | null,
    first: number,
    after?: string | null,
  ): Promise<Connection<Session>> {
    const limit = pageSize(first);
    const before = decodeCursor('o', after);
    const { sql, params } = openSessionMatches(this.dataSource, term, nas);
    const found = await this.raw<{ id: number | string; total: number | string }>(
      `SELECT x.id AS id, x.total AS total FROM (SELECT m.id AS id, COUNT(*) OVER () AS total FROM (${sql}) m) x` +
        (before === null ? '' : ' WHERE x.id < :before') +
        ` ORDER BY x.id DESC LIMIT ${limit + 1}`,
      { ...params, before },
    );
    // Past the last match, no row carries the count: ask for it alone.
    const totalCount =
      found.length > 0
        ? Number(found[0].total)
        : before === null
          ? 0
          : await this.searchCount(sql, params);
    const ids = found.map((r) => String(r.id));
    const rows =
      ids.length === 0
        ? []
        : await this.dataSource.getRepository(RadAcct).findBy({ radAcctId: In(ids) });
    const byId = new Map(rows.map((r) => [String(r.radAcctId), r]));
    const page = toConnection(
      ids.flatMap((id) => byId.get(id) ?? []),
      limit,
      totalCount,
      (r) => encodeCursor('o', r.radAcctId),
      (r) => r,
    );
    const now = new Date();
    return mapConnection(page, (r) => toSession(r, now));
  }

  /** How many sessions the matches statement (openSessionMatches) finds. */
  private async searchCount(sql: string, params: Record<string, unknown>): Promise<number> {
    const [row] = await this.raw<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM (${sql}) m`,
      params,
    );
    return Number(row.n);
  }

  /** A statement with named parameters (`:name`), as TypeORM's query builder takes them. */
  private raw<T>(sql: string, params: Record<string, unknown>): Promise<T[]> {
    const [query, values] = this.dataSource.driver.escapeQueryWithParameters(sql, params, {});
    return this.dataSource.query<T[]>(query, values);
  }

  /** Open sessions; `nas`: only those from these NAS addresses (none: no session). */
  private open(nas: readonly string[] | null): SelectQueryBuilder<RadAcct> {
    const qb = this.dataSource
      .getRepository(RadAcct)
      .createQueryBuilder('a')
      .where('a.acctstoptime IS NULL');
    if (nas === null) return qb;
    if (nas.length === 0) qb.andWhere('1 = 0');
    else if (nas.length === 1) qb.andWhere('a.nasipaddress = :nasName', { nasName: nas[0] });
    else qb.andWhere('a.nasipaddress IN (:...nasNames)', { nasNames: [...nas] });
    return qb;
  }
}
