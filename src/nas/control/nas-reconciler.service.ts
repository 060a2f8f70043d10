import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { BadUserInputError, NotFoundError } from '../../common/errors/app-error';
import type { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/config.tokens';
import { StaleSessionReaper } from '../../sessions/stale/stale-session-reaper.service';
import { RouterOsClient } from '../routeros/routeros-client.service';
import { RouterOsError, type PppActive } from '../routeros/routeros.types';
import { NasService, type NasAccess } from '../nas.service';
import type { ReconcileResult } from './models/reconcile-result.model';
import { NasApiError } from './nas-api.error';
import { SecretUnreadableError } from '../../common/crypto/secret-box';
import { openSessions, type OpenSession } from './open-sessions';
import { matches } from './routeros-fallback';
import { AuditService } from '../../audit/audit.service';
import { JobLeases } from '../../common/jobs/job-leases.service';
import { PeriodicTask } from '../../common/jobs/periodic-task';

/** The lease of the instance that reconciles NAS devices on schedule. */
export const RECONCILER_LEASE = 'nas-reconciler';

/**
 * Reconciles a NAS's /ppp/active (RouterOS API) against its open radacct rows:
 * - a session open in radacct that the router no longer has is closed as Stale-Session (the
 *   Stop was lost), and STOPPED is published;
 * - a session active on the router with no open radacct row is reported (its Start was lost,
 *   or the NAS sends accounting elsewhere).
 * A session matches by Acct-Session-Id (RouterOS's session-id), else by user name. On demand
 * (reconcileNas) and every NAS_RECONCILE_INTERVAL_SECONDS for each NAS with API settings.
 * A NAS entered as a network ("10.0.0.0/24") is reconciled only with a routerOs.host: the
 * open sessions from the addresses it holds (NasService.sessionAddresses) are compared with
 * that router's /ppp/active, so that router must be the one that carries them all.
 */
@Injectable()
export class NasReconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('NasReconciler');
  private readonly task: PeriodicTask<void>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly nas: NasService,
    private readonly routerOs: RouterOsClient,
    private readonly reaper: StaleSessionReaper,
    private readonly audit: AuditService,
    leases: JobLeases,
  ) {
    // One instance reconciles on schedule: the lease holder. The reconciliation of each NAS
    // logs its own failure (and the lease its own).
    const seconds = config.nas.reconcileIntervalSeconds;
    this.task = new PeriodicTask({
      log: this.log,
      everySeconds: seconds,
      lease: { leases, name: RECONCILER_LEASE },
      run: () => this.reconcileAll(),
      failure: 'scheduled reconciliation failed',
    });
  }

  onApplicationBootstrap(): void {
    this.task.start();
  }

  /** Before the application shuts down: a run in progress finishes, its events published. */
  beforeApplicationShutdown(): Promise<void> {
    return this.task.stop();
  }

  /**
   * One NAS, by id: NOT_FOUND when unknown, BAD_USER_INPUT when it has no API settings, and a
   * NasApiError (CONFLICT, reason NAS_UNREACHABLE / NAS_LOGIN_REFUSED / NAS_API_ERROR /
   * NAS_PASSWORD_UNREADABLE, a password-free message) when the router cannot be read; that is
   * logged once, at warn, without a stack: the router's state, not a fault of radgraph's.
   */
  async reconcile(nasId: string): Promise<ReconcileResult> {
    const access = await this.nas.accessById(nasId, 'nasId');
    if (!access) throw new NotFoundError(`No NAS with id ${nasId}`, { field: 'nasId' });
    if (!access.routerOs && access.nas.routerOs) {
      // Entered as a network: which router the API reaches is routerOs.host's to say.
      throw new BadUserInputError(
        'nasId',
        `NAS ${access.nas.name} is a network: set its routerOs.host (the router that carries its sessions) with updateNas first`,
        'NAS_WITHOUT_API_HOST',
      );
    }
    if (!access.routerOs) {
      throw new BadUserInputError(
        'nasId',
        `NAS ${access.nas.name} has no RouterOS API settings: set them with updateNas first`,
        'NAS_WITHOUT_API',
      );
    }
    return this.audit.recordAction(
      {
        target: { type: 'nas', id: access.nas.id, label: access.nas.name },
        before: null,
        after: null,
      },
      () =>
        this.reconcileAccess(access).catch((err: unknown) => {
          if (err instanceof NasApiError) this.log.warn(`cannot reconcile ${err.message}`);
          throw err;
        }),
      (r) =>
        `closed ${r.closedSessionIds.length} stale session(s); ${r.routerOnly.length} on the router only`,
    );
  }

  private async reconcileAll(): Promise<void> {
    for (const access of await this.nas.withRouterOs().catch(() => [])) {
      if (!access.routerOs) continue; // a network without routerOs.host
      try {
        const result = await this.reconcileAccess(access);
        if (result.closedSessionIds.length || result.routerOnly.length) {
          this.log.log(
            `${access.nas.name}: closed ${result.closedSessionIds.length} stale session(s), ${result.routerOnly.length} on the router only`,
          );
        }
      } catch (err) {
        // A NasApiError's message names the NAS already.
        const why =
          err instanceof NasApiError
            ? err.message
            : `${access.nas.name}: ${(err as Error).message}`;
        this.log.warn(`cannot reconcile ${why}`);
      }
    }
  }

  private async reconcileAccess(access: NasAccess): Promise<ReconcileResult> {
    // The radacct rows first: a session that starts while the router is read is on the
    // router, not yet in this list, so it is reported at worst, never closed.
    const open = await openSessions(this.dataSource, {
      nasAddresses: await this.nas.sessionAddresses(access.nas),
    });
    const active = await this.routerOs.listActive(access.routerOs!).catch((err: unknown) => {
      throw err instanceof RouterOsError || err instanceof SecretUnreadableError
        ? new NasApiError(access.nas.name, err)
        : err;
    });
    const { gone, routerOnly } = compare(open, active);
    const closed = await this.reaper.closeStale(gone.map((s) => s.id));
    return {
      nasId: access.nas.id,
      checkedAt: new Date(),
      routerSessions: active.length,
      openSessions: open.length,
      closedSessionIds: closed.map((r) => String(r.radAcctId)),
      routerOnly: routerOnly.map((a) => ({
        username: a.name,
        address: a.address,
        callerId: a.callerId,
        uptime: a.uptime,
        sessionId: a.sessionId,
      })),
    };
  }
}

/** Which open rows the router lacks, and which router sessions have no open row. */
export function compare(
  open: readonly OpenSession[],
  active: readonly PppActive[],
): { gone: OpenSession[]; routerOnly: PppActive[] } {
  const unmatched = new Set(active);
  const take = (test: (a: PppActive) => boolean) => {
    const found = [...unmatched].find(test);
    if (found) unmatched.delete(found);
    return found !== undefined;
  };
  // Session ids first, for every row; then the user name, so that a router whose session ids
  // do not look like Acct-Session-Id never has its live sessions closed.
  const rest = open.filter((s) => !take((a) => matches(a.sessionId, s.acctSessionId)));
  const gone = rest.filter((s) => !take((a) => a.name === s.username));
  return { gone, routerOnly: [...unmatched] };
}
