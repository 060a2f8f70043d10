import { STALE_SESSION_CAUSE } from '../../sessions/stale/stale-policy';
import { SessionEventType } from '../../sessions/models/session-event.model';
import { placeholders } from '../../common/sql/in-list';
import type { AccountingRecord } from './accounting-request';
import {
  REUSE_AFTER_SECONDS,
  reviveStatement,
  type RadacctDialect,
  type Statement,
} from './radacct-sql';
import type { CommittedChange } from './radacct-writer';

/*
 * The radacct writer's view of a batch's sessions: the state of each one's row before the
 * batch (read in the batch's transaction), the events its packets make from it, and the
 * closed rows the packets reopen before they are written.
 */

/**
 * A session's row before a packet: none; open; stopped; closed by radgraph as stale; or such
 * a row that this batch reopened first because the NAS reports the session after that close
 * (see reopenClosed).
 */
export type RowState = 'missing' | 'open' | 'stopped' | 'stale' | 'revived';

/**
 * The batch's sessions' rows' times, in Unix seconds, as the writes leave them packet after
 * packet: the closed rows' stops, the rows' starts, and their last updates (the start when
 * there is none). 0 stands for a time the database cannot read (NULL, a zero date).
 */
export interface RowTimes {
  closedAt: Map<string, number>;
  startedAt: Map<string, number>;
  updatedAt: Map<string, number>;
}

/**
 * What one packet does to a session's state, and the event it makes (null: none); moves
 * `times` on as its write does.
 */
function transition(
  state: RowState,
  r: AccountingRecord,
  times: RowTimes,
): [RowState, SessionEventType | null] {
  const uid = r.acctUniqueId;
  const { closedAt, startedAt, updatedAt } = times;
  const reused = r.status === 'Start' && reusesRow(r, state, times);
  // Every Start writes its time as the start and the update (FreeRADIUS's fallback UPDATE
  // too); a packet that creates the row writes the start it implies and its own time; an
  // Interim-Update moves an open row's update time on, never back.
  if (r.status === 'Start') {
    startedAt.set(uid, r.eventTime);
    updatedAt.set(uid, r.eventTime);
  } else if (state === 'missing') {
    startedAt.set(uid, Math.max(0, r.eventTime - (r.sessionTime ?? 0)));
    updatedAt.set(uid, r.eventTime);
  } else if (r.status === 'Interim-Update' && (state === 'open' || state === 'revived')) {
    updatedAt.set(uid, Math.max(updatedAt.get(uid) ?? 0, r.eventTime));
  }
  if (reused) {
    // A new session in the row, closed or still open (the NAS lost the old one without a
    // Stop): the Start's write makes the row that session.
    closedAt.delete(uid);
    return ['open', SessionEventType.STARTED];
  }
  if (state === 'stopped' || state === 'stale') {
    if (r.status !== 'Stop') return [state, null];
    // FreeRADIUS's stop query writes its end over any row.
    closedAt.set(uid, r.eventTime);
    // Stale and not reopened: a report no later than the close, or (writeKnownSessions) a
    // batch written before its state was read. A Stop writes the session's real end over the
    // stale close, which subscribers must hear of.
    return ['stopped', state === 'stale' ? SessionEventType.STOPPED : null];
  }
  if (r.status === 'Stop') {
    closedAt.set(uid, r.eventTime);
    return ['stopped', SessionEventType.STOPPED];
  }
  return [
    'open',
    state === 'open' ? SessionEventType.UPDATED : SessionEventType.STARTED, // missing or revived
  ];
}

/**
 * Whether a Start makes its row (in `state`) the new session it reports (radacct-sql.ts, the
 * Start's `reuse`): the Start is more than REUSE_AFTER_SECONDS later than the row's start, and
 * later than its stop, or, for an open row, than its last report (its update time, else its
 * start). A copy of the row's own Start is never that much later than the start.
 */
export function reusesRow(start: AccountingRecord, state: RowState, times: RowTimes): boolean {
  const uid = start.acctUniqueId;
  const t = start.eventTime;
  if (t <= (times.startedAt.get(uid) ?? 0) + REUSE_AFTER_SECONDS) return false;
  if (state === 'open' || state === 'revived') return t > (times.updatedAt.get(uid) ?? 0);
  if (state !== 'stopped' && state !== 'stale') return false;
  const closed = times.closedAt.get(uid);
  return closed !== undefined && t > closed;
}

export interface StateRow {
  uid: string;
  open: number | string;
  /** Unix seconds of the stop of a closed row, else null. */
  closedAt: number | string | null;
  /** Unix seconds of the row's start, else null. */
  startedAt: number | string | null;
  /** Unix seconds of the row's update time, else its start, else null. */
  updatedAt: number | string | null;
  /** 1 for a row radgraph closed as stale. */
  stale: number | string;
}

