import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, IsNull } from 'typeorm';
import type { Connection } from '../common/pagination/connection';
import { RadAcct } from '../database/freeradius';
import { sessionPage, toSession } from './models/session.mapper';
import type { Session } from './models/session.model';
import { repliedIntervals } from './stale/replied-interval';
import { byAskedUsername, usernameKey } from './usernames';
import { hasOwnInterval, isStale } from './stale/stale-policy';
import type { StaleSessionConfig } from '../config/app-config';

/** Reads sessions from radacct (FreeRADIUS's, or radgraph's accounting listener's). */
@Injectable()
export class SessionsService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The open session (acctstoptime IS NULL) of each username, the newest when a user has
   * several; one query for the whole batch. Whatever the case on MariaDB, exactly on SQLite
   * (usernameKey).
   */
  async openByUsernames(usernames: readonly string[]): Promise<Map<string, Session>> {
    if (usernames.length === 0) return new Map();
    const rows = await this.dataSource.getRepository(RadAcct).find({
      where: { username: In([...new Set(usernames)]), acctStopTime: IsNull() },
      order: { radAcctId: 'ASC' },
    });
    const now = new Date();
    const key = usernameKey(this.dataSource);
    // Later rows (higher radacctid) overwrite earlier ones: the newest wins.
    const found = new Map(rows.map((row) => [key(row.username), toSession(row, now)]));
    return byAskedUsername(usernames, found, key);
  }

  /**
   * Whether each session is stale by the stale-session rule (stale-policy.ts). Those without
   * an interim interval of their own yet are judged by the interval FreeRADIUS replies to
   * their user: one query for the batch, and none when no session would be stale without it.
   */
  async staleFlags(
    sessions: readonly Session[],
    config: StaleSessionConfig,
    now: Date = new Date(),
  ): Promise<boolean[]> {
    // A replied interval only lengthens the default's allowance: only the sessions stale by
    // the default are asked about (most events are of sessions heard from just now).
    const asking = sessions
      .filter((s) => !hasOwnInterval(s.interimIntervalSeconds) && isStale(s, config, now))
      .map((s) => s.username);
    const replied = await repliedIntervals(this.dataSource, [...new Set(asking)]);
    return sessions.map((s) => isStale(s, config, now, replied.get(s.username) ?? 0));
  }

  /** A user's connection history, newest first. */
  history(username: string, first: number, after?: string | null): Promise<Connection<Session>> {
    return sessionPage(
      () =>
        this.dataSource
          .getRepository(RadAcct)
          .createQueryBuilder('a')
          .where('a.username = :username', { username }),
      's',
      first,
      after,
    );
  }
}
