import { In } from 'typeorm';
import { RadAcct } from '../../database/freeradius';
import { TransactionsService } from '../../database/transactions.service';
import { placeholders } from '../../common/sql/in-list';
import { SessionEventType } from '../models/session-event.model';
import { STALE_SESSION_CAUSE } from '../stale/stale-policy';
import { STALE_CHANGE_KIND } from '../../database/migrations/radacct-change-triggers';
import { RadacctChange } from './radacct-change.entity';
import { RadacctOrigin } from './radacct-origin';

/**
 * The change feed's changes of kind 4 (radacct-change-triggers.ts): another writer
 * (FreeRADIUS) wrote a row that had ended, and the session may be live again, or a Start for a
 * new session into a row that was still open.
 */

/** A row radgraph closed as stale that another writer has since updated with a later report. */
const reportedAfterStaleClose = (row: RadAcct) =>
  row.acctStopTime !== null &&
  row.acctTerminateCause === STALE_SESSION_CAUSE &&
  row.acctUpdateTime !== null &&
  row.acctUpdateTime > row.acctStopTime;

/**
 * A closed row whose start another writer moved past its stop: FreeRADIUS's Start for a new
 * session with the row's acctuniqueid (a NAS that rebooted and gave the same user and port an
 * Acct-Session-Id it had given before), whose INSERT failed on the key and whose fallback
 * UPDATE set only the start and update times (and connectinfo_start).
 */
const startedAfterClose = (row: RadAcct) =>
  row.acctStopTime !== null && row.acctStartTime !== null && row.acctStartTime > row.acctStopTime;

/**
 * An open row whose start another writer moved past its last report, and that no
 * Interim-Update has written since: FreeRADIUS's Start for a new session with the row's
 * acctuniqueid (a NAS that lost power, with no Stop and no Accounting-On, and gave the same user
 * and port the same Acct-Session-Id), whose fallback UPDATE set the start and update times to
 * the Start's and left the old session's counters. The trigger queued it as kind 4 only for
 * such a Start; a row of another kind-4 change that is open now (reopened by an earlier page
 * that is offered again) has its counters as they should be, or is no such row (reopened as
 * stale, its last report is later than its start).
 */
const startedWhileOpen = (row: RadAcct) =>
  row.acctStopTime === null &&
  row.acctStartTime !== null &&
  row.acctUpdateTime?.getTime() === row.acctStartTime.getTime();

/** A queue row of kind 3: another writer stopped an open row. */
const STOPPED_KIND = 3;

/**
 * The page's kind-4 changes that publish an event: each row's last one (its event says what
 * the row is now), by row id, with whether a Stop of the row (kind 3) follows it in the page.
 * A Start that reused an open row (kind 4) and the new session's Stop (kind 3) can both wait
 * for the same page; the Stop's change publishes STOPPED, and the Start's must not too.
 */
export function lastClosedChanges(
  changes: readonly RadacctChange[],
): Map<string, { seq: string; stoppedAfter: boolean }> {
  const last = new Map<string, { seq: string; stoppedAfter: boolean }>();
  for (const c of changes) {
    const id = String(c.radAcctId);
    if (c.kind === STALE_CHANGE_KIND) last.set(id, { seq: String(c.seq), stoppedAfter: false });
    else if (c.kind === STOPPED_KIND && last.has(id)) last.get(id)!.stoppedAfter = true;
  }
  return last;
}

/**
 * The event of a kind-4 change, from the row as it is now (after reopenClosed): open (again,
 * or the new session of an open row), STARTED; stopped by a Stop that wrote the session's end,
 * STOPPED, unless a later change of the page (`stoppedAfter`) publishes that Stop; still as the
 * reaper left it (a report older than the close), none.
 */
export function closedChangeEvent(row: RadAcct, stoppedAfter = false): SessionEventType | null {
  if (row.acctStopTime === null) return SessionEventType.STARTED;
  if (row.acctTerminateCause === STALE_SESSION_CAUSE || stoppedAfter) return null;
  return SessionEventType.STOPPED;
}

/** The conditions of the two reopenings in SQL, as the guards of the UPDATE below. */
const REUSED = 'acctstarttime > acctstoptime';
/** A reused row that no Interim-Update has written since its Start. */
const FRESH = `${REUSED} AND acctupdatetime = acctstarttime`;
const REVIVED = 'acctterminatecause = ? AND acctupdatetime > acctstoptime';
/** An open row that no Interim-Update has written since a Start (startedWhileOpen). */
const OPEN_FRESH = 'acctstoptime IS NULL AND acctupdatetime = acctstarttime';

