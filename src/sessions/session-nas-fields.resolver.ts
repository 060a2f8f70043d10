import { Context, Int, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { requestLoader } from '../common/dataloader/request-loader';
import type { GraphqlContext } from '../graphql/graphql-context';
import { Nas } from '../nas/models/nas.model';
import { NasService } from '../nas/nas.service';
import { NasOnline } from './models/online-summary.model';
import { Session } from './models/session.model';
import { OnlineSessionsService } from './online-sessions.service';
import { Role } from '../auth/principal';
import { RequireRole } from '../auth/roles.decorator';

function nasByAddress(ctx: GraphqlContext, nas: NasService) {
  return requestLoader(
    ctx,
    'nasByAddress',
    (addresses: readonly string[]) => nas.byAddresses(addresses),
    null as Nas | null,
  );
}

/**
 * Session.nas: the nas row whose nasname is the session's nasipaddress, else the longest
 * network holding it (as FreeRADIUS and the accounting listener match).
 */
@Resolver(() => Session)
@RequireRole(Role.VIEWER)
export class SessionNasResolver {
  constructor(private readonly nasService: NasService) {}

  @ResolveField(() => Nas, {
    nullable: true,
    description:
      'The nas row whose nasname is nasIpAddress, else the longest network (e.g. 10.0.0.0/24) holding it.',
  })
  nas(@Parent() s: Session, @Context() ctx: GraphqlContext): Promise<Nas | null> {
    return nasByAddress(ctx, this.nasService).load(s.nasIpAddress);
  }
}

/** NasOnline.nas, as Session.nas. */
@Resolver(() => NasOnline)
@RequireRole(Role.VIEWER)
export class NasOnlineResolver {
  constructor(private readonly nasService: NasService) {}

  @ResolveField(() => Nas, { nullable: true })
  nas(@Parent() n: NasOnline, @Context() ctx: GraphqlContext): Promise<Nas | null> {
    return nasByAddress(ctx, this.nasService).load(n.nasIpAddress);
  }
}

/** Nas.onlineCount: its open sessions. */
@Resolver(() => Nas)
@RequireRole(Role.VIEWER)
export class NasOnlineCountResolver {
  constructor(private readonly online: OnlineSessionsService) {}

  @ResolveField(() => Int, { description: 'Open sessions on this NAS.' })
  onlineCount(@Parent() n: Nas, @Context() ctx: GraphqlContext): Promise<number> {
    return requestLoader(
      ctx,
      'onlineCountByNas',
      (nases: readonly Nas[]) => this.online.countByNas(nases),
      0,
    ).load(n);
  }
}
