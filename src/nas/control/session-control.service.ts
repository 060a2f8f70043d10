import { Inject, Injectable, Logger } from '@nestjs/common';
import { Metrics } from '../../metrics/metrics.service';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CoaClient, type CoaResult } from '../../radius/coa/coa-client';
import { SESSION_CONTEXT_NOT_FOUND } from '../../radius/coa/error-cause';
import { StaleSessionReaper } from '../../sessions/stale/stale-session-reaper.service';
import { RouterOsClient } from '../routeros/routeros-client.service';
import { NasService, type NasAccess } from '../nas.service';
import type { DisconnectMethod, DisconnectResult } from './models/disconnect-result.model';
import type { RateChangeReport } from './models/rate-change.model';
import { openSessions, type OpenSession } from './open-sessions';
import { removeOnRouter } from './routeros-fallback';
import { closeGone, type SessionOutcome } from './gone-sessions';
import { SilentNases } from './silent-nases';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.tokens';
import { coaSession, pushRate, RateHolds, type RateHold } from './rate-push';

/** Whose plan changed: one customer's, or a FreeRADIUS group's (a profile's customers). */
export type PlanTarget = { username: string } | { groupname: string };

/**
 * Acts on live sessions through their NAS: disconnects them (RFC 5176 Disconnect-Request, with
 * the RouterOS API as the fallback when CoA fails and the NAS has API settings) and changes
 * their speed (CoA-Request with Mikrotik-Rate-Limit). A session the NAS ends closes when the
 * NAS sends its Stop; one the NAS says it does not have is closed at once (closeGone).
 */
@Injectable()
export class SessionControlService {
  private readonly log = new Logger('SessionControl');
  private readonly planListeners = new Set<(target: PlanTarget) => void>();
  private readonly holds = new RateHolds();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly nas: NasService,
    private readonly coa: CoaClient,
    private readonly routerOs: RouterOsClient,
    private readonly metrics: Metrics,
    private readonly reaper: StaleSessionReaper,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * For a push made of several changeUserRate calls (a CSV import): the NAS routers it gives
   * up on, across them all. Its caller reports `summaries()` at the end.
   */
  silentNases(): SilentNases {
    return new SilentNases(this.config.nas.coaGiveUpAfterTimeouts);
  }

  /** Disconnects every open session of `username`. */
  async disconnectUser(username: string): Promise<DisconnectResult> {
    const sessions = await openSessions(this.dataSource, { username });
    if (sessions.length === 0) {
      this.metrics.disconnects.inc({ method: 'none', result: 'failed' });
      return { ok: false, method: 'none', message: `${username} is not online: no open session` };
    }
    return this.disconnectAll(sessions);
  }

  /**
   * As disconnectUser, for a change that ends the user's access (a customer deleted or
   * suspended): null, and nothing counted, when the user has no open session.
   */
  async disconnectIfOnline(username: string): Promise<DisconnectResult | null> {
    const sessions = await openSessions(this.dataSource, { username });
    if (sessions.length === 0) return null;
    return this.disconnectAll(sessions);
  }

  /**
   * Disconnects the sessions, and counts it: result "closed" when every session is over but
   * the NAS had at least one of them no more (its row closed here), "ok" when the NAS ended
   * them all.
   */
  private async disconnectAll(sessions: OpenSession[]): Promise<DisconnectResult> {
    const access = this.accessCache();
    const outcomes = await closeGone(
      this.reaper,
      this.log,
      sessions,
      await Promise.all(
        sessions.map(async (s): Promise<SessionOutcome> => {
          try {
            return await this.disconnectSession(s, await access(s.nasIpAddress));
          } catch (err) {
            // One session's failure (its NAS's settings unreadable) fails that session alone.
            const why = (err as Error).message;
            return { ok: false, method: 'none', message: `session ${s.acctSessionId}: ${why}` };
          }
        }),
      ),
    );
    const ok = outcomes.every((o) => o.ok);
    const method: DisconnectMethod = outcomes.some((o) => o.method === 'routeros')
      ? 'routeros'
      : outcomes.some((o) => o.method === 'coa')
        ? 'coa'
        : 'none';
    const result = !ok ? 'failed' : outcomes.some((o) => o.gone) ? 'closed' : 'ok';
    this.metrics.disconnects.inc({ method, result });
    return { ok, method, message: outcomes.map((o) => o.message).join('; ') };
  }

  /**
   * Sends the new rate to every open session of `username`. `announce`: it is the customer's
   * new plan's rate, and onPlanChange's listeners hear of it afterwards (the data cap sends its
   * own rates with false).
   */
  async changeUserRate(
    username: string,
    rateLimit: string,
    opts: { announce: boolean; silent?: SilentNases },
  ): Promise<RateChangeReport> {
    const sessions = await openSessions(this.dataSource, { username });
    const report = opts.announce
      ? await this.changePlanRate(sessions, rateLimit, opts.silent)
      : await this.changeRate(sessions, rateLimit, opts.silent);
    if (opts.announce) this.announce({ username });
    return report;
  }

  /**
   * Sends a profile's new rate to every open session of its FreeRADIUS group (its customers)
   * but those whose rate is held (holdRates), then tells onPlanChange's listeners.
   */
  async changeGroupRate(groupname: string, rateLimit: string): Promise<RateChangeReport> {
    const report = await this.changePlanRate(
      await openSessions(this.dataSource, { groupname }),
      rateLimit,
    );
    this.announce({ groupname });
    return report;
  }

