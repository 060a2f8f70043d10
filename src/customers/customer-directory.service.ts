import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Brackets, DataSource, In, SelectQueryBuilder, WhereExpressionBuilder } from 'typeorm';
import { BadUserInputError } from '../common/errors/app-error';
import { Connection, keysetPage } from '../common/pagination/connection';
import { RadAcct } from '../database/freeradius';
import { CustomerEntity } from './customer.entity';
import { CustomerSearchKey } from './customer-search-key.entity';
import {
  CustomerStatus,
  likeLiteral,
  SEARCH_KEY_LENGTH,
  SEARCH_KEY_MIN,
  searchTerms,
} from './customer-rules';

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
    if (key.id != null) {
      const id = Number(key.id);
      return Number.isSafeInteger(id) ? this.repo.findOneBy({ id }) : null;
    }
    if (key.username != null) return this.repo.findOneBy({ username: key.username });
    return this.repo.findOneBy({ accountNo: key.accountNo! });
  }

  async byUsernames(usernames: readonly string[]): Promise<Map<string, CustomerEntity>> {
    if (usernames.length === 0) return new Map();
    const rows = await this.repo.findBy({ username: In([...new Set(usernames)]) });
    return new Map(rows.map((c) => [c.username, c]));
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
    return keysetPage({
      query: () => this.filtered(filter),
      key: 'c.id',
      idOf: (c) => c.id,
      prefix: 'c',
      first,
      after,
    });
  }

  private filtered(filter: CustomerFilter): SelectQueryBuilder<CustomerEntity> {
    const qb = this.repo.createQueryBuilder('c');
    const term = filter.search?.trim();
    if (term) {
      if ([...term].length > 100) {
        throw new BadUserInputError('search', 'search must be at most 100 characters');
      }
      qb.andWhere(
        new Brackets((or) => searchTerms(term).forEach((t, i) => this.orMatches(or, t, i))),
      );
    }
    if (filter.profileId != null) {
      const profileId = Number(filter.profileId);
      if (!Number.isSafeInteger(profileId))
        throw new BadUserInputError('profileId', 'profileId is not a profile id');
      qb.andWhere('c.profile_id = :profileId', { profileId });
    }
    if (filter.status != null) this.whereStatus(qb, filter.status);
    return qb;
  }

  /**
   * Customers whose account no, username or phone digits contain `t`. From 3 characters on,
   * through the search keys (a prefix range on an index); a longer term is narrowed by its
   * first 16 characters and then checked in full. Shorter terms scan search_text.
   */
  private orMatches(or: WhereExpressionBuilder, t: string, i: number): void {
    const chars = [...t];
    if (chars.length < SEARCH_KEY_MIN) {
      or.orWhere(`c.search_text LIKE :t${i} ESCAPE '!'`, { [`t${i}`]: `%${likeLiteral(t)}%` });
      return;
    }
    const prefix = chars.slice(0, SEARCH_KEY_LENGTH).join('');
    // MySQL: LIKE 'prefix%' is an index range (and case-insensitive, like its collation).
    // SQLite's LIKE cannot use the index; keys and terms are lower-case, so a binary range is
    // the same match.
    const sqlite = this.dataSource.options.type === 'better-sqlite3';
    const keys = this.dataSource
      .getRepository(CustomerSearchKey)
      .createQueryBuilder('k')
      .select('k.customer_id')
      .where(sqlite ? `k.k >= :lo${i} AND k.k < :hi${i}` : `k.k LIKE :k${i} ESCAPE '!'`)
      .getQuery();
    const params = sqlite
      ? { [`lo${i}`]: prefix, [`hi${i}`]: `${prefix}\uffff` }
      : { [`k${i}`]: `${likeLiteral(prefix)}%` };
    if (chars.length <= SEARCH_KEY_LENGTH) {
      or.orWhere(`c.id IN (${keys})`, params);
    } else {
      or.orWhere(`(c.id IN (${keys}) AND c.search_text LIKE :t${i} ESCAPE '!')`, {
        ...params,
        [`t${i}`]: `%${likeLiteral(t)}%`,
      });
    }
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
