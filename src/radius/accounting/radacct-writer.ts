import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { RecentSet } from '../../common/collections/recent-set';
import { chunksOf, inChunks, placeholders } from '../../common/sql/in-list';
import { RadAcct } from '../../database/freeradius';
import { validDateOrNull } from '../../database/zero-dates';
import { TransactionsService } from '../../database/transactions.service';
import { RadacctOrigin } from '../../sessions/feed/radacct-origin';
import { SessionEventType } from '../../sessions/models/session-event.model';
import { STALE_SESSION_CAUSE } from '../../sessions/stale/stale-policy';
import type { AccountingRecord } from './accounting-request';
import { BatchConnections, type MultiQuery } from './batch-connections';
import {
  reopenable,
  reopenClosed,
  revivedSessions,
  statesStatement,
  toStates,
  cutAtReuse,
  readAgain,
  transitions,
  type StateRow,
} from './radacct-states';
import {
  MARIADB_DIALECT,
  MYSQL_DIALECT,
  nasRebootStatements,
  SQLITE_DIALECT,
  updateStatement,
  upsertStatement,
  type RadacctDialect,
  type Statement,
} from './radacct-sql';

/** A change to one radacct row, in the order the packets came, with the row as stored. */
export interface RadacctChange {
  type: SessionEventType;
  row: RadAcct;
}

/**
 * A committed change: its row as the transaction left it when the writer read it before
 * committing, else the key to read it by afterwards (acctuniqueid or radacctid).
 */
export interface CommittedChange {
  type: SessionEventType;
  uid?: string;
  id?: string;
  row?: RadAcct;
}

/**
 * A batch whose sessions' packets committed, except those of `unwritten` (acctuniqueids): the
 * rows they were meant to update had been deleted since the writer saw them (or closed as
 * stale, which their packets could not change), and writing them again (as new rows, or
 * reopened) failed (its `cause`), so they are not known to be written (as with any
 * failed request, its COMMIT may have run if only the answer was lost). The others must be
 * answered as written and not written again: an Interim-Update applied twice would record an
 * interval of 0.
 */
export class PartlyCommittedError extends Error {
  /** The failure's driver code and fatal flag, so that it is classified as the failure is. */
  readonly code: unknown;
  readonly fatal: unknown;

  constructor(
    readonly committed: CommittedChange[],
    readonly unwritten: ReadonlySet<string>,
    failure: unknown,
  ) {
    super(
      `${unwritten.size} session(s) of the batch not written (the rest committed): ${String((failure as Error | undefined)?.message ?? failure)}`,
      { cause: failure },
    );
    this.name = 'PartlyCommittedError';
    this.code = (failure as { code?: unknown }).code;
    this.fatal = (failure as { fatal?: unknown }).fatal;
  }
}

/**
 * Writes a batch of accounting packets to radacct in one transaction (group commit), with
 * FreeRADIUS's semantics (radacct-sql.ts), and says what changed. Packets of one session keep
 * their order: the batch is cut into waves holding at most one packet per session, and each
 * wave is one upsert per status type; an Accounting-On/Off applies between the packets before
 * and after it.
 */
