import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Brackets, DataSource, In, SelectQueryBuilder } from 'typeorm';
import { BadUserInputError } from '../common/errors/app-error';
import { Connection, keysetPage } from '../common/pagination/connection';
import { likeLiteral } from '../common/sql/like';
import { searchTerm } from '../common/validation/text';
import { optionalId, parseId } from '../common/validation/id';
import { RadAcct } from '../database/freeradius';
import { byAskedUsername, usernameKey } from '../sessions/usernames';
import { CustomerEntity } from './customer.entity';
import { CustomerStatus, searchTerms } from './customer-rules';
import { keyMatches, keysAnswer, type KeyMatches } from './customer-search-keys';

export interface CustomerFilter {
  search?: string | null;
  status?: CustomerStatus | null;
  profileId?: string | null;
}

export interface CustomerKey {
  id?: string | null;
  username?: string | null;
  accountNo?: string | null;
}

/** The longest search term, in characters. */
const MAX_SEARCH = 100;

/** Finding customers: lookups, search, filters and pages. Reads only. */
@Injectable()
export class CustomerDirectoryService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get repo() {
    return this.dataSource.getRepository(CustomerEntity);
  }

  /** By exactly one of id, username or accountNo; null when there is none. */
  async findOne(key: CustomerKey): Promise<CustomerEntity | null> {
    const given = (['id', 'username', 'accountNo'] as const).filter((k) => key[k] != null);
    if (given.length !== 1) {
      throw new BadUserInputError(
        given[1] ?? 'id',
        'Give exactly one of id, username or accountNo',
      );
    }
    if (key.id != null) return this.repo.findOneBy({ id: parseId('id', key.id) });
    if (key.username != null) return this.repo.findOneBy({ username: key.username });
    return this.repo.findOneBy({ accountNo: key.accountNo! });
  }

  /**
   * The customers of these usernames, under each name asked for, as the database compares
   * names (usernameKey): whatever the case on MariaDB (a session of "JOHN" is the customer
   * "john"'s); exactly on SQLite, where "john" and "JOHN" can be two customers and a session of
   * "JOHN" is never "john"'s, whichever other names are asked with it.
   */
  async byUsernames(usernames: readonly string[]): Promise<Map<string, CustomerEntity>> {
    if (usernames.length === 0) return new Map();
    const rows = await this.repo.findBy({ username: In([...new Set(usernames)]) });
    const key = usernameKey(this.dataSource);
    return byAskedUsername(usernames, new Map(rows.map((c) => [key(c.username), c])), key);
  }

  async countByProfiles(profileIds: readonly number[]): Promise<Map<number, number>> {
    if (profileIds.length === 0) return new Map();
    const rows = await this.repo
      .createQueryBuilder('c')
      .select('c.profile_id', 'profileId')
      .addSelect('COUNT(*)', 'n')
      .where('c.profile_id IN (:...ids)', { ids: [...new Set(profileIds)] })
      .groupBy('c.profile_id')
      .getRawMany<{ profileId: number | string; n: number | string }>();
    return new Map(rows.map((r) => [Number(r.profileId), Number(r.n)]));
  }

  /** Newest first, with opaque cursors that stay valid as customers come and go. */
  list(
    filter: CustomerFilter,
    first: number,
    after?: string | null,
  ): Promise<Connection<CustomerEntity>> {
    const keys = this.searchOnlyKeys(filter);
    return keysetPage({
      query: () => this.filtered(filter),
      count: keys && (() => this.countKeys(keys)),
      page: keys && ((limit, before) => this.pageKeys(keys, limit, before)),
      key: 'c.id',
      idOf: (c) => c.id,
      prefix: 'c',
      first,
      after,
    });
  }

  /**
   * Every customer the filter matches, oldest first (by id), `size` at a time: for exports,
   * which read the whole base without holding it in memory or an OFFSET's rescans.
   */
  async *oldestFirst(filter: CustomerFilter, size = 2000): AsyncGenerator<CustomerEntity[]> {
    let after = 0;
    for (;;) {
      const batch = await this.filtered(filter)
        .andWhere('c.id > :afterId', { afterId: after })
        .orderBy('c.id', 'ASC')
        .limit(size)
        .getMany();
      if (batch.length === 0) return;
      yield batch;
      if (batch.length < size) return;
      after = batch[batch.length - 1].id;
    }
  }

  /**
   * When the search is the only filter and the keys answer it exactly, count and page on the
   * keys' index alone (customer ids, newest first), then read just the page's customers.
   */
  private searchOnlyKeys(filter: CustomerFilter): KeyMatches | undefined {
    const term = searchTerm('search', filter.search, MAX_SEARCH);
    if (!term || filter.profileId != null || filter.status != null) return undefined;
    const terms = searchTerms(term);
    if (!terms.every((t) => keysAnswer(t) === 'exactly')) return undefined;
    return keyMatches(this.dataSource, terms);
  }

  private async countKeys(keys: KeyMatches): Promise<number> {
    const [row] = await keys
      .query()
      .select('COUNT(DISTINCT k.customer_id)', 'n')
      .getRawMany<{ n: number | string }>();
    return Number(row.n);
  }

  private async pageKeys(
    keys: KeyMatches,
    limit: number,
    before: string | null,
  ): Promise<CustomerEntity[]> {
    const qb = keys
      .query()
      .select('DISTINCT k.customer_id', 'id')
      .orderBy('id', 'DESC')
      .limit(limit);
    if (before !== null) qb.andWhere('k.customer_id < :before', { before: Number(before) });
    const ids = (await qb.getRawMany<{ id: number | string }>()).map((r) => Number(r.id));
    if (ids.length === 0) return [];
    const found = new Map((await this.repo.findBy({ id: In(ids) })).map((c) => [c.id, c]));
    return ids.flatMap((id) => found.get(id) ?? []);
  }

  private filtered(filter: CustomerFilter): SelectQueryBuilder<CustomerEntity> {
    const qb = this.repo.createQueryBuilder('c');
    const term = searchTerm('search', filter.search, MAX_SEARCH);
    if (term) this.whereSearch(qb, searchTerms(term));
    const profileId = optionalId('profileId', filter.profileId);
    if (profileId !== null) qb.andWhere('c.profile_id = :profileId', { profileId });
    if (filter.status != null) this.whereStatus(qb, filter.status);
    return qb;
  }

  /**
   * Customers whose account no, username or phone digits contain one of the terms. From 3
   * characters on, through the search keys: one `c.id IN (…)` (an OR of two INs would make
   * MariaDB read every customer), then, for a term longer than a key, a check in full.
   * Shorter terms scan search_text.
   */
  private whereSearch(qb: SelectQueryBuilder<CustomerEntity>, terms: string[]): void {
    const scan = new Brackets((or) =>
      terms.forEach((t, i) =>
        or.orWhere(`c.search_text LIKE :t${i} ESCAPE '!'`, { [`t${i}`]: `%${likeLiteral(t)}%` }),
      ),
    );
    const answers = terms.map((t) => keysAnswer(t));
    if (answers.includes('no')) {
      qb.andWhere(scan);
      return;
    }
    const keys = keyMatches(this.dataSource, terms);
    qb.andWhere(`c.id IN (${keys.select})`, keys.params);
    if (answers.includes('candidates')) qb.andWhere(scan);
  }

  private whereStatus(qb: SelectQueryBuilder<CustomerEntity>, status: CustomerStatus): void {
    const now = new Date();
    const open = this.dataSource
      .getRepository(RadAcct)
      .createQueryBuilder('a')
      .select('1')
      .where('a.username = c.username')
      .andWhere('a.acctstoptime IS NULL')
      .getQuery();
    switch (status) {
      case CustomerStatus.SUSPENDED:
        qb.andWhere('c.suspended = :yes', { yes: 1 });
        return;
      case CustomerStatus.EXPIRED:
        qb.andWhere('c.suspended = :no AND c.expires_at IS NOT NULL AND c.expires_at <= :now', {
          no: 0,
          now,
        });
        return;
      case CustomerStatus.ONLINE:
      case CustomerStatus.OFFLINE:
        qb.andWhere('c.suspended = :no AND (c.expires_at IS NULL OR c.expires_at > :now)', {
          no: 0,
          now,
        });
        qb.andWhere(`${status === CustomerStatus.ONLINE ? '' : 'NOT '}EXISTS (${open})`);
        return;
    }
  }
}
