import { Args, Context, ID, Mutation, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { requestLoader } from '../../common/dataloader/request-loader';
import type { GraphqlContext } from '../../graphql/graphql-context';
import { Nas } from '../models/nas.model';
import { ReconcileResult } from './models/reconcile-result.model';
import { NasHealthService } from './nas-health.service';
import { NasReconciler } from './nas-reconciler.service';
import { Role } from '../../auth/principal';
import { RequireRole } from '../../auth/roles.decorator';

/** Nas.reachable and Nas.lastAccountingAt, and reconcileNas. */
@Resolver(() => Nas)
@RequireRole(Role.VIEWER)
export class NasHealthResolver {
  constructor(
    private readonly health: NasHealthService,
    private readonly reconciler: NasReconciler,
  ) {}

  @ResolveField(() => Boolean, {
    nullable: true,
    description:
      'Whether the NAS answers on its RouterOS API (checked at most every 30 s); null when it has no API settings.',
  })
  reachable(@Parent() nas: Nas): Promise<boolean | null> {
    return this.health.isReachable(nas.id);
  }

  @ResolveField(() => Date, {
    nullable: true,
    description:
      'When radgraph last saw accounting from this NAS: the latest change among its open sessions, or its last Accounting-On/Off.',
  })
  lastAccountingAt(@Parent() nas: Nas, @Context() ctx: GraphqlContext): Promise<Date | null> {
    return requestLoader(
      ctx,
      'lastAccountingAtByNas',
      (nases: readonly Nas[]) => this.health.lastAccountingAt(nases),
      null as Date | null,
    ).load(nas);
  }

  @RequireRole(Role.ADMIN)
  @Mutation(() => ReconcileResult, {
    description:
      "Compares the NAS's /ppp/active (RouterOS API) with its open sessions: closes the ones the router no longer has as Stale-Session, and reports the ones only the router has. CONFLICT (reason NAS_UNREACHABLE, NAS_LOGIN_REFUSED or NAS_API_ERROR) when the router cannot be read.",
  })
  reconcileNas(@Args('nasId', { type: () => ID }) nasId: string): Promise<ReconcileResult> {
    return this.reconciler.reconcile(nasId);
  }
}
