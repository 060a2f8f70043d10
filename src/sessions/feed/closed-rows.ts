import { In } from 'typeorm';
import { RadAcct } from '../../database/freeradius';
import { TransactionsService } from '../../database/transactions.service';
import { placeholders } from '../../common/sql/in-list';
import { SessionEventType } from '../models/session-event.model';
import { STALE_SESSION_CAUSE } from '../stale/stale-policy';
import {
  REUSED_CHANGE_KIND,
  STALE_CHANGE_KIND,
} from '../../database/migrations/radacct-change-triggers';
import { RadacctChange } from './radacct-change.entity';
import { RadacctOrigin } from './radacct-origin';

/**
 * The change feed's changes of kinds 4 and 5 (radacct-change-triggers.ts): another writer
 * (FreeRADIUS) wrote a row radgraph had closed as stale, and the session may be live again (4);
 * or its Start put a new session in a row, closed or still open (5).
 */

/** The kinds of change that may reopen a row, and whose event says what the row is now. */
const CLOSED_KINDS: ReadonlySet<number> = new Set([STALE_CHANGE_KIND, REUSED_CHANGE_KIND]);
export const isClosedChange = (c: RadacctChange) => CLOSED_KINDS.has(c.kind);

/** A row radgraph closed as stale that another writer has since updated with a later report. */
const reportedAfterStaleClose = (row: RadAcct) =>
  row.acctStopTime !== null &&
  row.acctTerminateCause === STALE_SESSION_CAUSE &&
  row.acctUpdateTime !== null &&
  row.acctUpdateTime > row.acctStopTime;

/**
 * A row of a kind-5 change that is closed still: FreeRADIUS's Start for a new session moved
 * its start past its stop (its INSERT failed on the key, and its fallback UPDATE set only the
 * start and update times, and connectinfo_start). Not when a Stop wrote the new session's end
 * since (its stop is then later than its start).
 */
const startedAfterClose = (row: RadAcct) =>
  row.acctStopTime !== null && row.acctStartTime !== null && row.acctStartTime > row.acctStopTime;

/**
 * A row of a kind-5 change that is open and that no Interim-Update has written since that
 * Start (its update time is still the Start's): its counters are the old session's.
 */
const startedWhileOpen = (row: RadAcct) =>
  row.acctStopTime === null &&
  row.acctStartTime !== null &&
  row.acctUpdateTime?.getTime() === row.acctStartTime.getTime();

/** A queue row of kind 3: another writer stopped an open row. */
const STOPPED_KIND = 3;

/** The kinds of change lastClosedChanges looks at. */
export const CLOSED_AND_STOPPED_KINDS = [STOPPED_KIND, ...CLOSED_KINDS];

/**
 * The page's changes of kinds 4 and 5 that publish an event: each row's last one (its event
 * says what the row is now), by row id, with whether a Stop of the row (kind 3) follows it in
 * the page, and whether a kind 5 is among the row's changes here (a new session in the row).
 * A Start that reused an open row (kind 5) and the new session's Stop (kind 3) can both wait
 * for the same page; the Stop's change publishes STOPPED, and the Start's must not too.
 * `changes` may go on past the page with the changes queued beyond it (the feed's
 * laterChanges): a row whose last such change is beyond the page publishes with that change.
 */
export function lastClosedChanges(
  changes: readonly RadacctChange[],
): Map<string, { seq: string; stoppedAfter: boolean; reused: boolean }> {
  const last = new Map<string, { seq: string; stoppedAfter: boolean; reused: boolean }>();
  for (const c of changes) {
    const id = String(c.radAcctId);
    if (isClosedChange(c)) {
      const reused = (last.get(id)?.reused ?? false) || c.kind === REUSED_CHANGE_KIND;
      last.set(id, { seq: String(c.seq), stoppedAfter: false, reused });
    } else if (c.kind === STOPPED_KIND && last.has(id)) {
      last.get(id)!.stoppedAfter = true;
    }
  }
  return last;
}

/**
 * The event of a change of kind 4 or 5, from the row as it is now (after reopenClosed): open
 * (again, or the new session of an open row), STARTED; stopped by a Stop that wrote the
 * session's end, STOPPED, unless a later change of the page (`stoppedAfter`) publishes that
 * Stop; still as the reaper left it (a report older than the close), none.
 */
export function closedChangeEvent(row: RadAcct, stoppedAfter = false): SessionEventType | null {
  if (row.acctStopTime === null) return SessionEventType.STARTED;
  if (row.acctTerminateCause === STALE_SESSION_CAUSE || stoppedAfter) return null;
  return SessionEventType.STOPPED;
}

