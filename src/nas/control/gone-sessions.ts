import type { Logger } from '@nestjs/common';
import type { StaleSessionReaper } from '../../sessions/stale/stale-session-reaper.service';
import type { DisconnectMethod } from './models/disconnect-result.model';
import type { OpenSession } from './open-sessions';

/**
 * How long after a disconnect got through its session may still show accounting without
 * counting as alive: the NAS's Stop for the session it ended, retransmitted until answered
 * (RouterOS tries for several seconds, FreeRADIUS's detail reader may hold packets a little
 * longer, radgraph writes them in batches), and an Interim-Update sent just before the
 * Disconnect-Request. A minute covers those with room to spare, and stays below any interim
 * interval a NAS uses in practice (MikroTik's is at least a minute, usually five), so a session
 * the NAS kept (it acknowledged and went on, or answered 503 and its row was reopened) is caught
 * at its next interim. The data cap and the expiry job disconnect such a session again. A
 * constant: nothing about a deployment changes how long a NAS takes to report a session's end.
 */
export const DISCONNECT_GRACE_MS = 60_000;

/** How the disconnect of one open session went. */
export interface SessionOutcome {
  ok: boolean;
  method: DisconnectMethod;
  message: string;
  /** The NAS has no such session: its open row is to be closed (closeGone). */
  gone?: boolean;
}

/**
 * Closes the open rows of the sessions their NAS does not have (`gone`) the way the NAS
 * reconciler closes a row its router no longer has (StaleSessionReaper.closeStale: cause
 * Stale-Session, STOPPED published). No Stop will come for them, and until the reaper got to
 * them, minutes later, the customer would show online. Should the NAS have the session after
 * all (a 503 for a request it matched differently), its next Interim-Update reopens the row
 * (radacct-states.ts, reopenClosed). A row that could not be closed fails its disconnect: a
 * retry (data cap, expiry, disconnectCustomer) closes it.
 */
export async function closeGone(
  reaper: StaleSessionReaper,
  log: Logger,
  sessions: OpenSession[],
  outcomes: SessionOutcome[],
): Promise<SessionOutcome[]> {
  const gone = sessions.filter((_, i) => outcomes[i].gone);
  if (gone.length === 0) return outcomes;
  let closed: Set<string>;
  try {
    const rows = await reaper.closeStale(gone.map((s) => s.id));
    closed = new Set(rows.map((r) => String(r.radAcctId)));
  } catch (err) {
    const why = (err as Error).message;
    log.warn(`cannot close ${gone.length} session(s) their NAS does not have: ${why}`);
    return outcomes.map((o) =>
      o.gone
        ? {
            ...o,
            ok: false,
            message: `${o.message}; the NAS has no such session, but its open row could not be closed: ${why}`,
          }
        : o,
    );
  }
  return outcomes.map((o, i) =>
    !o.gone
      ? o
      : {
          ...o,
          message: closed.has(sessions[i].id)
            ? `${o.message}; the NAS has no such session: its open row was closed (Stale-Session)`
            : `${o.message}; the NAS has no such session, and its row had closed meanwhile`,
        },
  );
}
