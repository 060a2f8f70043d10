import { In } from 'typeorm';
import { RadAcct } from '../../database/freeradius';
import { TransactionsService } from '../../database/transactions.service';
import { placeholders } from '../../common/sql/in-list';
import { SessionEventType } from '../models/session-event.model';
import { STALE_SESSION_CAUSE } from '../stale/stale-policy';
import { RadacctOrigin } from './radacct-origin';

/**
 * The change feed's changes to closed rows (kind 4, radacct-change-triggers.ts): another
 * writer (FreeRADIUS) wrote a row that had ended, and the session may be live again.
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
 * The event of a change to a closed row, from the row as it is now (after reopenClosed): open
 * again, STARTED; stopped by a Stop that wrote the session's end, STOPPED; still as the reaper
 * left it (a report older than the close), none.
 */
export function closedChangeEvent(row: RadAcct): SessionEventType | null {
  if (row.acctStopTime === null) return SessionEventType.STARTED;
  return row.acctTerminateCause === STALE_SESSION_CAUSE ? null : SessionEventType.STOPPED;
}

/** The conditions of the two reopenings in SQL, as the guards of the UPDATE below. */
const REUSED = 'acctstarttime > acctstoptime';
/** A reused row that no Interim-Update has written since its Start. */
const FRESH = `${REUSED} AND acctupdatetime = acctstarttime`;
const REVIVED = 'acctterminatecause = ? AND acctupdatetime > acctstoptime';

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
 * The UPDATE checks the same conditions again: a row that changed since the page was read (a
 * Stop of FreeRADIUS's that wrote the new session's end) is left as it is. A page offered again
 * after its publish failed finds the rows open, which is STARTED again (at least once, as the
 * feed is across a crash). Returns how many rows of each kind it reopened.
 */
export async function reopenClosed(
  transactions: TransactionsService,
  ids: readonly string[],
  byId: Map<string, RadAcct>,
): Promise<{ reused: number; revived: number }> {
  const reused = new Set(ids.filter((id) => byId.has(id) && startedAfterClose(byId.get(id)!)));
  const candidates = ids.filter((id) => {
    const row = byId.get(id);
    return row !== undefined && (reused.has(id) || reportedAfterStaleClose(row));
  });
  if (candidates.length === 0) return { reused: 0, revived: 0 };
  const list = placeholders(candidates.length);
  const fresh = (c: string) => `${c} = CASE WHEN ${FRESH} THEN 0 ELSE ${c} END`;
  const rows = await transactions.run((m) =>
    RadacctOrigin.around(m, async () => {
      // MySQL assigns left to right, each seeing the columns assigned before it: the
      // conditions on acctstoptime go before it is cleared.
      await m.query(
        `UPDATE radacct SET ${['acctsessiontime', 'acctinputoctets', 'acctoutputoctets'].map(fresh).join(', ')}, ` +
          `connectinfo_stop = CASE WHEN ${REUSED} THEN '' ELSE connectinfo_stop END, ` +
          "acctinterval = NULL, acctterminatecause = '', acctstoptime = NULL " +
          `WHERE radacctid IN (${list}) AND acctstoptime IS NOT NULL AND (${REUSED} OR ${REVIVED})`,
        [...candidates, STALE_SESSION_CAUSE],
      );
      return m.getRepository(RadAcct).findBy({ radAcctId: In(candidates) });
    }),
  );
  const count = { reused: 0, revived: 0 };
  for (const row of rows) {
    const id = String(row.radAcctId);
    byId.set(id, row);
    if (row.acctStopTime === null) count[reused.has(id) ? 'reused' : 'revived'] += 1;
  }
  return count;
}