@Injectable()
export class RadacctWriter implements OnApplicationShutdown {
  private readonly dialect: RadacctDialect;
  /** MySQL: the listener's own connections, for batches of session packets. */
  private readonly batches: BatchConnections | null;
  /** Sessions whose radacct row this writer has seen (the latest 100,000). */
  private readonly known = new RecentSet(100_000);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: TransactionsService,
  ) {
    const type = dataSource.options.type;
    this.dialect =
      type === 'better-sqlite3'
        ? SQLITE_DIALECT
        : type === 'mariadb'
          ? MARIADB_DIALECT
          : MYSQL_DIALECT;
    const url = (dataSource.options as { url?: string }).url;
    this.batches = this.dialect.kind === 'mysql' && url ? new BatchConnections(url) : null;
  }

  /**
   * Commits the whole batch or nothing; resolves only after the commit, with the changes it
   * made. The one exception, on MySQL: PartlyCommittedError, when sessions whose rows were
   * deleted behind the writer could not be written again after the rest had committed.
   * `rows` gives their rows: on MySQL a batch of session packets read them before it
   * committed; otherwise they are read then, so answering the NAS need not wait for it.
   */
  write(records: readonly AccountingRecord[]): Promise<CommittedChange[]> {
    if (this.batches && records.every(isSession)) {
      return this.batches.run((query) => this.writeSessions(query, records));
    }
    // READ COMMITTED: two batches write at once (different sessions); without gap locks their
    // inserts of new sessions do not wait for, or deadlock with, each other.
    return this.transactions.run(
      (m) => RadacctOrigin.around(m, () => this.apply(m, records)),
      'READ COMMITTED',
    );
  }

  /** MySQL: opens the batch connection before the first batch needs it (BatchConnections). */
  warmUp(): Promise<void> {
    return this.batches?.warm() ?? Promise.resolve();
  }

  /** The stored rows of committed changes, for their session events. */
  rows(changes: readonly CommittedChange[]): Promise<RadacctChange[]> {
    return this.withRows(this.dataSource.manager, changes);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.batches?.close();
  }

  /**
   * A batch of Start, Interim-Update and Stop packets on MySQL (BatchConnections keeps READ
   * COMMITTED and `@rg_origin` set). When every session whose first packet here is an
   * Interim-Update or Stop is one whose row this writer has seen, the batch is one request:
   * start, the read of the sessions' states (for the events; not of sessions with only
   * Interim-Updates here, see writeKnownSessions), every write, the read of the rows as
   * written (the writes hold their locks, so they are what commits) and the commit.
   * Otherwise the states are read first, to choose between UPDATE and INSERT.
   */
  private async writeSessions(
    query: MultiQuery,
    records: readonly AccountingRecord[],
  ): Promise<CommittedChange[]> {
    let changes: CommittedChange[];
    try {
      const [first, ...later] = waves(records);
      // A Start after another packet of its session here may be a new session in its row,
      // which writeAnySessions writes apart (cutAtReuse).
      changes =
        first.every((r) => r.status === 'Start' || this.known.has(r.acctUniqueId)) &&
        later.every((wave) => wave.every((r) => r.status !== 'Start'))
          ? await this.writeKnownSessions(query, records)
          : await this.writeAnySessions(query, records);
    } catch (err) {
      // What committed has rows now, whatever failed after it.
      if (err instanceof PartlyCommittedError) this.remember(records, err.unwritten);
      throw err;
    }
    this.remember(records);
    return changes;
  }

  /** Notes the sessions of `records` (but those of `except`) as having rows now. */
  private remember(records: readonly AccountingRecord[], except?: ReadonlySet<string>): void {
    for (const r of records) if (!except?.has(r.acctUniqueId)) this.known.add(r.acctUniqueId);
  }

  private async writeAnySessions(
    query: MultiQuery,
    records: readonly AccountingRecord[],
  ): Promise<CommittedChange[]> {
    const [, rows] = await query([START, statesStatement(this.dialect, records)]);
    const { state, times } = toStates(rows as StateRow[]);
    const lock = reopenable(records, state, times);
    if (lock.size > 0) {
      // Rows closed as stale, and closed rows a later Start reuses (both rare): read again,
      // locked until the commit, so that the one reopened below is the one read (another
      // instance's batch, or FreeRADIUS, may write it too). Only these: a locking read of
      // every row would hold their locks across a round trip on every batch of this path
      // (after each restart, every batch for a while).
      const closed = records.filter((r) => lock.has(r.acctUniqueId));
      const [locked] = await query([statesStatement(this.dialect, closed, true)]);
      readAgain({ state, times }, lock, toStates(locked as StateRow[]));
    }
    const { revive, writes } = reopenClosed(this.dialect, records, state, times);
    const statements: Statement[] = revive ? [revive] : [];
    // Each part's events get the rows as that part leaves them: a session's STOPPED, and what
    // came before, is not the new session that a later Start here puts in its row.
    const parts: Array<{ changes: CommittedChange[]; read: number }> = [];
    for (const part of cutAtReuse(writes, state, times)) {
      statements.push(...writeStatements(this.dialect, part, (uid) => state.has(uid)));
      const changes = transitions(part, state, times);
      parts.push({ changes, read: statements.length });
      statements.push(this.eventRows(changes));
    }
    const results = await query([...statements, COMMIT]);
    return parts.flatMap(({ changes, read }) => withEventRows(changes, results[read]));
  }

  private async writeKnownSessions(
    query: MultiQuery,
    records: readonly AccountingRecord[],
  ): Promise<CommittedChange[]> {
    const statements = writeStatements(this.dialect, records, (uid) => this.known.has(uid));
    const uids = [...new Set(records.map((r) => r.acctUniqueId))];
    // A session whose packets here are all Interim-Updates needs no read before: an
    // Interim-Update never opens, closes or creates a row, so whether it was open is whether
    // its row is open as written (and a missing row was missing). Only the others are read.
    const interimOnly = new Set(uids);
    for (const r of records) if (r.status !== 'Interim-Update') interimOnly.delete(r.acctUniqueId);
    const read = records.filter((r) => !interimOnly.has(r.acctUniqueId));
    const head = read.length ? [START, statesStatement(this.dialect, read)] : [START];
    const results = await query([
      ...head,
      ...statements,
      eventRowsStatement('acctuniqueid', uids),
      COMMIT,
    ]);
    const rows = results[head.length + statements.length] as RadAcct[];
    const { state, times } = toStates(read.length ? (results[1] as StateRow[]) : []);
    // Written again, reading their state first:
    // - a row this writer saw that is gone (deleted since): the UPDATEs meant for that session
    //   changed nothing;
    // - a row radgraph had closed as stale that a report later than the close revives (see
    //   revivedBy), when no Stop here wrote the session's end: its Interim-Updates changed
    //   nothing, and writeAnySessions reopens it first. Sessions with only Interim-Updates were
    //   not read: their row as written says it. (A Start that is a new session in a row,
    //   reusesRow, put it there with its own write: nothing to write again.)
    const again = new Set<string>();
    for (const row of rows) {
      if (!interimOnly.has(row.acctUniqueId)) continue;
      if (row.acctStopTime === null) state.set(row.acctUniqueId, 'open');
      else if (row.acctTerminateCause === STALE_SESSION_CAUSE) again.add(row.acctUniqueId);
      else state.set(row.acctUniqueId, 'stopped');
    }
    const revived = revivedSessions(read, state, times);
    if (revived.size > 0) {
      const stopped = new Set(read.filter((r) => r.status === 'Stop').map((r) => r.acctUniqueId));
      for (const uid of revived) if (!stopped.has(uid)) again.add(uid);
    }
    for (const uid of uids) if (this.known.has(uid) && !state.has(uid)) again.add(uid);
    const kept = again.size ? records.filter((r) => !again.has(r.acctUniqueId)) : records;
    const changes = withEventRows(transitions(kept, state, times), rows);
    if (again.size === 0) return changes;
    for (const uid of again) this.known.delete(uid);
    const rest = records.filter((r) => again.has(r.acctUniqueId));
    try {
      return [...changes, ...(await this.writeAnySessions(query, rest))];
    } catch (err) {
      // The rest of the batch has committed: only these sessions' packets are not known to
      // be written.
      throw new PartlyCommittedError(changes, again, err);
    }
  }

  private eventRows(changes: readonly CommittedChange[]): Statement {
    return eventRowsStatement('acctuniqueid', [...new Set(changes.map((c) => c.uid!))]);
  }

  /** Any batch, one statement at a time, in a transaction of TypeORM's (SQLite, Accounting-On/Off). */
  private async apply(
    m: EntityManager,
    records: readonly AccountingRecord[],
  ): Promise<CommittedChange[]> {
    const sessions = records.filter(isSession);
    const read = statesStatement(this.dialect, sessions, true);
    const { state, times } = toStates(sessions.length ? await m.query(read.sql, read.params) : []);
    const changes: CommittedChange[] = [];

    let segment: AccountingRecord[] = [];
    const flush = async () => {
      // Closed rows are reopened by the packets between two Accounting-On/Off, as those apply
      // in turn: a NAS's Accounting-On and then the Starts of its new sessions, some of which
      // reuse an Acct-Session-Id, often come in one batch.
      const { revive, writes } = reopenClosed(this.dialect, segment, state, times);
      if (revive) await m.query(revive.sql, revive.params);
      const parts = cutAtReuse(writes, state, times);
      for (const [n, part] of parts.entries()) {
        const statements = writeStatements(this.dialect, part, (uid) => state.has(uid));
        for (const { sql, params } of statements) await m.query(sql, params);
        const made = transitions(part, state, times);
        changes.push(...made);
        // The rows as this part leaves them, for the events of the sessions a later part puts
        // a new session in (see writeAnySessions).
        if (n + 1 < parts.length) await this.keepRows(m, made, parts[n + 1]);
      }
      segment = [];
    };
    for (const [i, r] of records.entries()) {
      if (isSession(r)) {
        segment.push(r);
        continue;
      }
      await flush();
      const closed = (await this.nasReboot(m, r)).map(({ id, uid }) => {
        state.set(uid, 'stopped');
        times.closedAt.set(uid, r.eventTime);
        return { type: SessionEventType.STOPPED, id, uid };
      });
      // A session's STOPPED gets its row as closed here when a Start later in the batch may put
      // a new session in it.
      await this.keepRows(m, closed, records.slice(i + 1));
      changes.push(...closed);
    }
    await flush();
    return changes;
  }

  /**
   * Reads now, in the transaction, the rows of those of `changes` whose sessions have a Start
   * in `later`, and sets them on those changes.
   */
  private async keepRows(
    m: EntityManager,
    changes: CommittedChange[],
    later: readonly AccountingRecord[],
  ): Promise<void> {
    const restarted = new Set(later.filter((r) => r.status === 'Start').map((r) => r.acctUniqueId));
    const kept = changes.filter((c) => c.uid !== undefined && restarted.has(c.uid));
    if (kept.length === 0) return;
    const rowOf = await this.rowsOf(m, kept);
    for (const c of kept) c.row = rowOf(c);
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
    for (const part of chunksOf(closed)) {
      const { sql, params } = close(part.map((c) => c.id));
      await m.query(sql, params);
    }
    await m.query(reload.sql, reload.params);
    return closed;
  }

  /**
   * Rows for events. On MySQL a plain query (mysql2 already gives Dates and exact 64-bit
   * strings): TypeORM's entity hydration was a tenth of the listener's CPU. SQLite needs
   * TypeORM to read its datetime text as UTC. A bounded IN list each statement (an
   * Accounting-On/Off closes every session of its NAS, tens of thousands, more than SQLite
   * binds): one statement for a batch of packets.
   */
  private readRows(
    m: EntityManager,
    key: 'acctuniqueid' | 'radacctid',
    values: string[],
  ): Promise<RadAcct[]> {
    return inChunks(values, async (part) => {
      if (this.dialect.kind === 'sqlite') {
        return m
          .getRepository(RadAcct)
          .findBy(key === 'radacctid' ? { radAcctId: In(part) } : { acctUniqueId: In(part) });
      }
      const { sql, params } = eventRowsStatement(key, part);
      return eventRows(await m.query(sql, params));
    });
  }

  private async withRows(
    m: EntityManager,
    changes: readonly CommittedChange[],
  ): Promise<RadacctChange[]> {
    if (changes.every((c) => c.row)) return changes.map((c) => ({ type: c.type, row: c.row! }));
    const rowOf = await this.rowsOf(m, changes);
    return changes.flatMap((c) => {
      const row = rowOf(c);
      return row ? [{ type: c.type, row }] : [];
    });
  }

  /**
   * Reads the rows of the changes that have none yet (by radacctid where the change has it,
   * else by acctuniqueid), and says which row is each change's.
   */
  private async rowsOf(
    m: EntityManager,
    changes: readonly CommittedChange[],
  ): Promise<(c: CommittedChange) => RadAcct | undefined> {
    const unread = changes.filter((c) => !c.row);
    const uids = [...new Set(unread.flatMap((c) => (c.uid && !c.id ? [c.uid] : [])))];
    const ids = [...new Set(unread.flatMap((c) => (c.id ? [c.id] : [])))];
    const rows = [
      ...(uids.length ? await this.readRows(m, 'acctuniqueid', uids) : []),
      ...(ids.length ? await this.readRows(m, 'radacctid', ids) : []),
    ];
    const byUid = new Map(rows.map((row) => [row.acctUniqueId, row]));
    const byId = new Map(rows.map((row) => [String(row.radAcctId), row]));
    return (c) => c.row ?? (c.id ? byId.get(c.id) : byUid.get(c.uid!));
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
  ['framedipv6address', 'framedIpv6Address'],
  ['framedipv6prefix', 'framedIpv6Prefix'],
  ['delegatedipv6prefix', 'delegatedIpv6Prefix'],
  ['rg_seen_at', 'rgSeenAt'],
]
  .map(([column, property]) => `${column} AS ${property}`)
  .join(', ');