/**
 * The read of the batch's sessions' rows: which exist, which of those are open, when the
 * others were closed, and which radgraph closed as stale. `lock` (MySQL, a read before the
 * writes in the same transaction): the rows stay as read until the commit, so a closed row
 * reopened here is the one read.
 */
export function statesStatement(
  d: RadacctDialect,
  records: readonly AccountingRecord[],
  lock = false,
): Statement {
  const uids = [...new Set(records.map((r) => r.acctUniqueId))];
  return {
    sql:
      'SELECT acctuniqueid AS uid, CASE WHEN acctstoptime IS NULL THEN 1 ELSE 0 END AS open, ' +
      `CASE WHEN acctstoptime IS NOT NULL THEN ${d.unix('acctstoptime')} END AS closedAt, ` +
      `${d.unix('acctstarttime')} AS startedAt, ` +
      `${d.unix('COALESCE(acctupdatetime, acctstarttime)')} AS updatedAt, ` +
      'CASE WHEN acctstoptime IS NOT NULL AND acctterminatecause = ? THEN 1 ELSE 0 END AS stale ' +
      `FROM radacct WHERE acctuniqueid IN (${uids.length ? placeholders(uids.length) : 'NULL'})` +
      (lock ? d.forUpdate : ''),
    params: [STALE_SESSION_CAUSE, ...uids],
  };
}

type States = ReturnType<typeof toStates>;
const TIMES = ['closedAt', 'startedAt', 'updatedAt'] as const;

/** The state of `uids` in `read` replaced with that in `again`, a later read of them. */
export function readAgain(read: States, uids: Iterable<string>, again: States): void {
  for (const uid of uids) {
    read.state.delete(uid);
    for (const key of TIMES) read.times[key].delete(uid);
  }
  for (const [uid, s] of again.state) read.state.set(uid, s);
  for (const key of TIMES) for (const [uid, t] of again.times[key]) read.times[key].set(uid, t);
}

export function toStates(rows: readonly StateRow[]): {
  state: Map<string, RowState>;
  times: RowTimes;
} {
  const state = new Map<string, RowState>();
  const times: RowTimes = { closedAt: new Map(), startedAt: new Map(), updatedAt: new Map() };
  for (const row of rows) {
    // A time MySQL cannot read (a zero date, before 1970) counts as 0, as in the SQL.
    times.startedAt.set(row.uid, row.startedAt === null ? 0 : Number(row.startedAt));
    times.updatedAt.set(row.uid, row.updatedAt === null ? 0 : Number(row.updatedAt));
    if (Number(row.open) === 1) {
      state.set(row.uid, 'open');
      continue;
    }
    state.set(row.uid, Number(row.stale) === 1 ? 'stale' : 'stopped');
    if (row.closedAt !== null) times.closedAt.set(row.uid, Number(row.closedAt));
  }
  return { state, times };
}

/**
 * A stale-closed session's latest report here later than its close, and whether an
 * Interim-Update is among them.
 */
type LaterReport = { time: number; interim: boolean };

/**
 * The rows radgraph closed as stale (the reaper sets their stop to the last update before the
 * close) that the batch's packets reopen: an Interim-Update or a Stop here reports the session
 * later than the close, so the NAS had it all along. Not when a Start here is a new session in
 * the row (reusesRow: the NAS rebooted and reused the Acct-Session-Id), which the Start's own
 * write puts in the row; reopened first, the row would be open when
 * that Start comes, and keep the old session's counters. So the old session's reports here
 * before it change nothing, as for any closed row, and a Stop among them still writes its end.
 */
function revivedBy(
  records: readonly AccountingRecord[],
  state: ReadonlyMap<string, RowState>,
  times: RowTimes,
): Map<string, LaterReport> {
  const { closedAt } = times;
  const revived = new Map<string, LaterReport>();
  const newSession = new Set<string>();
  /** The rows' starts as the batch's Starts move them (each writes its time, as transition). */
  const moved: RowTimes = { ...times, startedAt: new Map(times.startedAt) };
  for (const r of records) {
    const uid = r.acctUniqueId;
    const closed = closedAt.get(uid);
    if (state.get(uid) !== 'stale' || closed === undefined) continue;
    if (r.status === 'Start') {
      if (reusesRow(r, 'stale', moved)) newSession.add(uid);
      moved.startedAt.set(uid, r.eventTime);
      continue;
    }
    if (r.eventTime <= closed) continue;
    const seen = revived.get(uid);
    revived.set(uid, {
      time: Math.max(seen?.time ?? 0, r.eventTime),
      interim: (seen?.interim ?? false) || r.status === 'Interim-Update',
    });
  }
  for (const uid of newSession) revived.delete(uid);
  return revived;
}