/** A row the feed makes the new session: the counters only while no Interim-Update came. */
const FRESH = 'acctupdatetime = acctstarttime';

/**
 * Reopens the rows of the page's changes of kinds 4 and 5 (`ids`; `reusedIds`: those with a
 * kind 5) that are live again, in one transaction of radgraph's own (RadacctOrigin: no queue
 * row, no second event), and puts the rows as they are now in `byId`:
 * - a row of a kind-5 change becomes the new session, as radgraph's listener makes it
 *   (radacct-sql.ts, the Start's `reuse`): open (startedAfterClose), cause and
 *   connectinfo_stop empty, acctinterval unknown (NULL) and, while no Interim-Update came since
 *   the Start (acctupdatetime still its time), session time and counters 0. Those of the old
 *   session would hide the new one's traffic from the usage rollup (which adds only a
 *   counter's growth) until it outgrew them. Counters an Interim-Update already wrote are the
 *   new session's, and stay. An open row (startedWhileOpen, the NAS lost power) the same way;
 * - a row radgraph closed as stale that FreeRADIUS updated with a report later than the close
 *   (reportedAfterStaleClose) is open again: the NAS had the session all along. FreeRADIUS's
 *   interim query updates a stopped row's counters and update time but never reopens it, so
 *   without this the session would show offline and count nowhere but in the usage rollup
 *   until it ended. acctinterval as FreeRADIUS wrote it is the length of the outage, which the
 *   stale-session rule would take as the interim interval: unknown (NULL) instead. Its
 *   counters stay: they are the session's.
 * The UPDATEs check the same conditions again: a row that changed since the page was read (a
 * Stop of FreeRADIUS's that wrote the new session's end, an Interim-Update that wrote its
 * counters) is left as it is. A page offered again after its publish failed finds the rows
 * open, which is STARTED again (at least once, as the feed is across a crash). Returns how many
 * closed rows it made new sessions (`reused`), reopened as stale (`revived`), and how many
 * open rows it made new sessions (`restarted`).
 */
export async function reopenClosed(
  transactions: TransactionsService,
  ids: readonly string[],
  byId: Map<string, RadAcct>,
  reusedIds: ReadonlySet<string>,
): Promise<{ reused: number; revived: number; restarted: number }> {
  const of = (pool: readonly string[], test: (row: RadAcct) => boolean) =>
    pool.filter((id) => byId.has(id) && test(byId.get(id)!));
  const newSessions = ids.filter((id) => reusedIds.has(id));
  const reused = of(newSessions, startedAfterClose);
  const restarted = of(newSessions, startedWhileOpen);
  const revived = of(
    ids.filter((id) => !reused.includes(id)),
    reportedAfterStaleClose,
  );
  const count = { reused: 0, revived: 0, restarted: 0 };
  const touched = [...reused, ...restarted, ...revived];
  if (touched.length === 0) return count;
  const fresh = (c: string) => `${c} = CASE WHEN ${FRESH} THEN 0 ELSE ${c} END`;
  const inList = (list: readonly string[]) => `radacctid IN (${placeholders(list.length)})`;
  const rows = await transactions.run((m) =>
    RadacctOrigin.around(m, async () => {
      // MySQL assigns left to right, each seeing the columns assigned before it: what the
      // conditions read goes before it is changed.
      if (reused.length > 0 || restarted.length > 0) {
        const newSession = [...reused, ...restarted];
        await m.query(
          `UPDATE radacct SET ${['acctsessiontime', 'acctinputoctets', 'acctoutputoctets'].map(fresh).join(', ')}, ` +
            "connectinfo_stop = '', acctinterval = NULL, acctterminatecause = '', acctstoptime = NULL " +
            `WHERE ${inList(newSession)} AND (acctstoptime IS NULL AND ${FRESH} OR acctstarttime > acctstoptime)`,
          newSession,
        );
      }
      if (revived.length > 0) {
        await m.query(
          "UPDATE radacct SET acctinterval = NULL, acctterminatecause = '', acctstoptime = NULL " +
            `WHERE ${inList(revived)} AND acctstoptime IS NOT NULL AND acctterminatecause = ? AND acctupdatetime > acctstoptime`,
          [...revived, STALE_SESSION_CAUSE],
        );
      }
      return m.getRepository(RadAcct).findBy({ radAcctId: In(touched) });
    }),
  );
  const kindOf = (id: string) =>
    reused.includes(id) ? 'reused' : restarted.includes(id) ? 'restarted' : 'revived';
  for (const row of rows) {
    const id = String(row.radAcctId);
    byId.set(id, row);
    if (row.acctStopTime === null) count[kindOf(id)] += 1;
  }
  return count;
}
