import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, IsNull } from 'typeorm';
import type { Connection } from '../common/pagination/connection';
import { RadAcct } from '../database/freeradius';
import { sessionPage, toSession } from './models/session.mapper';
import type { Session } from './models/session.model';

/** Reads sessions from radacct (FreeRADIUS's, or radgraph's accounting listener's). */
@Injectable()
export class SessionsService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The open session (acctstoptime IS NULL) of each username, the newest when a user has
   * several; one query for the whole batch.
   */
  async openByUsernames(usernames: readonly string[]): Promise<Map<string, Session>> {
    if (usernames.length === 0) return new Map();
    const rows = await this.dataSource.getRepository(RadAcct).find({
      where: { username: In([...new Set(usernames)]), acctStopTime: IsNull() },
      order: { radAcctId: 'ASC' },
    });
    const now = new Date();
    // Later rows (higher radacctid) overwrite earlier ones: the newest wins.
    return new Map(rows.map((row) => [row.username, toSession(row, now)]));
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
