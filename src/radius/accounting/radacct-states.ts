import { STALE_SESSION_CAUSE } from '../../sessions/stale/stale-policy';
import { SessionEventType } from '../../sessions/models/session-event.model';
import { placeholders } from '../../common/sql/in-list';
import type { AccountingRecord } from './accounting-request';
import {
  reuseStatement,
  reviveStatement,
  type RadacctDialect,
  type SessionStatus,
  type Statement,
} from './radacct-sql';
import type { CommittedChange } from './radacct-writer';

/*
 * The radacct writer's view of a batch's sessions: the state of each one's row before the
 * batch (read in the batch's transaction), the events its packets make from it, and the
 * closed rows the packets reopen before they are written.
 */

/**
 * A session's row before a packet: none; open; stopped; closed by radgraph as stale; or a
 * closed row that this batch reopened first (see reopenClosed): the NAS reports a stale-closed
 * session after that close, or a new session that reuses the row's Acct-Session-Id.
 */
export type RowState = 'missing' | 'open' | 'stopped' | 'stale' | 'revived';

/** What one packet does to a session's state, and the event it makes (null: none). */
function transition(state: RowState, status: SessionStatus): [RowState, SessionEventType | null] {
  if (state === 'stopped') return ['stopped', null];
  if (state === 'stale') {
    // Not reopened: a report no later than the close, or (writeKnownSessions) a batch written
    // before its state was read. An Interim-Update changes nothing of a stopped row; a Stop
    // writes the session's real end over the stale close (as FreeRADIUS's stop query does),
    // which subscribers must hear of.
    return status === 'Stop' ? ['stopped', SessionEventType.STOPPED] : ['stale', null];
  }
  if (status === 'Stop') return ['stopped', SessionEventType.STOPPED];
  return [
    'open',
    state === 'open' ? SessionEventType.UPDATED : SessionEventType.STARTED, // missing or revived
  ];
}

export interface StateRow {
  uid: string;
  open: number | string;
  /** Unix seconds of the stop of a closed row, else null. */
  closedAt: number | string | null;
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
      'CASE WHEN acctstoptime IS NOT NULL AND acctterminatecause = ? THEN 1 ELSE 0 END AS stale ' +
      `FROM radacct WHERE acctuniqueid IN (${uids.length ? placeholders(uids.length) : 'NULL'})` +
      (lock ? d.forUpdate : ''),
    params: [STALE_SESSION_CAUSE, ...uids],
  };
}

export function toStates(rows: readonly StateRow[]): {
  state: Map<string, RowState>;
  /** The closed rows' stops, in Unix seconds. */
  closedAt: Map<string, number>;
} {
  const state = new Map<string, RowState>();
  const closedAt = new Map<string, number>();
  for (const row of rows) {
    if (Number(row.open) === 1) {
      state.set(row.uid, 'open');
      continue;
    }
    state.set(row.uid, Number(row.stale) === 1 ? 'stale' : 'stopped');
    if (row.closedAt !== null) closedAt.set(row.uid, Number(row.closedAt));
  }
  return { state, closedAt };
}

/**
 * A stale-closed session's latest report here later than its close, and whether an
 * Interim-Update is among them.
 */
type LaterReport = { time: number; interim: boolean };

/**
 * The closed rows that the batch's packets reopen:
 * - `reused`: a row, closed in any way, whose session a Start here reports later than its
 *   stop (the first such Start): a new session that reuses the Acct-Session-Id (a NAS that
 *   rebooted; a NAS repeats a Start with its first time, so it is not the old session's);
 * - `revived`: a row radgraph closed as stale (the reaper sets its stop to the last update
 *   before the close) whose session an Interim-Update or a Stop here reports later than that
 *   close: the NAS had the session all along.
 */
export function reopenedBy(
  records: readonly AccountingRecord[],
  state: ReadonlyMap<string, RowState>,
  closedAt: ReadonlyMap<string, number>,
): { reused: Map<string, AccountingRecord>; revived: Map<string, LaterReport> } {
  const reused = new Map<string, AccountingRecord>();
  const revived = new Map<string, LaterReport>();
  if (closedAt.size === 0) return { reused, revived };
  for (const r of records) {
    const closed = closedAt.get(r.acctUniqueId);
    if (closed === undefined || r.eventTime <= closed || r.status !== 'Start') continue;
    if (!reused.has(r.acctUniqueId)) reused.set(r.acctUniqueId, r);
  }
  for (const r of records) {
    const closed = closedAt.get(r.acctUniqueId);
    if (closed === undefined || r.eventTime <= closed || reused.has(r.acctUniqueId)) continue;
    if (state.get(r.acctUniqueId) !== 'stale') continue;
    const seen = revived.get(r.acctUniqueId);
    revived.set(r.acctUniqueId, {
      time: Math.max(seen?.time ?? 0, r.eventTime),
      interim: (seen?.interim ?? false) || r.status === 'Interim-Update',
    });
  }
  return { reused, revived };
}

/**
 * Reopens the closed rows the batch's packets reopen (reopenedBy), before the writes:
 * - a reused row becomes the new session, as its Start's INSERT would have written it
 *   (reuseStatement);
 * - a revived row is open again (reviveStatement), and the batch's packets apply to it as to
 *   an open row: an Interim-Update makes the session STARTED again, and its counters grow in
 *   the usage rollup again; a Stop writes its end.
 * Their state becomes 'revived', so their first packet here makes them STARTED (or STOPPED),
 * and they leave `closedAt`. Returns the statements and the packets to write: a reopened
 * session's packets no later than its close are left out, as they changed nothing of the
 * closed row (they are still answered; applied after the reopening, which clears the update
 * time, they would set the session back in time), except, for a revived row, a Stop (which
 * FreeRADIUS's stop query writes over any row). A reused row's old session had ended, and
 * a report of it must not end the new one.
 */
export function reopenClosed(
  d: RadacctDialect,
  records: readonly AccountingRecord[],
  state: Map<string, RowState>,
  closedAt: Map<string, number>,
): { reopen: Statement[]; writes: readonly AccountingRecord[] } {
  const { reused, revived } = reopenedBy(records, state, closedAt);
  if (reused.size === 0 && revived.size === 0) return { reopen: [], writes: records };
  const writes = records.filter((r) => {
    const closed = closedAt.get(r.acctUniqueId)!;
    if (reused.has(r.acctUniqueId)) return r.eventTime > closed;
    if (revived.has(r.acctUniqueId)) return r.status === 'Stop' || r.eventTime > closed;
    return true;
  });
  for (const uid of [...reused.keys(), ...revived.keys()]) {
    state.set(uid, 'revived');
    closedAt.delete(uid);
  }
  const reopen: Statement[] = [];
  if (reused.size > 0) reopen.push(reuseStatement(d, [...reused.values()]));
  if (revived.size > 0) reopen.push(reviveStatement(d, revived, STALE_SESSION_CAUSE));
  return { reopen, writes };
}

/** The events session packets make, from their rows' state before; moves `state` on. */
export function transitions(
  records: readonly AccountingRecord[],
  state: Map<string, RowState>,
): CommittedChange[] {
  const changes: CommittedChange[] = [];
  for (const r of records) {
    const [next, type] = transition(
      state.get(r.acctUniqueId) ?? 'missing',
      r.status as SessionStatus,
    );
    state.set(r.acctUniqueId, next);
    if (type) changes.push({ type, uid: r.acctUniqueId });
  }
  return changes;
}
