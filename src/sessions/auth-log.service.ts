import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { pageSize } from '../common/pagination/connection';
import { inChunks } from '../common/sql/in-list';
import { AuthAttempt } from './models/auth-attempt.model';
import { byAskedUsername, usernameKey } from './usernames';

/**
 * Users whose attempts one statement reads: one SELECT each, joined by UNION ALL (SQLite allows
 * at most 500 in a compound SELECT).
 */
const USERS_PER_STATEMENT = 100;

/**
 * radpostauth.authdate as a Date: mysql2 gives a Date; SQLite gives the text FreeRADIUS or
 * SQLite wrote ("2026-11-22 10:00:00.123456"), which is UTC.
 */
function toDate(value: Date | string): Date {
  if (value instanceof Date) return value;
  return new Date(`${value.replace(' ', 'T')}${/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? '' : 'Z'}`);
}

interface AttemptRow {
  id: number | string;
  username: string;
  reply: string;
  authdate: Date | string;
}

/** The authentication log FreeRADIUS keeps in radpostauth (never with passwords: see radius-config). */
@Injectable()
export class AuthLogService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The last `last` attempts of each username, newest first, whatever the case they were
   * typed in on MariaDB, exactly on SQLite (usernameKey). Each user's are read newest first
   * from radpostauth's username index (which holds the id) and no further than `last`: a
   * router retrying a rejected login every few seconds leaves hundreds of thousands of rows,
   * and reading them all took seconds.
   */
  async recent(usernames: readonly string[], last: number): Promise<Map<string, AuthAttempt[]>> {
    const limit = pageSize(last, 'last');
    const out = new Map<string, AuthAttempt[]>();
    if (usernames.length === 0 || limit === 0) return out;
    const keyOf = usernameKey(this.dataSource);
    // One read per user as the database compares names ("casey" also reads "CASEY" on MariaDB).
    const users = [...new Map(usernames.map((u) => [keyOf(u), u])).values()];
    const rows = (
      await inChunks(users, (chunk) => this.latest(chunk, limit), USERS_PER_STATEMENT)
    ).sort((a, b) => Number(b.id) - Number(a.id));
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

  /** The last `limit` rows of each of these users, one index range read each. */
  private latest(users: readonly string[], limit: number): Promise<AttemptRow[]> {
    const one = (i: number) =>
      'SELECT * FROM (SELECT id, username, reply, authdate FROM radpostauth WHERE username = ? ' +
      `ORDER BY id DESC LIMIT ?) t${i}`;
    return this.dataSource.query<AttemptRow[]>(
      users.map((_, i) => one(i)).join(' UNION ALL '),
      users.flatMap((u) => [u, limit]),
    );
  }
}