/**
 * Reopens the closed rows of the page's kind-4 changes (`ids`) that are live again, in one
 * transaction of radgraph's own (RadacctOrigin: no queue row, no second event), and puts the
 * rows as they are now in `byId`:
 * - a row whose start is later than its stop (startedAfterClose) becomes the new session, as
 *   radgraph's listener makes it (radacct-sql.ts, the Start's `reuse`): open, cause and
 *   connectinfo_stop empty, acctinterval unknown (NULL) and, while no Interim-Update came since
 *   the Start (acctupdatetime still its time), session time and counters 0. Those of the old
 *   session would hide the new one's traffic from the usage rollup (which adds only a
 *   counter's growth) until it outgrew them. Counters an Interim-Update already wrote are the
 *   new session's, and stay;
 * - a row radgraph closed as stale that FreeRADIUS updated with a report later than the close
 *   (reportedAfterStaleClose) is open again: the NAS had the session all along. FreeRADIUS's
 *   interim query updates a stopped row's counters and update time but never reopens it, so
 *   without this the session would show offline and count nowhere but in the usage rollup
 *   until it ended. acctinterval as FreeRADIUS wrote it is the length of the outage, which the
 *   stale-session rule would take as the interim interval: unknown (NULL) instead.
 * - an open row that FreeRADIUS's Start for a new session reused (startedWhileOpen) becomes
 *   that session the same way: session time and counters 0, acctinterval NULL,
 *   connectinfo_stop empty. FreeRADIUS's first Interim-Update of the new session (lower than
 *   the old one's counters) would otherwise add nothing to the usage either.
 * The UPDATEs check the same conditions again: a row that changed since the page was read (a
 * Stop of FreeRADIUS's that wrote the new session's end, an Interim-Update that wrote its
 * counters) is left as it is. A page offered again after its publish failed finds the rows
 * open, which is STARTED again (at least once, as the feed is across a crash). Returns how many
 * rows of each kind it reopened, and how many open rows are the new session (`restarted`).
 */
export async function reopenClosed(
  transactions: TransactionsService,
  ids: readonly string[],
  byId: Map<string, RadAcct>,
): Promise<{ reused: number; revived: number; restarted: number }> {
  const of = (test: (row: RadAcct) => boolean) =>
    ids.filter((id) => byId.has(id) && test(byId.get(id)!));
  const reused = new Set(of(startedAfterClose));
  const candidates = of((row) => startedAfterClose(row) || reportedAfterStaleClose(row));
  const restarted = new Set(of(startedWhileOpen));
  const count = { reused: 0, revived: 0, restarted: 0 };
  if (candidates.length === 0 && restarted.size === 0) return count;
  const fresh = (c: string) => `${c} = CASE WHEN ${FRESH} THEN 0 ELSE ${c} END`;
  const rows = await transactions.run((m) =>
    RadacctOrigin.around(m, async () => {
      if (candidates.length > 0) {
        // MySQL assigns left to right, each seeing the columns assigned before it: the
        // conditions on acctstoptime go before it is cleared.
        await m.query(
          `UPDATE radacct SET ${['acctsessiontime', 'acctinputoctets', 'acctoutputoctets'].map(fresh).join(', ')}, ` +
            `connectinfo_stop = CASE WHEN ${REUSED} THEN '' ELSE connectinfo_stop END, ` +
            "acctinterval = NULL, acctterminatecause = '', acctstoptime = NULL " +
            `WHERE radacctid IN (${placeholders(candidates.length)}) AND acctstoptime IS NOT NULL AND (${REUSED} OR ${REVIVED})`,
          [...candidates, STALE_SESSION_CAUSE],
        );
      }
      if (restarted.size > 0) {
        await m.query(
          'UPDATE radacct SET acctsessiontime = 0, acctinputoctets = 0, acctoutputoctets = 0, ' +
            "acctinterval = NULL, connectinfo_stop = '' " +
            `WHERE radacctid IN (${placeholders(restarted.size)}) AND ${OPEN_FRESH}`,
          [...restarted],
        );
      }
      return m.getRepository(RadAcct).findBy({ radAcctId: In([...candidates, ...restarted]) });
    }),
  );
  for (const row of rows) {
    const id = String(row.radAcctId);
    byId.set(id, row);
    if (row.acctStopTime === null) {
      count[reused.has(id) ? 'reused' : restarted.has(id) ? 'restarted' : 'revived'] += 1;
    }
  }
  return count;
}