/**
 * The statements that write session packets (no Accounting-On/Off among them), given which
 * sessions' rows exist before them. Per wave and status type: an UPDATE of the rows that
 * exist and an upsert of the others. A session's first packet here finds its row if it
 * existed; its later packets always do (the first made it).
 */
function writeStatements(
  d: RadacctDialect,
  records: readonly AccountingRecord[],
  existed: (uid: string) => boolean,
): Statement[] {
  const statements: Statement[] = [];
  for (const [n, wave] of waves(records).entries()) {
    const exists = (r: AccountingRecord) => n > 0 || existed(r.acctUniqueId);
    for (const status of ['Start', 'Interim-Update', 'Stop'] as const) {
      const of = wave.filter((r) => r.status === status);
      const existing = of.filter(exists);
      const missing = of.filter((r) => !exists(r));
      if (existing.length) statements.push(updateStatement(d, status, existing));
      if (missing.length) statements.push(upsertStatement(d, status, missing));
    }
  }
  return statements;
}

const START: Statement = { sql: 'START TRANSACTION', params: [] };
const COMMIT: Statement = { sql: 'COMMIT', params: [] };

/** Changes by acctuniqueid with their rows, from an event-rows read. */
function withEventRows(changes: CommittedChange[], rows: unknown): CommittedChange[] {
  const byUid = new Map(eventRows(rows as RadAcct[]).map((row) => [row.acctUniqueId, row]));
  for (const c of changes) c.row = byUid.get(c.uid!); // the writer's own objects: set in place
  return changes;
}

/** MySQL: the rows of session events, by acctuniqueid or radacctid. */
function eventRowsStatement(key: 'acctuniqueid' | 'radacctid', values: string[]): Statement {
  return {
    sql: `SELECT ${EVENT_COLUMNS} FROM radacct WHERE ${key} IN (${values.length ? placeholders(values.length) : 'NULL'})`,
    params: values,
  };
}

/**
 * mysql2 already gives Dates and exact 64-bit strings; radacctid may come as a number, and a
 * zero date (an old tool's '0000-00-00 00:00:00', read by the batch connections without
 * zeroDatesAsNull) as an Invalid Date, which is null here.
 */
function eventRows(rows: RadAcct[]): RadAcct[] {
  // The driver's fresh row objects: converted in place, not copied.
  for (const row of rows) {
    row.radAcctId = String(row.radAcctId);
    row.acctStartTime = validDateOrNull(row.acctStartTime);
    row.acctUpdateTime = validDateOrNull(row.acctUpdateTime);
    row.acctStopTime = validDateOrNull(row.acctStopTime);
  }
  return rows;
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