  /**
   * `hold` names the users whose rate another rule holds: the data cap's FUP rate, for a
   * customer over the month's limit. A plan's rate (changeGroupRate, and changeUserRate with
   * announce) skips their sessions, and the data cap, which hears of the plan change
   * (onPlanChange), sends them what their new plan gives them. Without this, a throttled
   * customer got the plan's full speed until the data cap throttled them again, a moment later,
   * or, when that CoA-Request was lost, until their next accounting update. Returns the undo.
   */
  holdRates(hold: RateHold): () => void {
    return this.holds.set(hold);
  }

  /** A plan's rate: sent to the sessions whose rate is not held, and the held ones counted. */
  private async changePlanRate(
    sessions: OpenSession[],
    rateLimit: string,
    silent?: SilentNases,
  ): Promise<RateChangeReport> {
    const free = await this.holds.unheld(sessions, this.log, this.dataSource);
    const report = await this.changeRate(free, rateLimit, silent);
    return { ...report, held: sessions.length - free.length };
  }

  /** A plan's data limit or FUP speeds changed, not its rate: onPlanChange's listeners hear of it. */
  planChanged(target: PlanTarget): void {
    this.announce(target);
  }

  /**
   * `listener` hears of every plan change that live sessions run under: after a plan's rate went
   * to them (a profile's speeds changed, a customer moved to another profile; whether or not
   * every NAS took it), or when only its cap or FUP speeds changed. The data cap then applies
   * the plan the customers have now. It must not block.
   */
  onPlanChange(listener: (target: PlanTarget) => void): () => void {
    this.planListeners.add(listener);
    return () => this.planListeners.delete(listener);
  }

  private announce(target: PlanTarget): void {
    for (const listener of this.planListeners) {
      try {
        listener(target);
      } catch (err) {
        // The rate went out; a listener's failure must not turn that into an error.
        this.log.warn(`a plan change listener failed: ${(err as Error).message}`);
      }
    }
  }

  private async disconnectSession(
    s: OpenSession,
    access: NasAccess | null,
  ): Promise<SessionOutcome> {
    if (!access) {
      return {
        ok: false,
        method: 'none',
        message: `session ${s.acctSessionId} is on ${s.nasIpAddress}, which is not a known NAS`,
      };
    }
    const coa = await this.coa.disconnect(access.coa, coaSession(s));
    if (coa.ok) return { ok: true, method: 'coa', message: coa.message };
    // Disconnect-NAK 503 Session-Context-Not-Found: the NAS has no such session. Any other
    // NAK (502, 404, none), a timeout or an error says nothing of the session.
    const notFound = coa.kind === 'nak' && coa.errorCause === SESSION_CONTEXT_NOT_FOUND;
    if (!access.routerOs) {
      return notFound
        ? { ok: true, method: 'coa', message: coa.message, gone: true }
        : { ok: false, method: 'coa', message: coa.message };
    }
    // A 503 goes to the router too: MikroTik matches a Disconnect-Request on its attributes
    // (Framed-IP-Address among them), so a row with a wrong or missing address gets a 503 for
    // a session the router has; /ppp/active by user name then still ends it.
    return this.fallBack(s, access.routerOs, coa, notFound);
  }

  /**
   * The RouterOS API after CoA failed. The router's list is the last word: none of the user's
   * sessions there, and the row is gone (closed); sessions removed, and the router sends their
   * Stops itself. When the API fails after a 503, the NAS's own word stands, as for a NAS
   * without API settings.
   */
  private async fallBack(
    s: OpenSession,
    target: NonNullable<NasAccess['routerOs']>,
    coa: CoaResult,
    notFound: boolean,
  ): Promise<SessionOutcome> {
    try {
      const { active, removed } = await removeOnRouter(this.routerOs, target, s);
      if (active === 0) {
        const message = `${coa.message}; ${s.username} has no active session on the router`;
        return { ok: true, method: 'routeros', message, gone: true };
      }
      const what =
        removed > 0
          ? `removed ${removed} active session(s) of ${s.username} through the RouterOS API`
          : `the router's session(s) of ${s.username} ended before the remove: already disconnected`;
      return { ok: true, method: 'routeros', message: `${coa.message}; ${what}` };
    } catch (err) {
      const message = `${coa.message}; RouterOS API: ${(err as Error).message}`;
      return notFound
        ? { ok: true, method: 'coa', message, gone: true }
        : { ok: false, method: 'routeros', message };
    }
  }

  /**
   * `silent`: the push this is part of (silentNases); without it, this call is a push of its
   * own, and its report and log say which NAS routers it gave up on.
   */
  private changeRate(
    sessions: OpenSession[],
    rateLimit: string,
    silent?: SilentNases,
  ): Promise<RateChangeReport> {
    return pushRate(
      { coa: this.coa, access: this.accessCache(), log: this.log },
      sessions,
      rateLimit,
      silent ?? this.silentNases(),
      silent === undefined,
    );
  }

  /** NAS access by nasname, read once per operation. */
  private accessCache(): (nasname: string) => Promise<NasAccess | null> {
    const cache = new Map<string, Promise<NasAccess | null>>();
    return (nasname) => {
      let found = cache.get(nasname);
      if (!found) {
        found = this.nas.access(nasname);
        cache.set(nasname, found);
      }
      return found;
    };
  }
}
