import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { RadAcct } from '../../database/freeradius';
import { TransactionsService } from '../../database/transactions.service';
import { RadacctOrigin } from '../../sessions/feed/radacct-origin';
import { SessionEventType } from '../../sessions/models/session-event.model';
import type { AccountingRecord } from './accounting-request';
import {
  MYSQL_DIALECT,
  nasRebootStatements,
  SQLITE_DIALECT,
  upsertStatement,
  type RadacctDialect,
  type SessionStatus,
} from './radacct-sql';

/** A change to one radacct row, in the order the packets came, with the row as stored. */
export interface RadacctChange {
  type: SessionEventType;
  row: RadAcct;
}

type RowState = 'missing' | 'open' | 'stopped';

/** What one packet does to a session's state, and the event it makes (null: none). */
function transition(state: RowState, status: SessionStatus): [RowState, SessionEventType | null] {
  if (state === 'stopped') return ['stopped', null];
  if (status === 'Stop') return ['stopped', SessionEventType.STOPPED];
  return ['open', state === 'missing' ? SessionEventType.STARTED : SessionEventType.UPDATED];
}

/**
 * Writes a batch of accounting packets to radacct in one transaction (group commit), with
 * FreeRADIUS's semantics (radacct-sql.ts), and says what changed. Packets of one session keep
 * their order: the batch is cut into waves holding at most one packet per session, and each
 * wave is one upsert per status type; an Accounting-On/Off applies between the packets before
 * and after it.
 */
@Injectable()
export class RadacctWriter {
  private readonly dialect: RadacctDialect;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly transactions: TransactionsService,
  ) {
    this.dialect = dataSource.options.type === 'better-sqlite3' ? SQLITE_DIALECT : MYSQL_DIALECT;
  }

  /** Commits the whole batch or nothing; resolves only after the commit. */
  write(records: readonly AccountingRecord[]): Promise<RadacctChange[]> {
    return this.transactions.run((m) => RadacctOrigin.around(m, () => this.apply(m, records)));
  }

  private async apply(
    m: EntityManager,
    records: readonly AccountingRecord[],
  ): Promise<RadacctChange[]> {
    const uids = [...new Set(records.filter(isSession).map((r) => r.acctUniqueId))];
    const state = await this.states(m, uids);
    const changes: Array<{ type: SessionEventType; uid?: string; id?: string }> = [];

    let segment: AccountingRecord[] = [];
    const flush = async () => {
      for (const wave of waves(segment)) await this.writeWave(m, wave);
      for (const r of segment) {
        const [next, type] = transition(
          state.get(r.acctUniqueId) ?? 'missing',
          r.status as SessionStatus,
        );
        state.set(r.acctUniqueId, next);
        if (type) changes.push({ type, uid: r.acctUniqueId });
      }
      segment = [];
    };
    for (const r of records) {
      if (isSession(r)) {
        segment.push(r);
        continue;
      }
      await flush();
      for (const closed of await this.nasReboot(m, r)) {
        state.set(closed.uid, 'stopped');
        changes.push({ type: SessionEventType.STOPPED, id: closed.id });
      }
    }
    await flush();
    return this.withRows(m, changes);
  }

  private async states(m: EntityManager, uids: string[]): Promise<Map<string, RowState>> {
    const state = new Map<string, RowState>();
    if (uids.length === 0) return state;
    const rows = await m.getRepository(RadAcct).find({
      select: { acctUniqueId: true, acctStopTime: true },
      where: { acctUniqueId: In(uids) },
    });
    for (const row of rows) state.set(row.acctUniqueId, row.acctStopTime ? 'stopped' : 'open');
    return state;
  }

  private async writeWave(m: EntityManager, wave: AccountingRecord[]): Promise<void> {
    for (const status of ['Start', 'Interim-Update', 'Stop'] as const) {
      const of = wave.filter((r) => r.status === status);
      if (of.length === 0) continue;
      const { sql, params } = upsertStatement(this.dialect, status, of);
      await m.query(sql, params);
    }
  }

  private async nasReboot(
    m: EntityManager,
    r: AccountingRecord,
  ): Promise<Array<{ id: string; uid: string }>> {
    const { select, close, reload } = nasRebootStatements(this.dialect, r);
    const rows: Array<{ id: number | string; uid: string }> = await m.query(
      select.sql,
      select.params,
    );
    const closed = rows.map((row) => ({ id: String(row.id), uid: row.uid }));
    for (let i = 0; i < closed.length; i += 1000) {
      const { sql, params } = close(closed.slice(i, i + 1000).map((c) => c.id));
      await m.query(sql, params);
    }
    await m.query(reload.sql, reload.params);
    return closed;
  }

  private async withRows(
    m: EntityManager,
    changes: Array<{ type: SessionEventType; uid?: string; id?: string }>,
  ): Promise<RadacctChange[]> {
    if (changes.length === 0) return [];
    const uids = [...new Set(changes.flatMap((c) => (c.uid ? [c.uid] : [])))];
    const ids = [...new Set(changes.flatMap((c) => (c.id ? [c.id] : [])))];
    const repo = m.getRepository(RadAcct);
    const rows = [
      ...(uids.length ? await repo.findBy({ acctUniqueId: In(uids) }) : []),
      ...(ids.length ? await repo.findBy({ radAcctId: In(ids) }) : []),
    ];
    const byUid = new Map(rows.map((row) => [row.acctUniqueId, row]));
    const byId = new Map(rows.map((row) => [String(row.radAcctId), row]));
    return changes.flatMap((c) => {
      const row = c.uid ? byUid.get(c.uid) : byId.get(c.id!);
      return row ? [{ type: c.type, row }] : [];
    });
  }
}

function isSession(r: AccountingRecord): boolean {
  return r.status === 'Start' || r.status === 'Interim-Update' || r.status === 'Stop';
}

/** Cuts packets into waves: the n-th packet of each session goes into wave n. */
export function waves(records: readonly AccountingRecord[]): AccountingRecord[][] {
  const out: AccountingRecord[][] = [];
  const seen = new Map<string, number>();
  for (const r of records) {
    const n = seen.get(r.acctUniqueId) ?? 0;
    seen.set(r.acctUniqueId, n + 1);
    (out[n] ??= []).push(r);
  }
  return out;
}