/**
 * The closed rows whose state decides what the batch does to them, so a writer that reads
 * before it writes locks them: those closed as stale, and those a Start here reuses.
 */
export function reopenable(
  records: readonly AccountingRecord[],
  state: ReadonlyMap<string, RowState>,
  times: RowTimes,
): Set<string> {
  const uids = new Set<string>();
  for (const [uid, s] of state) if (s === 'stale') uids.add(uid);
  for (const r of records) {
    const uid = r.acctUniqueId;
    const s = state.get(uid);
    if (r.status === 'Start' && s !== undefined && reusesRow(r, s, times)) {
      uids.add(r.acctUniqueId);
    }
  }
  return uids;
}

/**
 * The stale-closed sessions the batch revives (revivedBy), for writeKnownSessions, which
 * writes them again after reading their state.
 */
export function revivedSessions(
  records: readonly AccountingRecord[],
  state: ReadonlyMap<string, RowState>,
  times: RowTimes,
): Set<string> {
  return new Set(revivedBy(records, state, times).keys());
}

/**
 * Reopens, before the writes, the stale-closed rows the batch revives (revivedBy): each is
 * open again (reviveStatement), and the batch's packets apply to it as to an open row: an
 * Interim-Update makes the session STARTED again, and its counters grow in the usage rollup
 * again; a Stop writes its end. Their state becomes 'revived' (and they leave `closedAt`).
 * Returns the statement (null when there is none) and the packets to write: a revived
 * session's Starts and Interim-Updates no later than the close are left out, as they changed
 * nothing of the closed row (they are still answered; applied after the reopening, which
 * clears the update time, they would set the session back in time). Its Stops are kept:
 * FreeRADIUS's stop query writes over any row.
 */
export function reopenClosed(
  d: RadacctDialect,
  records: readonly AccountingRecord[],
  state: Map<string, RowState>,
  times: RowTimes,
): { revive: Statement | null; writes: readonly AccountingRecord[] } {
  const { closedAt } = times;
  const revived = revivedBy(records, state, times);
  if (revived.size === 0) return { revive: null, writes: records };
  const writes = records.filter((r) => {
    if (!revived.has(r.acctUniqueId)) return true;
    return r.status === 'Stop' || r.eventTime > closedAt.get(r.acctUniqueId)!;
  });
  for (const uid of revived.keys()) {
    state.set(uid, 'revived');
    closedAt.delete(uid);
  }
  return { revive: reviveStatement(d, revived, STALE_SESSION_CAUSE), writes };
}

/**
 * The batch's session packets in parts to write one after the other, so that each part's
 * events can be given the rows as that part leaves them: a Start that puts a new session in
 * its row (reusesRow) starts a new part for its session when that session has packets before
 * it here (the old session's Stop, say, whose STOPPED must carry the old session's end, not
 * the new session). Each session's packets keep their order; almost always one part.
 */
export function cutAtReuse(
  records: readonly AccountingRecord[],
  state: ReadonlyMap<string, RowState>,
  times: RowTimes,
): AccountingRecord[][] {
  const states = new Map(state);
  const moved: RowTimes = {
    closedAt: new Map(times.closedAt),
    startedAt: new Map(times.startedAt),
    updatedAt: new Map(times.updatedAt),
  };
  const parts: AccountingRecord[][] = [];
  /** Each session's part, and whether it has a packet there yet. */
  const at = new Map<string, { part: number; used: boolean }>();
  for (const r of records) {
    const uid = r.acctUniqueId;
    const before = states.get(uid) ?? 'missing';
    const place = at.get(uid) ?? { part: 0, used: false };
    if (place.used && r.status === 'Start' && reusesRow(r, before, moved)) place.part += 1;
    place.used = true;
    at.set(uid, place);
    (parts[place.part] ??= []).push(r);
    states.set(uid, transition(before, r, moved)[0]);
  }
  return parts.length ? parts : [[]];
}

/**
 * The events session packets make, from their rows' state before (and the closed ones' stops);
 * moves `state` and `times` on.
 */
export function transitions(
  records: readonly AccountingRecord[],
  state: Map<string, RowState>,
  times: RowTimes,
): CommittedChange[] {
  const changes: CommittedChange[] = [];
  for (const r of records) {
    const [next, type] = transition(state.get(r.acctUniqueId) ?? 'missing', r, times);
    state.set(r.acctUniqueId, next);
    if (type) changes.push({ type, uid: r.acctUniqueId });
  }
  return changes;
}
