import type { Logger } from '@nestjs/common';
import type { CoaClient } from '../../radius/coa/coa-client';
import { usernameKey } from '../../sessions/usernames';
import type { NasAccess } from '../nas.service';
import type { RateChangeReport } from './models/rate-change.model';
import type { OpenSession } from './open-sessions';
import type { SilentNases } from './silent-nases';

/** Sessions a profile's speed change reaches at once. */
const RATE_CHANGE_PARALLEL = 16;
const MAX_FAILURES_SHOWN = 20;

/** The session as a CoA-Request or Disconnect-Request names it. */
export function coaSession(s: OpenSession) {
  return {
    userName: s.username,
    acctSessionId: s.acctSessionId,
    framedIpAddress: s.framedIpAddress,
  };
}

/**
 * Sends `rateLimit` (CoA-Request with Mikrotik-Rate-Limit) to the sessions, RATE_CHANGE_PARALLEL
 * at a time, skipping the NAS routers `push` gave up on. `own`: this call is a push of its own
 * (not part of a caller's, such as a CSV import), so its report and log say which NAS routers
 * it gave up on. A session whose NAS cannot be read fails alone.
 */
export async function pushRate(
  deps: {
    coa: CoaClient;
    access: (nasname: string) => Promise<NasAccess | null>;
    log: Logger;
  },
  sessions: readonly OpenSession[],
  rateLimit: string,
  push: SilentNases,
  own: boolean,
): Promise<RateChangeReport> {
  const failures: string[] = [];
  let reached = 0;
  let next = 0;
  const worker = async () => {
    while (next < sessions.length) {
      const s = sessions[next++];
      // One NAS whose settings cannot be read must not stop the push to the others.
      const nas = await deps.access(s.nasIpAddress).catch((err: Error) => err);
      if (nas instanceof Error) {
        failures.push(`${s.username}: cannot read NAS ${s.nasIpAddress}: ${nas.message}`);
        continue;
      }
      if (!nas) {
        failures.push(`${s.username}: unknown NAS ${s.nasIpAddress}`);
        continue;
      }
      if (push.givenUp(nas.coa.host)) {
        failures.push(`${s.username}: ${push.skip(nas.coa.host)}`);
        continue;
      }
      const result = await deps.coa.changeRate(nas.coa, coaSession(s), rateLimit);
      push.record(nas.coa.host, result);
      if (result.ok) reached++;
      else failures.push(`${s.username}: ${result.message}`);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(RATE_CHANGE_PARALLEL, sessions.length) }, worker),
  );
  // A NAS given up on first, so that the reason is never cut from the report.
  const summaries = own ? push.summaries() : [];
  for (const line of summaries) deps.log.warn(`rate ${rateLimit}: ${line}`);
  if (failures.length > 0) {
    deps.log.warn(
      `rate ${rateLimit}: ${failures.length} of ${sessions.length} session(s) not reached`,
    );
  }
  return {
    rateLimit,
    sessions: sessions.length,
    reached,
    held: 0,
    failures: [...summaries, ...failures].slice(0, MAX_FAILURES_SHOWN),
  };
}

/**
 * Of these users (as radacct names them), those whose rate another rule holds this month (the
 * data cap's FUP rate), as stored: compared as the database compares usernames (usernameKey).
 */
export type RateHold = (usernames: readonly string[]) => Promise<readonly string[]>;

/** The one rule that holds rates (SessionControlService.holdRates), if any. */
export class RateHolds {
  private hold: RateHold | null = null;

  /** Sets the rule; returns its undo. */
  set(hold: RateHold): () => void {
    this.hold = hold;
    return () => {
      if (this.hold === hold) this.hold = null;
    };
  }

  /**
   * The sessions whose user's rate is not held (all of them when that cannot be read).
   * `database` says how usernames compare (usernameKey): on SQLite "twin" and "TWIN" are two
   * customers, and one's hold is not the other's.
   */
  async unheld(
    sessions: OpenSession[],
    log: Logger,
    database: Parameters<typeof usernameKey>[0],
  ): Promise<OpenSession[]> {
    if (!this.hold || sessions.length === 0) return sessions;
    const key = usernameKey(database);
    let held: Set<string>;
    try {
      const names = await this.hold([...new Set(sessions.map((s) => s.username))]);
      held = new Set(names.map(key));
    } catch (err) {
      // Sent to them too, as before there was a hold: the data cap throttles them again after.
      log.warn(`cannot read whose rate the data cap holds: ${(err as Error).message}`);
      return sessions;
    }
    return held.size ? sessions.filter((s) => !held.has(key(s.username))) : sessions;
  }
}
