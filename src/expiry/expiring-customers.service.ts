import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, SelectQueryBuilder } from 'typeorm';
import { Clock } from '../common/clock/clock';
import { BadUserInputError } from '../common/errors/app-error';
import { Connection, pageSize, toConnection } from '../common/pagination/connection';
import { DAY_MS } from '../customers/customer-rules';
import { CustomerEntity } from '../customers/customer.entity';
import { ExpiryActionKind } from './expiry-action-kind';
import { decodeExpiryCursor, encodeExpiryCursor } from './expiry-cursor';
import { usernameKey } from '../sessions/usernames';
import { placeholders } from '../common/sql/in-list';
import { readSqlDatetime } from '../common/sql/datetime';
import { DISCONNECT_GRACE_MS } from '../nas/control/gone-sessions';
import { disconnectedSql, stillAliveSql } from './still-alive';

/** The widest window `expiringCustomers(withinDays)` takes: ten years. */
export const MAX_WITHIN_DAYS = 3660;

/**
 * Customers by their expiry, read only: who is due for renewal (`expiringCustomers`), and
 * what the expiry job has still to do (expired and online; due for a reminder), each without
 * the ones already done (rg_expiry_actions).
 */
@Injectable()
export class ExpiringCustomersService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  private query(): SelectQueryBuilder<CustomerEntity> {
    return this.dataSource.getRepository(CustomerEntity).createQueryBuilder('c');
  }

  /**
   * Customers whose expiresAt is after now and at most `withinDays` days from now, soonest
   * first (then by id), in pages whose cursors hold (expiresAt, id).
   */
  async list(
    withinDays: number,
    first: number,
    after?: string | null,
  ): Promise<Connection<CustomerEntity>> {
    if (!Number.isInteger(withinDays) || withinDays < 0 || withinDays > MAX_WITHIN_DAYS) {
      throw new BadUserInputError(
        'withinDays',
        `withinDays must be a whole number of days from 0 to ${MAX_WITHIN_DAYS}`,
      );
    }
    const limit = pageSize(first);
    const cursor = decodeExpiryCursor(after);
    const now = this.clock.now();
    const until = new Date(now.getTime() + withinDays * DAY_MS);
    const window = () =>
      this.query().where('c.expires_at > :now AND c.expires_at <= :until', { now, until });
    const page = window()
      .orderBy('c.expires_at', 'ASC')
      .addOrderBy('c.id', 'ASC')
      .limit(limit + 1);
    if (cursor !== null) {
      page.andWhere('(c.expires_at > :at OR (c.expires_at = :at AND c.id > :id))', {
        at: cursor.expiresAt,
        id: cursor.id,
      });
    }
    const [rows, totalCount] = await Promise.all([
      // first: 0 still reads one row: hasNextPage says whether any follow the cursor (Relay).
      page.getMany(),
      window().getCount(),
    ]);
    return toConnection(
      rows,
      limit,
      totalCount,
      (c) => encodeExpiryCursor({ expiresAt: c.expiresAt!, id: c.id }),
      (c) => c,
    );
  }

  /**
   * Customers with an open session whose expiresAt is at or before `now`, and an open session
   * not yet disconnected for that expiresAt (none, when the disconnect failed; or one begun
   * after it), or still alive after it (an accounting change later than its grace: see
   * still-alive.ts): up to `limit` with an id above `afterId`, by id, each with the radacctid
   * of its newest open session (null when they all closed meanwhile) and, when one is still
   * alive, how many seconds after the disconnect it last changed.
   */
  async expiredOnline(
    now: Date,
    afterId: number,
    limit: number,
  ): Promise<
    Array<{ customer: CustomerEntity; newestSession: string | null; aliveAfterS: number | null }>
  > {
    const customers = await this.query()
      .where('c.expires_at <= :now', { now })
      // The action is a constant of ours, never input.
      .andWhere(
        `EXISTS (SELECT 1 FROM radacct a WHERE a.acctstoptime IS NULL AND a.username = c.username
           AND NOT EXISTS (SELECT 1 FROM rg_expiry_actions x WHERE x.customer_id = c.id
             AND x.expires_at = c.expires_at AND x.action = '${ExpiryActionKind.DISCONNECT}'
             AND ${disconnectedSql('x', 'a')}))`,
      )
      .andWhere('c.id > :afterId', { afterId })
      .orderBy('c.id', 'ASC')
      .limit(limit)
      .getMany();
    if (customers.length === 0) return [];
    const newest: Array<{ username: string; newest: string | number }> =
      await this.dataSource.query(
        `SELECT username, MAX(radacctid) AS newest FROM radacct
         WHERE acctstoptime IS NULL AND username IN (${placeholders(customers.length)})
         GROUP BY username`,
        customers.map((c) => c.username),
      );
    // As the database matched the names (usernameKey): on MariaDB radacct may hold the login
    // in another case; on SQLite "twin" and "TWIN" are two customers.
    const key = usernameKey(this.dataSource);
    const byUser = new Map(newest.map((n) => [key(n.username), String(n.newest)]));
    const alive = await this.stillAlive(customers.map((c) => c.id));
    return customers.map((customer) => ({
      customer,
      newestSession: byUser.get(key(customer.username)) ?? null,
      aliveAfterS: alive.get(String(customer.id)) ?? null,
    }));
  }

  /**
   * Of these customers, the ones with a session still alive after its disconnect: how many
   * seconds after it (the grace included) the latest of them changed, by customer id.
   */
  private async stillAlive(ids: number[]): Promise<Map<string, number>> {
    const rows: Array<{ id: number | string; seen: Date | string; after: Date | string }> =
      await this.dataSource.query(
        `SELECT c.id AS id, MAX(a.rg_seen_at) AS seen, MAX(x.alive_after) AS after
         FROM rg_customers c
         JOIN rg_expiry_actions x ON x.customer_id = c.id AND x.expires_at = c.expires_at
           AND x.action = '${ExpiryActionKind.DISCONNECT}'
         JOIN radacct a ON a.username = c.username AND a.acctstoptime IS NULL
           AND ${stillAliveSql('x', 'a')}
         WHERE c.id IN (${placeholders(ids.length)})
         GROUP BY c.id`,
        ids,
      );
    const seconds = (r: (typeof rows)[number]) =>
      Math.round(
        (readSqlDatetime(r.seen).getTime() -
          readSqlDatetime(r.after).getTime() +
          DISCONNECT_GRACE_MS) /
          1000,
      );
    return new Map(rows.map((r) => [String(r.id), seconds(r)]));
  }

  /**
   * Customers, not suspended, whose expiresAt is after `now` and at most `until`, not yet
   * reminded of that expiresAt: up to `limit` with an id above `afterId`, by id.
   */
  dueForReminder(
    now: Date,
    until: Date,
    afterId: number,
    limit: number,
  ): Promise<CustomerEntity[]> {
    return this.query()
      .where('c.expires_at > :now AND c.expires_at <= :until', { now, until })
      .andWhere('c.suspended = :no', { no: 0 })
      .andWhere(this.notDone(ExpiryActionKind.REMINDER))
      .andWhere('c.id > :afterId', { afterId })
      .orderBy('c.id', 'ASC')
      .limit(limit)
      .getMany();
  }

  private notDone(action: ExpiryActionKind): string {
    // The action is a constant of ours, never input.
    return `NOT EXISTS (SELECT 1 FROM rg_expiry_actions x WHERE x.customer_id = c.id AND x.expires_at = c.expires_at AND x.action = '${action}')`;
  }
}
