import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { pageSize } from '../common/pagination/connection';
import { AuthAttempt } from './models/auth-attempt.model';
import { byAskedUsername, usernameKey } from './usernames';

/**
 * radpostauth.authdate as a Date: mysql2 gives a Date; SQLite gives the text FreeRADIUS or
 * SQLite wrote ("2026-11-22 10:00:00.123456"), which is UTC.
 */
function toDate(value: Date | string): Date {
  if (value instanceof Date) return value;
  return new Date(`${value.replace(' ', 'T')}${/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? '' : 'Z'}`);
}

/** The authentication log FreeRADIUS keeps in radpostauth (never with passwords: see radius-config). */
@Injectable()
export class AuthLogService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The last `last` attempts of each username, newest first, whatever the case they were
   * typed in on MariaDB, exactly on SQLite (usernameKey); one query for the batch.
   */
  async recent(usernames: readonly string[], last: number): Promise<Map<string, AuthAttempt[]>> {
    const limit = pageSize(last, 'last');
    const out = new Map<string, AuthAttempt[]>();
    if (usernames.length === 0 || limit === 0) return out;
    const [sql, params] = this.dataSource
      .createQueryBuilder()
      .select(['p.username AS username', 'p.reply AS reply', 'p.authdate AS authdate'])
      .addSelect('ROW_NUMBER() OVER (PARTITION BY p.username ORDER BY p.id DESC)', 'rn')
      .from('radpostauth', 'p')
      .where('p.username IN (:...usernames)', { usernames: [...new Set(usernames)] })
      .getQueryAndParameters();
    const rows = await this.dataSource.query<
      Array<{ username: string; reply: string; authdate: Date | string }>
    >(`SELECT username, reply, authdate FROM (${sql}) t WHERE rn <= ? ORDER BY rn`, [
      ...(params as unknown[]),
      limit,
    ]);
    const keyOf = usernameKey(this.dataSource);
    for (const row of rows) {
      const key = keyOf(row.username);
      const list = out.get(key) ?? [];
      list.push({
        at: toDate(row.authdate),
        reply: row.reply,
        accepted: row.reply === 'Access-Accept',
      });
      out.set(key, list);
    }
    return byAskedUsername(usernames, out, keyOf);
  }
}
