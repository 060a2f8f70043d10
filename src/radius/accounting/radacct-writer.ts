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
  updateStatement,
  upsertStatement,
  type RadacctDialect,
  type SessionStatus,
} from './radacct-sql';

/** A change to one radacct row, in the order the packets came, with the row as stored. */
export interface RadacctChange {
  type: SessionEventType;
  row: RadAcct;
}

/** A committed change, before its row is read: the row by acctuniqueid or by radacctid. */
export interface CommittedChange {
  type: SessionEventType;
  uid?: string;
  id?: string;
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
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: TransactionsService,
  ) {
    this.dialect = dataSource.options.type === 'better-sqlite3' ? SQLITE_DIALECT : MYSQL_DIALECT;
  }

  /**
   * Commits the whole batch or nothing; resolves only after the commit, with the changes it
   * made. Their rows are read afterwards (`rows`), so answering the NAS need not wait for it.
   */
  write(records: readonly AccountingRecord[]): Promise<CommittedChange[]> {
    // READ COMMITTED: two batches write at once (different sessions); without gap locks their
    // inserts of new sessions do not wait for, or deadlock with, each other.
    return this.transactions.run(
      (m) => RadacctOrigin.around(m, () => this.apply(m, records)),
      'READ COMMITTED',
    );
  }

  /** The stored rows of committed changes, for their session events. */
  rows(changes: readonly CommittedChange[]): Promise<RadacctChange[]> {
    return this.withRows(this.dataSource.manager, changes);
  }

  private async apply(
    m: EntityManager,
    records: readonly AccountingRecord[],
  ): Promise<CommittedChange[]> {
    const uids = [...new Set(records.filter(isSession).map((r) => r.acctUniqueId))];
    const state = await this.states(m, uids);
    const changes: CommittedChange[] = [];

    let segment: AccountingRecord[] = [];
    const flush = async () => {
      // A session's first packet here finds its row if the batch began with one; its later
      // packets always do (the first made it).
      const found = (r: AccountingRecord, n: number) => n > 0 || state.has(r.acctUniqueId);
      for (const [n, wave] of waves(segment).entries()) {
        await this.writeWave(m, wave, (r) => found(r, n));
      }
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
    return changes;
  }

  private async states(m: EntityManager, uids: string[]): Promise<Map<string, RowState>> {
    const state = new Map<string, RowState>();
    if (uids.length === 0) return state;
    const rows: Array<{ uid: string; open: number | string }> = await m.query(
      `SELECT acctuniqueid AS uid, CASE WHEN acctstoptime IS NULL THEN 1 ELSE 0 END AS open FROM radacct WHERE acctuniqueid IN (${uids.map(() => '?').join(', ')})`,
      uids,
    );
    for (const row of rows) state.set(row.uid, Number(row.open) === 1 ? 'open' : 'stopped');
    return state;
  }

  /** One wave: per status type, an UPDATE of the rows that exist and an upsert of the others. */
  private async writeWave(
    m: EntityManager,
    wave: AccountingRecord[],
    exists: (r: AccountingRecord) => boolean,
  ): Promise<void> {
    for (const status of ['Start', 'Interim-Update', 'Stop'] as const) {
      const of = wave.filter((r) => r.status === status);
      const existing = of.filter(exists);
      const missing = of.filter((r) => !exists(r));
      for (const { sql, params } of [
        ...(existing.length ? [updateStatement(this.dialect, status, existing)] : []),
        ...(missing.length ? [upsertStatement(this.dialect, status, missing)] : []),
      ]) {
        await m.query(sql, params);
      }
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

  /**
   * Rows for events. On MySQL a plain query (mysql2 already gives Dates and exact 64-bit
   * strings): TypeORM's entity hydration was a tenth of the listener's CPU. SQLite needs
   * TypeORM to read its datetime text as UTC.
   */
  private async readRows(
    m: EntityManager,
    key: 'acctuniqueid' | 'radacctid',
    values: string[],
  ): Promise<RadAcct[]> {
    if (this.dialect.kind === 'sqlite') {
      return m
        .getRepository(RadAcct)
        .findBy(key === 'radacctid' ? { radAcctId: In(values) } : { acctUniqueId: In(values) });
    }
    const rows: RadAcct[] = await m.query(
      `SELECT ${EVENT_COLUMNS} FROM radacct WHERE ${key} IN (${values.map(() => '?').join(', ')})`,
      values,
    );
    return rows.map((row) => ({ ...row, radAcctId: String(row.radAcctId) }));
  }

  private async withRows(
    m: EntityManager,
    changes: readonly CommittedChange[],
  ): Promise<RadacctChange[]> {
    if (changes.length === 0) return [];
    const uids = [...new Set(changes.flatMap((c) => (c.uid ? [c.uid] : [])))];
    const ids = [...new Set(changes.flatMap((c) => (c.id ? [c.id] : [])))];
    const rows = [
      ...(uids.length ? await this.readRows(m, 'acctuniqueid', uids) : []),
      ...(ids.length ? await this.readRows(m, 'radacctid', ids) : []),
    ];
    const byUid = new Map(rows.map((row) => [row.acctUniqueId, row]));
    const byId = new Map(rows.map((row) => [String(row.radAcctId), row]));
    return changes.flatMap((c) => {
      const row = c.uid ? byUid.get(c.uid) : byId.get(c.id!);
      return row ? [{ type: c.type, row }] : [];
    });
  }
}

/** The columns a session event shows, named as RadAcct's properties. */
const EVENT_COLUMNS = [
  ['radacctid', 'radAcctId'],
  ['acctsessionid', 'acctSessionId'],
  ['acctuniqueid', 'acctUniqueId'],
  ['username', 'username'],
  ['nasipaddress', 'nasIpAddress'],
  ['nasportid', 'nasPortId'],
  ['acctstarttime', 'acctStartTime'],
  ['acctupdatetime', 'acctUpdateTime'],
  ['acctstoptime', 'acctStopTime'],
  ['acctinterval', 'acctInterval'],
  ['acctsessiontime', 'acctSessionTime'],
  ['acctinputoctets', 'acctInputOctets'],
  ['acctoutputoctets', 'acctOutputOctets'],
  ['callingstationid', 'callingStationId'],
  ['acctterminatecause', 'acctTerminateCause'],
  ['framedipaddress', 'framedIpAddress'],
  ['rg_seen_at', 'rgSeenAt'],
]
  .map(([column, property]) => `${column} AS ${property}`)
  .join(', ');

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
